"""neurosym: solve grid puzzles with TRM, exact symbolic solvers, or both, and compare them.

>>> from neurosym import solve
>>> solve("12.." "34.." "...." "....").verified
True
"""

from neurosym.api import METHODS, SolveResult, count_solutions, load_task, solve
from tasks import (
    CheckpointError,
    ConfigError,
    InvalidTaskError,
    MazeTask,
    NeurosymError,
    SolverTimeoutError,
    SudokuTask,
    UnsolvableError,
    UnsupportedTaskError,
    Verification,
    Violation,
    verify,
)

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Hypothesis loads only when a user asks for the strategies.
    if name == "strategies":
        import importlib

        return importlib.import_module("neurosym.strategies")
    raise AttributeError(f"module 'neurosym' has no attribute {name!r}")


__all__ = [
    "METHODS",
    "CheckpointError",
    "ConfigError",
    "InvalidTaskError",
    "MazeTask",
    "NeurosymError",
    "SolveResult",
    "SolverTimeoutError",
    "SudokuTask",
    "UnsolvableError",
    "UnsupportedTaskError",
    "Verification",
    "Violation",
    "count_solutions",
    "load_task",
    "solve",
    "strategies",
    "verify",
]
