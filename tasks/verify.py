"""The ground-truth oracle: ``verify(task, answer)`` checks an answer against the rules alone.

It shares no code with any solver. Sudoku: shape, values, givens kept, every row/column/box a
permutation. Maze: a 4-connected path over free cells from the start to a goal whose length equals
the shortest possible, found here by the oracle's own breadth-first search.
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from tasks.arc import MAX_ATTEMPTS, ArcTask
from tasks.errors import UnsupportedTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = ["Verification", "Violation", "arc_attempts", "verify", "maze_shortest_length"]


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


def verify(task: SudokuTask | MazeTask | ArcTask, answer: Any) -> Verification:
    """Check ``answer`` against ``task``'s rules, listing every violation.

    A malformed answer (wrong shape or type) is a violation, not an exception: the oracle always
    returns a verdict.

    Parameters
    ----------
    task : SudokuTask, MazeTask or ArcTask
    answer
        Sudoku: an N x N grid (nested sequence of ints). Maze: a sequence of ``(row, col)``
        cells from the start to a goal. ARC: per test input, a sequence of attempt grids (the
        first two count; one grid per test input, or a bare grid for a one-test task, is one
        attempt). ARC's verdict is ``ok`` only when every test output is known and matched,
        dimensions included, by one of the first two attempts; a test input without a known
        output gives an ``unverified`` violation, never ``ok``.

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
    if isinstance(task, ArcTask):
        return Verification.of(_arc_violations(task, answer))
    raise UnsupportedTaskError(
        f"verify() knows SudokuTask, MazeTask and ArcTask, got {type(task).__name__}"
    )


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

    Breadth-first search written here, independent of solvers: plain Python over a flat array
    for small grids; from :data:`LARGE_MAZE_CELLS` cells a CSR adjacency built with numpy and
    scipy's compiled BFS (3x faster on a 1000x1000 open grid, where the check would otherwise
    cost more than the search).

    >>> maze_shortest_length(MazeTask.parse("S..\\n##.\\nG.."))
    6
    """
    if task.height * task.width >= LARGE_MAZE_CELLS:
        return _shortest_length_csr(task)
    return _shortest_length_plain(task)


def _shortest_length_plain(task: MazeTask) -> int | None:
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


#: Grids of at least this many cells take the compiled BFS in :func:`maze_shortest_length`.
LARGE_MAZE_CELLS = 40_000


def _shortest_length_csr(task: MazeTask) -> int | None:
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    h, w = task.height, task.width
    n = h * w
    free = _free_mask(task).reshape(h, w)
    # Moves from each cell in a fixed order (up, left, right, down) give sorted CSR rows.
    edge = np.zeros((h, w, 4), dtype=bool)
    edge[1:, :, 0] = free[1:] & free[:-1]
    edge[:, 1:, 1] = free[:, 1:] & free[:, :-1]
    edge[:, :-1, 2] = free[:, :-1] & free[:, 1:]
    edge[:-1, :, 3] = free[:-1] & free[1:]
    edge = edge.reshape(n, 4)
    step = np.array([-w, -1, 1, w], dtype=np.int64)
    indices = (np.arange(n, dtype=np.int64)[:, None] + step)[edge].astype(np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(edge.sum(axis=1), out=indptr[1:])
    graph = csr_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr), shape=(n, n))
    start = task.start[0] * w + task.start[1]
    _, pred = breadth_first_order(graph, start, directed=True, return_predecessors=True)
    best: int | None = None
    back: list[int] | None = None
    for r, c in task.goals:
        v = r * w + c
        if v == start:
            return 0
        if pred[v] < 0:
            continue
        if back is None:
            back = pred.tolist()  # Python ints: the walk below is ~100k steps on 1000x1000
        moves = 0
        while v != start:  # a BFS tree: its path back is a shortest one
            v = back[v]
            moves += 1
        best = moves if best is None else min(best, moves)
    return best


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
    if len(path) >= _VECTOR_PATH_CELLS:
        bad_cells, bad_moves = _bad_steps_numpy(task, path)
    else:
        bad_cells, bad_moves = _bad_steps_plain(task, path)
    for i in bad_cells:
        r, c = path[i]
        if not (0 <= r < task.height and 0 <= c < task.width):
            out.append(
                Violation(
                    rule="bounds", cells=((r, c),), message=f"cell ({r}, {c}) is outside the grid"
                )
            )
        else:
            out.append(
                Violation(rule="wall", cells=((r, c),), message=f"cell ({r}, {c}) is a wall")
            )
    for i in bad_moves:
        a, b = path[i], path[i + 1]
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


#: Paths of at least this many cells are checked cell by cell with numpy (a 1000x1000 maze's
#: path has ~100k cells: 0.1 s in Python, a few ms this way); shorter ones in plain Python.
_VECTOR_PATH_CELLS = 2_000


def _free_mask(task: MazeTask) -> Any:
    """Row-major boolean numpy array: True on free cells."""
    import numpy as np

    return np.frombuffer("".join(task.rows).encode("ascii"), dtype=np.uint8) == ord(".")


def _bad_steps_plain(task: MazeTask, path: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Indices of path cells off the grid or on a wall, and of moves that are not one step."""
    h, w, rows = task.height, task.width, task.rows
    bad_cells = [
        i for i, (r, c) in enumerate(path) if not (0 <= r < h and 0 <= c < w) or rows[r][c] != "."
    ]
    bad_moves = [
        i
        for i, (a, b) in enumerate(zip(path, path[1:], strict=False))
        if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1
    ]
    return bad_cells, bad_moves


def _bad_steps_numpy(task: MazeTask, path: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """:func:`_bad_steps_plain` with numpy (same indices)."""
    import numpy as np

    h, w = task.height, task.width
    try:
        cells = np.array(path, dtype=np.int64)
    except OverflowError:
        return _bad_steps_plain(task, path)
    if (cells >= 2**40).any() or (cells <= -(2**40)).any():  # keep the differences exact
        return _bad_steps_plain(task, path)
    rows, cols = cells[:, 0], cells[:, 1]
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    free = _free_mask(task)
    ok = inside.copy()
    ok[inside] = free[rows[inside] * w + cols[inside]]
    moves = np.abs(np.diff(rows)) + np.abs(np.diff(cols))
    return np.flatnonzero(~ok).tolist(), np.flatnonzero(moves != 1).tolist()


def _cell(p: Sequence[int]) -> tuple[int, int]:
    r, c = p
    if type(r) is int and type(c) is int:  # the common case, without the slow ABC check
        return (r, c)
    # int() would read 4.5 as 4 and "4" as 4: a path of such "cells" is not an answer
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (r, c)):
        raise TypeError("cells are integer pairs")
    return (int(r), int(c))


# ---------------------------------------------------------------------------- ARC
def _is_seq(value: Any) -> bool:
    return not isinstance(value, str | bytes) and isinstance(value, Sequence)


def _is_grid(value: Any) -> bool:
    """Whether ``value`` reads as a grid: a non-empty sequence whose first row is a non-empty
    sequence of non-sequences (colours)."""
    if not (_is_seq(value) and value and _is_seq(value[0]) and value[0]):
        return False
    return not any(map(_is_seq, value[0]))


def arc_attempts(task: ArcTask, answer: Any) -> list[list[Any]] | None:
    """``answer`` as one list of attempt grids per test input, or None when it has no such shape.

    Accepted: attempts per test input, one grid per test input (one attempt each), or a bare
    grid when the task has one test input.

    Examples
    --------
    >>> t = ArcTask.from_dict({"train": [{"input": [[1]], "output": [[2]]}],
    ...                        "test": [{"input": [[1]], "output": [[2]]}]})
    >>> arc_attempts(t, [[2]]), arc_attempts(t, [[[[3]], [[2]]]])
    ([[[[2]]]], [[[[3]], [[2]]]])
    """
    if not _is_seq(answer):
        return None
    if _is_grid(answer) and task.n_test == 1:
        return [[answer]]
    out = []
    for entry in answer:
        if _is_grid(entry):
            out.append([entry])
        elif _is_seq(entry):
            out.append(list(entry))
        else:
            return None
    return out


def _arc_violations(task: ArcTask, answer: Any) -> list[Violation]:
    per_test = arc_attempts(task, answer)
    if per_test is None:
        return [
            Violation(
                rule="shape",
                message="answer must hold, per test input, a list of attempt grids",
            )
        ]
    if len(per_test) != task.n_test:
        return [
            Violation(
                rule="shape",
                message=f"answer covers {len(per_test)} test inputs, the task has {task.n_test}",
            )
        ]
    out: list[Violation] = []
    for i, (attempts, test) in enumerate(zip(per_test, task.test, strict=True)):
        if not attempts:
            out.append(Violation(rule="missing", message=f"test input {i} has no attempt"))
            continue
        if len(attempts) > MAX_ATTEMPTS:
            out.append(
                Violation(
                    rule="attempts",
                    message=f"test input {i} has {len(attempts)} attempts; only the first "
                    f"{MAX_ATTEMPTS} count",
                )
            )
        if test.output is None:
            out.append(
                Violation(
                    rule="unverified",
                    message=f"test input {i} has no known output, so its answer is unverified",
                )
            )
            continue
        want = test.output
        misses = []
        for k, attempt in enumerate(attempts[:MAX_ATTEMPTS]):
            try:
                got = tuple(tuple(int(v) for v in row) for row in attempt)
            except (TypeError, ValueError):
                misses.append(f"attempt {k} is not a grid")
                continue
            if got == want:
                break
            if len(got) != len(want) or any(len(row) != len(want[0]) for row in got):
                width = len(got[0]) if got else 0
                misses.append(
                    f"attempt {k} is {len(got)}x{width}, expected {len(want)}x{len(want[0])}"
                )
            else:
                wrong = sum(
                    a != b
                    for ra, rb in zip(got, want, strict=True)
                    for a, b in zip(ra, rb, strict=True)
                )
                misses.append(f"attempt {k} has {wrong} wrong cells")
        else:
            out.append(Violation(rule="output", message=f"test input {i}: " + "; ".join(misses)))
    return out
