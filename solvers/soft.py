"""Soft givens: solve a Sudoku whose givens may be misread, overriding as few of them as needed.

A perception front end that misreads a digit turns a puzzle into one with no solution (often a
contradictory one). :func:`solve_soft_givens` treats every given as a preference instead of a
constraint and finds the full valid grid that overrides the fewest givens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from solvers._sudoku_common import check_time_limit
from solvers.repair import _as_array, closest_grid
from solvers.sudoku_cpsat import _status_error
from tasks.errors import InvalidTaskError
from tasks.sudoku import SudokuTask

__all__ = ["SoftOutput", "solve_soft_givens"]


@dataclass(frozen=True, slots=True)
class SoftOutput:
    """A full valid grid and the givens it overrides.

    ``overridden`` lists ``(row, col, given value, value in the answer)`` row-major; every other
    given is kept. ``optimal`` is True when CP-SAT proved the choice of overridden givens
    minimal (count first, then weight). ``effort`` holds CP-SAT's counters, all numbers.
    """

    answer: Any
    overridden: tuple[tuple[int, int, int, int], ...]
    optimal: bool
    effort: dict[str, float] = field(default_factory=dict)


def _check_weights(value: object, n: int) -> np.ndarray:
    """Non-negative finite weights, scaled so the largest is 1 (all-zero weights stay 0)."""
    array = _as_array("weights", value, n)
    if array.dtype.kind not in "iuf" or array.dtype.kind == "b":
        raise InvalidTaskError(f"weights must hold non-negative numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise InvalidTaskError(
            f"weights at ({r}, {c}) is {array[r, c].item()!r}, expected a finite number >= 0"
        )
    top = float(array.max())
    return array / top if top > 0 else array


def solve_soft_givens(
    task: SudokuTask,
    *,
    weights: object = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
) -> SoftOutput:
    """A full valid grid that overrides the fewest givens of ``task`` (conflicting ones allowed).

    CP-SAT on the one-hot model of :func:`solvers.sudoku_cpsat.build_model` for the empty grid
    of the same box, maximising one lexicographic integer objective: each given kept earns
    ``BIG + round(100 * weight)`` with ``BIG > 100 * N * N``. So the number of overridden givens
    is minimal first and, among such grids, the total weight of the overridden givens is the
    least. The givens are passed as solution hints. An empty grid always has a solution, so
    there is always an answer (unless the time limit stops CP-SAT before it finds one).

    Parameters
    ----------
    task : SudokuTask
        Its givens may conflict with each other.
    weights : N x N grid of non-negative floats, optional
        The cost of overriding each given (say the network's confidence in the digit it read);
        entries on blank cells are ignored. Scaled so the largest is 1 and compared at a
        resolution of 1/100 of it. ``None``: all givens cost the same.
    time_limit_s : float
        CP-SAT's time limit (``math.inf`` for none).
    seed : int
        CP-SAT's ``random_seed``.
    workers : int
        CP-SAT's ``num_workers``; 1 is sequential and reproducible, 0 uses every core.

    Returns
    -------
    SoftOutput
        ``optimal`` is False when the time limit stopped CP-SAT after it found a grid but before
        it proved the overrides minimal. ``effort``: ``branches``, ``conflicts``,
        ``solver_wall_s`` (CP-SAT's own) and ``wall_s`` (model building included).

    Raises
    ------
    InvalidTaskError
        ``task`` is not a SudokuTask, or ``weights`` has the wrong shape or a negative or
        non-finite entry.
    SolverTimeoutError
        The time limit passed before CP-SAT found any grid.

    Examples
    --------
    >>> task = SudokuTask.parse("11.." "...." "...." "....")  # two 1s in row 0
    >>> out = solve_soft_givens(task, weights=[[0.9, 0.2, 0, 0]] + [[0] * 4] * 3)
    >>> out.answer[0][0], [cell[:3] for cell in out.overridden], out.optimal
    (1, [(0, 1, 1)], True)
    """
    start = time.perf_counter()
    if not isinstance(task, SudokuTask):
        raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
    n = task.size
    scaled = None if weights is None else _check_weights(weights, n)
    limit = check_time_limit(time_limit_s)
    givens = task.givens()
    empty = SudokuTask(box_rows=task.box_rows, box_cols=task.box_cols, grid=((0,) * n,) * n)
    answer, status, solver, effort = closest_grid(
        empty, givens, scaled, limit, seed, workers, start, "on the soft-givens Sudoku"
    )
    if answer is None:
        # INFEASIBLE cannot happen (every box shape has a valid grid); report it plainly if so.
        raise _status_error(status, solver, n, "finding any grid for the soft givens")
    overridden = tuple((r, c, v, answer[r][c]) for r, c, v in givens if answer[r][c] != v)
    return SoftOutput(answer, overridden, status == cp_model.OPTIMAL, effort)
