"""neurosym: solve grid puzzles with TRM, exact symbolic solvers, or both, and compare them.

>>> from neurosym import solve
>>> solve("12.." "34.." "...." "....").verified
True

``neurosym.compare``, ``neurosym.robustness`` and ``neurosym.trace`` run the comparison, the
noise report and a recursion trace; they live in the research subpackage :mod:`neurosym.study`
(see :mod:`neurosym.study.comparison`, :mod:`neurosym.study.robust`,
:mod:`neurosym.study.tracing`).
"""

from neurosym.api import METHODS, SolveResult, count_solutions, load_task, solve
from neurosym.many import ManyResult, solve_many
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


#: Loaded on first use, so ``import neurosym`` stays light (no torch, OR-Tools, Hypothesis).
_LAZY = {
    "compare": ("neurosym.study.comparison", "compare"),
    "robustness": ("neurosym.study.robust", "robustness"),
    "trace": ("neurosym.study.tracing", "trace_task"),
}


def __getattr__(name: str) -> object:
    import importlib

    # Hypothesis loads only when a user asks for the strategies.
    if name == "strategies":
        return importlib.import_module("neurosym.strategies")
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'neurosym' has no attribute {name!r}")


__all__ = [
    "METHODS",
    "CheckpointError",
    "ConfigError",
    "InvalidTaskError",
    "ManyResult",
    "MazeTask",
    "NeurosymError",
    "SolveResult",
    "SolverTimeoutError",
    "SudokuTask",
    "UnsolvableError",
    "UnsupportedTaskError",
    "Verification",
    "Violation",
    "compare",
    "count_solutions",
    "load_task",
    "solve",
    "solve_many",
    "robustness",
    "strategies",
    "trace",
    "verify",
]
