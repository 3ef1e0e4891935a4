"""The batch in flight during training: ``B`` persistent slots, each an example with its carry
(y, z), its step count and its halting state (:class:`Slots`), and :func:`refill`, which puts new
examples into the halted ones. Shared by :mod:`trm.train` and :mod:`trm.arc_train`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from trm.data import TaskStream
from trm.model import TRM

__all__ = ["Slots", "refill"]


@dataclass(slots=True)
class Slots:
    """The batch in flight; tensors on the training device, carries always fp32.

    Examples
    --------
    >>> from trm.config import preset
    >>> slots = Slots.empty(TRM(preset("sudoku6-tiny")), 4, torch.device("cpu"))
    >>> slots.inputs.shape, bool(slots.halted.all())  # every slot starts empty
    (torch.Size([4, 36]), True)
    """

    inputs: Tensor  # [B, seq] int64
    labels: Tensor  # [B, seq] int64
    y: Tensor  # [B, L, D]
    z: Tensor  # [B, L, D]
    steps: Tensor  # [B] int64: supervision steps run on the current example
    min_halt: Tensor  # [B] int64: exploration minimum (0: none)
    halted: Tensor  # [B] bool: refill before the next step

    names = ("inputs", "labels", "y", "z", "steps", "min_halt", "halted")

    @classmethod
    def empty(cls, model: TRM, batch: int, device: torch.device) -> Slots:
        seq = model.config.seq_len
        carry = model.initial_carry(batch, device)
        long = dict(dtype=torch.int64, device=device)
        return cls(
            inputs=torch.zeros(batch, seq, **long),
            labels=torch.zeros(batch, seq, **long),
            y=carry.y.float(),
            z=carry.z.float(),
            steps=torch.zeros(batch, **long),
            min_halt=torch.zeros(batch, **long),
            halted=torch.ones(batch, dtype=torch.bool, device=device),  # all start empty
        )

    def tensors(self) -> dict[str, Tensor]:
        return {name: getattr(self, name) for name in self.names}


def refill(
    slots: Slots, stream: TaskStream, rng: np.random.Generator, model: TRM, explore_p: float
) -> int:
    """Put new examples and fresh carries into the halted slots; returns how many."""
    index = torch.nonzero(slots.halted.cpu()).flatten()
    n = int(index.numel())
    if n == 0:
        return 0
    device = slots.inputs.device
    inputs, labels = stream.next_batch(n)
    index = index.to(device)
    slots.inputs[index] = inputs.to(device)
    slots.labels[index] = labels.to(device)
    slots.y[index] = model.y_init.float()
    slots.z[index] = model.z_init.float()
    slots.steps[index] = 0
    n_sup = model.config.max_supervision_steps
    # Always draw both arrays, so the stream's position does not depend on the outcome.
    explore = rng.random(n) < explore_p
    minimum = rng.integers(2, max(n_sup, 2) + 1, size=n)
    mins = np.where(explore & (n_sup >= 2), minimum, 0)
    slots.min_halt[index] = torch.from_numpy(mins.astype(np.int64)).to(device)
    slots.halted[index] = False
    return n
