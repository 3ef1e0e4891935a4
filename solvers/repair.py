"""Repair a proposed answer: the valid answer closest to what a network (or a person) proposed.

* :func:`repair_sudoku`: the valid grid, givens kept, that changes the fewest proposed cells
  (CP-SAT, one-hot model of :func:`solvers.sudoku_cpsat.build_model`, lexicographic objective:
  first the number of changed cells, then their confidence).
* :func:`repair_maze`: among the shortest start-to-goal paths, the one sharing the most cells
  with the proposed ones (exact dynamic programming over the shortest-path DAG).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from solvers._sudoku_common import check_time_limit, conflict_message
from solvers.maze import GridGraph, _check_clock, _check_task, _unreachable
from solvers.maze import _check_time_limit as _check_maze_time_limit
from solvers.sudoku_cpsat import _new_solver, _read_grid, _status_error, build_model
from tasks.errors import InvalidTaskError, NeurosymError, UnsolvableError
from tasks.maze import Cell, MazeTask, as_cell
from tasks.sudoku import SudokuGrid, SudokuTask
from tasks.verify import verify

__all__ = [
    "CONFIDENCE_SCALE",
    "RepairOutput",
    "agreement_weights",
    "closest_grid",
    "repair_maze",
    "repair_sudoku",
]

#: Confidences (and soft-given weights) enter the integer objective as ``round(K * value)``.
CONFIDENCE_SCALE = 100


@dataclass(frozen=True, slots=True)
class RepairOutput:
    """A repaired answer and how far it is from the proposal.

    ``answer`` is a Sudoku grid (tuple of row tuples) or a maze path (list of ``(row, col)``).
    ``changed`` lists cells row-major: for a Sudoku, the cells where the proposal holds a digit
    (``0`` = no opinion) and the answer another one (a proposal that contradicts a given counts:
    givens always win); for a maze, the symmetric difference between the proposed cells and the
    answer's path cells. ``optimal`` is True when the solver proved ``changed`` minimal (and the
    tie-break optimal). ``effort`` holds the solver's counters, all numbers.
    """

    answer: Any
    changed: tuple[Cell, ...]
    optimal: bool
    effort: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------- Sudoku
def _check_sudoku_task(task: object) -> SudokuTask:
    if not isinstance(task, SudokuTask):
        raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
    return task


def _as_array(name: str, value: object, n: int) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.empty(0)
    if array.shape != (n, n):
        shape = "x".join(map(str, array.shape)) or "a scalar"
        raise InvalidTaskError(f"{name} must be an {n}x{n} grid, got shape {shape}")
    return array


def _check_proposal(task: SudokuTask, proposal: object) -> SudokuGrid:
    """The proposal as a grid of ints in ``0..N`` (``0`` = no opinion)."""
    n = task.size
    array = _as_array("proposal", proposal, n)
    if array.dtype.kind == "b" or array.dtype.kind not in "iuf":
        raise InvalidTaskError(
            f"proposal must hold ints 0..{n} (0 = no opinion), got dtype {array.dtype}"
        )
    bad = ~np.isfinite(array) | (array != np.round(array)) | (array < 0) | (array > n)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        value = array[r, c].item()
        raise InvalidTaskError(
            f"proposal cell ({r}, {c}) holds {value!r}, expected 0 (no opinion) or 1..{n}"
        )
    return tuple(tuple(int(v) for v in row) for row in array.tolist())


def _check_unit_floats(name: str, value: object, n: int) -> np.ndarray:
    array = _as_array(name, value, n)
    if array.dtype.kind not in "iuf" or array.dtype.kind == "b":
        raise InvalidTaskError(f"{name} must hold numbers in [0, 1], got dtype {array.dtype}")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array) | (array < 0) | (array > 1)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise InvalidTaskError(f"{name} at ({r}, {c}) is {array[r, c].item()!r}, expected 0..1")
    return array


def agreement_weights(values: np.ndarray | None, n_cells: int) -> tuple[np.ndarray, int]:
    """Integer objective weights for a lexicographic "count first, then value" objective.

    Each cell counted earns ``big + round(K * value)`` with ``K = CONFIDENCE_SCALE`` and
    ``big = K * n_cells + 1``, so one more cell always outweighs any sum of value terms.
    Without ``values`` every weight is 1 (a plain count). Returns ``(weights, big)``.

    Examples
    --------
    >>> w, big = agreement_weights(np.array([[0.0, 0.5], [1.0, 0.25]]), 4)
    >>> big, w.tolist()
    (401, [[401, 451], [501, 426]])
    """
    if values is None:
        return np.ones((1, 1), dtype=np.int64), 1
    big = CONFIDENCE_SCALE * n_cells + 1
    return big + np.rint(CONFIDENCE_SCALE * values).astype(np.int64), big


def _sudoku_effort(solver: cp_model.CpSolver, start: float) -> dict[str, float]:
    return {
        "branches": float(solver.num_branches),
        "conflicts": float(solver.num_conflicts),
        "solver_wall_s": float(solver.wall_time),
        "wall_s": time.perf_counter() - start,
    }


def _no_solution(task: SudokuTask) -> UnsolvableError:
    message = conflict_message(task)
    detail = f": {message}" if message else " (no two givens conflict directly)"
    return UnsolvableError(f"the givens admit no solution{detail}")


def closest_grid(
    task: SudokuTask,
    targets: list[tuple[int, int, int]],
    confidence: np.ndarray | None,
    limit: float,
    seed: int,
    workers: int,
    start: float,
    what: str,
    *,
    hints: SudokuGrid | None = None,
) -> tuple[SudokuGrid | None, Any, cp_model.CpSolver, dict[str, float]]:
    """CP-SAT: a valid grid of ``task`` agreeing with as many ``(row, col, value)`` targets as
    possible, ties broken by ``confidence`` at the target cells (lexicographic, see
    :func:`agreement_weights`). Returns ``(grid or None, status, solver, effort)``; any failure
    inside OR-Tools becomes a ``NeurosymError`` naming ``what`` was being done."""
    solver = _new_solver(limit, seed, workers)
    try:
        model, x = build_model(task, hints=hints)
        weights, _ = agreement_weights(confidence, task.size * task.size)
        kept = [
            (x[r, c, v], int(weights[r, c]) if confidence is not None else 1) for r, c, v in targets
        ]
        if hints is None:
            for var, _ in kept:
                model.add_hint(var, True)
        model.maximize(cp_model.LinearExpr.weighted_sum([v for v, _ in kept], [w for _, w in kept]))
        status = solver.solve(model)
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        answer = _read_grid(solver, x, task.size) if found else None
        return answer, status, solver, _sudoku_effort(solver, start)
    except NeurosymError:
        raise
    except Exception as exc:
        raise NeurosymError(f"CP-SAT failed {what}: {exc}") from exc


def repair_sudoku(
    task: SudokuTask,
    proposal: object,
    confidence: object = None,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
) -> RepairOutput:
    """The valid grid, givens kept, closest to ``proposal``: the fewest proposed digits changed.

    CP-SAT on the one-hot model of :func:`solvers.sudoku_cpsat.build_model`, maximising one
    integer objective that is lexicographic: every blank cell where the answer keeps the
    proposed digit earns ``BIG + round(100 * confidence)`` with ``BIG > 100 * N * N``, so the
    number of kept digits comes first and, among the answers keeping the most, the confident
    cells are kept. The proposal is also given to CP-SAT as solution hints.

    Parameters
    ----------
    task : SudokuTask
    proposal : N x N grid of ints
        Proposed digits ``1..N``; ``0`` means no opinion (free for the solver). Proposed digits
        on given cells are ignored by the objective (the givens stay).
    confidence : N x N grid of floats in [0, 1], optional
        The proposer's confidence per cell, used only to break ties between equally close grids.
    time_limit_s : float
        CP-SAT's time limit (``math.inf`` for none).
    seed : int
        CP-SAT's ``random_seed``.
    workers : int
        CP-SAT's ``num_workers``; 1 is sequential and reproducible, 0 uses every core.

    Returns
    -------
    RepairOutput
        ``answer`` the grid; ``changed`` the cells whose proposed digit (non-zero) differs from
        the answer, row-major; ``optimal`` False only when the time limit stopped CP-SAT after
        it found a grid but before it proved it closest. ``effort``: ``branches``,
        ``conflicts``, ``solver_wall_s`` (CP-SAT's own) and ``wall_s`` (model building
        included); all 0 when the proposal was already a solution.

    Raises
    ------
    InvalidTaskError
        ``task`` is not a SudokuTask, or ``proposal``/``confidence`` have the wrong shape or
        values out of range.
    UnsolvableError
        The givens admit no solution (the message names a conflicting pair when there is one).
    SolverTimeoutError
        The time limit passed before any valid grid was found.

    Examples
    --------
    >>> task = SudokuTask.parse("12.." "34.." "...." "....")
    >>> proposal = ((1, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 1, 1))  # last row broken
    >>> out = repair_sudoku(task, proposal)
    >>> out.answer[3], out.changed, out.optimal
    ((4, 3, 2, 1), ((3, 2),), True)
    """
    start = time.perf_counter()
    task = _check_sudoku_task(task)
    n = task.size
    grid = _check_proposal(task, proposal)
    conf = None if confidence is None else _check_unit_floats("confidence", confidence, n)
    limit = check_time_limit(time_limit_s)
    if conflict_message(task) is not None:
        raise _no_solution(task)
    if all(all(row) for row in grid) and verify(task, grid).ok:
        effort = {"branches": 0.0, "conflicts": 0.0, "solver_wall_s": 0.0}
        return RepairOutput(grid, (), True, {**effort, "wall_s": time.perf_counter() - start})

    targets = [(r, c, v) for r, row in enumerate(grid) for c, v in enumerate(row) if v]
    targets = [(r, c, v) for r, c, v in targets if not task.grid[r][c]]
    answer, status, solver, effort = closest_grid(
        task, targets, conf, limit, seed, workers, start, "repairing the Sudoku", hints=grid
    )
    if answer is None:
        if status == cp_model.INFEASIBLE:
            raise _no_solution(task)
        raise _status_error(status, solver, n, "finding any valid grid to repair towards")
    changed = tuple(
        (r, c) for r in range(n) for c in range(n) if grid[r][c] and grid[r][c] != answer[r][c]
    )
    return RepairOutput(answer, changed, status == cp_model.OPTIMAL, effort)


# ---------------------------------------------------------------------------- mazes
def _proposed_cells(cells: object) -> set[Cell]:
    if isinstance(cells, str | bytes) or not isinstance(cells, Iterable):
        raise InvalidTaskError(
            f"proposed_cells must be an iterable of (row, col) cells, got {type(cells).__name__}"
        )
    return {as_cell(cell, "a proposed cell") for cell in cells}


def repair_maze(
    task: MazeTask, proposed_cells: Iterable[Cell], *, time_limit_s: float | None = None
) -> RepairOutput:
    """The shortest start-to-goal path sharing the most cells with ``proposed_cells``.

    All shortest paths have the same length, so this also minimises the symmetric difference
    between the proposed cells and the path. Exact: breadth-first distances from the start and
    to the nearest goal (:meth:`GridGraph.distances`) give the shortest-path DAG (cells with
    ``d_start + d_goal == L``), and a dynamic programme over it, in order of ``d_start``,
    maximises the number of proposed cells on the path. With several goals only the nearest
    ones are path ends. Proposed cells on walls or off the grid are never matched (they stay in
    ``changed``); duplicates count once.

    Parameters
    ----------
    task : MazeTask
    proposed_cells : iterable of (row, col)
        The cells a proposer marked as the path, in any order.
    time_limit_s : float, optional
        Seconds allowed, checked after the distance searches and after the dynamic programme.

    Returns
    -------
    RepairOutput
        ``answer`` a list of ``(row, col)`` from the start to a nearest goal; ``changed`` the
        symmetric difference, row-major; ``optimal`` always True; ``effort``: ``nodes`` (cells
        in the shortest-path DAG), ``path_length`` and ``wall_s``.

    Raises
    ------
    UnsupportedTaskError
        ``task`` is not a MazeTask.
    InvalidTaskError
        A proposed cell is not a ``(row, col)`` int pair.
    UnsolvableError
        No goal is reachable from the start.
    SolverTimeoutError
        The time limit passed.

    Examples
    --------
    >>> task = MazeTask.parse('''
    ... S..
    ... ...
    ... ..G''')
    >>> out = repair_maze(task, [(0, 0), (1, 0), (1, 1), (1, 2), (2, 2), (0, 2)])
    >>> out.answer, out.changed
    ([(0, 0), (1, 0), (1, 1), (1, 2), (2, 2)], ((0, 2),))
    """
    t0 = time.perf_counter()
    _check_task(task)
    proposed = _proposed_cells(proposed_cells)
    limit = _check_maze_time_limit(time_limit_s)
    graph = GridGraph(task, reuse_trees=False)
    from_start = graph.distances(task.start)
    to_goal = graph.distances(list(task.goals))
    goal_dist = [from_start[g] for g in task.goals]
    length = min(goal_dist)
    if math.isinf(length):
        raise _unreachable(task.start, len(task.goals))
    _check_clock(t0, limit, "the distance searches")
    path, nodes = _most_overlapping_path(task, from_start, to_goal, int(length), proposed)
    _check_clock(t0, limit, "the path dynamic programme")
    changed = tuple(sorted(proposed.symmetric_difference(path)))
    effort = {"nodes": float(nodes), "path_length": float(length)}
    return RepairOutput(path, changed, True, {**effort, "wall_s": time.perf_counter() - t0})


def _most_overlapping_path(
    task: MazeTask,
    from_start: np.ndarray,
    to_goal: np.ndarray,
    length: int,
    proposed: set[Cell],
) -> tuple[list[Cell], int]:
    """Dynamic programme over the shortest-path DAG; returns the path and the DAG's size."""
    h, w = from_start.shape
    stride = w + 2
    # Pad with an inf border so every neighbour index is in range and never on the DAG.
    depth_grid = np.full((h + 2, stride), np.inf)
    depth_grid[1:-1, 1:-1] = from_start
    goal_grid = np.full((h + 2, stride), np.inf)
    goal_grid[1:-1, 1:-1] = to_goal
    depth_flat = depth_grid.ravel()
    on_dag = np.flatnonzero(depth_flat + goal_grid.ravel() == length)
    on_dag = on_dag[np.argsort(depth_flat[on_dag], kind="stable")]
    depth = depth_flat.tolist()
    hit = {(r + 1) * stride + c + 1 for r, c in proposed if 0 <= r < h and 0 <= c < w}
    steps = (-stride, -1, 1, stride)
    order = on_dag.tolist()
    s = order[0]  # the start: the only DAG cell at depth 0
    best: dict[int, int] = {s: int(s in hit)}
    back: dict[int, int] = {}
    for v in order[1:]:
        want = depth[v] - 1
        top, arg = -1, -1
        for step in steps:
            u = v + step
            # Every neighbour one step nearer the start is on the DAG too (see below).
            if depth[u] == want and best[u] > top:
                top, arg = best[u], u
        best[v] = top + (v in hit)
        back[v] = arg
    # A neighbour u of a DAG cell v with d_start(u) = d_start(v) - 1 has
    # d_start(u) + d_goal(u) <= d_start(v) - 1 + d_goal(v) + 1 = L, hence = L: u is on the DAG.
    ends = [(g[0] + 1) * stride + g[1] + 1 for g in task.goals]
    ends = [e for e in ends if depth[e] == length]
    v = max(ends, key=lambda e: (best[e], -e))
    walk = [v]
    while v != s:
        v = back[v]
        walk.append(v)
    walk.reverse()
    return [((i // stride) - 1, (i % stride) - 1) for i in walk], len(order)
