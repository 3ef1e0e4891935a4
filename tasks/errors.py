"""The neurosym exception hierarchy, shared by every package and re-exported by ``neurosym``.

Each error subclasses :class:`NeurosymError` and, where one fits, a builtin, so callers can
catch either (``except ValueError`` still catches a malformed puzzle).
"""

from __future__ import annotations

__all__ = [
    "NeurosymError",
    "InvalidTaskError",
    "UnsupportedTaskError",
    "UnsolvableError",
    "SolverTimeoutError",
    "CheckpointError",
    "ConfigError",
]


class NeurosymError(Exception):
    """Base class of every error neurosym raises on purpose."""


class InvalidTaskError(NeurosymError, ValueError):
    """A task, puzzle text or answer is malformed (wrong size, bad character, conflicting givens...)."""


class UnsupportedTaskError(NeurosymError, TypeError):
    """The task kind, size or method combination is not supported (yet)."""


class UnsolvableError(NeurosymError):
    """The task is well-formed but has no solution (an infeasible Sudoku, an unreachable goal)."""


class SolverTimeoutError(NeurosymError, TimeoutError):
    """A solver hit its time limit before finding an answer or proving there is none."""


class CheckpointError(NeurosymError):
    """A model checkpoint is missing, truncated, mismatched or not a neurosym checkpoint."""


class ConfigError(NeurosymError, ValueError):
    """A configuration value is invalid (names the field, the value and what is expected)."""
