"""Seeded noise injectors: the mistakes a perception front end makes when it reads a puzzle.

Each injector takes a clean task and returns a :class:`Noisy` result: the noisy task and the
cells it changed (row-major). The same ``rng`` seed always gives the same output. Pure Python
and numpy; no solver is involved, so nothing here checks whether the noisy task is solvable.

* :func:`corrupt_givens`: givens read as a wrong digit (may contradict their peers).
* :func:`contradict_givens`: the same, with at least one given repeating a peer given.
* :func:`remove_givens`: givens missed (read as blanks).
* :func:`add_wrong_givens`: blanks read as a digit that contradicts the solution.
* :func:`flip_walls`: maze cells read as wall instead of free, or free instead of wall.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tasks.errors import InvalidTaskError
from tasks.generators._common import as_rng
from tasks.maze import FREE, WALL, Cell, MazeTask
from tasks.sudoku import SudokuGrid, SudokuTask

__all__ = [
    "Noisy",
    "add_wrong_givens",
    "contradict_givens",
    "corrupt_givens",
    "flip_walls",
    "remove_givens",
]


@dataclass(frozen=True)
class Noisy:
    """What every injector returns: the noisy task and the cells it changed (row-major)."""

    task: SudokuTask | MazeTask
    changed: tuple[Cell, ...]


# ---------------------------------------------------------------------------- checks
def _check_sudoku(task: object) -> SudokuTask:
    if not isinstance(task, SudokuTask):
        raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
    return task


def _check_k(k: object, available: int, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise InvalidTaskError(f"k must be an int, got {k!r}")
    k = int(k)
    if k < 0:
        raise InvalidTaskError(f"k must be >= 0, got {k}")
    if k > available:
        raise InvalidTaskError(f"k={k} but the task has only {available} {what}")
    return k


def _pick(gen: np.random.Generator, pool: Sequence[Cell], k: int) -> list[Cell]:
    """``k`` distinct cells of ``pool`` drawn without replacement, returned row-major."""
    if k == 0:
        return []
    index = gen.choice(len(pool), size=k, replace=False)
    return sorted(pool[i] for i in index.tolist())


def _other_digit(gen: np.random.Generator, n: int, avoid: int) -> int:
    """A digit in ``1..n`` other than ``avoid``, uniformly."""
    value = int(gen.integers(1, n))  # 1..n-1, shifted past `avoid`
    return value + 1 if value >= avoid else value


def _with_grid(task: SudokuTask, grid: list[list[int]]) -> SudokuTask:
    rows = tuple(tuple(row) for row in grid)
    return SudokuTask(box_rows=task.box_rows, box_cols=task.box_cols, grid=rows)


# ---------------------------------------------------------------------------- Sudoku
def corrupt_givens(task: SudokuTask, k: int, rng: object = None) -> Noisy:
    """Change ``k`` givens, drawn uniformly, to a different digit drawn uniformly.

    The new digit may repeat a peer given (a contradictory puzzle): :class:`SudokuTask` accepts
    conflicting givens (``given_conflicts`` lists them) and the solvers report them as
    unsolvable, so this is the realistic misread.

    Parameters
    ----------
    task : SudokuTask
    k : int
        Number of givens to change, ``0..task.n_givens``.
    rng : numpy Generator, SeedSequence, int seed or None

    Returns
    -------
    Noisy
        ``changed`` holds the ``k`` corrupted cells, row-major.

    Raises
    ------
    InvalidTaskError
        When ``k`` is not an int in ``0..n_givens`` (or the grid is 1x1: no other digit exists),
        or ``rng`` is not a valid seed.

    Examples
    --------
    >>> task = SudokuTask.parse("12.." "34.." "...." "....")
    >>> noisy = corrupt_givens(task, 2, rng=0)
    >>> len(noisy.changed), noisy == corrupt_givens(task, 2, rng=0)
    (2, True)
    >>> all(noisy.task.grid[r][c] not in (0, task.grid[r][c]) for r, c in noisy.changed)
    True
    """
    task = _check_sudoku(task)
    givens = [(r, c) for r, c, _ in task.givens()]
    k = _check_k(k, len(givens), "givens")
    if k and task.size < 2:
        raise InvalidTaskError("a 1x1 Sudoku has no wrong digit to put in a given")
    gen = as_rng(rng)
    cells = _pick(gen, givens, k)
    grid = [list(row) for row in task.grid]
    for r, c in cells:
        grid[r][c] = _other_digit(gen, task.size, grid[r][c])
    return Noisy(task=_with_grid(task, grid), changed=tuple(cells))


def contradict_givens(task: SudokuTask, k: int, rng: object = None) -> Noisy:
    """Change ``k`` givens so that at least two givens conflict directly (a contradictory puzzle).

    The first changed given takes the digit of a given in the same row, column or box (both
    drawn uniformly); the other ``k - 1`` are drawn among the remaining givens (never the peer
    whose digit was copied, so the conflict stays) and get a uniformly drawn wrong digit.
    ``noisy.task.given_conflicts()`` is therefore never empty.

    Raises
    ------
    InvalidTaskError
        When ``k`` is not an int in ``1..n_givens - 1``, no two givens share a row, column or
        box (nothing to copy), or ``rng`` is not a valid seed.

    Examples
    --------
    >>> task = SudokuTask.parse("12.." "34.." "...." "....")
    >>> noisy = contradict_givens(task, 2, rng=0)
    >>> len(noisy.changed), bool(noisy.task.given_conflicts())
    (2, True)
    """
    task = _check_sudoku(task)
    givens = [(r, c) for r, c, _ in task.givens()]
    if isinstance(k, numbers.Integral) and not isinstance(k, bool) and k < 1:
        raise InvalidTaskError(f"k must be >= 1 (a contradiction changes a given), got {k}")
    k = _check_k(k, max(len(givens) - 1, 0), "givens besides the one copied")
    peers: dict[Cell, list[Cell]] = {cell: [] for cell in givens}
    for _, cells in task.units():
        in_unit = [cell for cell in cells if task.grid[cell[0]][cell[1]]]
        for a in in_unit:
            peers[a].extend(b for b in in_unit if b != a)
    candidates = [cell for cell in givens if peers[cell]]
    if not candidates:
        raise InvalidTaskError("no two givens share a row, column or box: nothing to contradict")
    gen = as_rng(rng)
    a = candidates[int(gen.integers(len(candidates)))]
    options = sorted(set(peers[a]))
    b = options[int(gen.integers(len(options)))]
    others = [cell for cell in givens if cell not in (a, b)]
    extra = _pick(gen, others, k - 1)
    grid = [list(row) for row in task.grid]
    grid[a[0]][a[1]] = grid[b[0]][b[1]]
    for r, c in extra:
        grid[r][c] = _other_digit(gen, task.size, grid[r][c])
    return Noisy(task=_with_grid(task, grid), changed=tuple(sorted([a, *extra])))


def remove_givens(task: SudokuTask, k: int, rng: object = None) -> Noisy:
    """Blank ``k`` givens drawn uniformly.

    Raises
    ------
    InvalidTaskError
        When ``k`` is not an int in ``0..n_givens``, or ``rng`` is not a valid seed.

    Examples
    --------
    >>> task = SudokuTask.parse("12.." "34.." "...." "....")
    >>> noisy = remove_givens(task, 3, rng=1)
    >>> noisy.task.n_givens, len(noisy.changed)
    (1, 3)
    """
    task = _check_sudoku(task)
    givens = [(r, c) for r, c, _ in task.givens()]
    k = _check_k(k, len(givens), "givens")
    cells = _pick(as_rng(rng), givens, k)
    grid = [list(row) for row in task.grid]
    for r, c in cells:
        grid[r][c] = 0
    return Noisy(task=_with_grid(task, grid), changed=tuple(cells))


def _check_solution(task: SudokuTask, solution: object) -> SudokuGrid:
    n = task.size
    try:
        grid = tuple(tuple(row) for row in solution)  # type: ignore[union-attr]
    except TypeError:
        raise InvalidTaskError(
            f"solution must be an {n}x{n} grid of ints, got {type(solution).__name__}"
        ) from None
    if len(grid) != n or any(len(row) != n for row in grid):
        raise InvalidTaskError(f"solution must be an {n}x{n} grid")
    out = []
    for r, row in enumerate(grid):
        values = []
        for c, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 1 <= v <= n:
                raise InvalidTaskError(f"solution cell ({r}, {c}) holds {v!r}, expected 1..{n}")
            values.append(int(v))
        out.append(tuple(values))
    return tuple(out)


def add_wrong_givens(task: SudokuTask, solution: object, k: int, rng: object = None) -> Noisy:
    """Fill ``k`` blank cells, drawn uniformly, with a digit that differs from ``solution``.

    The digit is drawn uniformly among the ``N - 1`` wrong ones, so it may also repeat a peer
    given (a contradictory puzzle); either way the puzzle no longer admits ``solution``.

    Parameters
    ----------
    task : SudokuTask
    solution : N x N grid of ints in 1..N
        The solution the new givens must contradict (only its shape and values are checked).
    k : int
        Number of blanks to fill, ``0..`` the number of blanks.
    rng : numpy Generator, SeedSequence, int seed or None

    Raises
    ------
    InvalidTaskError
        On a malformed ``solution``, ``k`` outside ``0..`` the number of blanks (or a 1x1 grid),
        or a bad ``rng``.

    Examples
    --------
    >>> task = SudokuTask.parse("12.." "34.." "...." "....")
    >>> solution = ((1, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 2, 1))
    >>> noisy = add_wrong_givens(task, solution, 2, rng=0)
    >>> noisy.task.n_givens, all(noisy.task.grid[r][c] != solution[r][c] for r, c in noisy.changed)
    (6, True)
    """
    task = _check_sudoku(task)
    answer = _check_solution(task, solution)
    blanks = [(r, c) for r, row in enumerate(task.grid) for c, v in enumerate(row) if not v]
    k = _check_k(k, len(blanks), "blank cells")
    if k and task.size < 2:
        raise InvalidTaskError("a 1x1 Sudoku has no wrong digit to put in a blank")
    gen = as_rng(rng)
    cells = _pick(gen, blanks, k)
    grid = [list(row) for row in task.grid]
    for r, c in cells:
        grid[r][c] = _other_digit(gen, task.size, answer[r][c])
    return Noisy(task=_with_grid(task, grid), changed=tuple(cells))


# ---------------------------------------------------------------------------- mazes
def flip_walls(task: MazeTask, k: int, rng: object = None) -> Noisy:
    """Toggle ``k`` cells, drawn uniformly, between wall and free; never the start or a goal.

    The noisy maze may have no path any more (a flipped wall can cut the only corridor).

    Raises
    ------
    InvalidTaskError
        When ``task`` is not a MazeTask, ``k`` is not an int in ``0..`` the number of cells that
        are neither the start nor a goal, or ``rng`` is not a valid seed.

    Examples
    --------
    >>> maze = MazeTask.parse('''
    ... S.#
    ... ..#
    ... #.G''')
    >>> noisy = flip_walls(maze, 2, rng=3)
    >>> len(noisy.changed), maze.start not in noisy.changed, maze.goal not in noisy.changed
    (2, True, True)
    >>> all(noisy.task.rows[r][c] != maze.rows[r][c] for r, c in noisy.changed)
    True
    """
    if not isinstance(task, MazeTask):
        raise InvalidTaskError(f"expected a MazeTask, got {type(task).__name__}")
    fixed = {task.start, *task.goals}
    pool = [(r, c) for r in range(task.height) for c in range(task.width) if (r, c) not in fixed]
    k = _check_k(k, len(pool), "cells besides the start and goals")
    cells = _pick(as_rng(rng), pool, k)
    rows = [list(row) for row in task.rows]
    for r, c in cells:
        rows[r][c] = FREE if rows[r][c] == WALL else WALL
    noisy = MazeTask(rows=tuple("".join(row) for row in rows), start=task.start, goals=task.goals)
    return Noisy(task=noisy, changed=tuple(cells))
