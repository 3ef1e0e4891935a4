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
    """A task, puzzle text or argument is malformed (wrong size, bad character, bad value)."""


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


def describe_validation_error(exc: Exception) -> str:
    """A one-line summary of a pydantic ``ValidationError``: ``field: problem; ...``."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    parts = []
    for err in errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "value"
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)
