"""Task types, parsing, verification, loaders and generators; no solver and no network here.

This package imports neither ``torch`` nor ``ortools``: it is the light ground under both.
"""

from tasks.arc import ArcTask, load_arc
from tasks.errors import (
    CheckpointError,
    ConfigError,
    InvalidTaskError,
    NeurosymError,
    SolverTimeoutError,
    UnsolvableError,
    UnsupportedTaskError,
)
from tasks.maze import Cell, MazeTask
from tasks.sudoku import SudokuTask, infer_box
from tasks.verify import Verification, Violation, verify

__all__ = [
    "ArcTask",
    "Cell",
    "CheckpointError",
    "ConfigError",
    "InvalidTaskError",
    "MazeTask",
    "NeurosymError",
    "SolverTimeoutError",
    "SudokuTask",
    "UnsolvableError",
    "UnsupportedTaskError",
    "Verification",
    "Violation",
    "infer_box",
    "load_arc",
    "verify",
]
