"""Argument checks shared by the Sudoku backends, so all of them reject bad input alike."""

from __future__ import annotations

import math

from tasks.errors import ConfigError, InvalidTaskError, UnsolvableError
from tasks.sudoku import SudokuGrid, SudokuTask

__all__ = [
    "check_givens",
    "check_hints",
    "check_limit",
    "check_time_limit",
    "conflict_message",
]


def conflict_message(task: SudokuTask) -> str | None:
    """A message naming the first pair of conflicting givens, or None when the givens agree.

    Examples
    --------
    >>> conflict_message(SudokuTask.parse("1..1" "...." "...." "...."))
    'givens conflict: row 0 holds 1 at (0, 0) and (0, 3)'
    """
    conflicts = task.given_conflicts()
    if not conflicts:
        return None
    unit, cell_a, cell_b, value = conflicts[0]
    message = f"givens conflict: {unit} holds {value} at {cell_a} and {cell_b}"
    if len(conflicts) > 1:
        message += f" (and {len(conflicts) - 1} more conflicting pair(s))"
    return message


def check_givens(task: SudokuTask) -> None:
    """Raise :class:`UnsolvableError` naming the first conflict when two givens break a rule.

    Done before any search: a direct conflict needs no solver to refute, and the message tells the
    user which cells to look at instead of a bare "no solution".
    """
    if not isinstance(task, SudokuTask):
        raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
    if not _has_conflict(task):  # fast path: the full listing costs more than a SAT solve
        return
    message = conflict_message(task)
    if message is not None:
        raise UnsolvableError(message)


def _has_conflict(task: SudokuTask) -> bool:
    br, bc = task.box_rows, task.box_cols
    seen: set[tuple[int, int, int]] = set()
    for r, row in enumerate(task.grid):
        box_base = (r // br) * br
        for c, v in enumerate(row):
            if v:
                keys = ((0, r, v), (1, c, v), (2, box_base + c // bc, v))
                if keys[0] in seen or keys[1] in seen or keys[2] in seen:
                    return True
                seen.update(keys)
    return False


def check_limit(limit: int) -> int:
    """Validate the solution-count cap of ``count_solutions`` (an int >= 1)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidTaskError(f"limit must be an int >= 1, got {limit!r}")
    return limit


def check_time_limit(time_limit_s: float) -> float:
    """Validate a time limit in seconds: a number > 0 (``math.inf`` means no limit)."""
    try:
        value = float(time_limit_s)
    except (TypeError, ValueError):
        raise ConfigError(
            f"time_limit_s must be a number of seconds, got {time_limit_s!r}"
        ) from None
    if math.isnan(value) or value <= 0:
        raise ConfigError(f"time_limit_s must be > 0, got {time_limit_s!r}")
    return value


def check_hints(task: SudokuTask, hints: object) -> SudokuGrid | None:
    """Validate an optional N x N hint grid (``0`` = no hint) and return it as tuples."""
    if hints is None:
        return None
    n = task.size
    try:
        grid = tuple(tuple(int(v) for v in row) for row in hints)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidTaskError("hints must be an N x N grid of ints (0 = no hint)") from None
    if len(grid) != n or any(len(row) != n for row in grid):
        raise InvalidTaskError(f"hints must be a {n}x{n} grid")
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if not 0 <= v <= n:
                raise InvalidTaskError(f"hint at ({r}, {c}) is {v}, expected 0 (none) or 1..{n}")
    return grid


def check_count_args(task: SudokuTask, limit: int, time_limit_s: float) -> float | None:
    """Validate ``count_solutions`` arguments; the time limit, or None when the givens conflict
    (then the count is 0 without any search)."""
    check_limit(limit)
    time_limit = check_time_limit(time_limit_s)
    try:
        check_givens(task)
    except UnsolvableError:
        return None
    return time_limit
