"""Running a trained TRM: load a checkpoint's EMA weights, predict with per-sample halting, and
evaluate accuracy (exact, valid, per cell) with halting and with every supervision step.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tasks.encodings import MAZE_FREE_ID, MazeCodec, SudokuCodec, codec_from_spec
from tasks.errors import (
    CheckpointError,
    ConfigError,
    InvalidTaskError,
    SolverTimeoutError,
    UnsupportedTaskError,
)
from tasks.maze import Cell, MazeTask
from tasks.sudoku import SudokuGrid, SudokuTask
from tasks.verify import verify
from trm.checkpoint import load_checkpoint, strip_prefix
from trm.config import TRMConfig, swiglu_hidden_size
from trm.model import TRM, Carry, Geometry

__all__ = [
    "LoadedModel",
    "TraceStep",
    "Candidate",
    "Prediction",
    "SELECTION_RULES",
    "MAX_TEST_STEPS",
    "MAX_TRAJECTORIES",
    "load_model",
    "codec_for",
    "check_trajectories",
    "predict",
    "select_candidate",
    "evaluate",
    "calibrate_step_rate",
    "step_flops",
]

#: How one answer is chosen among K trajectories: the highest final halt probability, the
#: first trajectory to halt (fewest steps, then the higher halt probability), or the most
#: frequent answer (ties: the higher mean halt probability).
SELECTION_RULES = ("halt", "first", "vote")
#: Upper bounds of the test-time knobs (a typo like 1e9 steps fails fast instead of hanging).
MAX_TEST_STEPS = 4096
MAX_TRAJECTORIES = 256
#: Under a deadline a supervision step starts only when ``now + margin * estimate`` still lies
#: before it: one step cannot be interrupted (a 201x201 maze with 8 trajectories takes over a
#: minute per step on one CPU thread), so a step that would not end in time never starts.
STEP_COST_MARGIN = 1.25

Codec = SudokuCodec | MazeCodec
Answer = SudokuGrid | list[Cell]
#: ``on_step(step, rows, carry) -> Carry | None`` of :func:`_run_batch`.
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


@dataclass(slots=True)
class TraceStep:
    """The decoded answer after one supervision step, the halt probability there, and the raw
    predicted tokens (for a maze, every cell the network marks as path, connected or not)."""

    answer: Answer
    halt_prob: float
    tokens: np.ndarray | None = None


@dataclass(slots=True)
class Candidate:
    """One trajectory's answer: its tokens, decoded answer, steps run and final halt prob.
    Trajectory 0 runs without noise (the deterministic answer)."""

    answer: Answer
    tokens: np.ndarray
    confidence: np.ndarray
    steps: int
    halt_prob: float


@dataclass(slots=True)
class Prediction:
    """The model's answer for one task.

    ``confidence`` is the largest softmax probability at each cell (shape of the Sudoku grid,
    or of the maze), ``steps`` the supervision steps used, ``halt_prob`` the halt head's
    probability at the last of them. With several trajectories these describe the selected
    one, ``candidates`` lists all of them (trajectory order) and ``selected`` is its index.
    ``timed_out`` is True when a ``deadline`` stopped the recursion before every trajectory
    halted or ran ``max_steps`` (the answers are those of the last step that ran).
    """

    answer: Answer
    tokens: np.ndarray
    confidence: np.ndarray
    steps: int
    halt_prob: float
    trace: list[TraceStep] | None = field(default=None)
    candidates: list[Candidate] = field(default_factory=list)
    selected: int = 0
    timed_out: bool = False


def load_model(
    path: str | os.PathLike[str],
    *,
    expected_kind: str | None = None,
    device: str | torch.device = "cpu",
    weights: str = "ema",
) -> LoadedModel:
    """Rebuild a TRM from a checkpoint written by :func:`trm.train.train`.

    Parameters
    ----------
    path : str or PathLike
        A run directory, or a checkpoint stem / file (see :func:`trm.checkpoint.checkpoint_paths`).
    expected_kind : str, optional
        ``"sudoku"`` or ``"maze"``: reject a checkpoint for another task.
    device : str or torch.device
    weights : {"ema", "model"}
        The averaged weights (what the reference evaluates; the default) or the raw ones. A
        checkpoint without EMA weights falls back to the raw ones.

    Returns
    -------
    LoadedModel
        The model in eval mode, on ``device``.

    Raises
    ------
    CheckpointError
        If the files are missing, corrupt, of another kind, or do not fit the stored config.
    ConfigError
        On a bad ``weights`` choice.
    """
    if weights not in ("ema", "model"):
        raise ConfigError(f"weights must be 'ema' or 'model', got {weights!r}")
    tensors, meta = load_checkpoint(path, expected_kind=expected_kind)
    try:
        config = TRMConfig.model_validate(meta["config"])
        codec = codec_from_spec(meta["task"])
    except (ConfigError, InvalidTaskError) as exc:
        raise CheckpointError(f"checkpoint at {os.fspath(path)!r} is inconsistent: {exc}") from exc
    data = (meta.get("train_config") or {}).get("data") or {}
    # Labels of MazeData(hint="distance") hold 3 tokens the inputs never do (DISTANCE_HINT_ID).
    vocab = codec.vocab_size + (3 if data.get("hint") == "distance" else 0)
    if (vocab, codec.seq_len) != (config.vocab_size, config.seq_len):
        raise CheckpointError(
            f"checkpoint codec (vocab {vocab}, seq {codec.seq_len}) does not fit its "
            f"model config (vocab {config.vocab_size}, seq {config.seq_len})"
        )
    state = strip_prefix(tensors, weights) or strip_prefix(tensors, "model")
    model = TRM(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint weights do not fit the model: {exc}") from exc
    model.to(device).eval()
    return LoadedModel(model=model, config=config, codec=codec, meta=meta)


def _resolve(model: TRM | LoadedModel, codec: Codec | None) -> tuple[TRM, Codec | None]:
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
    kind = "sudoku" if cfg.mixer == "peers" else "maze" if cfg.mixer == "conv" else None
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


def _geometry(codec: Codec) -> Geometry:
    if isinstance(codec, SudokuCodec):
        return Geometry(codec.size, codec.size, codec.box_rows, codec.box_cols)
    return Geometry(codec.height, codec.width)


def _encode(codec: Codec, tasks: Sequence[SudokuTask | MazeTask]) -> np.ndarray:
    return codec.encode_batch(list(tasks))


def _decode(codec: Codec, tokens: np.ndarray, task: SudokuTask | MazeTask) -> Answer:
    if isinstance(codec, SudokuCodec):
        return codec.decode(tokens)
    # Strict: the network's marks must be the path itself (see MazeCodec.decode_path).
    return codec.decode_path(tokens, task, strict=True)  # type: ignore[arg-type]


def _hint_as(codec: Codec) -> int | None:
    """What a label-only hint token reads as in this codec's answers: for mazes a free cell
    (see ``MazeData.hint``); Sudoku has none (a larger vocabulary means more digits)."""
    return MAZE_FREE_ID if isinstance(codec, MazeCodec) else None


def _grid_shape(codec: Codec, task: SudokuTask | MazeTask) -> tuple[int, int]:
    if isinstance(codec, SudokuCodec):
        return codec.size, codec.size
    return task.height, task.width  # type: ignore[union-attr]


def _autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _check_steps(model: TRM, max_steps: int | None) -> int:
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


def check_trajectories(trajectories: object) -> int:
    """``trajectories`` if it is an int in ``1..MAX_TRAJECTORIES``, else :class:`ConfigError`.

    Examples
    --------
    >>> check_trajectories(8)
    8
    """
    if (
        isinstance(trajectories, bool)
        or not isinstance(trajectories, int)
        or not 1 <= trajectories <= MAX_TRAJECTORIES
    ):
        raise ConfigError(
            f"trajectories must be an int in 1..{MAX_TRAJECTORIES}, got {trajectories!r}"
        )
    return trajectories


def _check_trajectories(trajectories: int, noise: float, select: str) -> tuple[int, float]:
    check_trajectories(trajectories)
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 10:
        raise ConfigError(f"noise must be a number in [0, 10], got {noise!r}")
    if select not in SELECTION_RULES:
        raise ConfigError(f"select must be one of {SELECTION_RULES}, got {select!r}")
    return trajectories, float(noise)


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be an int >= 1, got {batch_size!r}")


def check_halt_threshold(threshold: float) -> float:
    """``threshold`` as a float, or :class:`~tasks.errors.ConfigError` unless it lies in [0, 1).

    >>> check_halt_threshold(0.9)
    0.9
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ConfigError(f"halt_threshold must be a number in [0, 1), got {threshold!r}")
    if not 0.0 <= float(threshold) < 1.0:
        raise ConfigError(f"halt_threshold must lie in [0, 1), got {threshold!r}")
    return float(threshold)


_check_threshold = check_halt_threshold  # the name other modules used first


@torch.inference_mode()
def _run_batch(
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
        with _autocast(device):
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
        with _autocast(device):
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


def _groups(
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


def select_candidate(cands: Sequence[Candidate], rule: str) -> int:
    """Index of the chosen trajectory under ``rule`` (see :data:`SELECTION_RULES`).

    Examples
    --------
    >>> from types import SimpleNamespace as C
    >>> cands = [C(tokens=np.zeros(2), steps=3, halt_prob=0.9),
    ...          C(tokens=np.ones(2), steps=1, halt_prob=0.2)]
    >>> select_candidate(cands, "halt"), select_candidate(cands, "first")
    (0, 1)
    """
    if rule == "halt":
        return max(range(len(cands)), key=lambda k: (cands[k].halt_prob, -k))
    if rule == "first":
        return min(range(len(cands)), key=lambda k: (cands[k].steps, -cands[k].halt_prob, k))
    votes: dict[bytes, list[int]] = {}
    for k, cand in enumerate(cands):
        votes.setdefault(np.asarray(cand.tokens).tobytes(), []).append(k)

    def rank(members: list[int]) -> tuple[int, float, int]:
        mean_halt = float(np.mean([cands[k].halt_prob for k in members]))
        return (len(members), mean_halt, -members[0])

    return max(votes.values(), key=rank)[0]


def predict(
    model: TRM | LoadedModel,
    codec: Codec | None,
    tasks: Sequence[SudokuTask | MazeTask],
    *,
    max_steps: int | None = None,
    halt: bool = True,
    trace: bool = False,
    batch_size: int = 256,
    halt_threshold: float = 0.5,
    trajectories: int = 1,
    noise: float = 0.0,
    select: str = "halt",
    seed: int = 0,
    deadline: float | None = None,
) -> list[Prediction]:
    """Answer every task with per-sample halting, in batches, without gradients.

    Each sample runs supervision steps until its halt probability ``sigmoid(halt_logit)``
    exceeds ``halt_threshold`` (0.5, the reference's rule, by default), or ``max_steps``
    (default ``N_sup``; any depth up to :data:`MAX_TEST_STEPS`, far past the trained one) is
    reached; halted samples keep their answer while the rest of the batch continues. With
    ``halt=False`` every sample runs all ``max_steps`` steps (the reference's evaluation).

    **Stochastic trajectories.** With ``trajectories=K`` each task runs K times in the same
    batch; trajectory 0 without noise, the others with Gaussian noise of std ``noise`` added
    to the latent z after every latent recursion (seeded by ``seed``). Each trajectory halts
    on its own; ``select`` picks the answer: ``"halt"`` the highest final halt probability,
    ``"first"`` the first to halt, ``"vote"`` the most frequent answer. All K answers are in
    :attr:`Prediction.candidates` (the hybrid keeps the first that ``verify`` accepts).

    Parameters
    ----------
    model : TRM or LoadedModel
    codec : SudokuCodec or MazeCodec, optional
        Needed with a bare fixed-size TRM; a LoadedModel brings its own, and a size-agnostic
        model (``peers``, ``conv`` mixer) gets each task's own size when it is None.
    tasks : sequence of SudokuTask or MazeTask
    max_steps : int, optional
    halt : bool
    trace : bool
        Also record, for every step a sample ran, its decoded answer and halt probability
        (of the selected trajectory).
    batch_size : int
        Tasks per batch (each brings its K trajectories).
    halt_threshold : float
        In ``[0, 1)``. A higher threshold stops later and more safely: on the shipped 9x9
        model 0.9 keeps 5.8 points of exact accuracy that 0.5 loses (see the model card).
    trajectories : int
        K, in ``1..MAX_TRAJECTORIES``.
    noise : float
        Latent noise std for trajectories 1..K-1, in ``[0, 10]``.
    select : {"halt", "first", "vote"}
    seed : int
        Seeds the noise.
    deadline : float, optional
        A :func:`time.perf_counter` instant. Checked between supervision steps: a step starts
        only when it is expected to end by then (its cost estimated from the steps already
        run, or, before the first, from a step timed on one sequence of the training grid;
        see :data:`STEP_COST_MARGIN`). A batch stopped so keeps the answers of its last step
        and its predictions say ``timed_out``. None or ``math.inf``: no deadline (the
        default outputs).

    Returns
    -------
    list of Prediction
        In the order of ``tasks``.

    Raises
    ------
    InvalidTaskError
        For a task that does not fit the codec.
    UnsupportedTaskError
        For a task a size-agnostic model cannot run (another kind, too many digits).
    ConfigError
        For bad options or a codec that does not fit the model.
    SolverTimeoutError
        When the deadline leaves a task without one supervision step.

    Examples
    --------
    >>> from trm.config import preset
    >>> from tasks.generators import generate_puzzle
    >>> codec = SudokuCodec(box_rows=2, box_cols=3)
    >>> model = TRM(preset("sudoku6-tiny", hidden_size=16)).eval()
    >>> task, _ = generate_puzzle(2, 3, n_givens=20, rng=0)
    >>> [p] = predict(model, codec, [task], trace=True)
    >>> p.steps, len(p.trace), p.confidence.shape  # an untrained halt head never halts
    (4, 4, (6, 6))
    >>> [p] = predict(model, codec, [task], trajectories=4, noise=0.5, select="vote")
    >>> len(p.candidates), 0 <= p.selected < 4
    (4, True)
    """
    net, codec = _resolve(model, codec)
    steps = _check_steps(net, max_steps)
    _check_batch_size(batch_size)
    threshold = check_halt_threshold(halt_threshold)
    k, noise = _check_trajectories(trajectories, noise, select)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be an int >= 0, got {seed!r}")
    if deadline is not None and (
        isinstance(deadline, bool) or not isinstance(deadline, int | float) or deadline != deadline
    ):
        raise ConfigError(f"deadline must be a time.perf_counter() instant, got {deadline!r}")
    if deadline is not None and math.isinf(deadline):
        deadline = None
    tasks = list(tasks)
    out: list[Prediction | None] = [None] * len(tasks)
    device = net.y_init.device
    generator = torch.Generator(device=device).manual_seed(seed) if k > 1 and noise > 0 else None
    for group_codec, members in _groups(net, codec, tasks):
        group_tasks = [tasks[i] for i in members]
        geometry = _geometry(group_codec) if net.config.size_agnostic else None
        vocab = group_codec.vocab_size
        inputs_np = _encode(group_codec, group_tasks)
        for start in range(0, len(members), batch_size):
            chunk = inputs_np[start : start + batch_size]
            size = chunk.shape[0]
            # Row t*size + j is trajectory t of task j; trajectory 0 runs without noise.
            inputs = torch.from_numpy(np.tile(chunk, (k, 1)))
            scale = None
            if generator is not None:
                scale = torch.full((k * size,), noise)
                scale[:size] = 0.0
            last: dict[int, tuple[np.ndarray, np.ndarray, float, int]] = {}
            steps_log: dict[int, list[tuple[np.ndarray, float]]] = {}
            batch = _run_batch(
                net,
                inputs,
                steps,
                halt,
                threshold,
                geometry=geometry,
                vocab=vocab,
                noise=scale,
                generator=generator,
                hint_as=_hint_as(group_codec),
            )
            clock = _StepClock(net, inputs.shape[1] + net.config.puzzle_prefix_len, deadline)
            running = inputs.shape[0]
            timed_out = False
            for step in range(1, steps + 1):
                if not clock.admits(running):
                    timed_out = True
                    break
                try:
                    rows, tokens, confidence, halt_prob = next(batch)
                except StopIteration:
                    break
                tokens_np, conf_np = tokens.cpu().numpy(), confidence.cpu().numpy()
                probs = halt_prob.cpu().tolist()
                clock.ran(rows.shape[0])  # after the copies: on a GPU they wait for the step
                for j, row in enumerate(rows.tolist()):
                    last[row] = (tokens_np[j], conf_np[j], probs[j], step)
                    if trace:
                        steps_log.setdefault(row, []).append(
                            (tokens_np[j].astype(np.int64), probs[j])
                        )
                running = int((halt_prob <= threshold).sum()) if halt else rows.shape[0]
            batch.close()
            if not last:
                raise SolverTimeoutError(
                    f"the deadline left no time for one supervision step of {size} task(s) "
                    f"({clock.describe()})"
                )
            for j in range(size):
                i = members[start + j]
                task = tasks[i]
                h, w = _grid_shape(group_codec, task)
                cands = []
                for t in range(k):
                    tok, conf, prob, used = last[t * size + j]
                    if isinstance(group_codec, MazeCodec):
                        conf = conf.reshape(group_codec.height, group_codec.width)[:h, :w]
                    cands.append(
                        Candidate(
                            answer=_decode(group_codec, tok, task),
                            tokens=tok.astype(np.int64),
                            confidence=np.asarray(conf, dtype=np.float32).reshape(h, w),
                            steps=used,
                            halt_prob=prob,
                        )
                    )
                chosen = select_candidate(cands, select) if k > 1 else 0
                best = cands[chosen]
                step_trace = None
                if trace:
                    step_trace = [
                        TraceStep(_decode(group_codec, tok, task), prob, tok)
                        for tok, prob in steps_log[chosen * size + j]
                    ]
                out[i] = Prediction(
                    answer=best.answer,
                    tokens=best.tokens,
                    confidence=best.confidence,
                    steps=best.steps,
                    halt_prob=best.halt_prob,
                    trace=step_trace,
                    candidates=cands,
                    selected=chosen,
                    timed_out=timed_out,
                )
    return out  # type: ignore[return-value]


class _StepClock:
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


def _labels(codec: Codec, tasks: Sequence[Any], solutions: Sequence[Any]) -> np.ndarray:
    if isinstance(codec, SudokuCodec):
        rows = [codec.encode_solution(s) for s in solutions]
    else:
        rows = [codec.encode_label(t, s) for t, s in zip(tasks, solutions, strict=True)]
    return np.stack(rows) if rows else np.zeros((0, codec.seq_len), dtype=np.int64)


def evaluate(
    model: TRM | LoadedModel,
    tasks: Sequence[SudokuTask | MazeTask],
    solutions: Sequence[Any],
    *,
    codec: Codec | None = None,
    max_steps: int | None = None,
    batch_size: int = 256,
    halt_threshold: float = 0.5,
    progress: Callable[[int, int], Any] | None = None,
) -> dict[str, Any]:
    """Accuracy of ``model`` on ``tasks`` against reference ``solutions``, with and without halting.

    One pass runs every step for every sample; the halting answer of a sample is the one at the
    first step whose halt probability exceeds ``halt_threshold`` (or the last step), which is
    what :func:`predict` returns with ``halt=True`` and the same threshold.

    Parameters
    ----------
    model : TRM or LoadedModel
    tasks : sequence of SudokuTask or MazeTask
    solutions : sequence
        Complete Sudoku grids, or shortest maze paths (start to goal).
    codec : SudokuCodec or MazeCodec, optional
        Needed with a bare TRM.
    max_steps, batch_size : int, optional
    progress : callable, optional
        ``progress(done, total)`` after every supervision step of every batch: puzzles done so
        far (a batch's share by the steps it has run) out of ``len(tasks)`` (the CLI's bar).

    Returns
    -------
    dict
        ``n``; ``exact_accuracy`` (every token equals the label), ``valid_accuracy`` (the
        decoded answer passes :func:`tasks.verify.verify`: any correct Sudoku solution, any
        shortest path), ``cell_accuracy`` (tokens equal to the label) and ``mean_steps``, all
        with halting; the same three accuracies with the suffix ``_all_steps`` for the answer
        after every step; and ``halt_precision``, the fraction of halted samples that were
        exactly right (None when none halted early).

    Raises
    ------
    ConfigError
        If ``tasks`` and ``solutions`` differ in length, or on bad options.

    Examples
    --------
    >>> from trm.config import preset
    >>> from trm.data import make_eval_set
    >>> es = make_eval_set({"kind": "sudoku"}, n=4, seed=0)
    >>> model = TRM(preset("sudoku6-tiny", hidden_size=16))
    >>> m = evaluate(model, es.tasks, es.solutions, codec=es.codec)
    >>> m["n"], m["mean_steps"], 0.0 <= m["cell_accuracy"] <= 1.0
    (4, 4.0, True)
    """
    net, codec = _resolve(model, codec)
    if codec is None:  # a size-agnostic model: the tasks' own size, one size per call
        groups = _groups(net, None, list(tasks))
        if len(groups) > 1:
            raise ConfigError(
                f"evaluate takes tasks of one size at a time; got {len(groups)} sizes"
            )
        codec = (
            groups[0][0] if groups else (model.codec if isinstance(model, LoadedModel) else None)
        )
        if codec is None:
            raise ConfigError("a bare TRM needs its codec")
    geometry = _geometry(codec) if net.config.size_agnostic else None
    steps = _check_steps(net, max_steps)
    _check_batch_size(batch_size)
    threshold = check_halt_threshold(halt_threshold)
    tasks, solutions = list(tasks), list(solutions)
    if len(tasks) != len(solutions):
        raise ConfigError(f"{len(tasks)} tasks but {len(solutions)} solutions")
    n = len(tasks)
    labels = _labels(codec, tasks, solutions)
    inputs_np = _encode(codec, tasks)
    halted_tokens = np.zeros_like(labels)
    final_tokens = np.zeros_like(labels)
    used = np.zeros(n, dtype=np.int64)
    for start in range(0, n, batch_size):
        inputs = torch.from_numpy(inputs_np[start : start + batch_size])
        size = inputs.shape[0]
        done = np.zeros(size, dtype=bool)
        for step, (_, tokens, _, halt_prob) in enumerate(
            _run_batch(
                net,
                inputs,
                steps,
                halt=False,
                geometry=geometry,
                vocab=codec.vocab_size,
                hint_as=_hint_as(codec),
            ),
            start=1,
        ):
            tok = tokens.cpu().numpy()
            stop = (halt_prob.cpu().numpy() > threshold) | (step == steps)
            newly = stop & ~done
            halted_tokens[start : start + size][newly] = tok[newly]
            used[start : start + size][newly] = step
            done |= newly
            final_tokens[start : start + size] = tok
            if progress is not None:
                progress(start + (size * step) // steps, n)

    def scores(pred: np.ndarray) -> tuple[float, float, float]:
        if n == 0:
            return 0.0, 0.0, 0.0
        exact = (pred == labels).all(axis=1)
        valid = [verify(t, _decode(codec, p, t)).ok for t, p in zip(tasks, pred, strict=True)]
        return float(exact.mean()), float(np.mean(valid)), float((pred == labels).mean())

    exact, valid, cell = scores(halted_tokens)
    exact_all, valid_all, cell_all = scores(final_tokens)
    halted_early = used < steps
    halt_exact = (halted_tokens == labels).all(axis=1)[halted_early] if n else np.zeros(0)
    return {
        "n": n,
        "exact_accuracy": exact,
        "valid_accuracy": valid,
        "cell_accuracy": cell,
        "mean_steps": float(used.mean()) if n else 0.0,
        "exact_accuracy_all_steps": exact_all,
        "valid_accuracy_all_steps": valid_all,
        "cell_accuracy_all_steps": cell_all,
        "halt_precision": float(halt_exact.mean()) if halt_exact.size else None,
    }
