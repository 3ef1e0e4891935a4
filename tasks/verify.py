"""The ground-truth oracle: ``verify(task, answer)`` checks an answer against the rules alone.

It shares no code with any solver. Sudoku: shape, values, givens kept, every row/column/box a
permutation. Maze: a 4-connected path over free cells from the start to a goal whose length equals
the shortest possible, found here by the oracle's own breadth-first search.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from tasks.errors import UnsupportedTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = ["Verification", "Violation", "verify", "maze_shortest_length"]


class Violation(BaseModel):
    """One broken rule: which rule, the cells involved, and a readable message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    cells: tuple[tuple[int, int], ...] = ()
    message: str


class Verification(BaseModel):
    """The oracle's verdict. ``ok`` is True exactly when ``violations`` is empty.

    Truthiness follows ``ok``, so ``if verify(task, answer): ...`` reads naturally.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    violations: tuple[Violation, ...] = ()

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def of(cls, violations: list[Violation]) -> Verification:
        return cls(ok=not violations, violations=tuple(violations))


def verify(task: SudokuTask | MazeTask, answer: Any) -> Verification:
    """Check ``answer`` against ``task``'s rules, listing every violation.

    A malformed answer (wrong shape or type) is a violation, not an exception: the oracle always
    returns a verdict.

    Parameters
    ----------
    task : SudokuTask or MazeTask
    answer
        Sudoku: an N x N grid (nested sequence of ints). Maze: a sequence of ``(row, col)``
        cells from the start to a goal.

    Raises
    ------
    UnsupportedTaskError
        If ``task`` is not a task type neurosym knows.

    Examples
    --------
    >>> t = SudokuTask.parse("12.." "34.." "...." "....")
    >>> verify(t, [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]]).ok
    True
    >>> bad = [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 1, 2]]
    >>> [v.rule for v in verify(t, bad).violations]
    ['column', 'column']
    """
    if isinstance(task, SudokuTask):
        return Verification.of(_sudoku_violations(task, answer))
    if isinstance(task, MazeTask):
        return Verification.of(_maze_violations(task, answer))
    raise UnsupportedTaskError(f"verify() knows SudokuTask and MazeTask, got {type(task).__name__}")


# ---------------------------------------------------------------------------- Sudoku
def _sudoku_violations(task: SudokuTask, answer: Any) -> list[Violation]:
    n = task.size
    try:
        grid = [list(row) for row in answer]
    except TypeError:
        return [Violation(rule="shape", message=f"answer is not a grid: {type(answer).__name__}")]
    if len(grid) != n or any(len(row) != n for row in grid):
        return [Violation(rule="shape", message=f"answer must be {n}x{n}")]
    out: list[Violation] = []
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= n:
                out.append(
                    Violation(
                        rule="value",
                        cells=((r, c),),
                        message=f"cell ({r}, {c}) holds {v!r}, expected 1..{n}",
                    )
                )
            elif task.grid[r][c] and task.grid[r][c] != v:
                out.append(
                    Violation(
                        rule="given",
                        cells=((r, c),),
                        message=f"cell ({r}, {c}) is given as {task.grid[r][c]}, answer has {v}",
                    )
                )
    if out:
        return out
    for name, cells in task.units():
        first_at: dict[int, tuple[int, int]] = {}
        for r, c in cells:
            v = grid[r][c]
            if v in first_at:
                out.append(
                    Violation(
                        rule=name.split()[0],
                        cells=(first_at[v], (r, c)),
                        message=f"{name} holds {v} twice",
                    )
                )
            else:
                first_at[v] = (r, c)
    return out


# ---------------------------------------------------------------------------- Maze
def maze_shortest_length(task: MazeTask) -> int | None:
    """Number of moves on a shortest start-to-goal path, or None when no goal is reachable.

    Plain breadth-first search over a flat array; the oracle's own, independent of solvers.
    """
    h, w = task.height, task.width
    free = bytearray(1 if ch == "." else 0 for row in task.rows for ch in row)
    goal_ids = {r * w + c for r, c in task.goals}
    start = task.start[0] * w + task.start[1]
    if start in goal_ids:
        return 0
    dist = [-1] * (h * w)
    dist[start] = 0
    queue = deque([start])
    while queue:
        u = queue.popleft()
        du = dist[u] + 1
        col = u % w
        for v, ok in (
            (u - w, u >= w),
            (u + w, u + w < h * w),
            (u - 1, col > 0),
            (u + 1, col < w - 1),
        ):
            if ok and free[v] and dist[v] < 0:
                if v in goal_ids:
                    return du
                dist[v] = du
                queue.append(v)
    return None


def _maze_violations(task: MazeTask, answer: Any) -> list[Violation]:
    try:
        path = [_cell(p) for p in answer]
    except (TypeError, ValueError):
        return [Violation(rule="shape", message="answer must be a sequence of (row, col) cells")]
    out: list[Violation] = []
    if not path:
        return [Violation(rule="empty", message="the path is empty")]
    if path[0] != task.start:
        out.append(
            Violation(
                rule="start",
                cells=(path[0],),
                message=f"path starts at {path[0]}, not at the start {task.start}",
            )
        )
    if path[-1] not in task.goals:
        out.append(
            Violation(
                rule="goal",
                cells=(path[-1],),
                message=f"path ends at {path[-1]}, not at a goal cell",
            )
        )
    for r, c in path:
        if not (0 <= r < task.height and 0 <= c < task.width):
            out.append(
                Violation(
                    rule="bounds", cells=((r, c),), message=f"cell ({r}, {c}) is outside the grid"
                )
            )
        elif task.rows[r][c] != ".":
            out.append(
                Violation(rule="wall", cells=((r, c),), message=f"cell ({r}, {c}) is a wall")
            )
    for a, b in zip(path, path[1:], strict=False):
        if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
            out.append(
                Violation(
                    rule="adjacency",
                    cells=(a, b),
                    message=f"{a} -> {b} is not one 4-connected move",
                )
            )
    if out:
        return out
    shortest = maze_shortest_length(task)
    if shortest is None:  # pragma: no cover - a valid path proves reachability
        out.append(Violation(rule="unreachable", message="no goal is reachable from the start"))
    elif len(path) - 1 != shortest:
        out.append(
            Violation(
                rule="optimal",
                message=f"path has {len(path) - 1} moves, the shortest has {shortest}",
            )
        )
    return out


def _cell(p: Sequence[int]) -> tuple[int, int]:
    r, c = p
    if isinstance(r, bool) or isinstance(c, bool):
        raise TypeError("cells are integer pairs")
    return (int(r), int(c))
