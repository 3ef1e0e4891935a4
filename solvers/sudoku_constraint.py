"""The python-constraint Sudoku backend: an independent second opinion (slow, pure CSP search).

One variable per cell, one all-different constraint per row, column and box; givens are
single-value domains. The time limit is enforced from inside the search (see ``_Clock``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

from constraint import AllDifferentConstraint, BacktrackingSolver, Problem

from solvers._sudoku_common import (
    check_count_args,
    check_givens,
    check_hints,
    check_time_limit,
)
from solvers.result import SolverOutput
from tasks.errors import InvalidTaskError, NeurosymError, SolverTimeoutError, UnsolvableError
from tasks.sudoku import SudokuGrid, SudokuTask

__all__ = ["BACKEND_NAME", "solve", "count_solutions"]

BACKEND_NAME = "constraint"

# Constraint checks between two looks at the clock: a check costs about a microsecond, so the
# limit is overshot by well under a millisecond while the clock itself costs next to nothing.
_CHECKS_PER_CLOCK_READ = 256


class _DeadlinePassed(Exception):
    """Raised inside python-constraint's search to unwind it when the time limit passes."""


class _Clock:
    """Counts constraint checks and reads the clock every ``_CHECKS_PER_CLOCK_READ`` of them."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.checks = 0

    def tick(self) -> None:
        self.checks += 1
        if self.checks % _CHECKS_PER_CLOCK_READ == 0 and time.perf_counter() > self.deadline:
            raise _DeadlinePassed


class _TimedAllDifferent(AllDifferentConstraint):
    """All-different that also checks the clock.

    python-constraint has no time limit and its solvers are compiled generators that may run a
    long time before yielding the first solution. Every search step calls the constraints of the
    variable just assigned, so raising from here stops the search promptly, in this thread, with
    nothing left running.
    """

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock

    def __call__(self, variables: Any, domains: Any, assignments: Any, *args: Any) -> bool:
        self._clock.tick()
        return super().__call__(variables, domains, assignments, *args)


#: python-constraint search strategies: ``backtracking`` (this backend's choice) and
#: ``optimized``, the library's default solver, kept as the plain baseline of the benchmark.
SEARCHES = ("backtracking", "optimized")


def _problem(task: SudokuTask, clock: _Clock, search: str = "backtracking") -> Problem:
    # BacktrackingSolver re-picks the variable with the fewest values left at every step (MRV);
    # the default OptimizedBacktrackingSolver fixes the order up front, which was about 10x
    # slower on Norvig's hardest: forward checking keeps changing which cell is most constrained.
    if search not in SEARCHES:
        raise InvalidTaskError(f"search must be one of {SEARCHES}, got {search!r}")
    problem = Problem(BacktrackingSolver(forwardcheck=True) if search == "backtracking" else None)
    n = task.size
    for r in range(n):
        for c in range(n):
            given = task.grid[r][c]
            problem.addVariable((r, c), [given] if given else list(range(1, n + 1)))
    for _, cells in task.units():
        problem.addConstraint(_TimedAllDifferent(clock), list(cells))
    return problem


def _solutions(
    task: SudokuTask, clock: _Clock, search: str = "backtracking"
) -> Iterator[dict[tuple[int, int], int]]:
    """python-constraint's solutions, one at a time, as ``{(row, col): value}``."""
    problem = _problem(task, clock, search)
    try:
        yield from problem.getSolutionIter()
    except _DeadlinePassed:
        raise SolverTimeoutError(
            f"python-constraint hit the time limit on a {task.size}x{task.size} Sudoku"
        ) from None
    except NeurosymError:
        raise
    except Exception as exc:
        raise NeurosymError(f"python-constraint failed on the Sudoku: {exc}") from exc


def _deadline(time_limit_s: float) -> float:
    return math.inf if math.isinf(time_limit_s) else time.perf_counter() + time_limit_s


def solve(
    task: SudokuTask,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
    hints: SudokuGrid | None = None,
    search: str = "backtracking",
) -> SolverOutput:
    """Solve a Sudoku with python-constraint's backtracking search (forward checking, MRV).

    Parameters
    ----------
    task : SudokuTask
    time_limit_s : float
        Seconds of search allowed; checked from inside the search.
    seed, workers, hints
        Accepted for a uniform backend interface and ignored (the search is sequential and
        deterministic; ``hints`` is validated).
    search : str
        ``"backtracking"`` (default, forward checking + MRV) or ``"optimized"``, the library's own
        default solver (a fixed variable order, about 10x slower on hard 9x9; the benchmark's
        plain baseline).

    Returns
    -------
    SolverOutput
        ``effort`` holds ``constraint_checks`` and ``seconds``.

    Raises
    ------
    UnsolvableError
        When givens conflict (named) or the search proves there is no solution.
    SolverTimeoutError
        When the time limit passes first.

    Examples
    --------
    >>> out = solve(SudokuTask.parse("..3." ".4.2" "21.." "..2."))
    >>> out.answer[0], out.backend
    ((1, 2, 3, 4), 'constraint')
    """
    start = time.perf_counter()
    check_givens(task)
    clock = _Clock(_deadline(check_time_limit(time_limit_s)))
    check_hints(task, hints)
    solution = next(_solutions(task, clock, search), None)
    if solution is None:
        raise UnsolvableError("no solution")
    n = task.size
    grid = tuple(tuple(solution[r, c] for c in range(n)) for r in range(n))
    effort = {"constraint_checks": float(clock.checks), "seconds": time.perf_counter() - start}
    return SolverOutput(answer=grid, backend=BACKEND_NAME, effort=effort)


def count_solutions(
    task: SudokuTask, limit: int = 2, *, time_limit_s: float = 10.0, seed: int = 0
) -> int:
    """Count the puzzle's solutions by enumeration, stopping at ``limit`` (``seed`` is ignored).

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
    clock = _Clock(_deadline(time_limit))
    count = 0
    for _ in _solutions(task, clock):
        count += 1
        if count >= limit:
            break
    return count
