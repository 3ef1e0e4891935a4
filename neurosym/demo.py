"""The built-in demo: seeded examples of each task kind, solved and verified (``neurosym demo``)."""

from __future__ import annotations

from collections.abc import Iterator

import solvers
from neurosym.api import SolveResult, solve
from tasks.generators import generate_maze_hard, generate_puzzle
from tasks.sudoku import SudokuTask

__all__ = ["demo_tasks", "run_demo", "is_unique"]


def is_unique(task: SudokuTask) -> bool:
    """True when ``task`` has exactly one solution (the SAT backend's counter)."""
    return solvers.count_sudoku_solutions(task, 2) == 1


def demo_tasks(seed: int = 0) -> list[tuple[str, object]]:
    """The demo's tasks, generated with the project's seeded generators (no data files)."""
    sudoku9, _ = generate_puzzle(3, 3, minimal=True, is_unique=is_unique, rng=seed)
    sudoku16, _ = generate_puzzle(4, 4, n_givens=110, is_unique=is_unique, rng=seed)
    maze = generate_maze_hard(size=30, min_path_length=110, rng=seed)
    return [
        (f"minimal 9x9 Sudoku ({sudoku9.n_givens} givens, seed {seed})", sudoku9),
        (f"16x16 Sudoku ({sudoku16.n_givens} givens, seed {seed})", sudoku16),
        (f"Maze-Hard-style 30x30 maze (seed {seed})", maze),
    ]


def run_demo(seed: int = 0) -> Iterator[tuple[str, SolveResult]]:
    """Solve each demo task symbolically, then a 6x6 Sudoku with the shipped TRM model;
    yields ``(title, result)``. The TRM's answer is verified like any other: it may be wrong."""
    for title, task in demo_tasks(seed):
        yield title, solve(task, method="symbolic")
    from neurosym.neural import default_models

    if "sudoku6" in default_models():
        task6, _ = generate_puzzle(2, 3, n_givens=18, is_unique=is_unique, rng=seed)
        yield (
            f"6x6 Sudoku ({task6.n_givens} givens, seed {seed}) with the shipped TRM model",
            solve(task6, method="neural"),
        )
