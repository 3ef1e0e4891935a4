"""The trainer's device and torchrun/DDP plumbing: which device, which rank, which data stream.

A single process is rank 0 of 1 and none of this touches :mod:`torch.distributed`. Launched by
``torchrun`` (``WORLD_SIZE > 1``), :func:`_init_distributed` joins the process group,
:func:`_wrap_ddp` wraps the model in DistributedDataParallel and :func:`_gather_other_ranks`
collects the other ranks' slots and random streams for rank 0's checkpoint.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tasks.errors import ConfigError
from trm.checkpoint import rng_state

__all__ = [
    "_Dist",
    "_data_rng",
    "_destroy_group",
    "_env_int",
    "_gather_other_ranks",
    "_init_distributed",
    "_rank_prefix",
    "_resolve_device",
    "_wrap_ddp",
]


def _resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device='cuda' was asked for but CUDA is not available here "
            "(torch.cuda.is_available() is False); use device='cpu' or 'auto'"
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(slots=True)
class _Dist:
    """This process's place in a torch.distributed run (rank 0 of 1 without one)."""

    rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # this call initialised the process group, so it destroys it

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from None


def _init_distributed(device: torch.device) -> tuple[_Dist, torch.device]:
    """Join (or start) the process group of a torchrun launch; a no-op for a single process.

    An already initialised default group (e.g. set up by the caller) is used as it is and left
    alive. Otherwise ``WORLD_SIZE > 1`` in the environment (as torchrun sets it, together with
    ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``) initialises one from the
    environment: backend NCCL on CUDA, Gloo on the CPU. On CUDA each process uses the GPU
    ``LOCAL_RANK``.
    """
    import torch.distributed as dist

    available = dist.is_available()
    if available and dist.is_initialized():
        ctx = _Dist(rank=dist.get_rank(), world_size=dist.get_world_size())
    elif _env_int("WORLD_SIZE", 1) > 1:
        if not available:
            raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        if device.type == "cuda":
            torch.cuda.set_device(_env_int("LOCAL_RANK", 0))
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        ctx = _Dist(rank=dist.get_rank(), world_size=dist.get_world_size(), owns_group=True)
    else:
        return _Dist(), device
    if device.type == "cuda":
        local = _env_int("LOCAL_RANK", ctx.rank % max(torch.cuda.device_count(), 1))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    return ctx, device


def _destroy_group(ctx: _Dist) -> None:
    """Destroy the process group if :func:`_init_distributed` created it (else leave it)."""
    if ctx.owns_group:
        import torch.distributed as dist

        dist.destroy_process_group()


def _data_rng(seed: int, rank: int) -> np.random.Generator:
    """The data/halting stream of one rank: rank 0 (and a single process) is seeded with
    ``seed`` itself, rank r > 0 with the child ``SeedSequence(seed, spawn_key=(r,))``, so every
    rank draws different examples and runs with different seeds never share a stream."""
    if rank == 0:
        return np.random.default_rng(seed)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(rank,)))


def _rank_prefix(rank: int, name: str) -> str:
    # Rank 0 keeps the single-process names, so its checkpoints read like any other.
    return name if rank == 0 else f"rank{rank}.{name}"


def _wrap_ddp(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel (the process group must be initialised)."""
    from torch.nn.parallel import DistributedDataParallel

    # Buffers (y_init, z_init, RoPE tables) never change and start equal (same seed), so
    # they are not re-broadcast before every forward; newer torch renamed that switch.
    no_buffer_sync = (
        {"forward_sync_buffers": False}
        if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
        else {"broadcast_buffers": False}
    )
    return DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None, **no_buffer_sync
    )


def _gather_other_ranks(
    ctx: _Dist, slot_tensors: Mapping[str, Tensor], rng: np.random.Generator
) -> list[Any]:
    """Every rank's slots and random stream, gathered on rank 0 for its checkpoint.

    A collective: every rank must call it. Returns, on rank 0 of a distributed run, one
    ``(slot tensors, rng tensors, rng description)`` per rank 1..; otherwise ``[]``.
    """
    if not ctx.enabled:
        return []
    import torch.distributed as dist

    rng_tensors, rng_desc = rng_state(rng, prefix=_rank_prefix(ctx.rank, "rng"))
    mine = (
        {k: v.cpu() for k, v in slot_tensors.items()},
        {k: v.cpu() for k, v in rng_tensors.items()},
        rng_desc,
    )
    gathered: list[Any] | None = [None] * ctx.world_size if ctx.is_main else None
    dist.gather_object(mine, gathered, dst=0)
    return list(gathered[1:]) if gathered is not None else []


def _any_rank(ctx: _Dist, flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is True on some rank (a collective when distributed),
    so a time limit stops every process at the same step."""
    if not ctx.enabled:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
