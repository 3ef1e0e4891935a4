"""What one supervision step costs: a flop count per step and a measured seconds-per-flop
rate per model, so :func:`trm.inference.predict` can refuse to start a step that would not end
before its deadline (one step cannot be interrupted).
"""

from __future__ import annotations

import math
import time
import weakref

import torch

from tasks.errors import ConfigError
from trm.config import swiglu_hidden_size
from trm.model import TRM
from trm.rollout import LoadedModel, autocast

__all__ = ["STEP_COST_MARGIN", "StepClock", "calibrate_step_rate", "step_flops"]

#: Under a deadline a supervision step starts only when ``now + margin * estimate`` still lies
#: before it: one step cannot be interrupted (a 201x201 maze with 8 trajectories takes over a
#: minute per step on one CPU thread), so a step that would not end in time never starts.
STEP_COST_MARGIN = 1.25


def step_flops(net: TRM, tokens: int, rows: int = 1) -> float:
    """Rough floating-point operations of one supervision step of ``rows`` sequences of
    ``tokens`` positions (prefix included): every network application's matrix products.

    Only ratios matter: :func:`predict` turns it into seconds with a rate measured on this
    model (see :data:`STEP_COST_MARGIN`), so the constant factors need not be exact.

    Examples
    --------
    >>> from trm.config import preset
    >>> net = TRM(preset("maze-conv", hidden_size=8))
    >>> step_flops(net, 226, rows=2) == 2 * step_flops(net, 226)
    True
    """
    cfg = net.config
    width = cfg.hidden_size
    per_token = 6.0 * width * swiglu_hidden_size(width, cfg.expansion)  # the channel SwiGLU
    if cfg.mixer == "conv":
        per_token += 18.0 * width * width  # 3x3 kernel, width -> width
    elif cfg.mixer == "graph":
        per_token += 12.0 * width * width  # self + 4 directions + neighbour max, width -> width
    elif cfg.mixer == "mlp":
        per_token += 6.0 * width * swiglu_hidden_size(tokens, cfg.expansion)
    else:  # attention over every position (a peer mask still computes the full product)
        per_token += 8.0 * width * width + 4.0 * tokens * width
    applications = cfg.n_improve_steps * (cfg.n_latent_steps + 1) * cfg.num_layers
    readout = 2.0 * width * cfg.vocab_size
    return float(rows) * tokens * (per_token * applications + readout)


#: Measured seconds per :func:`step_flops` unit, per model, keyed by (torch threads, size
#: bucket): small batches run at a worse rate than large ones, so a rate is reused only for
#: its own bucket or, pessimistically, taken from a smaller one.
_STEP_RATES: weakref.WeakKeyDictionary[TRM, dict[tuple[int, int], float]] = (
    weakref.WeakKeyDictionary()
)


def _bucket(flops: float) -> int:
    return int(math.log2(max(flops, 1.0)))


def _record_rate(net: TRM, flops: float, seconds: float) -> None:
    rates = _STEP_RATES.setdefault(net, {})
    rates[(torch.get_num_threads(), _bucket(flops))] = seconds / max(flops, 1.0)


def _rate(net: TRM, flops: float) -> float:
    """Seconds per flop for a step of ``flops``: measured at this size, else at the nearest
    smaller size, else calibrated now on one sequence of the training grid."""
    threads, bucket = torch.get_num_threads(), _bucket(flops)
    known = {b: r for (t, b), r in _STEP_RATES.get(net, {}).items() if t == threads}
    smaller = [b for b in known if b <= bucket]
    if smaller:
        return known[max(smaller)]
    if known:  # only larger batches measured: their rate is optimistic for this one
        return max(known.values()) * 2.0
    return _calibrate(net)


def calibrate_step_rate(model: TRM | LoadedModel) -> float:
    """Seconds per :func:`step_flops` unit of ``model`` at torch's current thread count: what
    :func:`predict` estimates its first step under a deadline with. Measured once (one step
    on one sequence of the training grid, a few milliseconds), then reused; call it before a
    deadline's clock starts to keep the measurement out of the time limit.

    Examples
    --------
    >>> from trm.config import preset
    >>> calibrate_step_rate(TRM(preset("sudoku6-tiny", hidden_size=16))) > 0
    True
    """
    net = model.model if isinstance(model, LoadedModel) else model
    if not isinstance(net, TRM):
        raise ConfigError(f"model must be a TRM or LoadedModel, got {type(model).__name__}")
    threads = torch.get_num_threads()
    known = [r for (t, _), r in sorted(_STEP_RATES.get(net, {}).items()) if t == threads]
    return known[0] if known else _calibrate(net)


@torch.inference_mode()
def _calibrate(net: TRM) -> float:
    """Time one supervision step on one all-padding sequence of the model's training grid."""
    geometry = net.geometry
    device = net.y_init.device
    inputs = torch.zeros(1, geometry.seq_len, dtype=torch.long, device=device)
    flops = step_flops(net, geometry.seq_len + net.config.puzzle_prefix_len)
    best = math.inf
    for _ in range(2):  # the first run pays for allocations
        carry = net.initial_carry(1, device, geometry=geometry)
        t0 = time.perf_counter()
        with autocast(device):
            _, logits, _ = net(
                inputs, carry, geometry=geometry if net.config.size_agnostic else None
            )
        logits.sum().item()  # waits for a GPU to finish the step
        best = min(best, time.perf_counter() - t0)
    _record_rate(net, flops, best)
    return best / flops


def _step_estimate(net: TRM, tokens: int, rows: int) -> tuple[float, float]:
    """``(flops, estimated seconds)`` of one step of ``rows`` sequences."""
    flops = step_flops(net, tokens, rows)
    return flops, flops * _rate(net, flops)


class StepClock:
    """Admits supervision steps against a deadline (see :func:`predict`) and keeps the
    measured rates for the next estimate. Without a deadline it admits every step, untimed."""

    def __init__(self, net: TRM, tokens: int, deadline: float | None) -> None:
        self.net, self.tokens, self.deadline = net, tokens, deadline
        self.estimate_s = 0.0
        self.started = 0.0

    def admits(self, rows: int) -> bool:
        if self.deadline is None:
            return True
        if rows <= 0:
            return True  # nothing left to run: the batch ends by itself
        _, self.estimate_s = _step_estimate(self.net, self.tokens, rows)
        self.started = time.perf_counter()
        return self.started + STEP_COST_MARGIN * self.estimate_s <= self.deadline

    def ran(self, rows: int) -> None:
        if self.deadline is not None:
            flops = step_flops(self.net, self.tokens, rows)
            _record_rate(self.net, flops, time.perf_counter() - self.started)

    def describe(self) -> str:
        left = (self.deadline or 0.0) - time.perf_counter()
        return f"a step estimated at {self.estimate_s:.3g} s, {max(left, 0.0):.3g} s left"
