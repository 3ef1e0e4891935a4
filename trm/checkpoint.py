"""Self-describing TRM checkpoints: tensors in safetensors, everything else in JSON; never pickle.

Reading is defensive (size limits, no links out of the folder, duplicate JSON keys refused, every
TRM tensor checked against its config by :mod:`trm.checkpoint_layout`); optimiser and RNG state
become (tensors, JSON) pairs in :mod:`trm.state_tensors`, re-exported here, so a run resumes
exactly.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import save_file
from torch import Tensor

from tasks.errors import CheckpointError
from trm.checkpoint_layout import _check_trm_tensors
from trm.state_tensors import (
    check_json_value,
    optimizer_state_from_tensors,
    optimizer_state_to_tensors,
    rng_state,
    set_rng_state,
    strip_prefix,
    with_prefix,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "checkpoint_paths",
    "save_checkpoint",
    "load_checkpoint",
    "optimizer_state_to_tensors",
    "optimizer_state_from_tensors",
    "rng_state",
    "set_rng_state",
    "with_prefix",
    "strip_prefix",
]

logger = logging.getLogger(__name__)

FORMAT = "neurosym-trm-checkpoint"
"""The marker every checkpoint's JSON (and safetensors header) carries under ``"format"``."""

FORMAT_VERSION = 1
"""The layout version this code writes; it reads this version and older ones."""

_DIR_STEM = "checkpoint"
# Keys the caller's meta must hold, with their types; save adds "format", "format_version" and
# "tensors_file" (name, sha256 and size of the safetensors file).
_REQUIRED_META: dict[str, type] = {
    "neurosym_version": str,
    "config": dict,
    "task": dict,
    "step": int,
}
_RESERVED_META = ("format", "format_version", "tensors_file")
_HASH_CHUNK = 1 << 20
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_MAX_JSON_BYTES = 64 << 20  # a real one holds a few tens of KB
_MAX_SAFETENSORS_HEADER = 100 << 20  # the limit of safetensors itself


# --------------------------------------------------------------------------- paths


def checkpoint_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The ``(json, safetensors)`` file pair that ``path`` names.

    ``path`` is a directory (an existing one, or one written with a trailing ``/``), holding
    ``checkpoint.json`` and ``checkpoint.safetensors``; or a stem ``run/step_100``, optionally
    ending in ``.json`` or ``.safetensors``, naming ``run/step_100.json`` and
    ``run/step_100.safetensors``.

    Examples
    --------
    >>> [p.name for p in checkpoint_paths("run/step_100.safetensors")]
    ['step_100.json', 'step_100.safetensors']
    >>> [str(p) for p in checkpoint_paths("run/best/")]
    ['run/best/checkpoint.json', 'run/best/checkpoint.safetensors']
    """
    text = os.fspath(path)
    p = Path(text)
    if p.is_dir() or text.endswith(("/", os.sep)):
        return p / f"{_DIR_STEM}.json", p / f"{_DIR_STEM}.safetensors"
    if p.suffix in (".json", ".safetensors"):
        p = p.with_suffix("")
    return Path(f"{p}.json"), Path(f"{p}.safetensors")


# --------------------------------------------------------------------------- save


def save_checkpoint(
    path: str | os.PathLike[str], *, tensors: Mapping[str, Tensor], meta: Mapping[str, Any]
) -> Path:
    """Write a checkpoint atomically: a complete old or new checkpoint survives any crash.

    The tensors go to a temporary file that is flushed and fsynced; then the JSON, which holds
    the tensors file's name and sha256, replaces the old JSON (the commit point); then the
    tensors file takes its final name and the JSON is rewritten to match. A crash before the
    commit leaves the old checkpoint; after it, the new one (found through the JSON). Leftover
    temporary files of an interrupted save are removed by the next successful one. One writer
    per path at a time.

    Parameters
    ----------
    path : str or PathLike
        See :func:`checkpoint_paths`; missing parent directories are created.
    tensors : mapping of str to Tensor
        Everything numeric, by convention under prefixes ``model.``, ``ema.``, ``optim.``,
        ``rng.``. Any device; they are copied to the CPU.
    meta : mapping
        JSON-serialisable (str keys; tuples come back as lists), holding at least
        ``neurosym_version`` (str), ``config`` (dict), ``task`` (dict with ``kind``) and
        ``step`` (int >= 0); typically also ``rng``, ``optimizers`` and ``metrics``.

    Returns
    -------
    Path
        The JSON file, which identifies the checkpoint.

    Raises
    ------
    CheckpointError
        If a tensor or a meta value cannot be stored, or a required meta key is missing.
    OSError
        If the files cannot be written (the previous checkpoint is then intact).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> meta = {"neurosym_version": "0.1.0", "config": {"hidden": 8},
    ...         "task": {"kind": "sudoku"}, "step": 3}
    >>> where = save_checkpoint(tmp.name + "/ckpt/", tensors={"model.w": torch.ones(2)},
    ...                         meta=meta)
    >>> where.name, sorted(p.name for p in where.parent.iterdir())
    ('checkpoint.json', ['checkpoint.json', 'checkpoint.safetensors'])
    >>> tmp.cleanup()
    """
    json_path, data_path = checkpoint_paths(path)
    doc = _validated_meta_for_save(meta)
    prepared = _prepare_tensors(tensors)
    directory = json_path.parent
    directory.mkdir(parents=True, exist_ok=True)

    nonce = secrets.token_hex(6)
    tmp_data = directory / f".{data_path.name}.{nonce}.tmp"
    tmp_json = directory / f".{json_path.name}.{nonce}.tmp"
    committed = False
    try:
        try:
            save_file(prepared, os.fspath(tmp_data), metadata=_SAFETENSORS_METADATA)
        except Exception as exc:  # safetensors raises its own error types
            raise CheckpointError(f"cannot write tensors to {tmp_data}: {exc}") from exc
        sha256, size = _fsync_and_hash(tmp_data)
        entry = {"sha256": sha256, "bytes": size}

        _replace_json(
            json_path, {**doc, "tensors_file": {"name": tmp_data.name, **entry}}, tmp_json
        )
        committed = True  # the new checkpoint is live, through the temporary tensors file
        os.replace(tmp_data, data_path)
        _fsync_dir(directory)
        _replace_json(
            json_path, {**doc, "tensors_file": {"name": data_path.name, **entry}}, tmp_json
        )
    except BaseException:
        tmp_json.unlink(missing_ok=True)
        if not committed:
            tmp_data.unlink(missing_ok=True)
        raise
    _remove_stale_temporaries(directory, json_path, data_path)
    return json_path


_SAFETENSORS_METADATA = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}


def _validated_meta_for_save(meta: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(meta, Mapping):
        raise CheckpointError(f"meta must be a mapping, got {type(meta).__name__}")
    reserved = [k for k in _RESERVED_META if k in meta]
    if reserved:
        raise CheckpointError(f"meta keys {reserved} are reserved; save_checkpoint writes them")
    _check_required_meta(meta, "meta")
    check_json_value(meta, "meta")
    return {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}


def _check_required_meta(meta: Mapping[str, Any], where: str) -> None:
    missing = [k for k in _REQUIRED_META if k not in meta]
    if missing:
        raise CheckpointError(f"{where} lacks required key(s) {missing}")
    for key, kind in _REQUIRED_META.items():
        value = meta[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(
                f"{where}[{key!r}] must be of type {kind.__name__}, got {type(value).__name__}"
            )
    if meta["step"] < 0:
        raise CheckpointError(f"{where}['step'] must be >= 0, got {meta['step']}")
    if not isinstance(meta["task"].get("kind"), str):
        raise CheckpointError(f"{where}['task'] must hold a string 'kind', got {meta['task']!r}")


def _prepare_tensors(tensors: Mapping[str, Tensor]) -> dict[str, Tensor]:
    if not isinstance(tensors, Mapping):
        raise CheckpointError(f"tensors must be a mapping, got {type(tensors).__name__}")
    prepared: dict[str, Tensor] = {}
    seen_storage: set[int] = set()
    for name, t in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise CheckpointError(f"tensor name {name!r} is not allowed")
        if not isinstance(t, Tensor):
            raise CheckpointError(f"tensors[{name!r}] is a {type(t).__name__}, not a Tensor")
        if t.layout != torch.strided or t.is_meta:
            raise CheckpointError(f"tensors[{name!r}] is not a dense tensor with data")
        t = t.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        else:
            # safetensors refuses tensors sharing memory (tied weights, views); copy repeats.
            ptr = t.untyped_storage().data_ptr()
            if ptr in seen_storage and t.numel() > 0:
                t = t.clone()
            seen_storage.add(ptr)
        prepared[name] = t.contiguous()
    return prepared


def _fsync_and_hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "r+b") as f:
        os.fsync(f.fileno())
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _replace_json(final: Path, doc: dict[str, Any], tmp: Path) -> None:
    text = json.dumps(doc, indent=2, sort_keys=False) + "\n"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the renames durable; not possible on every platform (Windows), hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(directory: Path, json_path: Path, data_path: Path) -> None:
    for name in (json_path.name, data_path.name):
        for stale in directory.glob(f".{glob.escape(name)}.*.tmp"):
            try:
                stale.unlink()
            except OSError:
                logger.warning("could not remove stale temporary file %s", stale)


# --------------------------------------------------------------------------- load


def load_checkpoint(
    path: str | os.PathLike[str], *, expected_kind: str | None = None
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read and fully validate a checkpoint written by :func:`save_checkpoint`.

    Nothing is unpickled and no code in the files runs: the JSON is parsed as JSON and the
    tensors with safetensors, from the very bytes whose size and sha256 match the JSON's record.
    Neither file may be a symbolic link leading out of the checkpoint's folder. When
    ``meta["config"]`` is a valid :class:`~trm.config.TRMConfig`, the tensors must also fit the
    model it describes: the ``model.`` and ``ema.`` weights (names, shapes, dtypes), the
    optimiser's ``optim.state.*`` and a training run's ``slots.*``.

    Parameters
    ----------
    path : str or PathLike
        See :func:`checkpoint_paths`.
    expected_kind : str, optional
        If given, ``meta["task"]["kind"]`` must equal it.

    Returns
    -------
    tensors : dict of str to Tensor
        On the CPU.
    meta : dict
        The JSON document: the caller's meta plus ``format``, ``format_version`` and
        ``tensors_file``.

    Raises
    ------
    CheckpointError
        If a file is missing, truncated or corrupt, the JSON is not a neurosym checkpoint
        (not UTF-8, not an object, duplicate keys, another ``format``), comes from a newer or
        unknown format version, a required key is missing, the task kind differs from
        ``expected_kind``, a file is a pickle (such as a ``torch.save`` file), a symbolic link
        leads out of the folder, or the tensors do not fit the stored TRM config.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> meta = {"neurosym_version": "0.1.0", "config": {}, "task": {"kind": "maze"}, "step": 0}
    >>> where = save_checkpoint(tmp.name + "/m", tensors={"x": torch.zeros(1)}, meta=meta)
    >>> tensors, meta = load_checkpoint(where, expected_kind="maze")
    >>> tensors["x"], meta["step"], meta["format_version"]
    (tensor([0.]), 0, 1)
    >>> load_checkpoint(where, expected_kind="sudoku")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.CheckpointError: ... is a 'maze' checkpoint, expected 'sudoku'
    >>> tmp.cleanup()
    """
    json_path, data_path = checkpoint_paths(path)
    given = Path(path)
    if given.is_file() and given not in (json_path, data_path):
        # e.g. "model.pt": a file that is neither half of a checkpoint pair.
        what = _foreign_kind(given) or "not a .json/.safetensors checkpoint file"
        raise CheckpointError(f"{given} is not a neurosym checkpoint: {what}")
    _refuse_escaping_link(json_path)
    if not json_path.is_file():
        if data_path.is_file():
            what = _foreign_kind(data_path)
            detail = f" ({data_path.name} is {what})" if what else ""
            raise CheckpointError(
                f"{json_path} is missing: {data_path} alone is not a neurosym checkpoint, whose "
                f"JSON half holds the config and the checksum{detail}"
            )
        raise CheckpointError(f"no checkpoint at {os.fspath(path)!r}: {json_path} not found")

    # A concurrent save (an evaluator reading a live run) can swap files between our reads;
    # the checksum catches it, and re-reading the then-committed JSON resolves it.
    attempts_left = 3
    while True:
        attempts_left -= 1
        json_stamp = _stamp(json_path)
        meta = _read_meta(json_path)
        if expected_kind is not None and meta["task"]["kind"] != expected_kind:
            raise CheckpointError(
                f"{json_path} is a {meta['task']['kind']!r} checkpoint, expected {expected_kind!r}"
            )
        try:
            tensors = _read_tensors(json_path, data_path, meta)
        except CheckpointError:
            if attempts_left > 0 and _stamp(json_path) != json_stamp:
                continue
            raise
        _check_trm_tensors(tensors, meta, json_path)
        return tensors, meta


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _foreign_kind(path: Path) -> str | None:
    """Name a well-known non-checkpoint format from the first bytes, without parsing it."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    return _foreign_kind_of(head)


def _foreign_kind_of(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive, the format of torch.save; neurosym never unpickles files"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "a Python pickle (an old torch.save file?); neurosym never unpickles files"
    return None


def _refuse_escaping_link(path: Path) -> None:
    """Refuse a symbolic link whose final target lies outside the link's own folder.

    A link to a sibling (``latest.json -> step_100.json``) is fine; one to ``/etc/...`` or to
    another run's files would make a checkpoint folder read data it does not hold.
    """
    if not path.is_symlink():
        return
    try:
        folder = path.parent.resolve()
        target = path.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop (RuntimeError before Python 3.13)
        raise CheckpointError(f"{path} is a symbolic link that cannot be resolved: {exc}") from exc
    if target.parent != folder:
        raise CheckpointError(
            f"{path} is a symbolic link to {target}, outside the checkpoint's folder {folder}; "
            "neurosym does not follow such links (copy the file into the folder instead)"
        )


def _read_regular_file(path: Path, limit: int) -> tuple[bytes, int]:
    """The bytes of the regular file ``path`` (after its link check), and its size.

    A file larger than ``limit`` bytes is not read: only its first 8 bytes come back.

    Opens the link's resolved target without following a link there (one swapped in after the
    check) and without blocking (on a FIFO swapped in); never asks for more memory than the
    file holds, whatever ``limit`` is.
    """
    _refuse_escaping_link(path)
    target = path.resolve() if path.is_symlink() else path
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc}") from exc
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{path} is not a regular file")
        try:
            # A file over the limit is refused by the caller: only its head is read, to name it.
            data = f.read(8 if st.st_size > limit else st.st_size + 1)
        except OSError as exc:
            raise CheckpointError(f"cannot read {path}: {exc}") from exc
    return data, st.st_size


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys silently: two readers could then disagree.
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise _DuplicateKeyError(f"the key {key!r} appears more than once in one object")
        doc[key] = value
    return doc


def _parse_json(raw: bytes, where: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"{where} is not valid JSON: it is not UTF-8 text ({exc})") from exc
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except RecursionError as exc:
        raise CheckpointError(f"{where} is not valid JSON: it is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, duplicate keys, an integer of 4300+ digits
        raise CheckpointError(f"{where} is not valid JSON: {exc}") from exc


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def _read_meta(json_path: Path) -> dict[str, Any]:
    raw, size = _read_regular_file(json_path, _MAX_JSON_BYTES)
    if size > _MAX_JSON_BYTES:
        raise CheckpointError(
            f"{json_path} has {size} bytes, more than the {_MAX_JSON_BYTES} a checkpoint's JSON "
            "may have; it is not a neurosym checkpoint"
        )
    foreign = _foreign_kind_of(raw[:8])
    if foreign:
        raise CheckpointError(f"{json_path} is {foreign}")
    doc = _parse_json(raw, str(json_path))
    if not isinstance(doc, dict):
        raise CheckpointError(
            f"{json_path} is not a neurosym checkpoint: its JSON is {_json_kind(doc)}, not an "
            "object"
        )
    if "format" not in doc:
        raise CheckpointError(
            f'{json_path} is not a neurosym checkpoint: it lacks "format": "{FORMAT}"'
        )
    if doc["format"] != FORMAT:
        raise CheckpointError(
            f'{json_path} is not a neurosym checkpoint: its "format" is {doc["format"]!r}, '
            f'not "{FORMAT}"'
        )
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{json_path} has an unknown format_version {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{json_path} has format_version {version}, newer than the {FORMAT_VERSION} this "
            "neurosym reads; upgrade neurosym to load it"
        )
    _check_required_meta(doc, str(json_path))
    entry = doc.get("tensors_file")
    if (
        not isinstance(entry, dict)
        or set(entry) != {"name", "sha256", "bytes"}
        or not isinstance(entry["name"], str)
        or not isinstance(entry["sha256"], str)
        or not _SHA256_RE.fullmatch(entry["sha256"])
        or not isinstance(entry["bytes"], int)
        or isinstance(entry["bytes"], bool)
        or entry["bytes"] < 0
    ):
        raise CheckpointError(
            f"{json_path} lacks a valid 'tensors_file' record (exactly name, sha256, bytes): "
            f"{_short_repr(entry)}"
        )
    name = entry["name"]
    if not name or Path(name).name != name or name in (".", ".."):
        raise CheckpointError(f"{json_path} names a tensors file outside its directory: {name!r}")
    return doc


def _short_repr(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_tensors(json_path: Path, data_path: Path, meta: dict[str, Any]) -> dict[str, Tensor]:
    entry = meta["tensors_file"]
    named = json_path.parent / entry["name"]
    _refuse_escaping_link(named)
    # A save interrupted after its commit leaves the JSON naming the temporary file that was
    # then renamed to the final name; the checksum makes either name safe to use.
    source = named if named.is_file() else data_path
    if not source.is_file():
        if source.is_symlink():
            _refuse_escaping_link(source)
        raise CheckpointError(f"{json_path} refers to {named.name}, which is missing")

    # Read once, check, and parse those same bytes: nothing can change between the two.
    raw, size = _read_regular_file(source, entry["bytes"])
    if size != entry["bytes"] or hashlib.sha256(raw).hexdigest() != entry["sha256"]:
        foreign = _foreign_kind_of(raw[:8])
        if foreign:
            problem = f"is {foreign}"
        elif size != entry["bytes"]:
            problem = f"has {size} bytes, the checkpoint recorded {entry['bytes']} (truncated?)"
        else:
            problem = "does not match its recorded sha256 (corrupted or modified)"
        raise CheckpointError(f"{source} {problem}")
    return _parse_safetensors(raw, source)


def _parse_safetensors(raw: bytes, source: Path) -> dict[str, Tensor]:
    # The layout: an 8-byte little-endian header length N, N bytes of JSON header, the data.
    # Checked here first, so a forged length cannot make anything allocate or read past the end.
    if len(raw) < 8:
        raise CheckpointError(
            f"{source} is not a valid safetensors file: {len(raw)} bytes, fewer than the 8 of "
            "its header length"
        )
    (header_len,) = struct.unpack("<Q", raw[:8])
    if header_len > len(raw) - 8:
        raise CheckpointError(
            f"{source} is not a valid safetensors file: its header claims {header_len} bytes, "
            f"but only {len(raw) - 8} follow the length prefix"
        )
    if header_len > _MAX_SAFETENSORS_HEADER:
        raise CheckpointError(
            f"{source} is not a valid safetensors file: its header of {header_len} bytes exceeds "
            f"the {_MAX_SAFETENSORS_HEADER} allowed"
        )
    header = _parse_json(raw[8 : 8 + header_len], f"the safetensors header of {source}")
    if not isinstance(header, dict):
        raise CheckpointError(
            f"{source} is not a valid safetensors file: its header is not an object"
        )
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{source} is not a neurosym tensors file (header {_short_repr(metadata or {})})"
        )
    try:
        return safetensors_load(raw)
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(f"{source} is not a valid safetensors file: {exc}") from exc
