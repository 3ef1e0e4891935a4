"""ARC with a user's network: ``method="neural"`` (fit the task's puzzle embedding on its
demonstrations, then vote over augmented views) and ``method="hybrid"`` (programs that reproduce
every demonstration first, the network's candidates after them), under one deadline.

**Neural.** No ARC model ships; ``model=`` names a checkpoint written by
:func:`trm.arc.save_arc_model` (or passes the loaded model). The task is unseen by the network,
so :func:`trm.arc.fit_task_embedding` fits fresh puzzle-embedding rows for :data:`ARC_VIEWS`
augmented views of it on its demonstration pairs (the network frozen) for up to
:data:`ARC_FIT_STEPS` steps, stopping once :data:`FIT_SHARE` of the time limit is spent; then
:func:`trm.arc.predict_arc` votes over the views of each test input and its two best-ranked grids
(votes, then mean halt probability) are the attempts, each with stage ``"neural"``.

**Hybrid.** The program search (:func:`solvers.arc.solve`) runs first with at most
:data:`SEARCH_SHARE` of the limit (it stops early once a depth yields fitting programs); the
network gets whatever is left of the same deadline. Per test input the attempts are, in order:
grids a fitting program and the network's attempts both give (stage ``"both"``), the other
programs' grids (``"symbolic"``), then the network's (``"neural"``); the first two count.

Either way ``verified`` is :func:`tasks.verify.verify`'s verdict alone: a task without known test
outputs is never verified.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from neurosym.api import Attempt
from tasks.arc import MAX_ATTEMPTS, ArcTask, Grid
from tasks.errors import ConfigError, SolverTimeoutError, UnsupportedTaskError

__all__ = [
    "ARC_FIT_STEPS",
    "ARC_VIEWS",
    "FIT_SHARE",
    "NO_ARC_MODEL",
    "SEARCH_SHARE",
    "ArcOutcome",
    "NetworkCandidates",
    "load_arc_network",
    "merge_attempts",
    "propose_arc",
    "solve_arc_hybrid",
    "solve_arc_neural",
    "task_attempts",
]

#: Embedding-fitting steps at most (``trm.arc.fit_task_embedding``'s default); the deadline
#: stops the fit first when steps are slow (a 30 x 30 model on a CPU).
ARC_FIT_STEPS = 100
#: Augmented views per task (identity first), each fitted and voted on; capped by the model's
#: puzzle-id table (the fitted rows reuse ids 0..n-1).
ARC_VIEWS = 8
#: The network's time that fitting may use; the rest is for voting over the views, which runs
#: every view for all N_sup steps (about a 30th of a full 100-step fit at the defaults).
FIT_SHARE = 0.8
#: The hybrid's program search gets at most this share of the limit, the network the rest.
SEARCH_SHARE = 0.5
#: Why ``neural``/``hybrid`` on ARC needs ``model=``.
NO_ARC_MODEL = (
    "no ARC model ships: pass model=<checkpoint path> of one you trained (trm.arc_train.train_arc, "
    "then trm.arc.save_arc_model), or use method='symbolic'"
)


def load_arc_network(model: Any) -> tuple[Any, float]:
    """The ARC network (a :class:`trm.model.TRM` in eval mode) and the seconds spent loading it.

    ``model`` is a checkpoint path written by :func:`trm.arc.save_arc_model`, the ``(model,
    puzzles)`` pair :func:`trm.arc.load_arc_model` returns, or a TRM.

    Raises
    ------
    UnsupportedTaskError
        ``model`` is None (no ARC model ships) or not an ARC network (vocabulary 12, a square
        canvas).
    CheckpointError
        The checkpoint is missing, invalid or of another kind.
    ConfigError
        ``model`` is none of the above types.
    """
    if model is None:
        raise UnsupportedTaskError(f"ARC with a network: {NO_ARC_MODEL}")
    from trm.arc import load_arc_model
    from trm.arc_data import ARC_VOCAB_SIZE, ArcCodec
    from trm.model import TRM

    t0 = time.perf_counter()
    if isinstance(model, str | os.PathLike):
        network, _ = load_arc_model(model)
    elif isinstance(model, tuple) and len(model) == 2 and isinstance(model[0], TRM):
        network = model[0]
    elif isinstance(model, TRM):
        network = model
    else:
        raise ConfigError(
            "model for an ARC task must be a checkpoint path (trm.arc.save_arc_model), the "
            f"pair trm.arc.load_arc_model returns, or a TRM; got {type(model).__name__}"
        )
    if network.config.vocab_size != ARC_VOCAB_SIZE:
        raise UnsupportedTaskError(
            f"the model has vocabulary {network.config.vocab_size}, an ARC network "
            f"{ARC_VOCAB_SIZE}: it is no ARC model"
        )
    ArcCodec.for_seq_len(network.config.seq_len)  # a square canvas, else UnsupportedTaskError
    return network.eval(), time.perf_counter() - t0


def _check_fits(network: Any, task: ArcTask) -> None:
    from trm.arc_data import ArcCodec, check_fits

    check_fits(task, ArcCodec.for_seq_len(network.config.seq_len))


@dataclass(frozen=True, slots=True)
class NetworkCandidates:
    """The network's attempts for each test input (best first, at most
    :data:`~tasks.arc.MAX_ATTEMPTS`; none when every view decoded to no grid) and its effort:
    ``fit_steps``, ``fit_loss`` (the last step's), ``fit_timed_out``, ``views``,
    ``malformed_views``, ``trm_steps`` (per view), ``top_votes`` (of test input 0's first
    attempt), ``fit_s`` and ``predict_s``."""

    attempts: tuple[tuple[Grid, ...], ...]
    effort: dict[str, float] = field(default_factory=dict)
    time_s: float = 0.0


def propose_arc(
    task: ArcTask,
    network: Any,
    *,
    deadline: float,
    fit_steps: int = ARC_FIT_STEPS,
    n_views: int = ARC_VIEWS,
    max_steps: int | None = None,
    seed: int = 0,
    threads: int | None = 1,
) -> NetworkCandidates:
    """Fit ``task``'s embedding and vote (see the module docstring) before ``deadline`` (a
    :func:`time.perf_counter` instant): fitting stops after the first step past
    :data:`FIT_SHARE` of the time left, voting over the views then runs to the end (one fit
    step and the vote are the least it does). ``threads`` caps torch's CPU threads meanwhile
    (None leaves them), as the Sudoku network runs.

    Raises
    ------
    SolverTimeoutError
        ``deadline`` has passed already.
    UnsupportedTaskError
        A grid of ``task`` does not fit the network's canvas.
    ConfigError
        A bad ``fit_steps``, ``n_views`` or ``max_steps``.
    """
    from neurosym.neural import torch_threads
    from trm.arc import fit_task_embedding, predict_arc

    t0 = time.perf_counter()
    left = deadline - t0
    if left <= 0:
        raise SolverTimeoutError("the time limit ran out before the network's first fit step")
    if isinstance(n_views, bool) or not isinstance(n_views, int) or n_views < 1:
        raise ConfigError(f"n_views must be an int >= 1, got {n_views!r}")
    views = min(n_views, network.config.num_puzzle_ids)
    with torch_threads(threads):
        fitted = fit_task_embedding(
            network,
            task,
            n_views=views,
            steps=fit_steps,
            seed=seed,
            deadline=t0 + FIT_SHARE * left,
        )
        t1 = time.perf_counter()
        [per_test] = predict_arc(network, fitted.puzzles, table=fitted.table, max_steps=max_steps)
    t2 = time.perf_counter()
    history = fitted.history
    first = per_test[0].ranked[0] if per_test and per_test[0].ranked else None
    effort = {
        "fit_steps": float(len(history)),
        "fit_loss": float(history[-1]["loss"]) if history else float("nan"),
        "fit_timed_out": float(len(history) < fit_steps),
        "views": float(len(fitted.puzzles.views[0])),
        "malformed_views": float(sum(p.n_malformed for p in per_test)),
        "trm_steps": float(max_steps or network.config.max_supervision_steps),
        "top_votes": float(first.votes) if first else 0.0,
        "fit_s": t1 - t0,
        "predict_s": t2 - t1,
    }
    return NetworkCandidates(
        attempts=tuple(p.attempts for p in per_test), effort=effort, time_s=t2 - t0
    )


def merge_attempts(
    program_grids: Sequence[Grid], programs: Sequence[str], network_grids: Sequence[Grid]
) -> tuple[tuple[Grid, Attempt], ...]:
    """One test input's attempts under the hybrid's rule, best first, at most
    :data:`~tasks.arc.MAX_ATTEMPTS`: grids both a program and the network give (``"both"``,
    in the programs' order), the programs' other grids (``"symbolic"``), the network's other
    grids (``"neural"``, in its ranking).

    ``program_grids[k]`` is what program ``programs[k]`` printed for this test input.

    Examples
    --------
    >>> a, b, c = ((1,),), ((2,),), ((3,),)
    >>> [(g, x.stage, x.program) for g, x in merge_attempts([a, b], ["p", "q"], [b, c])]
    [(((2,),), 'both', 'q'), (((1,),), 'symbolic', 'p')]
    >>> [(g, x.stage) for g, x in merge_attempts([a], ["p"], [c, a])]
    [(((1,),), 'both'), (((3,),), 'neural')]
    >>> [(g, x.stage) for g, x in merge_attempts([], [], [c])]
    [(((3,),), 'neural')]
    """
    network = list(network_grids)
    both, symbolic = [], []
    for grid, program in zip(program_grids, programs, strict=True):
        if grid in network:
            both.append((grid, Attempt(stage="both", program=program)))
        else:
            symbolic.append((grid, Attempt(stage="symbolic", program=program)))
    shown = set(program_grids)
    neural = [(g, Attempt(stage="neural")) for g in dict.fromkeys(network) if g not in shown]
    return tuple((both + symbolic + neural)[:MAX_ATTEMPTS])


def task_attempts(per_test: Sequence[Sequence[Attempt]]) -> tuple[Attempt, ...]:
    """How attempt ``k`` of every test input was made: the test inputs' own ``Attempt`` where
    all that have a ``k``-th attempt agree, else ``Attempt(stage="mixed")`` (a task with several
    test inputs whose rankings differ; ``SolveResult.test_attempts`` has each).

    Examples
    --------
    >>> n, s = Attempt(stage="neural"), Attempt(stage="symbolic", program="flip_h")
    >>> [a.stage for a in task_attempts([[s, n], [s]])]
    ['symbolic', 'neural']
    >>> [a.stage for a in task_attempts([[s, n], [n, s]])]
    ['mixed', 'mixed']
    """
    width = max((len(a) for a in per_test), default=0)
    out = []
    for k in range(width):
        seen = list(dict.fromkeys(a[k] for a in per_test if len(a) > k))
        out.append(seen[0] if len(seen) == 1 else Attempt(stage="mixed"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ArcOutcome:
    """What :func:`solve_arc_neural` / :func:`solve_arc_hybrid` found, before it becomes a
    ``SolveResult`` (the caller verifies ``answer``)."""

    answer: tuple[tuple[Grid, ...], ...]
    test_attempts: tuple[tuple[Attempt, ...], ...]
    backend: str
    time_s: float
    effort: dict[str, float]
    stage_times: dict[str, float]

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """:func:`task_attempts` of :attr:`test_attempts`."""
        return task_attempts(self.test_attempts)


def _prepare(task: ArcTask, model: Any, time_limit_s: float) -> tuple[Any, float, float]:
    """The checked limit, the network and its load time, all before the clock starts."""
    from solvers import check_time_limit

    limit = check_time_limit(time_limit_s)
    network, load_s = load_arc_network(model)
    _check_fits(network, task)
    return network, load_s, limit


def solve_arc_neural(
    task: ArcTask,
    model: Any,
    *,
    time_limit_s: float = 10.0,
    max_steps: int | None = None,
    seed: int = 0,
    fit_steps: int = ARC_FIT_STEPS,
    n_views: int = ARC_VIEWS,
) -> ArcOutcome:
    """The network alone on ``task`` (see the module docstring); loading is not timed.

    Raises
    ------
    UnsupportedTaskError, CheckpointError, ConfigError
        See :func:`load_arc_network` and :func:`propose_arc`; a bad time limit.
    """
    network, load_s, limit = _prepare(task, model, time_limit_s)
    start = time.perf_counter()
    cands = propose_arc(
        task,
        network,
        deadline=start + limit,
        fit_steps=fit_steps,
        n_views=n_views,
        max_steps=max_steps,
        seed=seed,
    )
    effort = {**cands.effort, "model_load_s": load_s}
    per_test = tuple(tuple(Attempt(stage="neural") for _ in a) for a in cands.attempts)
    return ArcOutcome(
        answer=cands.attempts,
        test_attempts=per_test,
        backend="trm",
        time_s=time.perf_counter() - start,
        effort=effort,
        stage_times={"neural": cands.time_s},
    )


def solve_arc_hybrid(
    task: ArcTask,
    model: Any,
    *,
    time_limit_s: float = 10.0,
    max_steps: int | None = None,
    seed: int = 0,
    fit_steps: int = ARC_FIT_STEPS,
    n_views: int = ARC_VIEWS,
) -> ArcOutcome:
    """Program search, then the network, under one deadline ``time_limit_s`` from the start
    (loading the model and importing the search excluded); attempts merged by
    :func:`merge_attempts`. When the search leaves no time the network is skipped
    (``effort['network_skipped'] = 1``) and the programs' grids are the attempts.

    ``effort`` holds the search's counters (``programs_tried``, ``depth_reached``,
    ``timed_out``...) and the network's (:class:`NetworkCandidates`).

    Raises
    ------
    UnsupportedTaskError, CheckpointError, ConfigError
        See :func:`load_arc_network` and :func:`propose_arc`; a bad time limit.
    """
    network, load_s, limit = _prepare(task, model, time_limit_s)
    arc = importlib.import_module("solvers.arc")  # scipy, before the clock starts
    start = time.perf_counter()
    deadline = start + limit
    searched = arc.solve(task, time_limit_s=SEARCH_SHARE * limit)
    search_s = time.perf_counter() - start
    effort = {**searched.effort, "model_load_s": load_s}
    times = {"search": search_s}
    network_attempts: tuple[tuple[Grid, ...], ...] = tuple(() for _ in range(task.n_test))
    try:
        cands = propose_arc(
            task,
            network,
            deadline=deadline,
            fit_steps=fit_steps,
            n_views=n_views,
            max_steps=max_steps,
            seed=seed,
        )
    except SolverTimeoutError:
        effort["network_skipped"] = 1.0
    else:
        network_attempts = cands.attempts
        effort.update(cands.effort)
        times["neural"] = cands.time_s
    answer, per_test = [], []
    for i in range(task.n_test):
        merged = merge_attempts(searched.answer[i], searched.programs, network_attempts[i])
        answer.append(tuple(g for g, _ in merged))
        per_test.append(tuple(a for _, a in merged))
    return ArcOutcome(
        answer=tuple(answer),
        test_attempts=tuple(per_test),
        backend="search+trm",
        time_s=time.perf_counter() - start,
        effort=effort,
        stage_times=times,
    )
