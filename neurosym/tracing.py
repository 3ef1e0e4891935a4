"""``neurosym trace``: how the TRM's answer evolves over its supervision steps.

Runs every supervision step (no early halting) and records, per step, the decoded answer, how many
cells changed since the previous step, the halt probability, and whether the answer verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify

__all__ = ["Trace", "TraceRow", "trace_task"]


@dataclass(frozen=True)
class TraceRow:
    """One supervision step: the answer then, cells changed since the step before (the first
    step counts the cells it fills / marks), the halt probability, and the verifier's verdict."""

    step: int
    answer: Any
    changed: int
    halt_prob: float
    correct: bool


@dataclass(frozen=True)
class Trace:
    """The whole trace, the first step whose answer verifies (None if none does), and the step
    at which the halt head would stop (None if it never crosses 0.5)."""

    task: SudokuTask | MazeTask
    rows: list[TraceRow]
    correct_step: int | None
    halt_step: int | None
    png: str | None = None


def _cells(task: SudokuTask | MazeTask, step: Any, loaded: Any) -> dict[Any, Any]:
    if isinstance(task, SudokuTask):
        return {(r, c): v for r, row in enumerate(step.answer) for c, v in enumerate(row)}
    from neurosym.hybrid import proposal_cells

    return dict.fromkeys(proposal_cells(task, step, loaded), True)


def trace_task(
    task: SudokuTask | MazeTask | str,
    model: Any = None,
    *,
    png: str | Path | None = None,
    box: tuple[int, int] | None = None,
) -> Trace:
    """Trace the network on ``task`` (a task, puzzle text or file path).

    Examples
    --------
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=20, rng=3)
    >>> tr = trace_task(task)
    >>> [r.step for r in tr.rows], tr.correct_step is not None
    ([1, 2, 3, 4], True)
    """
    from neurosym.api import load_task
    from neurosym.hybrid import propose

    task = load_task(task, box=box)
    [proposal], _, loaded = propose([task], model, halt=False, trace=True)
    rows: list[TraceRow] = []
    before: dict[Any, Any] = {}
    for k, step in enumerate(proposal.trace or (), start=1):
        now = _cells(task, step, loaded)
        if isinstance(task, SudokuTask):
            changed = sum(1 for cell, v in now.items() if before.get(cell, 0) != v)
        else:
            changed = len(set(now) ^ set(before))
        rows.append(
            TraceRow(k, step.answer, changed, float(step.halt_prob), verify(task, step.answer).ok)
        )
        before = now
    correct_step = next((r.step for r in rows if r.correct), None)
    halt_step = next((r.step for r in rows if r.halt_prob > 0.5), None)
    png_path = None
    if png is not None:
        from neurosym.plots import plot_trace

        png_path = str(
            plot_trace(
                [r.changed for r in rows],
                [r.halt_prob for r in rows],
                correct_step,
                Path(png),
                title=f"TRM trace: {_describe(task)}",
            )
        )
    return Trace(task, rows, correct_step, halt_step, png_path)


def _describe(task: SudokuTask | MazeTask) -> str:
    if isinstance(task, SudokuTask):
        return f"{task.size}x{task.size} Sudoku, {task.n_givens} givens"
    return f"{task.height}x{task.width} maze"
