"""Self-describing TRM checkpoints: tensors in safetensors, everything else in JSON; never pickle.

Also flattens optimiser state and RNG state into (tensors, JSON) pairs so a run resumes exactly.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import logging
import math
import os
import random
import re
import secrets
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import save_file
from torch import Tensor

from tasks.errors import CheckpointError, ConfigError
from trm.config import TRMConfig
from trm.model import TRM

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
    _check_json_value(meta, "meta")
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


def _check_json_value(value: Any, where: str) -> None:
    # json.dumps would silently turn int keys into strings and reject numpy scalars deep
    # inside; checking first names the offending entry.
    if value is None or isinstance(value, bool | int | float | str):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json_value(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CheckpointError(
                    f"{where} has a non-string key {key!r}; JSON keys are strings"
                )
            _check_json_value(item, f"{where}[{key!r}]")
        return
    raise CheckpointError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which JSON cannot "
        "store; pass tensors in `tensors` and plain Python values in `meta`"
    )


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


# ------------------------------------------------------------- tensors vs the TRM config

# The layout of a training run's slots (trm.train._Slots): dtype and shape ("B": the slots,
# "seq": the config's seq_len, "carry": a carry's per-example shape).
_SLOT_LAYOUT: dict[str, tuple[torch.dtype, tuple[str, ...]]] = {
    "inputs": (torch.int64, ("B", "seq")),
    "labels": (torch.int64, ("B", "seq")),
    "y": (torch.float32, ("B", "carry")),
    "z": (torch.float32, ("B", "carry")),
    "steps": (torch.int64, ("B",)),
    "min_halt": (torch.int64, ("B",)),
    "halted": (torch.bool, ("B",)),
}
_SLOT_NAME_RE = re.compile(r"((?:rank\d+\.)?slots)\.(.+)")
_OPTIM_NAME_RE = re.compile(r"optim\.state\.(\d+)\.(.+)")


@dataclass(frozen=True)
class _TRMLayout:
    state: dict[str, tuple[tuple[int, ...], torch.dtype]]  # model.state_dict()
    params: list[tuple[tuple[int, ...], torch.dtype]]  # model.parameters(), optimiser order
    carry: tuple[int, ...]  # one example's carry (y or z)
    vocab_size: int
    seq_len: int


@functools.lru_cache(maxsize=8)
def _trm_layout(config_json: str) -> _TRMLayout:
    config = TRMConfig.model_validate(json.loads(config_json))
    # On the meta device: shapes and dtypes only, no memory, no draw from any RNG.
    with torch.device("meta"):
        model = TRM(config)
        carry = model.initial_carry(1, torch.device("meta")).y
    return _TRMLayout(
        state={n: (tuple(t.shape), t.dtype) for n, t in model.state_dict().items()},
        params=[(tuple(p.shape), p.dtype) for p in model.parameters()],
        carry=tuple(carry.shape[1:]),
        vocab_size=config.vocab_size,
        seq_len=config.seq_len,
    )


def _describe(t: Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')} {list(t.shape)}"


def _wanted(shape: tuple[int, ...], dtype: torch.dtype) -> str:
    return f"{str(dtype).removeprefix('torch.')} {list(shape)}"


def _check_trm_tensors(tensors: Mapping[str, Tensor], meta: Mapping[str, Any], where: Path) -> None:
    """Refuse tensors that do not fit the TRM that ``meta["config"]`` describes.

    ``load_state_dict`` would silently cast a float64 or int weight, and the optimiser would
    fail (or broadcast) only at the first step; this names the offending tensor up front.
    Checkpoints whose config is not a TRMConfig (other uses of this module) are left alone.
    """
    try:
        config_json = json.dumps(
            TRMConfig.model_validate(meta["config"]).model_dump(mode="json"), sort_keys=True
        )
    except (ConfigError, ValueError, TypeError):
        return
    try:
        layout = _trm_layout(config_json)
    except Exception as exc:  # a valid config the model still refuses to build
        raise CheckpointError(f"{where}: its config does not build a model: {exc}") from exc
    problems: list[str] = []
    for prefix in ("model", "ema"):
        part = strip_prefix(tensors, prefix)
        if not part:
            continue
        missing = sorted(set(layout.state) - set(part))
        unexpected = sorted(set(part) - set(layout.state))
        if missing:
            problems.append(f"{prefix} tensors {missing} are missing")
        if unexpected:
            problems.append(f"{prefix} tensors {unexpected} are not in the model")
        for name, (shape, dtype) in layout.state.items():
            t = part.get(name)
            if t is not None and (tuple(t.shape) != shape or t.dtype != dtype):
                problems.append(
                    f"{prefix}.{name} is {_describe(t)}, the model needs {_wanted(shape, dtype)}"
                )
    problems += _optimizer_problems(tensors, layout)
    problems += _slot_problems(tensors, layout)
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise CheckpointError(f"{where}: the tensors do not fit its model config: {shown}")


def _optimizer_problems(tensors: Mapping[str, Tensor], layout: _TRMLayout) -> list[str]:
    problems = []
    for name, t in tensors.items():
        if not name.startswith("optim."):
            continue
        match = _OPTIM_NAME_RE.fullmatch(name)
        if match is None:
            problems.append(f"{name} is not an optimiser state tensor (optim.state.<i>.<key>)")
            continue
        index, key = int(match.group(1)), match.group(2)
        if index >= len(layout.params):
            problems.append(f"{name} is for parameter {index}; the model has {len(layout.params)}")
            continue
        shape, dtype = layout.params[index]
        if key == "step":  # Adam's step count: a float scalar
            if not (t.dtype.is_floating_point and t.numel() == 1):
                problems.append(f"{name} is {_describe(t)}, not a float scalar")
        elif tuple(t.shape) != shape or t.dtype != dtype:
            problems.append(f"{name} is {_describe(t)}, its parameter is {_wanted(shape, dtype)}")
    return problems


def _slot_problems(tensors: Mapping[str, Tensor], layout: _TRMLayout) -> list[str]:
    problems = []
    batch: dict[str, int] = {}  # per group (rank): the first slot tensor's batch size
    for name, t in sorted(tensors.items()):
        match = _SLOT_NAME_RE.fullmatch(name)
        if match is None:
            continue
        group, slot = match.groups()
        if slot not in _SLOT_LAYOUT:
            problems.append(f"{name} is not a training slot ({sorted(_SLOT_LAYOUT)})")
            continue
        dtype, dims = _SLOT_LAYOUT[slot]
        wanted: list[int | str] = []
        for dim in dims:
            if dim == "B":
                wanted.append(batch.get(group, "B"))
            else:
                wanted += [layout.seq_len] if dim == "seq" else list(layout.carry)
        shape = list(t.shape)
        fits = len(shape) == len(wanted) and all(
            isinstance(w, str) or s == w for s, w in zip(shape, wanted, strict=True)
        )
        if t.dtype != dtype or not fits:
            need = f"{str(dtype).removeprefix('torch.')} {wanted}".replace("'", "")
            problems.append(f"{name} is {_describe(t)}, a slot needs {need}")
            continue
        batch.setdefault(group, shape[0])
        if t.numel() == 0:
            continue
        if (
            slot in ("inputs", "labels")
            and not 0 <= int(t.min()) <= int(t.max()) < layout.vocab_size
        ):
            problems.append(f"{name} holds tokens outside [0, {layout.vocab_size})")
        elif slot in ("steps", "min_halt") and int(t.min()) < 0:
            problems.append(f"{name} holds negative counts")
    return problems


# --------------------------------------------------------------------------- prefixes


def with_prefix(tensors: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """``{prefix.name: tensor}``: namespaces a state dict inside a checkpoint.

    Examples
    --------
    >>> list(with_prefix({"w": torch.zeros(1)}, "model"))
    ['model.w']
    """
    return {f"{prefix}.{name}": t for name, t in tensors.items()}


def strip_prefix(tensors: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The tensors under ``prefix.``, with the prefix removed (the inverse of :func:`with_prefix`).

    Examples
    --------
    >>> list(strip_prefix({"model.w": torch.zeros(1), "ema.w": torch.ones(1)}, "model"))
    ['w']
    """
    start = f"{prefix}."
    return {name[len(start) :]: t for name, t in tensors.items() if name.startswith(start)}


# --------------------------------------------------------------------------- optimiser state


def optimizer_state_to_tensors(
    state_dict: Mapping[str, Any], *, prefix: str = "optim"
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors and a JSON-ready description.

    Tensors are named ``{prefix}.state.{param_index}.{key}``; the description records the
    param groups (tuples such as ``betas`` are restored as tuples), the non-tensor state
    values and which keys were tensors. Use a distinct ``prefix`` per optimiser.

    Parameters
    ----------
    state_dict : mapping
        An ``Optimizer.state_dict()``.
    prefix : str

    Returns
    -------
    tensors : dict of str to Tensor
    description : dict
        JSON-serialisable; pass both to :func:`optimizer_state_from_tensors`.

    Raises
    ------
    CheckpointError
        If a value is neither a tensor nor JSON-serialisable.

    Examples
    --------
    >>> p = torch.nn.Parameter(torch.zeros(2))
    >>> opt = torch.optim.AdamW([p])
    >>> p.grad = torch.ones(2)
    >>> opt.step()
    >>> tensors, desc = optimizer_state_to_tensors(opt.state_dict())
    >>> sorted(tensors)
    ['optim.state.0.exp_avg', 'optim.state.0.exp_avg_sq', 'optim.state.0.step']
    >>> restored = optimizer_state_from_tensors(tensors, desc)
    >>> restored["param_groups"] == opt.state_dict()["param_groups"]
    True
    """
    try:
        state = state_dict["state"]
        groups = state_dict["param_groups"]
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"not an optimizer state_dict: {exc!r}") from exc
    tensors: dict[str, Tensor] = {}
    state_desc: dict[str, Any] = {}
    for index, param_state in state.items():
        tensor_keys: list[str] = []
        values: dict[str, Any] = {}
        for key, value in param_state.items():
            if isinstance(value, Tensor):
                tensors[f"{prefix}.state.{index}.{key}"] = value
                tensor_keys.append(key)
            else:
                _check_json_value(value, f"optimizer state[{index}][{key!r}]")
                values[key] = value
        state_desc[str(index)] = {"tensors": tensor_keys, "values": values}
    group_desc: list[dict[str, Any]] = []
    tuple_keys: list[list[str]] = []
    for i, group in enumerate(groups):
        for key, value in group.items():
            if isinstance(value, Tensor):
                raise CheckpointError(f"optimizer param_groups[{i}][{key!r}] is a tensor")
            _check_json_value(value, f"optimizer param_groups[{i}][{key!r}]")
        group_desc.append({k: list(v) if isinstance(v, tuple) else v for k, v in group.items()})
        tuple_keys.append([k for k, v in group.items() if isinstance(v, tuple)])
    description = {
        "prefix": prefix,
        "param_groups": group_desc,
        "tuple_keys": tuple_keys,
        "state": state_desc,
    }
    return tensors, description


def optimizer_state_from_tensors(
    tensors: Mapping[str, Tensor], description: Mapping[str, Any]
) -> dict[str, Any]:
    """Rebuild an optimiser ``state_dict`` from :func:`optimizer_state_to_tensors`'s output.

    ``tensors`` may be a whole checkpoint's tensors: only this optimiser's prefix is read.

    Returns
    -------
    dict
        Ready for ``optimizer.load_state_dict``.

    Raises
    ------
    CheckpointError
        If the description is malformed or a tensor it names is missing.

    Examples
    --------
    >>> desc = {"prefix": "optim", "param_groups": [{"lr": 0.1, "params": [0]}],
    ...         "tuple_keys": [[]], "state": {}}
    >>> optimizer_state_from_tensors({}, desc)
    {'state': {}, 'param_groups': [{'lr': 0.1, 'params': [0]}]}
    """
    try:
        prefix = description["prefix"]
        state: dict[int, dict[str, Any]] = {}
        for index, entry in description["state"].items():
            param_state: dict[str, Any] = {}
            for key in entry["tensors"]:
                name = f"{prefix}.state.{index}.{key}"
                if name not in tensors:
                    raise CheckpointError(f"optimizer tensor {name!r} is missing")
                param_state[key] = tensors[name]
            param_state.update(entry["values"])
            state[int(index)] = param_state
        groups = []
        for group, tuples in zip(
            description["param_groups"], description["tuple_keys"], strict=True
        ):
            groups.append({k: tuple(v) if k in tuples else v for k, v in group.items()})
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"malformed optimizer state description: {exc!r}") from exc
    return {"state": state, "param_groups": groups}


# --------------------------------------------------------------------------- RNG state


def rng_state(
    generator: np.random.Generator | None = None,
    *,
    torch_generator: torch.Generator | None = None,
    prefix: str = "rng",
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Capture the random states a resumed run needs, as (tensors, JSON-ready dict).

    Captured: Python's global ``random``; ``generator``'s bit generator, if given; torch's
    global CPU generator (tensor ``{prefix}.torch_cpu``); each CUDA device's generator if CUDA
    has been initialised (``{prefix}.torch_cuda.{i}``); and ``torch_generator``, if given
    (``{prefix}.torch_generator``).

    Parameters
    ----------
    generator : numpy.random.Generator, optional
    torch_generator : torch.Generator, optional
    prefix : str

    Returns
    -------
    tensors : dict of str to Tensor
        uint8 state tensors.
    state : dict
        JSON-serialisable; restore with :func:`set_rng_state`.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> tensors, state = rng_state(g)
    >>> first = (random.random(), g.random(), torch.rand(1))
    >>> set_rng_state(tensors, state, g)
    >>> (random.random(), g.random(), torch.rand(1)) == first
    True
    """
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
        "numpy": None if generator is None else _encode_numpy(generator.bit_generator.state),
    }
    tensors = {f"{prefix}.torch_cpu": torch.get_rng_state()}
    # Reading CUDA states would initialise CUDA; if it is not initialised, nothing drew from it.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"{prefix}.torch_cuda.{i}"] = s
    if torch_generator is not None:
        tensors[f"{prefix}.torch_generator"] = torch_generator.get_state()
    return tensors, state


def set_rng_state(
    tensors: Mapping[str, Tensor],
    state: Mapping[str, Any],
    generator: np.random.Generator | None = None,
    *,
    torch_generator: torch.Generator | None = None,
    prefix: str = "rng",
) -> None:
    """Restore the states captured by :func:`rng_state`.

    ``generator`` and ``torch_generator`` are restored only when passed. CUDA states are
    restored for the devices present; states of missing devices are skipped (a GPU run
    resumed on the CPU).

    Raises
    ------
    CheckpointError
        If a needed state is missing or does not fit (another numpy bit generator type).

    Examples
    --------
    >>> tensors, state = rng_state()
    >>> first = random.random()
    >>> set_rng_state(tensors, state)
    >>> random.random() == first
    True
    """
    try:
        py = state["python"]
        random.setstate((py["version"], tuple(py["internal"]), py["gauss_next"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"malformed Python RNG state: {exc!r}") from exc

    if generator is not None:
        encoded = state.get("numpy")
        if encoded is None:
            raise CheckpointError("the checkpoint holds no numpy Generator state")
        try:
            generator.bit_generator.state = _decode_numpy(encoded)
        except (TypeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"cannot restore the numpy Generator state: {exc}") from exc

    torch.set_rng_state(_state_tensor(tensors, f"{prefix}.torch_cpu"))
    cuda_names = sorted(n for n in tensors if n.startswith(f"{prefix}.torch_cuda."))
    if cuda_names:
        n_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
        for name in cuda_names:
            index = int(name.rsplit(".", 1)[1])
            if index < n_devices:
                torch.cuda.set_rng_state(_state_tensor(tensors, name), index)
            else:
                logger.info("skipping the RNG state of absent CUDA device %d", index)
    if torch_generator is not None:
        torch_generator.set_state(_state_tensor(tensors, f"{prefix}.torch_generator"))


def _state_tensor(tensors: Mapping[str, Tensor], name: str) -> Tensor:
    if name not in tensors:
        raise CheckpointError(f"RNG state tensor {name!r} is missing")
    t = tensors[name]
    if t.dtype != torch.uint8 or t.dim() != 1:
        raise CheckpointError(f"RNG state {name!r} must be a 1-d uint8 tensor, got {t.dtype}")
    return t.cpu()


def _encode_numpy(value: Any) -> Any:
    # Bit generator states hold Python ints (PCG64's are 128-bit, which JSON keeps exactly in
    # Python) and, for MT19937, a uint32 array.
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _encode_numpy(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise CheckpointError(f"non-finite value {value!r} in a numpy RNG state")
    return value


def _decode_numpy(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {k: _decode_numpy(v) for k, v in value.items()}
    return value
