"""Running a trained TRM: load a checkpoint's EMA weights, predict with per-sample halting, and
evaluate accuracy (exact, valid, per cell) with halting and with every supervision step.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from tasks.encodings import MazeCodec, SudokuCodec, codec_from_spec
from tasks.errors import CheckpointError, ConfigError, InvalidTaskError, SolverTimeoutError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify
from trm.checkpoint import load_checkpoint, strip_prefix
from trm.config import TRMConfig
from trm.model import TRM
from trm.rollout import (
    MAX_TEST_STEPS,
    Answer,
    Codec,
    LoadedModel,
    check_steps,
    codec_for,
    decode_answer,
    encode_tasks,
    geometry_of,
    grid_shape,
    group_by_codec,
    hint_token,
    resolve,
    run_batch,
)
from trm.step_cost import STEP_COST_MARGIN, StepClock, calibrate_step_rate, step_flops

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
    "STEP_COST_MARGIN",
]

#: How one answer is chosen among K trajectories: the highest final halt probability, the
#: first trajectory to halt (fewest steps, then the higher halt probability), or the most
#: frequent answer (ties: the higher mean halt probability).
SELECTION_RULES = ("halt", "first", "vote")
#: Upper bound of the trajectories per task (a typo fails fast instead of hanging).
MAX_TRAJECTORIES = 256


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
    net, codec = resolve(model, codec)
    steps = check_steps(net, max_steps)
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
    for group_codec, members in group_by_codec(net, codec, tasks):
        group_tasks = [tasks[i] for i in members]
        geometry = geometry_of(group_codec) if net.config.size_agnostic else None
        vocab = group_codec.vocab_size
        inputs_np = encode_tasks(group_codec, group_tasks)
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
            batch = run_batch(
                net,
                inputs,
                steps,
                halt,
                threshold,
                geometry=geometry,
                vocab=vocab,
                noise=scale,
                generator=generator,
                hint_as=hint_token(group_codec),
            )
            clock = StepClock(net, inputs.shape[1] + net.config.puzzle_prefix_len, deadline)
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
                h, w = grid_shape(group_codec, task)
                cands = []
                for t in range(k):
                    tok, conf, prob, used = last[t * size + j]
                    if isinstance(group_codec, MazeCodec):
                        conf = conf.reshape(group_codec.height, group_codec.width)[:h, :w]
                    cands.append(
                        Candidate(
                            answer=decode_answer(group_codec, tok, task),
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
                        TraceStep(decode_answer(group_codec, tok, task), prob, tok)
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
    net, codec = resolve(model, codec)
    if codec is None:  # a size-agnostic model: the tasks' own size, one size per call
        groups = group_by_codec(net, None, list(tasks))
        if len(groups) > 1:
            raise ConfigError(
                f"evaluate takes tasks of one size at a time; got {len(groups)} sizes"
            )
        codec = (
            groups[0][0] if groups else (model.codec if isinstance(model, LoadedModel) else None)
        )
        if codec is None:
            raise ConfigError("a bare TRM needs its codec")
    geometry = geometry_of(codec) if net.config.size_agnostic else None
    steps = check_steps(net, max_steps)
    _check_batch_size(batch_size)
    threshold = check_halt_threshold(halt_threshold)
    tasks, solutions = list(tasks), list(solutions)
    if len(tasks) != len(solutions):
        raise ConfigError(f"{len(tasks)} tasks but {len(solutions)} solutions")
    n = len(tasks)
    labels = _labels(codec, tasks, solutions)
    inputs_np = encode_tasks(codec, tasks)
    halted_tokens = np.zeros_like(labels)
    final_tokens = np.zeros_like(labels)
    used = np.zeros(n, dtype=np.int64)
    for start in range(0, n, batch_size):
        inputs = torch.from_numpy(inputs_np[start : start + batch_size])
        size = inputs.shape[0]
        done = np.zeros(size, dtype=bool)
        for step, (_, tokens, _, halt_prob) in enumerate(
            run_batch(
                net,
                inputs,
                steps,
                halt=False,
                geometry=geometry,
                vocab=codec.vocab_size,
                hint_as=hint_token(codec),
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
        valid = [verify(t, decode_answer(codec, p, t)).ok for t, p in zip(tasks, pred, strict=True)]
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
