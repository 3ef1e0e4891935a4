"""Training a TRM on ARC: per-view puzzle embeddings with their own sign-SGD optimiser, outside
EMA and the parameter count, under the same deep supervision as :mod:`trm.train`.

:func:`trm.train.train` draws from a Sudoku/maze stream with one shared task vector; ARC needs
a puzzle id per example and a second optimiser, so this module runs its own short loop over
the trainer's slots (:class:`trm.slots.Slots`, refilled by :func:`trm.slots.refill`) with the
same losses (stablemax per sequence + 0.5 x halt BCE against "exactly right") and halting rule.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from torch import Tensor

from tasks.arc import ArcTask
from tasks.errors import ConfigError, describe_validation_error
from trm.arc_data import ARC_VOCAB_SIZE, ArcCodec, ArcExampleStream, ArcPuzzleSet, make_puzzle_set
from trm.config import TRMConfig, preset
from trm.distributed import _resolve_device
from trm.losses import (
    exact_match,
    halt_loss,
    sequence_loss,
    softmax_cross_entropy,
    stablemax_cross_entropy,
)
from trm.model import TRM, Carry
from trm.optim import EMA, make_optimizer, scheduled_lr, set_lr
from trm.rollout import autocast
from trm.slots import Slots, refill

__all__ = [
    "PUZZLE_EMBEDDING",
    "PuzzleSignSGD",
    "ArcTrainConfig",
    "ArcTrainResult",
    "arc_model_config",
    "train_arc",
]

#: The model's puzzle-embedding table: trained by :class:`PuzzleSignSGD`, left out of EMA.
PUZZLE_EMBEDDING = "puzzle_embedding"


class PuzzleSignSGD(torch.optim.Optimizer):
    """Sign-SGD with decoupled weight decay on the rows a batch used, as the reference trains
    its puzzle embeddings::

        row <- row * (1 - lr * wd) - lr * sign(grad_row)     for each row in step(rows=...)

    Rows the batch did not use are left alone (no decay either). A row used by several examples
    gets the sign of their summed gradient (indexing accumulates it).

    Examples
    --------
    >>> table = torch.nn.Parameter(torch.ones(3, 2))
    >>> opt = PuzzleSignSGD([table], lr=0.1, weight_decay=0.5)
    >>> table.grad = torch.tensor([[2.0, -3.0], [1.0, 1.0], [0.0, 0.0]])
    >>> opt.step(rows=torch.tensor([0, 0]))  # row 0: 1 * (1 - 0.05) -+ 0.1
    >>> table.data
    tensor([[0.8500, 1.0500],
            [1.0000, 1.0000],
            [1.0000, 1.0000]])
    """

    def __init__(
        self, params: Iterable[Tensor], lr: float = 1e-2, weight_decay: float = 0.1
    ) -> None:
        for name, value in (("lr", lr), ("weight_decay", weight_decay)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(  # type: ignore[override]
        self, closure: Callable[[], Tensor] | None = None, *, rows: Tensor | None = None
    ) -> Tensor | None:
        """Update ``rows`` (first-axis indices; None: every row) of each table with a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, decay = group["lr"], group["weight_decay"]
            for table in group["params"]:
                if table.grad is None:
                    continue
                index = (
                    torch.arange(table.shape[0], device=table.device)
                    if rows is None
                    else torch.unique(rows.to(table.device))
                )
                updated = table[index] * (1.0 - lr * decay) - lr * table.grad[index].sign()
                table.index_copy_(0, index, updated.to(table.dtype))
        return loss


def _config_error(exc: ValidationError) -> ConfigError:
    return ConfigError(f"invalid ArcTrainConfig: {describe_validation_error(exc)}")


class ArcTrainConfig(BaseModel):
    """An ARC training run; frozen and strict about field names.

    The model is ``preset`` with the ``model`` overrides, and ``num_puzzle_ids`` set to what
    the puzzle set needs (one row per view of every task, plus the blank id 0). Defaults are
    the CPU recipe of the ``arc-tiny`` preset; the reference's values are in the descriptions.

    Examples
    --------
    >>> ArcTrainConfig(steps=10).puzzle_emb_lr
    0.01
    >>> ArcTrainConfig(step=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: invalid ArcTrainConfig: step: Extra inputs are not permitted
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str = Field("arc-tiny", description="A trm.config preset with vocab 12.")
    model: dict[str, Any] = Field(default_factory=dict, description="TRMConfig overrides.")
    n_views: int = Field(
        8, ge=1, description="Augmented views per task, identity included (reference 1001)."
    )
    translate_prob: float = Field(
        0.75,
        ge=0,
        le=1,
        description="Chance a drawn training pair is moved to a random offset (the reference "
        "translates all but one pair per puzzle, ~3/4 of them).",
    )
    include_test_pairs: bool = Field(
        False,
        description="Also train on test pairs with known outputs (the reference does for its "
        "non-evaluation subsets); False keeps test inputs for scoring.",
    )
    steps: int = Field(1000, ge=1, description="Optimiser steps (one supervision step each).")
    batch_size: int = Field(32, ge=1, description="Slots (reference 768).")
    optimizer: Literal["adamw", "adamatan2"] = Field("adamw", description="Network optimiser.")
    lr: float = Field(1e-3, ge=0, description="Network peak lr (reference 1e-4).")
    weight_decay: float = Field(0.1, ge=0, description="Network weight decay (reference 0.1).")
    betas: tuple[float, float] = Field((0.9, 0.95), description="Adam betas (reference).")
    warmup_steps: int = Field(50, ge=0, description="Linear warm-up of both lrs (ref 2000).")
    puzzle_emb_lr: float = Field(1e-2, ge=0, description="Sign-SGD lr (reference 1e-2).")
    puzzle_emb_weight_decay: float = Field(
        0.1, ge=0, description="Sign-SGD decoupled decay (reference 0.1)."
    )
    ema_decay: float | None = Field(0.999, ge=0, le=1, description="EMA rate; None: no EMA.")
    ema_warmup: bool = Field(
        True,
        description="EMA decay min(decay, (1+t)/(10+t)) at update t (trm.optim.EMA): a run of a "
        "few hundred steps is otherwise evaluated near its initial weights (off in the "
        "reference, whose runs are ~500k steps).",
    )
    halt_loss_weight: float = Field(0.5, ge=0, description="Weight of the halt BCE (ref 0.5).")
    loss: Literal["stablemax", "softmax"] = Field("stablemax", description="Token loss.")
    seed: int = Field(0, ge=0, description="Seeds the views, the init and the example stream.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: cuda if present.")
    threads: int | None = Field(None, ge=1, description="torch CPU threads (None: 1 on CPU).")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @field_validator("lr", "weight_decay", "puzzle_emb_lr", "puzzle_emb_weight_decay")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"must be finite, got {value}")
        return value


def arc_model_config(name: str, num_puzzle_ids: int, **overrides: Any) -> TRMConfig:
    """Preset ``name`` with ``overrides`` and ``num_puzzle_ids``, checked to be an ARC model
    (vocabulary 12, a square canvas of at most 30 x 30)."""
    config = preset(name, **{**overrides, "num_puzzle_ids": num_puzzle_ids})
    if config.vocab_size != ARC_VOCAB_SIZE:
        raise ConfigError(
            f"an ARC model needs vocab_size {ARC_VOCAB_SIZE} (PAD, EOS, 10 colours), preset "
            f"{name!r} has {config.vocab_size}"
        )
    ArcCodec.for_seq_len(config.seq_len)
    return config


@dataclass(slots=True)
class ArcTrainResult:
    """What :func:`train_arc` returns: the raw and the evaluated (EMA) model, the views and
    ids they were trained on, and one metrics dict per step."""

    model: TRM
    averaged: TRM  # EMA weights with the live puzzle embeddings (``model`` without EMA)
    puzzles: ArcPuzzleSet
    history: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    stopped_early: bool = False


def _forward(
    model: TRM, inputs: Tensor, carry: Carry, ids: Tensor, table: Tensor | None
) -> tuple[Carry, Tensor, Tensor]:
    """One supervision step; with ``table``, that tensor stands in for the puzzle embeddings
    and every network weight is a detached constant (test-time fitting)."""
    if table is None:
        return model(inputs, carry, ids)
    params: dict[str, Tensor] = {n: p.detach() for n, p in model.named_parameters()}
    params[PUZZLE_EMBEDDING] = table
    return torch.func.functional_call(model, params, (inputs, carry, ids))


def supervise(
    model: TRM,
    stream: ArcExampleStream,
    *,
    steps: int,
    batch_size: int,
    rng: np.random.Generator,
    update: Callable[[Tensor, int], None],
    zero_grad: Callable[[], None],
    table: Tensor | None = None,
    token_loss: Callable[..., Tensor] = stablemax_cross_entropy,
    halt_loss_weight: float = 0.5,
    deadline: float | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Deep supervision over ``batch_size`` slots for ``steps`` optimiser steps.

    Each step refills the halted slots from ``stream`` (fresh carries, exploration minimum as
    in :mod:`trm.train`), runs one supervision step with the slots' puzzle ids, and calls
    ``zero_grad()``, backward and ``update(ids, step)`` (the optimisers, 1-based step). A slot
    halts at N_sup steps or when its halt logit is > 0 past its minimum. ``table`` replaces the
    model's puzzle embeddings with the network frozen (see :func:`trm.arc.fit_task_embedding`).
    Stops early once ``time.perf_counter()`` passes ``deadline``. Returns per-step metrics.
    """
    device = model.y_init.device
    n_sup = model.config.max_supervision_steps
    slots = Slots.empty(model, batch_size, device)
    ids = torch.zeros(batch_size, dtype=torch.int64, device=device)
    history: list[dict[str, Any]] = []
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        refilled = torch.nonzero(slots.halted.cpu()).flatten().to(device)
        refill(slots, stream, rng, model, model.config.halt_exploration_prob)
        if refilled.numel():
            ids[refilled] = stream.last_ids.to(device)
        with autocast(device):
            carry, logits, halt_logits = _forward(
                model, slots.inputs, Carry(y=slots.y, z=slots.z), ids, table
            )
        lm = sequence_loss(logits, slots.labels, loss_fn=token_loss)
        correct = exact_match(logits, slots.labels)
        q = halt_loss(halt_logits, correct)
        loss = lm.mean() + halt_loss_weight * q.mean()
        zero_grad()
        loss.backward()
        update(ids, step)
        with torch.no_grad():
            slots.y, slots.z = carry.y.float(), carry.z.float()
            slots.steps += 1
            may_halt = (halt_logits > 0) & (slots.steps >= slots.min_halt)
            slots.halted = (slots.steps >= n_sup) | may_halt
        record = {
            "step": step,
            "loss": float(loss.detach()),
            "lm_loss": float(lm.detach().mean()),
            "halt_loss": float(q.detach().mean()),
            "exact_acc_all": float(correct.float().mean()),
            "n_halted": int(slots.halted.sum()),
            "step_s": time.perf_counter() - t0,
        }
        history.append(record)
        if on_step is not None:
            on_step(record)
        if deadline is not None and time.perf_counter() >= deadline:
            break
    return history


def train_arc(
    config: ArcTrainConfig,
    tasks: Sequence[ArcTask],
    *,
    max_seconds: float | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> ArcTrainResult:
    """Train a TRM on ``tasks`` (their demonstrations; test pairs too with
    ``include_test_pairs``) under ``config.n_views`` augmented views per task.

    Every view has its own puzzle-embedding row (prefix slot 0, as in the reference), trained
    by :class:`PuzzleSignSGD` (``puzzle_emb_lr``, ``puzzle_emb_weight_decay``) on the same
    warm-up schedule as the network's optimiser; EMA averages the network only, and
    :func:`trm.model.count_parameters` leaves the table out. ``max_seconds`` stops the loop
    after the first step past that many seconds (``stopped_early`` in the result).

    Raises
    ------
    ConfigError
        For a preset that is not an ARC model, or CUDA asked for but absent.
    UnsupportedTaskError
        If a task's grid does not fit the preset's canvas.

    Examples
    --------
    >>> from tasks.arc import ArcTask
    >>> flip = ArcTask(task_id="flip", train=[{"input": [[1, 2]], "output": [[2, 1]]}],
    ...                test=[{"input": [[3, 4]]}])
    >>> cfg = ArcTrainConfig(steps=2, batch_size=2, n_views=2, device="cpu",
    ...                      model={"seq_len": 9, "hidden_size": 16})
    >>> result = train_arc(cfg, [flip])
    >>> len(result.history), result.puzzles.num_puzzle_ids
    (2, 3)
    """
    if not isinstance(config, ArcTrainConfig):
        raise ConfigError(f"config must be an ArcTrainConfig, got {type(config).__name__}")
    started = time.perf_counter()
    device = _resolve_device(config.device)
    probe = arc_model_config(config.preset, 1, **config.model)
    codec = ArcCodec.for_seq_len(probe.seq_len)
    puzzles = make_puzzle_set(tasks, codec, n_views=config.n_views, seed=config.seed)
    model_config = arc_model_config(config.preset, puzzles.num_puzzle_ids, **config.model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = TRM(model_config).to(device)
    table = getattr(model, PUZZLE_EMBEDDING)
    network = [p for n, p in model.named_parameters() if n != PUZZLE_EMBEDDING]
    optimizer = make_optimizer(
        config.optimizer, network, config.lr, config.weight_decay, config.betas
    )
    sign_sgd = PuzzleSignSGD([table], config.puzzle_emb_lr, config.puzzle_emb_weight_decay)
    ema = (
        EMA(model, config.ema_decay, exclude=(PUZZLE_EMBEDDING,), warmup=config.ema_warmup)
        if config.ema_decay is not None
        else None
    )

    def update(ids: Tensor, step: int) -> None:
        for opt, base in ((optimizer, config.lr), (sign_sgd, config.puzzle_emb_lr)):
            set_lr(opt, scheduled_lr(step, base, config.warmup_steps))
        optimizer.step()
        sign_sgd.step(rows=ids)
        if ema is not None:
            ema.update(model, step)

    def zero_grad() -> None:
        optimizer.zero_grad(set_to_none=True)
        sign_sgd.zero_grad(set_to_none=True)

    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(1,)))
    stream = ArcExampleStream(
        puzzles,
        rng,
        translate_prob=config.translate_prob,
        include_test_pairs=config.include_test_pairs,
    )
    threads = config.threads if config.threads is not None else 1 if device.type == "cpu" else None
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        model.train()
        history = supervise(
            model,
            stream,
            steps=config.steps,
            batch_size=config.batch_size,
            rng=rng,
            update=update,
            zero_grad=zero_grad,
            token_loss=stablemax_cross_entropy
            if config.loss == "stablemax"
            else softmax_cross_entropy,
            halt_loss_weight=config.halt_loss_weight,
            deadline=None if max_seconds is None else time.perf_counter() + max_seconds,
            on_step=on_step,
        )
    finally:
        torch.set_num_threads(old_threads)
    model.eval()
    averaged = model if ema is None else ema.averaged_model(model).eval()
    return ArcTrainResult(
        model=model,
        averaged=averaged,
        puzzles=puzzles,
        history=history,
        wall_s=time.perf_counter() - started,
        stopped_early=len(history) < config.steps,
    )
