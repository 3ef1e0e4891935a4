"""Checks that a TRM checkpoint's tensors fit its config: every model tensor present with the
shape and dtype the config builds, optimiser state matching the parameters, training slots of
the right shapes and token range. :func:`trm.checkpoint.load_checkpoint` runs it on every TRM
checkpoint, so a file whose tensors disagree with its config fails with a
:class:`~tasks.errors.CheckpointError` naming the tensor, not deep inside torch.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tasks.errors import CheckpointError, ConfigError
from trm.config import TRMConfig
from trm.model import TRM
from trm.state_tensors import strip_prefix

# The layout of a training run's slots (trm.slots.Slots): dtype and shape ("B": the slots,
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
