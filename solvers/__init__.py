"""Symbolic solvers: Sudoku (SAT, CP-SAT, python-constraint, backtracking) and maze search.

Backends load lazily, so ``import solvers`` stays light and a missing optional engine only
fails when that backend is asked for. Every failure is an error from ``tasks.errors``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from tasks.errors import UnsupportedTaskError

if TYPE_CHECKING:
    from solvers.repair import RepairOutput, repair_maze, repair_sudoku
    from solvers.result import SolverOutput
    from solvers.soft import SoftOutput, solve_soft_givens
    from tasks.maze import MazeTask
    from tasks.sudoku import SudokuTask

__all__ = [
    "DEFAULT_MAZE_BACKEND",
    "DEFAULT_SUDOKU_BACKEND",
    "MAZE_BACKENDS",
    "SUDOKU_BACKENDS",
    "RepairOutput",
    "SoftOutput",
    "check_time_limit",
    "count_maze_shortest_paths",
    "count_sudoku_solutions",
    "repair_maze",
    "repair_sudoku",
    "solve_soft_givens",
    "solve_maze",
    "solve_sudoku",
    "sudoku_backend",
]

#: Sudoku backends by name -> module. ``sat`` (CaDiCaL through python-sat, a persistent solver per
#: box shape with the givens as assumptions) is the fast default.
SUDOKU_BACKENDS = {
    "sat": "solvers.sudoku_sat",
    "cpsat": "solvers.sudoku_cpsat",
    "constraint": "solvers.sudoku_constraint",
    "backtrack": "solvers.sudoku_backtrack",
}
DEFAULT_SUDOKU_BACKEND = "sat"
MAZE_BACKENDS = ("bfs", "networkx")
DEFAULT_MAZE_BACKEND = "bfs"


def sudoku_backend(name: str) -> ModuleType:
    """The module implementing Sudoku backend ``name`` (``solve`` and ``count_solutions``)."""
    if name not in SUDOKU_BACKENDS:
        raise UnsupportedTaskError(
            f"unknown Sudoku backend {name!r}; choose one of {sorted(SUDOKU_BACKENDS)}"
        )
    return importlib.import_module(SUDOKU_BACKENDS[name])


def solve_sudoku(
    task: SudokuTask,
    *,
    backend: str = DEFAULT_SUDOKU_BACKEND,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
    hints: tuple[tuple[int, ...], ...] | None = None,
) -> SolverOutput:
    """Solve ``task`` with the named backend; see each backend module for its effort counters."""
    check_time_limit(time_limit_s)
    module = sudoku_backend(backend)
    return module.solve(task, time_limit_s=time_limit_s, seed=seed, workers=workers, hints=hints)


def count_sudoku_solutions(
    task: SudokuTask,
    limit: int = 2,
    *,
    backend: str = DEFAULT_SUDOKU_BACKEND,
    time_limit_s: float = 10.0,
    seed: int = 0,
) -> int:
    """Number of solutions of ``task``, counted up to ``limit`` (0 when there is none)."""
    check_time_limit(time_limit_s)
    return sudoku_backend(backend).count_solutions(
        task, limit, time_limit_s=time_limit_s, seed=seed
    )


def solve_maze(
    task: MazeTask, *, backend: str = DEFAULT_MAZE_BACKEND, time_limit_s: float | None = None
) -> SolverOutput:
    """A shortest path for ``task`` with the named backend (``bfs`` fast path or ``networkx``)."""
    if backend not in MAZE_BACKENDS:
        raise UnsupportedTaskError(
            f"unknown maze backend {backend!r}; choose one of {list(MAZE_BACKENDS)}"
        )
    from solvers import maze

    return maze.solve(task, backend=backend, time_limit_s=time_limit_s)


def count_maze_shortest_paths(task: MazeTask, limit: int | None = None) -> int:
    """Number of distinct shortest paths (capped at ``limit``); 0 when no goal is reachable."""
    from solvers import maze

    return maze.count_shortest_paths(task, limit=limit)


def check_time_limit(time_limit_s: float) -> float:
    """``time_limit_s`` as a float when it is a number of seconds > 0 (``math.inf``: no limit);
    else :class:`ConfigError` naming the value. The rule every solver applies.

    Examples
    --------
    >>> check_time_limit(2)
    2.0
    """
    from solvers._sudoku_common import check_time_limit as check

    return check(time_limit_s)


#: Names loaded on first use (they pull in OR-Tools), so ``import solvers`` stays light.
_LAZY = {
    "RepairOutput": "solvers.repair",
    "repair_maze": "solvers.repair",
    "repair_sudoku": "solvers.repair",
    "SoftOutput": "solvers.soft",
    "solve_soft_givens": "solvers.soft",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'solvers' has no attribute {name!r}")
