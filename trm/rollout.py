"""The recursion loop every prediction runs, and the glue between codecs and the network:
which codec runs a task, its grid geometry, encoding and strict decoding, the autocast rule.

:func:`run_batch` is the one loop :func:`trm.inference.predict`, :func:`trm.inference.evaluate`
and the study tools (halting, perturbation, compute) share, so an experiment measures exactly
what a user's prediction runs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tasks.encodings import MAZE_FREE_ID, MazeCodec, SudokuCodec
from tasks.errors import ConfigError, InvalidTaskError, UnsupportedTaskError
from tasks.maze import Cell, MazeTask
from tasks.sudoku import SudokuGrid, SudokuTask
from trm.config import TRMConfig
from trm.model import TRM, Carry, Geometry

__all__ = [
    "Codec",
    "Answer",
    "CarryHook",
    "LoadedModel",
    "MAX_TEST_STEPS",
    "codec_for",
    "resolve",
    "geometry_of",
    "encode_tasks",
    "decode_answer",
    "hint_token",
    "grid_shape",
    "autocast",
    "check_steps",
    "group_by_codec",
    "run_batch",
]

#: Upper bound of the test-time depth (a typo like 1e9 steps fails fast instead of hanging).
MAX_TEST_STEPS = 4096

Codec = SudokuCodec | MazeCodec
Answer = SudokuGrid | list[Cell]
#: ``on_step(step, rows, carry) -> Carry | None`` of :func:`run_batch`.
CarryHook = Callable[[int, Tensor, Carry], "Carry | None"]


@dataclass(slots=True)
class LoadedModel:
    """A TRM rebuilt from a checkpoint, in eval mode, with its codec and metadata."""

    model: TRM
    config: TRMConfig
    codec: Codec
    meta: dict[str, Any]

    @property
    def kind(self) -> str:
        """``"sudoku"`` or ``"maze"``."""
        return self.codec.kind


def resolve(model: TRM | LoadedModel, codec: Codec | None) -> tuple[TRM, Codec | None]:
    """The bare network and the codec to use (None: one per task, for size-agnostic models)."""
    if isinstance(model, LoadedModel):
        net = model.model
        if codec is None and not net.config.size_agnostic:
            codec = model.codec
    elif isinstance(model, TRM):
        net = model
        if codec is None and not net.config.size_agnostic:
            raise ConfigError("a bare TRM needs its codec")
    else:
        raise ConfigError(f"model must be a TRM or LoadedModel, got {type(model).__name__}")
    if codec is not None:
        _check_codec(net, codec)
    return net, codec


def _check_codec(net: TRM, codec: Codec) -> None:
    cfg = net.config
    if cfg.size_agnostic:
        if codec.vocab_size > cfg.vocab_size:
            raise UnsupportedTaskError(
                f"this model's vocabulary has {cfg.vocab_size} tokens; a {_describe(codec)} "
                f"needs {codec.vocab_size}"
            )
        return
    if (codec.vocab_size, codec.seq_len) != (cfg.vocab_size, cfg.seq_len):
        raise ConfigError(
            f"codec (vocab {codec.vocab_size}, seq {codec.seq_len}) does not fit the model "
            f"(vocab {cfg.vocab_size}, seq {cfg.seq_len})"
        )


def _describe(codec: Codec) -> str:
    if isinstance(codec, SudokuCodec):
        return f"{codec.size}x{codec.size} Sudoku"
    return f"{codec.height}x{codec.width} maze canvas"


def codec_for(model: TRM | LoadedModel, task: SudokuTask | MazeTask) -> Codec:
    """The codec that runs ``task`` through ``model``: the checkpoint's own for the paper's
    fixed-size mixers, the task's exact size for the size-agnostic ones (``peers``, ``conv``).

    Raises
    ------
    UnsupportedTaskError
        When the model cannot run the task (another kind, a size it was not built for, or more
        digits than its vocabulary), naming what it covers.

    Examples
    --------
    >>> from trm.config import preset
    >>> net = TRM(preset("maze-conv", hidden_size=8))
    >>> codec_for(net, MazeTask.parse("S.#\\n#.G")).seq_len
    6
    """
    net = model.model if isinstance(model, LoadedModel) else model
    if not isinstance(net, TRM):
        raise ConfigError(f"model must be a TRM or LoadedModel, got {type(model).__name__}")
    cfg = net.config
    kind = "sudoku" if cfg.mixer == "peers" else "maze" if cfg.mixer in ("conv", "graph") else None
    if isinstance(model, LoadedModel):
        kind = model.kind
    task_kind = "sudoku" if isinstance(task, SudokuTask) else "maze"
    if not isinstance(task, SudokuTask | MazeTask):
        raise UnsupportedTaskError(f"expected a SudokuTask or MazeTask, got {type(task).__name__}")
    if kind is not None and kind != task_kind:
        raise UnsupportedTaskError(f"this model answers {kind} tasks, not {task_kind} tasks")
    if not cfg.size_agnostic:
        if not isinstance(model, LoadedModel):
            raise ConfigError("a bare TRM with a fixed-size mixer needs its codec")
        codec = model.codec
        try:
            codec._check_task(task)  # noqa: SLF001 (same project)
        except InvalidTaskError as exc:
            raise UnsupportedTaskError(f"this model covers a {_describe(codec)}: {exc}") from None
        if isinstance(codec, SudokuCodec) and (task.box_rows, task.box_cols) != (
            codec.box_rows,
            codec.box_cols,
        ):
            raise UnsupportedTaskError(
                f"this model covers {codec.box_rows}x{codec.box_cols}-box Sudoku only"
            )
        return codec
    codec = SudokuCodec.for_task(task) if isinstance(task, SudokuTask) else MazeCodec.for_task(task)
    if codec.vocab_size > cfg.vocab_size:
        raise UnsupportedTaskError(
            f"this model's vocabulary covers Sudoku up to {cfg.vocab_size - 2} digits; a "
            f"{codec.size}x{codec.size} grid needs {codec.size}"
        )
    return codec


def geometry_of(codec: Codec) -> Geometry:
    if isinstance(codec, SudokuCodec):
        return Geometry(codec.size, codec.size, codec.box_rows, codec.box_cols)
    return Geometry(codec.height, codec.width)


def encode_tasks(codec: Codec, tasks: Sequence[SudokuTask | MazeTask]) -> np.ndarray:
    return codec.encode_batch(list(tasks))


def decode_answer(codec: Codec, tokens: np.ndarray, task: SudokuTask | MazeTask) -> Answer:
    if isinstance(codec, SudokuCodec):
        return codec.decode(tokens)
    # Strict: the network's marks must be the path itself (see MazeCodec.decode_path).
    return codec.decode_path(tokens, task, strict=True)  # type: ignore[arg-type]


def hint_token(codec: Codec) -> int | None:
    """What a label-only hint token reads as in this codec's answers: for mazes a free cell
    (see ``MazeData.hint``); Sudoku has none (a larger vocabulary means more digits)."""
    return MAZE_FREE_ID if isinstance(codec, MazeCodec) else None


def grid_shape(codec: Codec, task: SudokuTask | MazeTask) -> tuple[int, int]:
    if isinstance(codec, SudokuCodec):
        return codec.size, codec.size
    return task.height, task.width  # type: ignore[union-attr]


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def check_steps(model: TRM, max_steps: int | None) -> int:
    limit = model.config.max_supervision_steps
    if max_steps is None:
        return limit
    if (
        isinstance(max_steps, bool)
        or not isinstance(max_steps, int)
        or not 1 <= max_steps <= MAX_TEST_STEPS
    ):
        raise ConfigError(
            f"max_steps must be an int in 1..{MAX_TEST_STEPS} (the model was trained with "
            f"{limit}), got {max_steps!r}"
        )
    return max_steps


def group_by_codec(
    net: TRM, codec: Codec | None, tasks: Sequence[SudokuTask | MazeTask]
) -> list[tuple[Codec, list[int]]]:
    """Task indices grouped by the codec that runs them (one group for fixed-size models)."""
    if codec is not None:
        return [(codec, list(range(len(tasks))))]
    groups: dict[str, tuple[Codec, list[int]]] = {}
    for i, task in enumerate(tasks):
        c = codec_for(net, task)
        key = json.dumps(c.spec(), sort_keys=True)
        groups.setdefault(key, (c, []))[1].append(i)
    return list(groups.values())


@torch.inference_mode()
def run_batch(
    model: TRM,
    inputs: Tensor,
    steps: int,
    halt: bool,
    threshold: float = 0.5,
    *,
    geometry: Geometry | None = None,
    vocab: int | None = None,
    noise: Tensor | None = None,
    generator: torch.Generator | None = None,
    on_step: CarryHook | None = None,
    hint_as: int | None = None,
) -> Iterator[tuple[Tensor, Tensor, Tensor, Tensor]]:
    """Yield per step ``(rows, tokens, confidence, halt_prob)`` for the rows still running.

    ``rows`` indexes ``inputs``; a row that halts (halt prob > ``threshold``, with ``halt``) is
    yielded one last time at that step and not run again, so its answer is frozen. ``vocab``
    limits the answer to the codec's tokens (a size-agnostic model may know more); ``noise``
    is each row's latent noise scale ([B]), drawn from ``generator``. With ``hint_as`` the
    tokens at or above ``vocab`` are label-only hints instead (a maze model trained with
    ``MazeData(hint="distance")``): the argmax runs over every token and a hint reads as
    ``hint_as``, a free cell off the path.

    ``on_step(step, rows, carry)``, when given, is called after step ``step``'s answer has been
    yielded and before the next step runs (not after the last step), with the rows still
    running and their carry (``y`` the answer embedding, ``z`` the latent, each [len(rows),
    L + prefix, D]); a :class:`~trm.model.Carry` it returns, of the same shapes, replaces the
    carry (perturbation experiments, :mod:`neurosym.study.perturb`); ``None`` keeps it. The
    default (no hook) runs exactly as before.
    """
    device = model.y_init.device
    inputs = inputs.to(device)
    rows = torch.arange(inputs.shape[0], device=device)
    carry = model.initial_carry(inputs.shape[0], device, geometry=geometry)
    scale = None if noise is None else noise.to(device)
    for step in range(1, steps + 1):
        with autocast(device):
            carry, logits, halt_logits = model(
                inputs,
                carry,
                geometry=geometry,
                latent_noise=0.0 if scale is None else scale[:, None, None],
                generator=generator,
            )
        logits = logits.float()
        folds = hint_as is not None and vocab is not None and vocab < logits.shape[-1]
        if vocab is not None and vocab < logits.shape[-1] and not folds:
            logits = logits[..., :vocab]
        probs = torch.softmax(logits, dim=-1)
        confidence, tokens = probs.max(dim=-1)
        if folds:
            tokens = torch.where(tokens >= vocab, hint_as, tokens)
        halt_prob = torch.sigmoid(halt_logits.float())
        yield rows, tokens, confidence, halt_prob
        if step == steps:
            return
        if on_step is not None:
            replaced = on_step(step, rows, carry)
            if replaced is not None:
                carry = replaced
        if halt:
            keep = halt_prob <= threshold
            if not bool(keep.any()):
                return
            if not bool(keep.all()):
                rows, inputs = rows[keep], inputs[keep]
                carry.y, carry.z = carry.y[keep], carry.z[keep]
                if scale is not None:
                    scale = scale[keep]
