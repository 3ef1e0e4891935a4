"""What the network hands the hybrid: a :class:`Proposal` per task (answer, per-cell
confidences, K trajectories, cost), made in one batch by :func:`propose`, and the helpers that
pick a trajectory, read a maze proposal's cells and report its effort."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tasks.errors import InvalidTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = [
    "Proposal",
    "empty_proposal",
    "neural_choice",
    "proposal_cells",
    "proposal_effort",
    "propose",
    "with_candidate",
]

Task = SudokuTask | MazeTask


@dataclass(frozen=True)
class Proposal:
    """The network's answer for one task, as the hybrid consumes it.

    Attributes
    ----------
    answer : the decoded answer (Sudoku grid or maze path; may be wrong).
    confidence : per-cell largest softmax probability, shape of the grid / maze.
    tokens : the raw predicted tokens (for a maze: which cells the network marks as path).
    steps : supervision steps used.
    halt_prob : the halt head's probability at the last step.
    time_s : this task's share of the batch's inference time (model loading excluded).
    trace : per supervision step ``(answer, halt_prob)`` when requested, else None.
    candidates : with K trajectories, every one's :class:`trm.inference.Candidate`, in
        trajectory order (empty: the single trajectory described above).
    selected : the index of the trajectory the fields above describe.
    select : the rule the caller asked for (see :data:`neurosym.neural.SELECT_RULES`); None:
        each method's default (``"halt"`` for the network alone, ``"verify"`` for the hybrid).
        With ``"verify"`` (or None) the fields describe the ``"halt"`` choice, and
        :func:`neural_choice` / :func:`run_hybrid` look for a verified candidate.
    max_steps : the cap on supervision steps this task ran under (0: not recorded).
    timed_out : a deadline stopped the recursion early (the fields hold its last step); with
        ``steps == 0`` (:func:`empty_proposal`) the network gave no answer at all.
    """

    answer: Any
    confidence: np.ndarray
    tokens: np.ndarray
    steps: int
    halt_prob: float
    time_s: float
    trace: list[Any] | None = None
    candidates: tuple[Any, ...] = ()
    selected: int = 0
    select: str | None = None
    max_steps: int = 0
    timed_out: bool = False


def empty_proposal(task: Task, time_s: float = 0.0, max_steps: int = 0) -> Proposal:
    """The proposal of a network that ran out of time before its first step: no answer, zero
    confidence everywhere, ``steps == 0`` and ``timed_out``."""
    shape = (task.size, task.size) if isinstance(task, SudokuTask) else (task.height, task.width)
    return Proposal(
        answer=None,
        confidence=np.zeros(shape, dtype=np.float32),
        tokens=np.zeros(0, dtype=np.int64),
        steps=0,
        halt_prob=0.0,
        time_s=time_s,
        max_steps=max_steps,
        timed_out=True,
    )


def propose(
    tasks: list[Task],
    model: Any = None,
    *,
    halt: bool = True,
    trace: bool = False,
    max_steps: int | None = None,
    batch_size: int = 256,
    threads: int | None = 1,
    trajectories: int = 1,
    noise: float | None = None,
    select: str | None = None,
    seed: int = 0,
    deadline: float | None = None,
) -> tuple[list[Proposal], float, Any]:
    """Run the TRM on ``tasks`` in batches: ``(proposals, model_load_s, loaded_model)``.

    Every task must be covered by the same model (a shipped default picked for the first task,
    or ``model``: a checkpoint path or a loaded model). Each proposal's ``time_s`` is its equal
    share of the total inference time. ``threads`` caps torch's CPU threads while it runs
    (restored after; None leaves them): on a small shared machine one thread is many times
    faster than two competing with other work (7 vs 92 ms per 9x9 puzzle measured on 2 cores
    with a training job on the other).

    ``max_steps`` caps the supervision steps (any depth up to
    :data:`trm.inference.MAX_TEST_STEPS`; halting still stops confident tasks earlier); None
    takes :func:`neurosym.neural.default_max_steps` per task. ``trajectories``, ``noise``
    (default :data:`neurosym.neural.DEFAULT_NOISE` when K > 1) and ``seed`` go to
    :func:`trm.inference.predict`; ``select`` is recorded on each proposal (``"halt"``,
    ``"first"`` and ``"vote"`` are applied here; ``"verify"`` and None leave the ``"halt"``
    choice for :func:`neural_choice` / :func:`run_hybrid` to improve on).

    ``deadline`` (a :func:`time.perf_counter` instant) goes to :func:`trm.inference.predict`:
    no supervision step starts that is not expected to end by then; a proposal stopped so says
    ``timed_out``.

    Raises
    ------
    UnsupportedTaskError : no model covers the tasks.
    InvalidTaskError : an empty task list.
    ConfigError : bad depth or trajectory options.
    SolverTimeoutError : the deadline left a task without one supervision step.

    Examples
    --------
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=22, rng=1)
    >>> [p], load_s, loaded = propose([task])
    >>> p.confidence.shape, 1 <= p.steps <= loaded.config.max_supervision_steps
    ((6, 6), True)
    """
    from neurosym.neural import (
        HALT_THRESHOLD,
        check_max_steps,
        default_max_steps,
        resolve_model,
        sampling,
        torch_threads,
    )
    from trm.inference import predict

    k, noise, select = sampling(trajectories, noise, select)
    max_steps = check_max_steps(max_steps)
    tasks = list(tasks)
    if not tasks:
        raise InvalidTaskError("propose needs at least one task")
    loaded, load_s = resolve_model(tasks[0], model)
    for task in tasks[1:]:
        resolve_model(task, loaded)  # raises when the model does not cover it
    # Tasks grouped by their depth cap (one group unless a per-task default depth applies).
    groups: dict[int | None, list[int]] = {}
    for i, task in enumerate(tasks):
        cap = max_steps if max_steps is not None else default_max_steps(loaded, task)
        groups.setdefault(cap, []).append(i)
    rule = select if select in ("halt", "first", "vote") else "halt"
    predictions: list[Any] = [None] * len(tasks)
    with torch_threads(threads):
        t0 = time.perf_counter()
        for cap, members in groups.items():
            out = predict(
                loaded,
                None,
                [tasks[i] for i in members],
                halt=halt,
                trace=trace,
                max_steps=cap,
                batch_size=batch_size,
                halt_threshold=HALT_THRESHOLD,
                trajectories=k,
                noise=noise,
                select=rule,
                seed=seed,
                deadline=deadline,
            )
            for i, p in zip(members, out, strict=True):
                predictions[i] = (p, cap or loaded.config.max_supervision_steps)
        share = (time.perf_counter() - t0) / len(tasks)
    proposals = [
        Proposal(
            answer=p.answer,
            confidence=p.confidence,
            tokens=p.tokens,
            steps=p.steps,
            halt_prob=p.halt_prob,
            time_s=share,
            trace=p.trace,
            candidates=tuple(p.candidates) if k > 1 else (),
            selected=p.selected,
            select=select,
            max_steps=cap,
            timed_out=p.timed_out,
        )
        for p, cap in predictions
    ]
    return proposals, load_s, loaded


def with_candidate(proposal: Proposal, index: int) -> Proposal:
    """``proposal`` describing its trajectory ``index`` instead (its trace, which belongs to
    the trajectory it described, is dropped when that changes)."""
    if index == proposal.selected or not proposal.candidates:
        return proposal
    cand = proposal.candidates[index]
    return replace(
        proposal,
        answer=cand.answer,
        confidence=cand.confidence,
        tokens=cand.tokens,
        steps=cand.steps,
        halt_prob=cand.halt_prob,
        trace=None,
        selected=index,
    )


def neural_choice(task: Task, proposal: Proposal, *, check: Any = None) -> Proposal:
    """The proposal the network alone answers with: with ``select="verify"`` the first
    trajectory whose answer verifies (else the ``"halt"`` choice), otherwise ``proposal``.

    ``check(task, answer) -> bool`` replaces :func:`tasks.verify.verify` (e.g. to time it,
    or to stop checking at a deadline).
    """
    from neurosym.neural import choose

    if proposal.select != "verify" or len(proposal.candidates) < 2:
        return proposal
    return with_candidate(proposal, choose(task, proposal.candidates, "verify", check=check))


def proposal_cells(task: MazeTask, proposal: Proposal, loaded: Any = None) -> set[tuple[int, int]]:
    """The maze cells the network marks as path (plus the cells of its decoded answer).

    ``loaded`` gives the codec's canvas width; without it the canvas is taken to be square.
    """
    from tasks.encodings import MAZE_PATH_ID

    tokens = np.asarray(proposal.tokens)
    if loaded is not None:
        from trm.inference import codec_for

        width = codec_for(loaded, task).width  # the canvas (a size-agnostic model: the maze)
    else:
        width = int(round(tokens.size**0.5))
    grid = tokens.reshape(-1, width)[: task.height, : task.width]
    marked = {(int(r), int(c)) for r, c in zip(*np.nonzero(grid == MAZE_PATH_ID), strict=True)}
    marked.update(tuple(cell) for cell in proposal.answer)
    return marked


def proposal_effort(proposal: Proposal, load_s: float) -> dict[str, float]:
    """The network's side of a ``SolveResult.effort``: steps and halt probability of the
    chosen trajectory, its confidences, load time, ``trajectories``, ``selected_trajectory``,
    ``max_steps`` (the cap on supervision steps) and, when a deadline stopped the recursion,
    ``trm_timed_out = 1``."""
    conf = np.asarray(proposal.confidence, dtype=float)
    effort = {
        "trm_steps": float(proposal.steps),
        "halt_prob": float(proposal.halt_prob),
        "mean_confidence": float(conf.mean()),
        "min_confidence": float(conf.min()),
        "model_load_s": float(load_s),
        "trajectories": float(max(1, len(proposal.candidates))),
        "selected_trajectory": float(proposal.selected),
    }
    if proposal.max_steps:
        effort["max_steps"] = float(proposal.max_steps)
    if proposal.timed_out:
        effort["trm_timed_out"] = 1.0
    return effort
