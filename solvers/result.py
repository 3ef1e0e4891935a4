"""What every symbolic solver returns: the answer, which backend found it, and its search effort."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SolverOutput"]


@dataclass(frozen=True, slots=True)
class SolverOutput:
    """A solver's answer before the oracle checks it.

    ``answer`` is a Sudoku grid (tuple of row tuples) or a maze path (list of ``(row, col)``).
    ``effort`` holds the backend's own counters (decisions, backtracks, conflicts, nodes
    expanded...), all numbers. ``unique`` is True/False when the backend established it, else None.
    """

    answer: Any
    backend: str
    effort: dict[str, float] = field(default_factory=dict)
    unique: bool | None = None
