"""The configuration of a training run (:class:`TrainConfig`) and the rule for what may change
when a run is resumed from its checkpoint (:func:`check_resumable`). Used by :mod:`trm.train`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import model_validator as _model_validator

from tasks.errors import CheckpointError, ConfigError, describe_validation_error
from trm.config import TRMConfig, preset
from trm.data import DataConfig, SudokuData
from trm.optim import scheduled_lr

__all__ = ["TrainConfig", "check_resumable", "lr_at"]

# Fields that may differ between a run and its resumption: they change how long and how
# visibly it runs, never which numbers it computes.
_RESUMABLE_CHANGES = frozenset(
    {"steps", "eval_every", "eval_size", "checkpoint_every", "threads", "device", "compile"}
)


def _unwrap_config_error(exc: ValidationError) -> ConfigError:
    for err in exc.errors():
        original = err.get("ctx", {}).get("error")
        if isinstance(original, ConfigError):
            return ConfigError(f"invalid TrainConfig: {original}")
    return ConfigError(f"invalid TrainConfig: {describe_validation_error(exc)}")


class TrainConfig(BaseModel):
    """Everything a training run depends on; frozen, and strict about field names.

    The model is ``preset`` with the ``model`` overrides applied (or, with ``preset=None``,
    ``TRMConfig(**model)``); its vocabulary and sequence length must fit ``data``'s codec.

    Examples
    --------
    >>> cfg = TrainConfig(steps=10, model={"hidden_size": 32})
    >>> cfg.trm_config().hidden_size, cfg.data.kind
    (32, 'sudoku')
    >>> TrainConfig(steps=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: invalid TrainConfig: steps: Input should be greater than or equal to 1
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str | None = Field("sudoku6-tiny", description="A trm.config preset name, or None.")
    model: dict[str, Any] = Field(
        default_factory=dict, description="TRMConfig overrides of the preset (or all fields)."
    )
    data: DataConfig = Field(default_factory=SudokuData, description="The example stream.")
    steps: int = Field(2000, ge=1, description="Optimiser steps (one supervision step each).")
    batch_size: int = Field(64, ge=1, description="Slots: examples in flight at once.")
    lr: float = Field(1e-3, ge=0, description="Peak learning rate (reference 1e-4 at batch 768).")
    weight_decay: float = Field(0.1, ge=0, description="Decoupled weight decay (reference 1.0).")
    betas: tuple[float, float] = Field((0.9, 0.95), description="Adam moment decay rates.")
    warmup_steps: int = Field(100, ge=0, description="Linear lr warm-up from 0 (reference 2000).")
    lr_min_ratio: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Cosine decay floor as a fraction of lr; 1.0 keeps the rate constant after "
        "the warm-up (the reference's default, lr_min_ratio).",
    )
    decay_start: int = Field(0, ge=0, description="Last step at the full rate (see lr_min_ratio).")
    decay_steps: int = Field(
        0, ge=0, description="Length of the cosine from decay_start to the floor, in steps."
    )
    optimizer: Literal["adamw", "adamatan2"] = Field("adamw", description="Network optimiser.")
    ema_decay: float | None = Field(0.999, description="EMA rate; None trains without EMA.")
    ema_warmup: bool = Field(
        False,
        description="EMA decay min(decay, (1+t)/(10+t)) at update t, so early evaluations are "
        "not stuck near the initial weights (off in the reference).",
    )
    halt_loss_weight: float = Field(0.5, ge=0, description="Weight of the halt BCE (ref 0.5).")
    halt_exploration_prob: float | None = Field(
        None, ge=0, le=1, description="Overrides the model config's value when set."
    )
    loss: Literal["stablemax", "softmax"] = Field("stablemax", description="Token loss.")
    label_weights: dict[int, float] | None = Field(
        None,
        description=(
            "Loss weight of a position by its label token (unlisted tokens 1): the per-sequence "
            "loss becomes a weighted mean. Maze example: {5: 4.0} counts path cells 4 times; "
            "None weighs all positions equally (the reference)."
        ),
    )
    seed: int = Field(0, ge=0, description="Seeds the model init and the data/halting stream.")
    init_from: str | None = Field(
        None,
        description="Warm start: a checkpoint (run directory or file) whose EMA weights (raw "
        "ones when it has no EMA) replace the seeded initialisation; its model config must "
        "equal this run's. The optimiser, EMA and step start fresh (fine-tuning on new data). "
        "A resumed run restores its own weights and does not read this file again.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: cuda if present.")
    threads: int | None = Field(
        None, ge=1, description="torch CPU threads; None: 1 on the CPU, unchanged on CUDA."
    )
    compile: bool = Field(False, description="torch.compile the model (CUDA mainly).")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Forward pass under bf16 autocast ('bf16'), or not ('fp32'); 'auto': bf16 "
        "on CUDA, fp32 on the CPU. Parameters, optimiser state and the carry stay fp32.",
    )
    eval_every: int = Field(500, ge=0, description="Evaluate every k steps (0: only at the end).")
    eval_size: int = Field(256, ge=0, description="Fresh evaluation examples (0: no eval).")
    eval_seed: int = Field(12345, ge=0, description="Seed of the evaluation set.")
    checkpoint_every: int = Field(0, ge=0, description="Checkpoint every k steps (0: end only).")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _unwrap_config_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> TrainConfig:
        """Like pydantic's, but raising :class:`~tasks.errors.ConfigError`."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _unwrap_config_error(exc) from None

    @field_validator("betas")
    @classmethod
    def _betas(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in value):
            raise ValueError(f"each beta must be in [0, 1), got {value}")
        return value

    @field_validator("lr", "weight_decay", "halt_loss_weight")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"must be finite, got {value}")
        return value

    @field_validator("ema_decay")
    @classmethod
    def _decay(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"must be in [0, 1] or None, got {value}")
        return value

    @field_validator("label_weights")
    @classmethod
    def _weights(cls, value: dict[int, float] | None) -> dict[int, float] | None:
        if value is None:
            return None
        for token, weight in value.items():
            if token < 0:
                raise ValueError(f"label token {token} must be >= 0")
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"weight of label {token} must be finite and >= 0, got {weight}")
        return dict(sorted(value.items()))

    @_model_validator(mode="after")
    def _check_model(self) -> TrainConfig:
        cfg = self.trm_config()  # raises ConfigError for a bad preset or override
        codec = self.data.codec()
        vocab = self.data.label_vocab_size()  # the codec's, plus label-only hint tokens
        if self.label_weights and max(self.label_weights) >= vocab:
            raise ConfigError(
                f"label_weights names token {max(self.label_weights)}, but the vocabulary has "
                f"{vocab} tokens"
            )
        if (cfg.vocab_size, cfg.seq_len) != (vocab, codec.seq_len):
            raise ConfigError(
                f"the model (vocab_size {cfg.vocab_size}, seq_len {cfg.seq_len}) does not fit "
                f"the data (vocab_size {vocab}, seq_len {codec.seq_len}); set "
                f"model={{'vocab_size': {vocab}, 'seq_len': {codec.seq_len}}}"
            )
        return self

    def trm_config(self) -> TRMConfig:
        """The model's :class:`~trm.config.TRMConfig` (preset, overrides, exploration prob)."""
        overrides = dict(self.model)
        if self.halt_exploration_prob is not None:
            overrides["halt_exploration_prob"] = self.halt_exploration_prob
        if self.preset is None:
            return TRMConfig(**overrides)
        return preset(self.preset, **overrides)


# The learning-rate schedule may change on resume when the new one gives every step already
# taken the rate it had: the run so far is then exactly the new schedule's run so far.
_SCHEDULE_FIELDS = frozenset({"lr_min_ratio", "decay_start", "decay_steps"})


def lr_at(cfg: TrainConfig, step: int) -> float:
    return scheduled_lr(
        step,
        cfg.lr,
        cfg.warmup_steps,
        lr_min_ratio=cfg.lr_min_ratio,
        decay_start=cfg.decay_start,
        decay_steps=cfg.decay_steps,
    )


def check_resumable(saved: dict[str, Any], cfg: TrainConfig, step: int) -> None:
    try:
        old = TrainConfig.model_validate(saved)
    except ConfigError as exc:
        raise CheckpointError(f"the checkpoint's train_config is invalid: {exc}") from exc
    old_d, new_d = old.model_dump(mode="json"), cfg.model_dump(mode="json")
    keep = _RESUMABLE_CHANGES
    if all(lr_at(old, t) == lr_at(cfg, t) for t in range(1, step + 1)):
        keep = keep | _SCHEDULE_FIELDS
    differ = sorted(k for k in new_d if k not in keep and old_d.get(k) != new_d[k])
    if differ:
        raise ConfigError(
            f"cannot resume: {', '.join(differ)} differ from the checkpoint's run; only "
            f"{', '.join(sorted(_RESUMABLE_CHANGES))} may change (and the lr schedule, "
            f"if it gives the {step} steps taken the same rates)"
        )
