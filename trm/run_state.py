"""What a training checkpoint holds beyond the weights, and putting it back on resume.

:func:`_checkpoint_contents` flattens a run (model, EMA, optimiser, slots, random streams of
every rank, last metrics) into the ``(tensors, meta)`` pair that
:func:`trm.checkpoint.save_checkpoint` writes; :func:`_restore` loads such a pair into a freshly
built run, so that it continues exactly where the saved one stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from tasks.errors import CheckpointError, ConfigError
from trm.checkpoint import (
    optimizer_state_from_tensors,
    optimizer_state_to_tensors,
    rng_state,
    set_rng_state,
    strip_prefix,
    with_prefix,
)
from trm.distributed import _Dist, _rank_prefix
from trm.metrics import _json_safe
from trm.model import TRM
from trm.optim import EMA

if TYPE_CHECKING:
    from pathlib import Path

    from trm.slots import Slots
    from trm.train_config import TrainConfig

__all__ = ["_checkpoint_contents", "_neurosym_version", "_restore"]


def _neurosym_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("neurosym")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


def _checkpoint_contents(
    cfg: TrainConfig,
    step: int,
    model: TRM,
    ema: EMA | None,
    optimizer: torch.optim.Optimizer,
    slot_tensors: Mapping[str, Tensor],
    rng: np.random.Generator,
    metrics: dict[str, Any],
    eval_metrics: dict[str, Any] | None,
    other_ranks: Sequence[tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Any]]] = (),
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The ``(tensors, meta)`` of rank 0's checkpoint (``other_ranks``: ranks 1..'s state)."""
    optim_tensors, optim_desc = optimizer_state_to_tensors(optimizer.state_dict())
    rng_tensors, rng_desc = rng_state(rng)
    tensors = {
        **with_prefix(model.state_dict(), "model"),
        **optim_tensors,
        **rng_tensors,
        **with_prefix(slot_tensors, "slots"),
    }
    # Ranks 1.. of a distributed run: their own slots and random streams, so it can resume.
    rank_rng: dict[str, Any] = {}
    for rank, (rank_slots, rank_rng_tensors, desc) in enumerate(other_ranks, start=1):
        tensors.update(with_prefix(rank_slots, _rank_prefix(rank, "slots")))
        tensors.update(rank_rng_tensors)
        rank_rng[str(rank)] = desc
    if ema is not None:
        tensors.update(with_prefix(ema.state_dict(), "ema"))
    meta = {
        "neurosym_version": _neurosym_version(),
        "config": model.config.model_dump(mode="json"),
        "task": cfg.data.codec().spec(),
        "step": step,
        "train_config": cfg.model_dump(mode="json"),
        "optimizer": optim_desc,
        "rng": rng_desc,
        "world_size": 1 + len(other_ranks),
        "metrics": _json_safe(metrics),
        "eval_metrics": _json_safe(eval_metrics) if eval_metrics else None,
    }
    if rank_rng:
        meta["rank_rng"] = rank_rng
    return tensors, meta


def _restore(
    out: Path,
    tensors: Mapping[str, Tensor],
    meta: dict[str, Any],
    dist_ctx: _Dist,
    model: TRM,
    optimizer: torch.optim.Optimizer,
    ema: EMA | None,
    slots: Slots,
    rng: np.random.Generator,
    device: torch.device,
) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
    """Load a checkpoint's run state into this rank's fresh one, in place.

    Returns the checkpoint's step, its last training metrics and its last evaluation (or
    None). Raises :class:`~tasks.errors.ConfigError` when the checkpoint was written by a
    different number of processes, :class:`~tasks.errors.CheckpointError` when a part of the
    state is missing or does not fit.
    """
    rank, world = dist_ctx.rank, dist_ctx.world_size
    saved_world = meta.get("world_size", 1)
    if saved_world != world:
        raise ConfigError(
            f"cannot resume: the checkpoint was written by {saved_world} process(es), this "
            f"run has {world}; resume with the same number"
        )
    try:
        model.load_state_dict(strip_prefix(tensors, "model"), strict=True)
        optimizer.load_state_dict(optimizer_state_from_tensors(tensors, meta["optimizer"]))
        if ema is not None:
            ema.load_state_dict(strip_prefix(tensors, "ema"))
        saved_slots = strip_prefix(tensors, _rank_prefix(rank, "slots"))
        for name in slots.names:
            target, value = getattr(slots, name), saved_slots.get(name)
            if value is None or value.shape != target.shape:
                raise CheckpointError(f"slot tensor {name!r} is missing or misshapen")
            setattr(slots, name, value.to(device=device, dtype=target.dtype))
        rng_desc = meta["rng"] if rank == 0 else meta["rank_rng"][str(rank)]
        set_rng_state(tensors, rng_desc, rng, prefix=_rank_prefix(rank, "rng"))
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"cannot resume from {out}: {exc}") from exc
    return meta["step"], dict(meta.get("metrics") or {}), meta.get("eval_metrics")
