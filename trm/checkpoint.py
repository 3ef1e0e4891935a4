"""Self-describing TRM checkpoints: tensors in safetensors, everything else in JSON; never pickle.

Also flattens optimiser state and RNG state into (tensors, JSON) pairs so a run resumes exactly.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import math
import os
import random
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor

from tasks.errors import CheckpointError

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

    Nothing is unpickled: the JSON is parsed as JSON and the tensors with safetensors, after
    their size and sha256 match the JSON's record.

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
        If a file is missing, truncated or corrupt, the JSON is not a neurosym checkpoint or
        comes from a newer format version, a required key is missing, the task kind differs
        from ``expected_kind``, or a file is a pickle (such as a ``torch.save`` file).

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
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive, the format of torch.save; neurosym never unpickles files"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "a Python pickle (an old torch.save file?); neurosym never unpickles files"
    return None


def _read_meta(json_path: Path) -> dict[str, Any]:
    try:
        raw = json_path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read {json_path}: {exc}") from exc
    foreign = _foreign_kind(json_path)
    if foreign:
        raise CheckpointError(f"{json_path} is {foreign}")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{json_path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(
            f'{json_path} is not a neurosym checkpoint: it lacks "format": "{FORMAT}"'
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
        or not isinstance(entry.get("name"), str)
        or not isinstance(entry.get("sha256"), str)
        or not _SHA256_RE.fullmatch(entry["sha256"])
        or not isinstance(entry.get("bytes"), int)
    ):
        raise CheckpointError(
            f"{json_path} lacks a valid 'tensors_file' record (name, sha256, bytes): {entry!r}"
        )
    name = entry["name"]
    if not name or Path(name).name != name or name in (".", ".."):
        raise CheckpointError(f"{json_path} names a tensors file outside its directory: {name!r}")
    return doc


def _read_tensors(json_path: Path, data_path: Path, meta: dict[str, Any]) -> dict[str, Tensor]:
    entry = meta["tensors_file"]
    named = json_path.parent / entry["name"]
    # A save interrupted after its commit leaves the JSON naming the temporary file that was
    # then renamed to the final name; the checksum makes either name safe to use.
    source = named if named.is_file() else data_path
    if not source.is_file():
        raise CheckpointError(f"{json_path} refers to {named.name}, which is missing")

    with open(source, "rb") as f:
        opened = os.fstat(f.fileno())
        digest = hashlib.sha256()
        size = 0
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    if digest.hexdigest() != entry["sha256"]:
        foreign = _foreign_kind(source)
        if foreign:
            problem = f"is {foreign}"
        elif size != entry["bytes"]:
            problem = f"has {size} bytes, the checkpoint recorded {entry['bytes']} (truncated?)"
        else:
            problem = "does not match its recorded sha256 (corrupted or modified)"
        raise CheckpointError(f"{source} {problem}")

    try:
        with safe_open(os.fspath(source), framework="pt", device="cpu") as f:
            header = f.metadata() or {}
        tensors = load_file(os.fspath(source), device="cpu")
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(f"{source} is not a valid safetensors file: {exc}") from exc
    if _stamp(source) != (opened.st_ino, opened.st_size, opened.st_mtime_ns):
        raise CheckpointError(f"{source} changed while it was being loaded; try again")
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{source} is not a neurosym tensors file (header {header!r})")
    return tensors


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
