"""The built-in demo (``neurosym demo``): seeded examples solved three ways, then a comparison.

Everything is generated with the project's seeded generators (no data files) and every answer
goes through ``verify``; the network's answers may be wrong and are shown with their verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import solvers
from neurosym.api import SolveResult, solve
from tasks.generators import generate_maze_hard, generate_puzzle
from tasks.sudoku import SudokuTask

__all__ = ["demo_comparison", "demo_tasks", "is_unique", "run_demo"]

#: Puzzles in the demo's comparison (9x9, 22-35 givens): about 15 s on one CPU core.
DEMO_COMPARE_N = 60


def is_unique(task: SudokuTask) -> bool:
    """True when ``task`` has exactly one solution (the SAT backend's counter)."""
    return solvers.count_sudoku_solutions(task, 2) == 1


def demo_tasks(seed: int = 0) -> list[tuple[str, object, tuple[str, ...]]]:
    """The demo's tasks and the methods each is solved with: ``(title, task, methods)``."""
    from neurosym.neural import default_models

    models = default_models()
    sudoku9, _ = generate_puzzle(3, 3, minimal=True, is_unique=is_unique, rng=seed)
    sudoku16, _ = generate_puzzle(4, 4, n_givens=110, is_unique=is_unique, rng=seed)
    maze = generate_maze_hard(size=30, min_path_length=110, rng=seed)
    nine = ("symbolic", "neural", "hybrid") if "sudoku9" in models else ("symbolic",)
    out: list[tuple[str, object, tuple[str, ...]]] = [
        (f"minimal 9x9 Sudoku ({sudoku9.n_givens} givens, seed {seed})", sudoku9, nine),
        (f"16x16 Sudoku ({sudoku16.n_givens} givens, seed {seed})", sudoku16, ("symbolic",)),
        (f"Maze-Hard-style 30x30 maze (seed {seed})", maze, ("symbolic",)),
    ]
    small_maze = _small_maze(seed)
    if small_maze is not None:
        title, task = small_maze
        out.append((title, task, ("symbolic", "neural", "hybrid")))
    return out


def _small_maze(seed: int) -> tuple[str, Any] | None:
    """A maze of the size the shipped maze model covers, if one ships."""
    from neurosym.neural import _load, default_models
    from tasks.generators import generate_mazes

    for name, path in default_models().items():
        if name.startswith("maze"):
            codec = _load(str(path)).codec
            [task] = generate_mazes(1, size=(codec.height, codec.width), seed=seed)
            task = task[0] if isinstance(task, tuple) else task
            return f"{codec.height}x{codec.width} maze (seed {seed})", task
    return None


def run_demo(seed: int = 0) -> Iterator[tuple[str, SolveResult]]:
    """Solve each demo task with its methods; yields ``(title, result)``."""
    for title, task, methods in demo_tasks(seed):
        for method in methods:
            yield f"{title}: {method}", solve(task, method=method)


def demo_comparison(seed: int = 0, n: int = DEMO_COMPARE_N, out_dir: Any = None) -> Any:
    """The three methods on ``n`` generated 9x9 puzzles (22-35 givens): a ``CompareReport``."""
    from neurosym.study.comparison import compare

    return compare(kind="sudoku", size="9x9", n=n, seed=seed, out_dir=out_dir)
