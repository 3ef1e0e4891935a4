"""The OR-Tools CP-SAT Sudoku backend: a readable one-hot model rebuilt for every puzzle.

Building per call (no caching) makes it the plain CP-SAT baseline the SAT backend is compared to;
it is also the backend that takes value hints.
"""

from __future__ import annotations

import math
import time

from ortools.sat.python import cp_model

from solvers._sudoku_common import (
    check_count_args,
    check_givens,
    check_hints,
    check_time_limit,
)
from solvers.result import SolverOutput
from tasks.errors import ConfigError, NeurosymError, SolverTimeoutError, UnsolvableError
from tasks.sudoku import SudokuGrid, SudokuTask

__all__ = [
    "BACKEND_NAME",
    "build_model",
    "solve",
    "count_solutions",
    "build_plain_model_and_solve",
]

BACKEND_NAME = "cpsat"

#: x[r, c, v] is true when cell (r, c) holds value v (v in 1..N).
CellVars = dict[tuple[int, int, int], cp_model.IntVar]


def build_model(
    task: SudokuTask, hints: SudokuGrid | None = None
) -> tuple[cp_model.CpModel, CellVars]:
    """The one-hot CP-SAT model of a Sudoku, givens fixed, optional hints on the blank cells.

    Examples
    --------
    >>> model, x = build_model(SudokuTask.parse("12.." "34.." "...." "...."))
    >>> len(x), x[0, 0, 1].name
    (64, 'x[0,0]=1')
    """
    n = task.size
    values = range(1, n + 1)
    model = cp_model.CpModel()
    x: CellVars = {
        (r, c, v): model.new_bool_var(f"x[{r},{c}]={v}")
        for r in range(n)
        for c in range(n)
        for v in values
    }
    # Each cell holds exactly one value.
    for r in range(n):
        for c in range(n):
            model.add_exactly_one(x[r, c, v] for v in values)
    # Each row holds each value exactly once.
    for r in range(n):
        for v in values:
            model.add_exactly_one(x[r, c, v] for c in range(n))
    # Each column holds each value exactly once.
    for c in range(n):
        for v in values:
            model.add_exactly_one(x[r, c, v] for r in range(n))
    # Each box holds each value exactly once (the units come from the task, boxes included).
    for name, cells in task.units():
        if name.startswith("box"):
            for v in values:
                model.add_exactly_one(x[r, c, v] for r, c in cells)
    # The givens are fixed.
    for r, c, v in task.givens():
        model.add(x[r, c, v] == 1)
    # Hints are proposals for blank cells only: a hint may be wrong, so it guides, never binds.
    if hints is not None:
        for r in range(n):
            for c in range(n):
                hint = hints[r][c]
                if hint and not task.grid[r][c]:
                    for v in values:
                        model.add_hint(x[r, c, v], v == hint)
    return model, x


def _new_solver(time_limit_s: float, seed: int, workers: int) -> cp_model.CpSolver:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ConfigError(f"workers must be an int >= 0 (0 = all cores), got {workers!r}")
    solver = cp_model.CpSolver()
    if not math.isinf(time_limit_s):
        solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = int(seed)
    return solver


def _read_grid(solver: cp_model.CpSolver, x: CellVars, n: int) -> SudokuGrid:
    grid = [[0] * n for _ in range(n)]
    for (r, c, v), var in x.items():
        if solver.boolean_value(var):
            grid[r][c] = v
    return tuple(tuple(row) for row in grid)


def _status_error(status: object, solver: cp_model.CpSolver, n: int, what: str) -> Exception:
    """The neurosym error for a status that carries no answer (never a raw status)."""
    if status == cp_model.INFEASIBLE:
        return UnsolvableError("no solution")
    if status == cp_model.UNKNOWN:
        return SolverTimeoutError(f"CP-SAT hit the time limit on a {n}x{n} Sudoku before {what}")
    if status == cp_model.MODEL_INVALID:
        info = solver.solution_info()
        return NeurosymError(f"CP-SAT rejected the Sudoku model as invalid: {info}")
    return NeurosymError(f"CP-SAT returned an unexpected status {solver.status_name(status)}")


def solve(
    task: SudokuTask,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
    hints: SudokuGrid | None = None,
    presolve: bool = True,
) -> SolverOutput:
    """Solve a Sudoku with CP-SAT, building the model afresh (the plain CP-SAT baseline).

    ``presolve=False`` turns CP-SAT's presolve off, so its branch and conflict counters measure
    search: with presolve on, CP-SAT solves most 9x9 puzzles before branching (0 branches).

    Parameters
    ----------
    task : SudokuTask
    time_limit_s : float
        CP-SAT's ``max_time_in_seconds`` (``math.inf`` for none).
    seed : int
        CP-SAT's ``random_seed``.
    workers : int
        CP-SAT's ``num_workers``; 1 is sequential and reproducible, 0 uses every core.
    hints : N x N grid, optional
        Proposed values (``0`` = none) for blank cells, given to CP-SAT with ``add_hint``.

    Returns
    -------
    SolverOutput
        ``effort`` holds ``num_branches``, ``num_conflicts``, ``wall_time`` (CP-SAT's own) and
        ``seconds`` (model building included).

    Raises
    ------
    UnsolvableError
        When givens conflict (named) or CP-SAT proves there is no solution.
    SolverTimeoutError
        When the time limit passes first.

    Examples
    --------
    >>> out = solve(SudokuTask.parse("..3." ".4.2" "21.." "..2."))
    >>> out.answer[0], out.backend
    ((1, 2, 3, 4), 'cpsat')
    """
    start = time.perf_counter()
    check_givens(task)
    limit = check_time_limit(time_limit_s)
    hint_grid = check_hints(task, hints)
    solver = _new_solver(limit, seed, workers)
    solver.parameters.cp_model_presolve = bool(presolve)
    try:
        model, x = build_model(task, hint_grid)
        status = solver.solve(model)
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        grid = _read_grid(solver, x, task.size) if found else None
        effort = {
            "num_branches": float(solver.num_branches),
            "num_conflicts": float(solver.num_conflicts),
            "wall_time": float(solver.wall_time),
        }
    except NeurosymError:
        raise
    except Exception as exc:
        raise NeurosymError(f"CP-SAT failed on the Sudoku: {exc}") from exc
    if grid is None:
        raise _status_error(status, solver, task.size, "finding a solution")
    effort["seconds"] = time.perf_counter() - start
    return SolverOutput(answer=grid, backend=BACKEND_NAME, effort=effort)


def build_plain_model_and_solve(task: SudokuTask, time_limit_s: float = 10.0) -> SolverOutput:
    """The plain CP-SAT baseline: model rebuilt for this puzzle, one worker, seed 0.

    Examples
    --------
    >>> build_plain_model_and_solve(SudokuTask.parse("12.." "34.." "...." "....")).backend
    'cpsat'
    """
    return solve(task, time_limit_s=time_limit_s, seed=0, workers=1)


class _SolutionCounter(cp_model.CpSolverSolutionCallback):
    """Counts solutions as CP-SAT enumerates them and stops the search at ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.count = 0

    def on_solution_callback(self) -> None:
        self.count += 1
        if self.count >= self.limit:
            self.stop_search()


def count_solutions(
    task: SudokuTask, limit: int = 2, *, time_limit_s: float = 10.0, seed: int = 0
) -> int:
    """Count the puzzle's solutions by enumeration, stopping at ``limit``.

    Enumeration needs ``enumerate_all_solutions`` and a single worker.

    Returns
    -------
    int
        The number of solutions, capped at ``limit``; 0 when there is none (conflicting givens
        included).

    Raises
    ------
    InvalidTaskError
        When ``limit < 1``.
    SolverTimeoutError
        When the time limit passes before the count is settled.

    Examples
    --------
    >>> count_solutions(SudokuTask.parse("1..." "...." "2..." "3..4"), limit=10)
    3
    """
    time_limit = check_count_args(task, limit, time_limit_s)
    if time_limit is None:
        return 0
    solver = _new_solver(time_limit, seed, workers=1)
    solver.parameters.enumerate_all_solutions = True
    counter = _SolutionCounter(limit)
    try:
        model, _ = build_model(task)
        status = solver.solve(model, counter)
    except NeurosymError:
        raise
    except Exception as exc:
        raise NeurosymError(f"CP-SAT failed counting Sudoku solutions: {exc}") from exc
    if counter.count >= limit:
        return limit
    if status == cp_model.OPTIMAL:  # the enumeration ran to the end
        return counter.count
    if status == cp_model.FEASIBLE:  # stopped early with fewer than limit: the clock ran out
        status = cp_model.UNKNOWN
    error = _status_error(status, solver, task.size, "settling the solution count")
    if isinstance(error, UnsolvableError):
        return 0
    raise error
