"""The reliability benchmark's own answer checker: a Sudoku rule check and a maze BFS, written
apart from ``tasks.verify`` (they share no code), so a ``verify`` bug cannot hide itself."""

from __future__ import annotations

import numbers
from collections import deque
from typing import Any

from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = ["check_maze_path", "check_sudoku_answer", "independent_check", "maze_shortest_path"]


# ---------------------------------------------------------------------------- independent checks
def _is_int(value: Any) -> bool:
    """An integer (numpy's too), not a bool and not a float that happens to be whole."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_sudoku_answer(task: SudokuTask, answer: Any) -> bool:
    """True when ``answer`` is a full valid grid keeping every given (written apart from verify)."""
    n = len(task.grid)
    br, bc = task.box_rows, task.box_cols
    if br * bc != n:
        return False
    try:
        rows = [tuple(row) for row in answer]
    except TypeError:
        return False
    if len(rows) != n or any(len(row) != n for row in rows):
        return False
    digits = set(range(1, n + 1))
    for r in range(n):
        for c in range(n):
            v = rows[r][c]
            if not _is_int(v) or v not in digits:
                return False
            g = task.grid[r][c]
            if g != 0 and g != v:
                return False
    for i in range(n):
        if set(rows[i]) != digits or {rows[r][i] for r in range(n)} != digits:
            return False
    for top in range(0, n, br):
        for left in range(0, n, bc):
            box = {rows[top + dr][left + dc] for dr in range(br) for dc in range(bc)}
            if box != digits:
                return False
    return True


_LAST_BFS: list[Any] = [None, None]  # (task, distances) of the last maze checked


def _bfs_distances(task: MazeTask) -> dict[tuple[int, int], int]:
    if _LAST_BFS[0] is task:
        return _LAST_BFS[1]
    h = len(task.rows)
    dist = {task.start: 0}
    todo = deque([task.start])
    while todo:
        r, c = todo.popleft()
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            # bounds per row: a task that slipped past validation may be ragged
            if 0 <= nr < h and 0 <= nc < len(task.rows[nr]) and task.rows[nr][nc] == ".":
                if (nr, nc) in dist:
                    continue
                dist[(nr, nc)] = dist[(r, c)] + 1
                todo.append((nr, nc))
    _LAST_BFS[:] = [task, dist]
    return dist


def maze_shortest_path(task: MazeTask) -> list[tuple[int, int]] | None:
    """One shortest start-to-goal path by this module's own BFS, or None when no goal is reached."""
    dist = _bfs_distances(task)
    ends = [g for g in task.goals if g in dist]
    if not ends:
        return None
    cell = min(ends, key=lambda g: dist[g])
    path = [cell]
    while cell != task.start:
        r, c = cell
        for prev in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if dist.get(prev) == dist[cell] - 1:
                cell = prev
                break
        path.append(cell)
    return path[::-1]


def check_maze_path(task: MazeTask, answer: Any) -> bool:
    """True when ``answer`` is a shortest 4-connected free path from the start to a goal."""
    try:
        path = [tuple(p) for p in answer]
    except TypeError:
        return False
    if not path or any(len(p) != 2 or not all(_is_int(x) for x in p) for p in path):
        return False
    h = len(task.rows)
    if path[0] != task.start or path[-1] not in set(task.goals):
        return False
    for (r, c), (nr, nc) in zip(path, path[1:], strict=False):
        if abs(r - nr) + abs(c - nc) != 1:
            return False
    if any(
        not (0 <= r < h and 0 <= c < len(task.rows[r])) or task.rows[r][c] != "." for r, c in path
    ):
        return False
    dist = _bfs_distances(task)
    best = min((dist[g] for g in task.goals if g in dist), default=None)
    return best is not None and len(path) - 1 == best


def independent_check(task: SudokuTask | MazeTask, answer: Any) -> bool:
    """This module's own verdict on ``answer`` (never :func:`tasks.verify.verify`)."""
    if isinstance(task, SudokuTask):
        return check_sudoku_answer(task, answer)
    if isinstance(task, MazeTask):
        return check_maze_path(task, answer)
    raise TypeError(f"no independent check for {type(task).__name__}")
