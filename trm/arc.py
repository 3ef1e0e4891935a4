"""ARC inference for TRM: inverse-augmentation voting over a task's views, pass@1 / pass@2
scoring, test-time puzzle embeddings for unseen tasks, and ARC model checkpoints.

Voting follows the reference evaluator (TRM_REFERENCE section 8): every view of a test input
runs all N_sup supervision steps; each prediction is decoded (malformed ones are dropped),
mapped back through the view's inverse augmentation and counted; distinct grids are ranked by
(votes, mean halt probability) and the top two are the attempts.

>>> from trm.arc import fit_task_embedding, predict_arc, score_arc  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from tasks.arc import MAX_ATTEMPTS, ArcTask, Grid
from tasks.errors import CheckpointError, ConfigError, InvalidTaskError
from trm.arc_data import (
    ArcAugmentation,
    ArcCodec,
    ArcExampleStream,
    ArcPuzzleSet,
    check_fits,
    distinct_views,
)
from trm.arc_train import PUZZLE_EMBEDDING, PuzzleSignSGD, _forward, supervise
from trm.checkpoint import load_checkpoint, save_checkpoint, strip_prefix, with_prefix
from trm.config import TRMConfig
from trm.model import TRM
from trm.rollout import autocast
from trm.run_state import _neurosym_version

__all__ = [
    "RankedAnswer",
    "ArcTestPrediction",
    "FittedTask",
    "rank_votes",
    "predict_arc",
    "score_arc",
    "fit_task_embedding",
    "predict_unseen",
    "save_arc_model",
    "load_arc_model",
]


@dataclass(frozen=True, slots=True)
class RankedAnswer:
    """One distinct de-augmented prediction: how many views gave it and their mean
    sigmoid(halt logit)."""

    grid: Grid
    votes: int
    mean_halt_prob: float


@dataclass(frozen=True, slots=True)
class ArcTestPrediction:
    """The prediction for one test input: up to :data:`~tasks.arc.MAX_ATTEMPTS` attempts (the
    best-ranked grids; none when every view was malformed) and the full ranking."""

    attempts: tuple[Grid, ...]
    ranked: tuple[RankedAnswer, ...]
    n_views: int
    n_malformed: int

    def solved(self, answer: Grid | None, k: int = MAX_ATTEMPTS) -> bool:
        """Whether ``answer`` is among the first ``k`` attempts (pass@k)."""
        return answer is not None and answer in self.attempts[:k]


def rank_votes(candidates: Sequence[tuple[Grid | None, float]]) -> tuple[RankedAnswer, ...]:
    """Distinct grids among ``(grid, halt_prob)`` candidates, best first.

    Order: most votes, then the highest mean halt probability, then the grid seen first.
    ``None`` candidates (malformed predictions) get no vote.

    Examples
    --------
    >>> a, b, c = ((1,),), ((2,),), ((3,),)
    >>> ranked = rank_votes([(a, 0.2), (b, 0.9), (a, 0.4), (None, 1.0), (c, 0.95), (b, 0.1)])
    >>> [(r.grid, r.votes, round(r.mean_halt_prob, 2)) for r in ranked]
    [(((2,),), 2, 0.5), (((1,),), 2, 0.3), (((3,),), 1, 0.95)]
    """
    groups: dict[Grid, list[float]] = {}
    for grid, prob in candidates:
        if grid is not None:
            groups.setdefault(grid, []).append(float(prob))
    order = {grid: i for i, grid in enumerate(groups)}
    ranked = [RankedAnswer(g, len(p), float(np.mean(p))) for g, p in groups.items()]
    ranked.sort(key=lambda r: (-r.votes, -r.mean_halt_prob, order[r.grid]))
    return tuple(ranked)


@torch.inference_mode()
def _final_outputs(
    model: TRM,
    inputs: np.ndarray,
    ids: np.ndarray,
    *,
    steps: int,
    batch_size: int,
    table: Tensor | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Argmax tokens [N, seq] and sigmoid(halt logit) [N] after ``steps`` supervision steps,
    every row running all of them (no early halting, as the reference evaluates)."""
    device = model.y_init.device
    tokens, probs = [], []
    for start in range(0, len(inputs), batch_size):
        x = torch.from_numpy(inputs[start : start + batch_size]).to(device)
        pid = torch.from_numpy(ids[start : start + batch_size]).to(device)
        carry = model.initial_carry(x.shape[0], device)
        for _ in range(steps):
            with autocast(device):
                carry, logits, halt_logits = _forward(model, x, carry, pid, table)
        tokens.append(logits.float().argmax(-1).cpu().numpy())
        probs.append(torch.sigmoid(halt_logits.float()).cpu().numpy())
    return np.concatenate(tokens), np.concatenate(probs)


def predict_arc(
    model: TRM,
    puzzles: ArcPuzzleSet,
    *,
    table: Tensor | None = None,
    max_steps: int | None = None,
    batch_size: int = 128,
) -> list[list[ArcTestPrediction]]:
    """Vote over every view of every test input of ``puzzles``; one list per task.

    Parameters
    ----------
    model
        A trained TRM whose puzzle ids cover ``puzzles`` (or any TRM, given ``table``).
    puzzles
        The tasks and views (the training run's :attr:`~trm.arc_train.ArcTrainResult.puzzles`
        or a :class:`FittedTask`'s).
    table
        Puzzle embeddings to use instead of the model's (rows indexed by the puzzle ids).
    max_steps
        Supervision steps per view (default N_sup).
    batch_size
        Views run at once.

    Raises
    ------
    ConfigError
        If the ids or the canvas do not fit the model, or a bad step count / batch size.
    """
    steps = model.config.max_supervision_steps if max_steps is None else max_steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"max_steps must be an int >= 1, got {max_steps!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be an int >= 1, got {batch_size!r}")
    codec = puzzles.codec
    if codec.seq_len != model.config.seq_len:
        raise ConfigError(
            f"the puzzles' {codec.side}x{codec.side} canvas does not fit the model's "
            f"{model.config.seq_len} tokens"
        )
    rows = model.config.num_puzzle_ids
    if table is not None:
        rows = min(rows, table.shape[0])  # the model checks ids against its own table size
    needed = max(first + len(v) for first, v in zip(puzzles.first_ids, puzzles.views, strict=True))
    if needed > rows:
        raise ConfigError(f"the puzzles use puzzle ids up to {needed - 1}, the table has {rows}")
    where: list[tuple[int, int, ArcAugmentation]] = []  # (task, test, view aug) per row
    inputs, ids = [], []
    for i, task in enumerate(puzzles.tasks):
        for t, test_input in enumerate(task.test_inputs):
            for k, aug in enumerate(puzzles.views[i]):
                where.append((i, t, aug))
                inputs.append(codec.encode(aug.apply_array(test_input)))
                ids.append(puzzles.puzzle_id(i, k))
    tokens, probs = _final_outputs(
        model,
        np.stack(inputs),
        np.asarray(ids, dtype=np.int64),
        steps=steps,
        batch_size=batch_size,
        table=table,
    )
    candidates: dict[tuple[int, int], list[tuple[Grid | None, float]]] = {}
    for (i, t, aug), row, prob in zip(where, tokens, probs, strict=True):
        grid = codec.decode(row)
        undone = None if grid is None else aug.inverse().apply(grid)
        candidates.setdefault((i, t), []).append((undone, float(prob)))
    out: list[list[ArcTestPrediction]] = []
    for i, task in enumerate(puzzles.tasks):
        per_test = []
        for t in range(task.n_test):
            cands = candidates[(i, t)]
            ranked = rank_votes(cands)
            per_test.append(
                ArcTestPrediction(
                    attempts=tuple(r.grid for r in ranked[:MAX_ATTEMPTS]),
                    ranked=ranked,
                    n_views=len(cands),
                    n_malformed=sum(g is None for g, _ in cands),
                )
            )
        out.append(per_test)
    return out


def score_arc(
    tasks: Sequence[ArcTask], predictions: Sequence[Sequence[ArcTestPrediction]]
) -> dict[str, Any]:
    """pass@1 and pass@2 as ARC scores them: a task's score is the fraction of its test
    inputs whose answer is among the first k attempts; the figure is the mean over tasks.

    Also ``tasks_solved@2`` (tasks with every test right) and ``malformed`` (the fraction of
    views that decoded to no grid).

    Raises
    ------
    InvalidTaskError
        If the lengths differ or a test output is unknown.
    """
    if len(tasks) != len(predictions):
        raise InvalidTaskError(f"{len(tasks)} tasks but {len(predictions)} predictions")
    per_k: dict[int, list[float]] = {1: [], MAX_ATTEMPTS: []}
    solved_all = 0
    views = malformed = 0
    for task, preds in zip(tasks, predictions, strict=True):
        if not task.has_test_outputs:
            raise InvalidTaskError(f"task {task.name!r} has unknown test outputs")
        if len(preds) != task.n_test:
            raise InvalidTaskError(
                f"task {task.name!r}: {len(preds)} predictions for its {task.n_test} tests"
            )
        for k, scores in per_k.items():
            hits = [p.solved(out, k) for p, out in zip(preds, task.test_outputs, strict=True)]
            scores.append(float(np.mean(hits)))
        solved_all += all(p.solved(o) for p, o in zip(preds, task.test_outputs, strict=True))
        views += sum(p.n_views for p in preds)
        malformed += sum(p.n_malformed for p in preds)
    n = len(tasks)
    return {
        "n_tasks": n,
        "n_tests": sum(t.n_test for t in tasks),
        "pass@1": float(np.mean(per_k[1])) if n else 0.0,
        f"pass@{MAX_ATTEMPTS}": float(np.mean(per_k[MAX_ATTEMPTS])) if n else 0.0,
        f"tasks_solved@{MAX_ATTEMPTS}": solved_all,
        "malformed": malformed / views if views else 0.0,
    }


# ---------------------------------------------------------------------------- unseen tasks
@dataclass(slots=True)
class FittedTask:
    """A task's views and the puzzle embeddings fitted for them (row k = view k)."""

    puzzles: ArcPuzzleSet
    table: Tensor
    history: list[dict[str, Any]] = field(default_factory=list)


def fit_task_embedding(
    model: TRM,
    task: ArcTask,
    *,
    n_views: int = 8,
    steps: int = 100,
    batch_size: int = 16,
    lr: float = 1e-2,
    weight_decay: float = 0.1,
    translate_prob: float = 0.75,
    init: Literal["mean", "zeros"] = "mean",
    seed: int = 0,
    deadline: float | None = None,
) -> FittedTask:
    """Fit fresh puzzle embeddings for an unseen ``task`` on its demonstration pairs.

    The test-time counterpart of training (the reference instead puts evaluation tasks'
    demonstrations in its training set): ``n_views`` augmented views of ``task`` each get a new
    embedding row, trained with :class:`~trm.arc_train.PuzzleSignSGD` (``lr``,
    ``weight_decay``) under the same deep supervision as training, for ``steps`` steps; the
    network's weights are frozen constants and the model is not modified. ``init="mean"``
    starts every row at the mean of the model's trained rows (the reference's choice for
    puzzles a checkpoint lacks), ``"zeros"`` as training starts. ``deadline`` (a
    :func:`time.perf_counter` instant) stops the fit after the first step that ends past it
    (``len(history) < steps`` then; at least one step always runs). Pass the result's
    ``puzzles`` and ``table`` to :func:`predict_arc`, or use :func:`predict_unseen`.

    Raises
    ------
    UnsupportedTaskError
        If a grid of ``task`` does not fit the model's canvas.
    ConfigError
        For a bad step count, batch size or ``init``.

    Examples
    --------
    >>> from trm.config import preset
    >>> model = TRM(preset("arc-tiny", seq_len=9, hidden_size=16, num_puzzle_ids=4))
    >>> flip = ArcTask(task_id="flip", train=[{"input": [[1, 2]], "output": [[2, 1]]}],
    ...                test=[{"input": [[3, 4]]}])
    >>> fitted = fit_task_embedding(model, flip, n_views=2, steps=3, batch_size=2)
    >>> tuple(fitted.table.shape), len(fitted.history)
    ((2, 16), 3)
    """
    for name, value in (("steps", steps), ("batch_size", batch_size), ("n_views", n_views)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
    if init not in ("mean", "zeros"):
        raise ConfigError(f"init must be 'mean' or 'zeros', got {init!r}")
    codec = ArcCodec.for_seq_len(model.config.seq_len)
    if not isinstance(task, ArcTask):
        raise InvalidTaskError(f"expected an ArcTask, got {type(task).__name__}")
    check_fits(task, codec)
    rng = np.random.default_rng(seed)
    views = tuple(distinct_views(task, n_views, rng))
    if len(views) > model.config.num_puzzle_ids:
        raise ConfigError(
            f"{len(views)} views need as many puzzle ids; the model checks ids against its "
            f"{model.config.num_puzzle_ids}"
        )
    puzzles = ArcPuzzleSet(tasks=(task,), views=(views,), first_ids=(0,), codec=codec)
    trained = getattr(model, PUZZLE_EMBEDDING).detach()
    start = trained[1:].mean(0) if init == "mean" and trained.shape[0] > 1 else trained[0] * 0.0
    table = start.expand(len(views), -1).clone().requires_grad_(True)
    sign_sgd = PuzzleSignSGD([table], lr=lr, weight_decay=weight_decay)
    stream = ArcExampleStream(puzzles, rng, translate_prob=translate_prob)
    history = supervise(
        model,
        stream,
        steps=steps,
        batch_size=batch_size,
        rng=rng,
        update=lambda ids, _step: sign_sgd.step(rows=ids),
        zero_grad=lambda: sign_sgd.zero_grad(set_to_none=True),
        table=table,
        deadline=deadline,
    )
    return FittedTask(puzzles=puzzles, table=table.detach(), history=history)


def predict_unseen(
    model: TRM, tasks: Sequence[ArcTask], **fit: Any
) -> list[list[ArcTestPrediction]]:
    """:func:`fit_task_embedding` (with ``fit``'s keyword arguments) then :func:`predict_arc`
    for each task in turn; one list of test predictions per task."""
    out = []
    for task in tasks:
        fitted = fit_task_embedding(model, task, **fit)
        out.extend(predict_arc(model, fitted.puzzles, table=fitted.table))
    return out


# ---------------------------------------------------------------------------- checkpoints
def save_arc_model(
    path: str | os.PathLike[str], model: TRM, puzzles: ArcPuzzleSet, *, step: int = 0
) -> os.PathLike[str]:
    """Write ``model`` (puzzle embeddings included) and the tasks and views its ids belong to
    as a :mod:`trm.checkpoint` checkpoint of kind ``"arc"``."""
    meta = {
        "neurosym_version": _neurosym_version(),
        "config": model.config.model_dump(mode="json"),
        "task": {
            "kind": "arc",
            "side": puzzles.codec.side,
            "tasks": [t.model_dump(mode="json") for t in puzzles.tasks],
            "views": [[a.model_dump(mode="json") for a in v] for v in puzzles.views],
            "first_ids": list(puzzles.first_ids),
        },
        "step": int(step),
    }
    return save_checkpoint(path, tensors=with_prefix(model.state_dict(), "model"), meta=meta)


def load_arc_model(
    path: str | os.PathLike[str], *, device: str | torch.device = "cpu"
) -> tuple[TRM, ArcPuzzleSet]:
    """The model (eval mode) and puzzle set saved by :func:`save_arc_model`.

    Raises
    ------
    CheckpointError
        If the files are missing or corrupt, not of kind ``"arc"``, or inconsistent.
    """
    tensors, meta = load_checkpoint(path, expected_kind="arc")
    spec = meta["task"]
    try:
        config = TRMConfig.model_validate(meta["config"])
        puzzles = ArcPuzzleSet(
            tasks=tuple(ArcTask(**t) for t in spec["tasks"]),
            views=tuple(tuple(ArcAugmentation(**a) for a in v) for v in spec["views"]),
            first_ids=tuple(int(i) for i in spec["first_ids"]),
            codec=ArcCodec(side=spec["side"]),
        )
    except (ConfigError, InvalidTaskError, KeyError, TypeError) as exc:
        where = os.fspath(path)
        raise CheckpointError(f"ARC checkpoint at {where!r} is inconsistent: {exc}") from exc
    if puzzles.codec.seq_len != config.seq_len or puzzles.num_puzzle_ids > config.num_puzzle_ids:
        raise CheckpointError(f"ARC checkpoint at {os.fspath(path)!r}: views do not fit model")
    model = TRM(config)
    try:
        model.load_state_dict(strip_prefix(tensors, "model"), strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint weights do not fit the model: {exc}") from exc
    return model.to(device).eval(), puzzles
