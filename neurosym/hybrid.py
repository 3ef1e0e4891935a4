"""The hybrid: the TRM proposes, ``verify`` checks, the symbolic side repairs or searches.

Stages, in order, each ending in :func:`tasks.verify.verify`:

1. ``neural``: the network's answer (batched inference; per-cell confidences) is checked as is.
   With K stochastic trajectories the first one (in trajectory order) that verifies is kept.
2. ``repair``: Sudoku: the valid grid closest to the proposal (CP-SAT, fewest changed cells first,
   then confidence-weighted agreement; the proposal as hints). Maze: among the shortest paths, the
   one sharing the most cells with the proposed path.
3. ``fallback``: a full symbolic search (the proposal as hints where the backend takes them) when
   the repair fails or runs out of time.

Repair and fallback start from the halt-selected trajectory when none verifies.

**One deadline.** Under ``solve(..., method="hybrid", time_limit_s=L)`` every stage shares the
instant ``start + L`` (model loading excluded, as an engine import is): the network may use up
to :data:`NETWORK_SHARE` of it (its recursion stops between supervision steps, keeping the last
step's answer), verification stops at the deadline, the repair gets at most
:data:`REPAIR_SHARE` of what is left and the fallback the rest. A network stopped early
proposes the answer it has (``effort['trm_timed_out'] = 1``); one that could not run a single
step in its share proposes nothing, and the fallback searches unhinted. When the deadline
passes before any stage yields a verified answer, :class:`~tasks.errors.SolverTimeoutError`
is raised: an answer is never returned unverified, nor marked verified without ``verify``.

:func:`propose` runs the network on many tasks in one batch, so a comparison times the network
per puzzle the way it would be deployed; :func:`solve_hybrid` and :func:`solve_guided` take its
proposals.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from neurosym.proposals import (
    Proposal,
    empty_proposal,
    neural_choice,
    proposal_cells,
    proposal_effort,
    propose,
    with_candidate,
)
from tasks.errors import ConfigError, SolverTimeoutError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = [
    "CELL_POLICIES",
    "NETWORK_SHARE",
    "REPAIR_SHARE",
    "HybridOutcome",
    "Proposal",
    "empty_proposal",
    "guided_orders",
    "neural_choice",
    "proposal_cells",
    "proposal_effort",
    "propose",
    "run_hybrid",
    "solve_guided",
    "with_candidate",
]

Task = SudokuTask | MazeTask
#: How :func:`guided_orders` picks the branching cell: the unassigned cell the network is
#: ``"most"`` / ``"least"`` sure of, or minimum remaining values with ties broken by the
#: network's confidence (``"mrv"``).
CELL_POLICIES = ("most", "least", "mrv")
#: The share of the hybrid's time limit its network may use: the symbolic stages keep the
#: rest, so a network that never halts (K trajectories, 4096 steps) still leaves the repair
#: and the fallback time to answer (SAT solves a hard 9x9 in about a millisecond).
NETWORK_SHARE = 0.5
#: The share of what the network left that the repair may use; the fallback keeps the rest,
#: so a repair that cannot finish still leaves a full search its chance.
REPAIR_SHARE = 0.5


def _override_weights(task: SudokuTask, proposal: Proposal | None) -> list[list[float]] | None:
    """Cost of overriding each given: the network's confidence that the given is right.

    Where the network agrees with a given the cost is its confidence; where it disagrees, one
    minus its confidence in its own digit (a confident disagreement makes the given cheap to
    override).
    """
    if proposal is None:
        return None
    conf = np.asarray(proposal.confidence, dtype=float)
    weights = []
    for r, row in enumerate(task.grid):
        out = []
        for c, given in enumerate(row):
            p = float(conf[r, c])
            out.append(p if not given or proposal.answer[r][c] == given else 1.0 - p)
        weights.append(out)
    return weights


def guided_orders(
    proposal: Proposal, cell_policy: Literal["most", "least", "mrv"] = "most"
) -> tuple[Any, Any]:
    """``(cell_order, value_order)`` hooks steering the backtracking solver by the network.

    The value hook tries the network's digit first, then the others ascending. The cell hook
    branches on the unassigned cell the network is most (``"most"``) or least (``"least"``) sure
    of, or, with ``"mrv"``, on a cell with the fewest candidates, the most confident among those.

    Examples
    --------
    >>> import numpy as np
    >>> p = Proposal(answer=((1, 2), (2, 1)), confidence=np.array([[0.9, 0.2], [0.6, 0.4]]),
    ...              tokens=np.zeros(4), steps=1, halt_prob=1.0, time_s=0.0)
    >>> cell_order, value_order = guided_orders(p)
    >>> value_order((0, 1), (1, 2))
    (2, 1)
    """
    if cell_policy not in CELL_POLICIES:
        raise ConfigError(f"cell_policy must be one of {list(CELL_POLICIES)}, got {cell_policy!r}")
    conf = np.asarray(proposal.confidence, dtype=float)
    answer = proposal.answer
    sign = -1.0 if cell_policy == "least" else 1.0

    def cell_order(state: Any) -> tuple[int, int]:
        cells = state.unassigned()
        if cell_policy == "mrv":
            return min(cells, key=lambda rc: (len(state.candidates(*rc)), -conf[rc]))
        return max(cells, key=lambda rc: sign * conf[rc])

    def value_order(cell: tuple[int, int], values: tuple[int, ...]) -> tuple[int, ...]:
        guess = answer[cell[0]][cell[1]]
        if guess in values:
            return (guess, *(v for v in values if v != guess))
        return values

    return cell_order, value_order


def solve_guided(
    task: SudokuTask,
    proposal: Proposal,
    *,
    cell_policy: Literal["most", "least", "mrv"] = "most",
    time_limit_s: float = 10.0,
) -> Any:
    """The instrumented backtracking solver steered by the network (a ``SolverOutput``).

    Its ``effort`` (decisions, backtracks, propagations) measured against the same solver's
    unguided run on the same puzzle says how much search the network saves.
    """
    from solvers import sudoku_backtrack

    cell_order, value_order = guided_orders(proposal, cell_policy)
    return sudoku_backtrack.solve(
        task, time_limit_s=time_limit_s, cell_order=cell_order, value_order=value_order
    )


class _Checker:
    """``verify`` that keeps the time it took and its last verdict (the one the returned
    answer got: every stage returns the answer it checked last)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.last: Any = None

    def __call__(self, task: Task, answer: Any) -> bool:
        from tasks.verify import verify

        t0 = time.perf_counter()
        self.last = verify(task, answer)
        self.seconds += time.perf_counter() - t0
        return self.last.ok


@dataclass
class HybridOutcome:
    """What :func:`run_hybrid` found, before it becomes a ``SolveResult``."""

    answer: Any
    stage: str
    backend: str
    cells_changed: int
    stage_times: dict[str, float]
    effort: dict[str, float]
    verify_time_s: float
    overridden: tuple[tuple[int, int, int, int], ...] = ()
    unique: bool | None = None
    #: ``verify``'s verdict on ``answer`` (against the task without ``overridden``), so the
    #: result need not check a large maze's path twice.
    verification: Any = None


def run_hybrid(
    task: Task,
    proposal: Proposal,
    *,
    load_s: float = 0.0,
    loaded: Any = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
    givens: Literal["hard", "soft"] = "hard",
    backend: str | None = None,
    deadline: float | None = None,
) -> HybridOutcome:
    """Verify the proposal, repair it, or fall back to a full search; see the module docstring.

    With several trajectories and ``proposal.select`` ``"verify"`` or None (the hybrid's
    default), the first candidate that verifies is kept (stage ``"neural"``); when none does,
    the repair starts from ``proposal`` (the ``"halt"`` choice). With another rule only the
    selected candidate is checked.

    ``givens="soft"`` (Sudoku): the fewest givens are overridden, each weighted by the network's
    confidence in it, with the proposal as hints; the stage is then ``"repair"`` (or ``"neural"``
    when the proposal already agrees with every given and is valid).

    The stages share one deadline: ``deadline`` (a :func:`time.perf_counter` instant, as
    :func:`neurosym.solve` passes it, the network's time already spent) or, without it,
    ``time_limit_s`` from now. The repair gets at most :data:`REPAIR_SHARE` of what is left,
    the fallback the rest. A proposal with no answer (``steps == 0``, :func:`empty_proposal`)
    goes straight to the fallback, unhinted.

    Raises
    ------
    UnsolvableError : the task has no solution (hard givens).
    SolverTimeoutError : the deadline passed before any stage gave a verified answer.
    """
    from solvers import check_time_limit

    if deadline is None:
        deadline = time.perf_counter() + check_time_limit(time_limit_s)
    times = {"neural": proposal.time_s}
    check = _Checker()
    effort = proposal_effort(proposal, load_s)
    has_answer = proposal.steps > 0
    if has_answer and proposal.select in (None, "verify") and len(proposal.candidates) > 1:
        for k, cand in enumerate(proposal.candidates):
            if time.perf_counter() >= deadline:
                effort["verify_timed_out"] = 1.0
                break
            if check(task, cand.answer):
                chosen = with_candidate(proposal, k)
                effort = proposal_effort(chosen, load_s)
                return HybridOutcome(
                    chosen.answer,
                    "neural",
                    "trm",
                    0,
                    times,
                    effort,
                    check.seconds,
                    verification=check.last,
                )
    elif has_answer and check(task, proposal.answer):
        return HybridOutcome(
            proposal.answer,
            "neural",
            "trm",
            0,
            times,
            effort,
            check.seconds,
            verification=check.last,
        )
    if isinstance(task, SudokuTask) and givens == "soft":
        return _soft_repair(task, proposal, effort, times, check, deadline, seed, workers)
    # Repair (its engine imported before the clock starts, as symbolic solve does).
    importlib.import_module("solvers.repair")
    repaired = None
    if has_answer:
        t0 = time.perf_counter()
        left = deadline - t0
        if left > 0:
            try:
                repaired = _repair(task, proposal, loaded, left * REPAIR_SHARE, seed, workers)
            except SolverTimeoutError:
                effort["repair_timed_out"] = 1.0
        else:
            effort["repair_timed_out"] = 1.0
        times["repair"] = time.perf_counter() - t0
    if repaired is not None:
        effort.update({f"repair_{k}": float(v) for k, v in repaired.effort.items()})
        if check(task, repaired.answer):
            backend_name = "trm+cpsat-repair" if isinstance(task, SudokuTask) else "trm+path-repair"
            return HybridOutcome(
                repaired.answer,
                "repair",
                backend_name,
                len(repaired.changed),
                times,
                effort,
                check.seconds,
                verification=check.last,
            )
    # Fallback: full symbolic search, the proposal as hints, in whatever time is left.
    left = deadline - time.perf_counter()
    if left <= 0:
        raise SolverTimeoutError(_no_time_left(proposal, effort, "the fallback search"))
    out = _fallback(task, proposal, backend, left, seed, workers, times)
    effort.update({f"fallback_{k}": float(v) for k, v in out.effort.items()})
    check(task, out.answer)
    changed = _changed_cells(task, proposal, out.answer, loaded) if has_answer else 0
    return HybridOutcome(
        out.answer,
        "fallback",
        f"trm+{out.backend}",
        changed,
        times,
        effort,
        check.seconds,
        verification=check.last,
    )


def _no_time_left(proposal: Proposal, effort: dict[str, float], stage: str) -> str:
    """Why the hybrid gave up: what each stage did before the deadline."""
    if proposal.steps == 0:
        network = "the network ran no supervision step"
    else:
        stopped = ", stopped by the deadline" if proposal.timed_out else ""
        network = f"the network's answer ({proposal.steps} step(s){stopped}) did not verify"
    repair = ", the repair ran out of time" if effort.get("repair_timed_out") else ""
    return f"the time limit ran out before {stage}: {network}{repair}"


def _repair(
    task: Task, proposal: Proposal, loaded: Any, time_limit_s: float, seed: int, workers: int
) -> Any:
    from solvers.repair import repair_maze, repair_sudoku

    if isinstance(task, SudokuTask):
        return repair_sudoku(
            task,
            proposal.answer,
            proposal.confidence,
            time_limit_s=time_limit_s,
            seed=seed,
            workers=workers,
        )
    return repair_maze(task, proposal_cells(task, proposal, loaded), time_limit_s=time_limit_s)


def _fallback(
    task: Task,
    proposal: Proposal,
    backend: str | None,
    time_limit_s: float,
    seed: int,
    workers: int,
    times: dict[str, float],
) -> Any:
    import solvers

    t0 = time.perf_counter()
    try:
        if isinstance(task, SudokuTask):
            return solvers.solve_sudoku(
                task,
                backend=backend or solvers.DEFAULT_SUDOKU_BACKEND,
                time_limit_s=time_limit_s,
                seed=seed,
                workers=workers,
                hints=_hint_grid(task, proposal.answer),
            )
        return solvers.solve_maze(
            task, backend=backend or solvers.DEFAULT_MAZE_BACKEND, time_limit_s=time_limit_s
        )
    finally:
        times["fallback"] = time.perf_counter() - t0


def _hint_grid(task: SudokuTask, answer: Any) -> tuple[tuple[int, ...], ...] | None:
    """The proposal as a hint grid, or None when it is not an N x N grid of digits."""
    n = task.size
    try:
        grid = tuple(tuple(int(v) for v in row) for row in answer)
    except (TypeError, ValueError):
        return None
    if len(grid) != n or any(len(row) != n or not all(0 <= v <= n for v in row) for row in grid):
        return None
    return grid


def _changed_cells(task: Task, proposal: Proposal, answer: Any, loaded: Any) -> int:
    if isinstance(task, SudokuTask):
        return sum(
            1
            for r in range(task.size)
            for c in range(task.size)
            if proposal.answer[r][c] != answer[r][c]
        )
    return len(proposal_cells(task, proposal, loaded) ^ {tuple(c) for c in answer})


def _soft_repair(
    task: SudokuTask,
    proposal: Proposal,
    effort: dict[str, float],
    times: dict[str, float],
    check: _Checker,
    deadline: float,
    seed: int,
    workers: int,
) -> HybridOutcome:
    from solvers.soft import solve_soft_givens

    t0 = time.perf_counter()
    if deadline - t0 <= 0:
        raise SolverTimeoutError(_no_time_left(proposal, effort, "the soft-givens repair"))
    try:
        out = solve_soft_givens(
            task,
            weights=_override_weights(task, proposal) if proposal.steps else None,
            time_limit_s=deadline - t0,
            seed=seed,
            workers=workers,
        )
    finally:
        times["repair"] = time.perf_counter() - t0
    effort.update({f"repair_{k}": float(v) for k, v in out.effort.items()})
    from neurosym.api import relaxed_task

    check(relaxed_task(task, out.overridden), out.answer)
    changed = _changed_cells(task, proposal, out.answer, None) if proposal.steps else 0
    return HybridOutcome(
        out.answer,
        "repair",
        "trm+cpsat-soft",
        changed,
        times,
        effort,
        check.seconds,
        overridden=out.overridden,
        verification=check.last,
    )
