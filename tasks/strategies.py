"""Hypothesis strategies for property tests of anything that takes neurosym tasks.

Valid Sudoku grids, puzzles and texts of any box shape; mazes and maze texts; malformed inputs
that the parsers must reject with :class:`~tasks.errors.InvalidTaskError`; noisy puzzles and
mazes (misread givens and walls, see :mod:`tasks.noise`) with the clean task they came from.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from typing import Any

import numpy as np
from hypothesis import strategies as st

from tasks.errors import InvalidTaskError
from tasks.generators.sudoku import _pattern, _shuffle, generate_puzzle, generate_solution
from tasks.maze import MAX_MAZE_SIDE, Cell, MazeTask
from tasks.noise import contradict_givens, corrupt_givens, flip_walls, remove_givens
from tasks.sudoku import MAX_SUDOKU_SIDE, SudokuGrid, SudokuTask, infer_box, value_to_char

__all__ = [
    "box_shapes",
    "sudoku_solutions",
    "sudoku_tasks",
    "sudoku_task_with_solution",
    "sudoku_lines",
    "malformed_sudoku_texts",
    "maze_tasks",
    "maze_texts",
    "malformed_maze_texts",
    "any_task_inputs",
    "noisy_sudoku",
    "sudoku_with_missing_givens",
    "sudoku_with_contradictory_givens",
    "maze_with_flipped_walls",
]

# Above this many cells the givens are picked by a drawn seed rather than a drawn permutation:
# Hypothesis would otherwise spend a choice per cell (625 for 25x25) and shrink slowly.
_PERMUTATION_MAX_CELLS = 256
# One-character cell forms stop at 'Z' = 35; bigger grids print as integers.
_MAX_CHAR_SIDE = 35
# Characters that are never part of a Sudoku or maze text (whitespace excluded on purpose: it is
# a separator, so inserting it changes the layout instead of making the text invalid).
_BAD_SUDOKU_CHARS = list("!\"#$%&'()/<>@[]^`{}\\~:=-") + ["é", "ß", "中", "😀", "\x00", "\x7f"]
_BAD_MAZE_CHARS = list("xX*+0123456789~!?sgOTW%$&|-=") + ["é", "中", "😀", "\x00"]


# ---------------------------------------------------------------------------- argument checks
def _int_arg(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidTaskError(f"{name} must be an int, got {value!r}")
    if not low <= int(value) <= high:
        raise InvalidTaskError(f"{name} must be in {low}..{high}, got {value}")
    return int(value)


def _box_arg(box: object) -> tuple[int, int] | None:
    if box is None:
        return None
    try:
        rows, cols = box  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InvalidTaskError(f"box must be (box_rows, box_cols), got {box!r}") from None
    rows = _int_arg("box_rows", rows, 1, MAX_SUDOKU_SIDE)
    cols = _int_arg("box_cols", cols, 1, MAX_SUDOKU_SIDE)
    if rows * cols > MAX_SUDOKU_SIDE:
        raise InvalidTaskError(f"box {rows}x{cols} gives a side above {MAX_SUDOKU_SIDE}")
    return (rows, cols)


def _fraction_arg(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise InvalidTaskError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _shapes(min_side: int, max_side: int, thin: bool, conventional: bool) -> list[tuple[int, int]]:
    shapes = [
        (r, c)
        for r in range(1, max_side + 1)
        for c in range(1, max_side + 1)
        if min_side <= r * c <= max_side and (thin or (r >= 2 and c >= 2))
    ]
    if conventional:
        shapes = [s for s in shapes if s[0] >= 2 and s[1] >= 2 and infer_box(s[0] * s[1]) == s]
    # Small grids first and wide boxes before tall ones, so Hypothesis shrinks towards 2x2.
    return sorted(shapes, key=lambda s: (s[0] * s[1], s[0] > s[1], s[0]))


# ---------------------------------------------------------------------------- Sudoku
def box_shapes(
    *, max_side: int = 16, min_side: int = 4, thin: bool = False
) -> st.SearchStrategy[tuple[int, int]]:
    """Box shapes ``(box_rows, box_cols)`` whose grid side lies in ``min_side..max_side``.

    Both box dimensions are at least 2 (2x2, 2x3, 3x2, 2x4, 4x2, 3x3, 2x5, ..., 3x4, 4x3, 4x4)
    unless ``thin=True`` also allows 1xN and Nx1 boxes (Latin squares, whose box must be passed
    explicitly when parsing a prime side). Shrinks towards 2x2.

    Raises
    ------
    InvalidTaskError
        When no shape fits the bounds.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(box_shapes(max_side=9))
    ... def test_side(box):
    ...     assert 4 <= box[0] * box[1] <= 9
    >>> test_side()
    """
    max_side = _int_arg("max_side", max_side, 1, MAX_SUDOKU_SIDE)
    min_side = _int_arg("min_side", min_side, 1, max_side)
    shapes = _shapes(min_side, max_side, thin, conventional=False)
    if not shapes:
        raise InvalidTaskError(
            f"no box shape has a side in {min_side}..{max_side}"
            + ("" if thin else " with both box dimensions >= 2 (pass thin=True for 1xN)")
        )
    return st.sampled_from(shapes)


def sudoku_solutions(
    *, box: tuple[int, int] | None = None, max_side: int = 9
) -> st.SearchStrategy[SudokuGrid]:
    """Complete valid Sudoku grids, of shape ``box`` or of any box with side <= ``max_side``.

    Built directly: a base grid (the pattern grid, or a randomly filled one from a drawn seed)
    transformed by drawn digit, row-in-band, band, column-in-stack and stack permutations and a
    transpose for square boxes. Shrinks towards the pattern grid of a 2x2 box.

    Examples
    --------
    >>> from hypothesis import given
    >>> from tasks.verify import verify
    >>> @given(sudoku_solutions(box=(3, 2)))
    ... def test_valid(grid):
    ...     empty = SudokuTask.from_grid([[0] * 6] * 6, box=(3, 2))
    ...     assert verify(empty, grid).ok
    >>> test_valid()
    """
    box = _box_arg(box)
    max_side = _int_arg("max_side", max_side, 4, MAX_SUDOKU_SIDE)
    shapes = st.just(box) if box is not None else box_shapes(max_side=max_side)
    return _solutions(shapes)


@st.composite
def _solutions(draw: st.DrawFn, shapes: st.SearchStrategy[tuple[int, int]]) -> SudokuGrid:
    box_rows, box_cols = draw(shapes)
    n = box_rows * box_cols
    seed = draw(st.none() | st.integers(0, 2**32 - 1))
    base = (
        _pattern(box_rows, box_cols)
        if seed is None
        else np.array(generate_solution(box_rows, box_cols, rng=seed))
    )
    grid = _shuffle(
        base,
        box_rows,
        box_cols,
        digits=draw(st.permutations(range(n))),
        bands=draw(st.permutations(range(box_cols))),
        band_rows=[draw(st.permutations(range(box_rows))) for _ in range(box_cols)],
        stacks=draw(st.permutations(range(box_rows))),
        stack_cols=[draw(st.permutations(range(box_cols))) for _ in range(box_rows)],
        transpose=box_rows == box_cols and draw(st.booleans()),
    )
    return tuple(tuple(int(v) for v in row) for row in grid)


def sudoku_task_with_solution(
    *,
    box: tuple[int, int] | None = None,
    max_side: int = 9,
    min_givens_fraction: float = 0.0,
    max_givens_fraction: float = 1.0,
) -> st.SearchStrategy[tuple[SudokuTask, SudokuGrid]]:
    """``(task, solution)``: a puzzle whose givens are a subset of a complete valid grid.

    The task is therefore always solvable (``solution`` fits) but may have several solutions.
    The number of givens is drawn between ``min_givens_fraction`` and ``max_givens_fraction`` of
    the ``N*N`` cells (rounded inwards; a range narrower than one cell gives its lower end).

    Examples
    --------
    >>> from hypothesis import given
    >>> from tasks.verify import verify
    >>> @given(sudoku_task_with_solution(max_side=6, max_givens_fraction=0.5))
    ... def test_fits(pair):
    ...     task, solution = pair
    ...     assert verify(task, solution).ok
    >>> test_fits()
    """
    box = _box_arg(box)
    max_side = _int_arg("max_side", max_side, 4, MAX_SUDOKU_SIDE)
    low = _fraction_arg("min_givens_fraction", min_givens_fraction)
    high = _fraction_arg("max_givens_fraction", max_givens_fraction)
    if low > high:
        raise InvalidTaskError(f"min_givens_fraction {low} is above max_givens_fraction {high}")
    shapes = st.just(box) if box is not None else box_shapes(max_side=max_side)
    return _task_with_solution(shapes, low, high)


@st.composite
def _task_with_solution(
    draw: st.DrawFn, shapes: st.SearchStrategy[tuple[int, int]], low: float, high: float
) -> tuple[SudokuTask, SudokuGrid]:
    box_rows, box_cols = draw(shapes)
    solution = draw(_solutions(st.just((box_rows, box_cols))))
    n = box_rows * box_cols
    cells = n * n
    k_low = math.ceil(low * cells)
    k_high = max(k_low, math.floor(high * cells))
    k = draw(st.integers(k_low, k_high))
    if cells <= _PERMUTATION_MAX_CELLS:
        order = draw(st.permutations(range(cells)))
    else:
        order = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(cells).tolist()
    keep = set(order[:k])
    grid = tuple(
        tuple(v if r * n + c in keep else 0 for c, v in enumerate(row))
        for r, row in enumerate(solution)
    )
    return SudokuTask(box_rows=box_rows, box_cols=box_cols, grid=grid), solution


def sudoku_tasks(
    *,
    box: tuple[int, int] | None = None,
    max_side: int = 9,
    min_givens_fraction: float = 0.0,
    max_givens_fraction: float = 1.0,
) -> st.SearchStrategy[SudokuTask]:
    """Valid, solvable Sudoku tasks (not necessarily unique); see :func:`sudoku_task_with_solution`.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(sudoku_tasks(max_side=6))
    ... def test_round_trip(task):
    ...     assert SudokuTask.parse(task.to_line(), box=task.box) == task
    >>> test_round_trip()
    """
    return sudoku_task_with_solution(
        box=box,
        max_side=max_side,
        min_givens_fraction=min_givens_fraction,
        max_givens_fraction=max_givens_fraction,
    ).map(lambda pair: pair[0])


_TEXT_FORMATS = ("line", "grid", "char_rows", "int_line", "int_rows")


def sudoku_lines(
    *, box: tuple[int, int] | None = None, max_side: int = 16
) -> st.SearchStrategy[tuple[str, SudokuTask]]:
    """``(text, task)``: a Sudoku written in one of the formats people use, and what it means.

    Formats: one character per cell on one line (``.`` or ``0`` blank, letters past 9 in either
    case), the boxed grid of :meth:`SudokuTask.to_text`, rows of characters, whitespace- or
    comma-separated integers on one line or one row per line (the only form past side 35);
    with optional surrounding blank lines, indentation, trailing spaces and CRLF line ends.

    With ``box=None`` the box is the conventional one for the side, so
    ``SudokuTask.parse(text) == task``; with an explicit tall box (say ``(3, 2)``) pass it on:
    ``SudokuTask.parse(text, box=task.box) == task`` always holds.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(sudoku_lines(max_side=9))
    ... def test_parse(pair):
    ...     text, task = pair
    ...     assert SudokuTask.parse(text) == task
    >>> test_parse()
    """
    box = _box_arg(box)
    max_side = _int_arg("max_side", max_side, 4, MAX_SUDOKU_SIDE)
    if box is None:
        shapes: st.SearchStrategy[tuple[int, int]] = st.sampled_from(
            _shapes(4, max_side, thin=False, conventional=True)
        )
    else:
        shapes = st.just(box)
    return _sudoku_lines(shapes)


@st.composite
def _sudoku_lines(
    draw: st.DrawFn, shapes: st.SearchStrategy[tuple[int, int]]
) -> tuple[str, SudokuTask]:
    task, _ = draw(_task_with_solution(shapes, 0.0, 1.0))
    n = task.size
    formats = _TEXT_FORMATS if n <= _MAX_CHAR_SIDE else ("int_line", "int_rows")
    fmt = draw(st.sampled_from(formats))
    blank = draw(st.sampled_from([".", "0"]))
    lower = n > 9 and draw(st.booleans())

    def char(v: int) -> str:
        ch = blank if v == 0 else value_to_char(v)
        return ch.lower() if lower else ch

    if fmt == "line":
        lines = ["".join(char(v) for row in task.grid for v in row)]
    elif fmt == "grid":
        lines = task.to_text().splitlines()
        if blank == "0":
            lines = [line.replace(".", "0") for line in lines]
    elif fmt == "char_rows":
        sep = draw(st.sampled_from(["", " "]))
        lines = [sep.join(char(v) for v in row) for row in task.grid]
    elif fmt == "int_line":
        sep = draw(st.sampled_from([" ", "  ", "\t", ", "]))
        lines = [sep.join(str(v) for row in task.grid for v in row)]
    else:
        sep = draw(st.sampled_from([" ", "\t", ",", ", "]))
        lines = [sep.join(str(v) for v in row) for row in task.grid]
    if draw(st.booleans()):
        indent = draw(st.sampled_from(["", " ", "  "]))
        trailing = draw(st.sampled_from(["", " ", "\t"]))
        lines = [indent + line + trailing for line in lines]
    if draw(st.booleans()):
        lines = [""] * draw(st.integers(0, 2)) + lines + [""] * draw(st.integers(0, 2))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines), task


@st.composite
def _valid_sudoku_line(draw: st.DrawFn, max_side: int = 16) -> tuple[str, int]:
    """A one-character-per-cell line of a conventional-box task, and its side."""
    shapes = st.sampled_from(_shapes(4, max_side, thin=False, conventional=True))
    task, _ = draw(_task_with_solution(shapes, 0.0, 1.0))
    return task.to_line(), task.size


@st.composite
def _valid_sudoku_rows(draw: st.DrawFn, max_side: int = 16) -> list[str]:
    shapes = st.sampled_from(_shapes(4, max_side, thin=False, conventional=True))
    task, _ = draw(_task_with_solution(shapes, 0.0, 1.0))
    if draw(st.booleans()):
        return [line for line in task.to_text().splitlines() if not set(line) <= set("-+ ")]
    return ["".join(value_to_char(v) for v in row) for row in task.grid]


def malformed_sudoku_texts() -> st.SearchStrategy[str]:
    """Texts that :meth:`SudokuTask.parse` must reject with :class:`InvalidTaskError`.

    Empty or separator-only text; a one-line text whose length is not a square, or whose side is
    prime (no box can be inferred); a character that is neither a value, a blank nor a separator;
    a value above the side (as a letter or an integer); ragged rows, a missing or an extra row;
    grids above the 49x49 maximum. Conflicting givens are *not* malformed (noisy input is a
    supported case), so none appear here.

    Examples
    --------
    >>> import pytest
    >>> from hypothesis import given
    >>> @given(malformed_sudoku_texts())
    ... def test_rejected(text):
    ...     with pytest.raises(InvalidTaskError):
    ...         SudokuTask.parse(text)
    >>> test_rejected()
    """
    return st.one_of(
        st.sampled_from(["", " ", "\n", "\n \t\n", "---+---", "|", "+-+-+", "===", ",,,", ";"]),
        _wrong_length_line(),
        _prime_side_text(),
        _bad_character_text(),
        _out_of_range_text(),
        _ragged_text(),
        _huge_text(),
    )


@st.composite
def _wrong_length_line(draw: st.DrawFn) -> str:
    length = draw(st.integers(2, 700))
    if math.isqrt(length) ** 2 == length:
        length += 1  # a square length can be valid; the next integer never is a square
    # a short drawn motif, repeated: one choice per cell would make long lines slow to draw
    motif = draw(st.text(alphabet=".0123456789", min_size=1, max_size=12))
    return (motif * (length // len(motif) + 1))[:length]


@st.composite
def _prime_side_text(draw: st.DrawFn) -> str:
    side = draw(st.sampled_from([2, 3, 5, 7, 11, 13]))
    cells = [draw(st.sampled_from(".123456789"[: side + 1])) for _ in range(side * side)]
    if draw(st.booleans()):
        return "".join(cells)
    return "\n".join("".join(cells[r * side : (r + 1) * side]) for r in range(side))


@st.composite
def _bad_character_text(draw: st.DrawFn) -> str:
    bad = draw(st.sampled_from(_BAD_SUDOKU_CHARS))
    if draw(st.booleans()):
        line, _ = draw(_valid_sudoku_line())
        i = draw(st.integers(0, len(line) - 1))
        return line[:i] + bad + line[i + 1 :]
    rows = draw(_valid_sudoku_rows())
    r = draw(st.integers(0, len(rows) - 1))
    c = draw(st.integers(0, len(rows[r]) - 1))
    rows[r] = rows[r][:c] + bad + rows[r][c + 1 :]
    return "\n".join(rows)


@st.composite
def _out_of_range_text(draw: st.DrawFn) -> str:
    line, n = draw(_valid_sudoku_line())
    if n < _MAX_CHAR_SIDE and draw(st.booleans()):
        value = draw(st.integers(n + 1, _MAX_CHAR_SIDE))
        i = draw(st.integers(0, len(line) - 1))
        ch = value_to_char(value)
        return line[:i] + (ch.lower() if draw(st.booleans()) else ch) + line[i + 1 :]
    # integer rows: a value past the side (token mode applies: the row has n tokens)
    grid = [[0 if ch == "." else int(ch, 36) for ch in line[r * n : (r + 1) * n]] for r in range(n)]
    r = draw(st.integers(0, n - 1))
    c = draw(st.integers(0, n - 1))
    grid[r][c] = draw(st.integers(max(n + 1, 10), 999))
    return "\n".join(" ".join(str(v) for v in row) for row in grid)


@st.composite
def _ragged_text(draw: st.DrawFn) -> str:
    rows = draw(_valid_sudoku_rows())
    kind = draw(st.sampled_from(["short_row", "long_row", "missing_row", "extra_row"]))
    r = draw(st.integers(0, len(rows) - 1))
    if kind == "short_row":
        rows[r] = rows[r][:-1]
    elif kind == "long_row":
        # a separate token: glued on, ". ." + "." would read as ". ..", and ".." is a blank
        # token (the aligned form of wide integer grids), so the row would still have N cells
        rows[r] = rows[r] + " ."
    elif kind == "missing_row":
        del rows[r]
    else:
        rows.insert(r, rows[r])
    return "\n".join(rows)


@st.composite
def _huge_text(draw: st.DrawFn) -> str:
    side = draw(st.integers(MAX_SUDOKU_SIDE + 1, 64))
    if draw(st.booleans()):
        return "." * (side * side)
    return "\n".join(" ".join(["0"] * side) for _ in range(side))


# ---------------------------------------------------------------------------- mazes
def maze_tasks(
    *,
    min_side: int = 2,
    max_side: int = 15,
    solvable: bool | None = True,
    max_goals: int = 3,
) -> st.SearchStrategy[MazeTask]:
    """Mazes with random walls, a start and 1..``max_goals`` goal cells (a goal area).

    ``solvable=True`` carves a monotone corridor from the start to a goal, so a path always
    exists; ``solvable=False`` guarantees none does (goals outside the start's region, or the
    start walled in); ``None`` leaves it to chance. Height and width are drawn independently in
    ``min_side..max_side``; the start is never a goal, and goals are sorted row-major (the order
    :meth:`MazeTask.parse` reads them in). Shrinks towards small open mazes.

    Examples
    --------
    >>> from hypothesis import given
    >>> from tasks.verify import maze_shortest_length
    >>> @given(maze_tasks(max_side=8))
    ... def test_reachable(maze):
    ...     assert maze_shortest_length(maze) is not None
    >>> test_reachable()
    """
    max_side = _int_arg("max_side", max_side, 2, MAX_MAZE_SIDE)
    min_side = _int_arg("min_side", min_side, 1, max_side)
    max_goals = _int_arg("max_goals", max_goals, 1, 1_000_000)
    if solvable not in (True, False, None):
        raise InvalidTaskError(f"solvable must be True, False or None, got {solvable!r}")
    return _maze_tasks(min_side, max_side, solvable, max_goals)


def _neighbors(cell: tuple[int, int], h: int, w: int) -> list[tuple[int, int]]:
    r, c = cell
    steps = ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
    return [(i, j) for i, j in steps if 0 <= i < h and 0 <= j < w]


def _region(walls: list[list[bool]], start: tuple[int, int]) -> set[tuple[int, int]]:
    h, w = len(walls), len(walls[0])
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in _neighbors(queue.popleft(), h, w):
            if nxt not in seen and not walls[nxt[0]][nxt[1]]:
                seen.add(nxt)
                queue.append(nxt)
    return seen


@st.composite
def _maze_tasks(
    draw: st.DrawFn, min_side: int, max_side: int, solvable: bool | None, max_goals: int
) -> MazeTask:
    # A start and a separate goal need 2 cells; an unreachable goal needs 3 (in 1x2 they touch).
    need = 3 if solvable is False else 2
    h = draw(st.integers(max(min_side, 1 if max_side >= need else 2), max_side))
    w = draw(st.integers(max(min_side, -(-need // h)), max_side))
    density = draw(st.integers(0, 60))
    # a cell is a wall when its draw lands in the top `density` percent: shrinks to no walls
    walls = [[draw(st.integers(0, 99)) >= 100 - density for _ in range(w)] for _ in range(h)]
    cells = [(r, c) for r in range(h) for c in range(w)]

    if solvable is False:
        starts = [s for s in cells if len(cells) - 1 - len(_neighbors(s, h, w)) > 0]
        start = draw(st.sampled_from(starts))
        walls[start[0]][start[1]] = False
        region = _region(walls, start)
        outside = [cell for cell in cells if cell not in region and not walls[cell[0]][cell[1]]]
        if not outside:
            for r, c in _neighbors(start, h, w):
                walls[r][c] = True
            outside = [
                cell for cell in cells if cell != start and cell not in _neighbors(start, h, w)
            ]
        k = draw(st.integers(1, min(max_goals, len(outside))))
        goals = draw(st.lists(st.sampled_from(outside), min_size=k, max_size=k, unique=True))
    else:
        start = (draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1)))
        others = [cell for cell in cells if cell != start]
        k = draw(st.integers(1, min(max_goals, len(others))))
        goals = draw(st.lists(st.sampled_from(others), min_size=k, max_size=k, unique=True))
        if solvable:
            (r, c), (gr, gc) = start, goals[0]
            moves = [(1 if gr > r else -1, 0)] * abs(gr - r) + [(0, 1 if gc > c else -1)] * abs(
                gc - c
            )
            for dr, dc in draw(st.permutations(moves)):
                r, c = r + dr, c + dc
                walls[r][c] = False
    for r, c in [start, *goals]:
        walls[r][c] = False
    rows = tuple("".join("#" if wall else "." for wall in row) for row in walls)
    return MazeTask(rows=rows, start=start, goals=tuple(sorted(goals)))


def maze_texts(
    *, min_side: int = 1, max_side: int = 12, solvable: bool | None = None
) -> st.SearchStrategy[tuple[str, MazeTask]]:
    """``(text, maze)``: ASCII mazes as people write them, with the maze they mean.

    ``#`` or ``@`` walls, ``.`` or space free cells, ``S`` start, ``G`` goal cells, some free
    cells drawn as path marks ``o``; optional trailing-space stripping (the parser pads short
    lines), surrounding blank lines and CRLF line ends. ``MazeTask.parse(text) == maze`` holds.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(maze_texts())
    ... def test_parse(pair):
    ...     text, maze = pair
    ...     assert MazeTask.parse(text) == maze
    >>> test_parse()
    """
    max_side = _int_arg("max_side", max_side, 2, MAX_MAZE_SIDE)
    min_side = _int_arg("min_side", min_side, 1, max_side)
    if solvable not in (True, False, None):
        raise InvalidTaskError(f"solvable must be True, False or None, got {solvable!r}")
    return _maze_texts(maze_tasks(min_side=min_side, max_side=max_side, solvable=solvable))


@st.composite
def _maze_texts(draw: st.DrawFn, mazes: st.SearchStrategy[MazeTask]) -> tuple[str, MazeTask]:
    maze = draw(mazes)
    wall = draw(st.sampled_from(["#", "@"]))
    free = draw(st.sampled_from([".", " "]))
    marks = draw(st.booleans())
    grid = [list(line) for line in maze.to_text().splitlines()]
    for row in grid:
        for c, ch in enumerate(row):
            if ch == "#":
                row[c] = wall
            elif ch == ".":
                row[c] = "o" if marks and draw(st.booleans()) else free
    lines = ["".join(row) for row in grid]
    if free == " " and not (lines[0].strip() and lines[-1].strip()):
        # an all-blank first or last row would be dropped as surrounding blank lines
        lines = [line.replace(" ", ".") for line in lines]
    if draw(st.booleans()):
        stripped = [line.rstrip(" ") for line in lines]
        if max(map(len, stripped)) == maze.width:  # the widest line still fixes the width
            lines = stripped
    if draw(st.booleans()):
        lines = [""] * draw(st.integers(0, 2)) + lines + [""] * draw(st.integers(0, 2))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines), maze


def malformed_maze_texts() -> st.SearchStrategy[str]:
    """Texts that :meth:`MazeTask.parse` must reject with :class:`InvalidTaskError`.

    Empty or blank text; no ``S``; two ``S``; no ``G``; a character that is not a wall, free
    cell, path mark, ``S`` or ``G`` (lowercase ``s``/``g``, digits, Moving AI terrain letters,
    punctuation, non-ASCII); a row wider than the 4096 maximum. (A start on a wall cannot be
    written in ASCII, where ``S`` itself marks a free cell; see the JSON form for that case.)

    Examples
    --------
    >>> import pytest
    >>> from hypothesis import given
    >>> @given(malformed_maze_texts())
    ... def test_rejected(text):
    ...     with pytest.raises(InvalidTaskError):
    ...         MazeTask.parse(text)
    >>> test_rejected()
    """
    return st.one_of(
        st.sampled_from(["", "\n", "   \n  \n", "\r\n\r\n", "\t"]),
        _broken_maze_text(),
        st.integers(MAX_MAZE_SIDE + 1, MAX_MAZE_SIDE + 50).map(
            lambda width: "S" + "." * (width - 2) + "G"
        ),
    )


@st.composite
def _broken_maze_text(draw: st.DrawFn) -> str:
    maze = draw(maze_tasks(min_side=1, max_side=8, solvable=None))
    grid = [list(line) for line in maze.to_text().splitlines()]
    cells = [(r, c) for r in range(len(grid)) for c in range(len(grid[0]))]
    kind = draw(st.sampled_from(["no_start", "two_starts", "no_goal", "bad_char"]))
    if kind == "no_start":
        r, c = maze.start
        grid[r][c] = draw(st.sampled_from([".", "#", "o"]))
    elif kind == "two_starts":
        r, c = draw(st.sampled_from([cell for cell in cells if cell != maze.start]))
        grid[r][c] = "S"
    elif kind == "no_goal":
        for r, c in maze.goals:
            grid[r][c] = draw(st.sampled_from([".", "#", "o"]))
    else:
        r, c = draw(st.sampled_from(cells))
        grid[r][c] = draw(st.sampled_from(_BAD_MAZE_CHARS))
    return "\n".join("".join(row) for row in grid)


# ---------------------------------------------------------------------------- anything
_BROKEN_JSON = [
    "{",
    "{}",
    "[]",
    "null",
    '{"kind": "chess"}',
    '{"kind": "sudoku"}',
    '{"kind": "sudoku", "box_rows": 2, "box_cols": 2, "grid": [[1, 2], [3, 4]]}',
    '{"kind": "sudoku", "box_rows": 0, "box_cols": 2, "grid": []}',
    '{"kind": "maze", "rows": ["S#"], "start": [0, 1], "goals": [[0, 0]]}',
    '{"kind": "maze", "rows": ["..", ".."], "start": [0, 0], "goals": []}',
    '{"kind": "maze", "rows": ["..", ".."], "start": [5, 5], "goals": [[0, 1]]}',
]


def any_task_inputs() -> st.SearchStrategy[Any]:
    """Anything a user might hand an entry point: valid and malformed Sudoku and maze texts,
    task objects, task JSON (valid and broken), arbitrary text and a few non-text values.

    For the property "it returns a result or raises a :class:`~tasks.errors.NeurosymError`,
    never anything else".

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from tasks.errors import NeurosymError
    >>> @settings(max_examples=20)
    ... @given(any_task_inputs())
    ... def test_total(value):
    ...     try:
    ...         MazeTask.parse(value)
    ...     except NeurosymError:
    ...         pass
    >>> test_total()
    """
    return st.one_of(
        sudoku_lines(max_side=9).map(lambda pair: pair[0]),
        malformed_sudoku_texts(),
        maze_texts(max_side=8).map(lambda pair: pair[0]),
        malformed_maze_texts(),
        sudoku_tasks(max_side=9),
        maze_tasks(max_side=8, solvable=None),
        sudoku_tasks(max_side=6).map(lambda task: task.model_dump_json()),
        maze_tasks(max_side=6, solvable=None).map(lambda task: task.model_dump_json()),
        st.sampled_from(_BROKEN_JSON),
        st.text(max_size=120),
        st.sampled_from([None, 0, -1, 1.5, b"1234", [], {}, [[1, 2], [3]], object()]),
    )


# ---------------------------------------------------------------------------- noisy inputs
#: ``(noisy_task, clean_task, solution, changed_cells)``.
NoisySudoku = tuple[SudokuTask, SudokuTask, SudokuGrid, tuple[Cell, ...]]


def _noise_args(
    box: object, max_side: object, name: str, most: object, low: object, high: object
) -> tuple[st.SearchStrategy[tuple[int, int]], int, float, float]:
    box = _box_arg(box)
    if box is not None and box[0] * box[1] < 2:
        raise InvalidTaskError(f"a noisy Sudoku needs a side >= 2 (a wrong digit), got box {box}")
    max_side = _int_arg("max_side", max_side, 4, MAX_SUDOKU_SIDE)
    most = _int_arg(name, most, 0, MAX_SUDOKU_SIDE**2)
    low = _fraction_arg("min_givens_fraction", low)
    high = _fraction_arg("max_givens_fraction", high)
    if low > high:
        raise InvalidTaskError(f"min_givens_fraction {low} is above max_givens_fraction {high}")
    shapes = st.just(box) if box is not None else box_shapes(max_side=max_side)
    return shapes, most, low, high


def noisy_sudoku(
    *,
    box: tuple[int, int] | None = None,
    max_side: int = 9,
    max_errors: int = 3,
    min_givens_fraction: float = 0.3,
    max_givens_fraction: float = 0.7,
) -> st.SearchStrategy[NoisySudoku]:
    """``(noisy_task, clean_task, solution, changed)``: a puzzle with 0..``max_errors`` givens
    read as a wrong digit.

    ``clean_task`` comes from :func:`~tasks.generators.generate_puzzle` with a drawn seed and
    a drawn number of givens (between the two fractions of ``N*N``); it is solvable (``solution``
    fits) but not necessarily unique. ``noisy_task`` is
    :func:`~tasks.noise.corrupt_givens` of it with a drawn seed: ``changed`` lists the corrupted
    cells (row-major), so ``len(changed)`` is the number of errors (capped at the number of
    givens). The wrong digits may conflict with peer givens. Shrinks towards 2x2 boxes, seed 0
    and no error.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(noisy_sudoku(max_side=6))
    ... def test_errors(example):
    ...     noisy, clean, solution, changed = example
    ...     assert len(changed) <= 3
    ...     assert all(noisy.grid[r][c] != solution[r][c] for r, c in changed)
    >>> test_errors()
    """
    shapes, most, low, high = _noise_args(
        box, max_side, "max_errors", max_errors, min_givens_fraction, max_givens_fraction
    )
    return _noisy_sudoku(shapes, low, high, "corrupt", 0, most)


def sudoku_with_missing_givens(
    *,
    box: tuple[int, int] | None = None,
    max_side: int = 9,
    max_missing: int = 3,
    min_givens_fraction: float = 0.3,
    max_givens_fraction: float = 0.7,
) -> st.SearchStrategy[NoisySudoku]:
    """``(noisy_task, clean_task, solution, changed)``: a puzzle with 1..``max_missing`` givens
    blanked (:func:`~tasks.noise.remove_givens`); see :func:`noisy_sudoku`.

    ``noisy_task`` is still solvable by ``solution``, with possibly more solutions.

    Examples
    --------
    >>> from hypothesis import given
    >>> from tasks.verify import verify
    >>> @given(sudoku_with_missing_givens(max_side=6))
    ... def test_still_fits(example):
    ...     noisy, clean, solution, changed = example
    ...     assert noisy.n_givens == clean.n_givens - len(changed)
    ...     assert verify(noisy, solution).ok
    >>> test_still_fits()
    """
    shapes, most, low, high = _noise_args(
        box, max_side, "max_missing", max_missing, min_givens_fraction, max_givens_fraction
    )
    return _noisy_sudoku(shapes, low, high, "remove", min(1, most), most)


def sudoku_with_contradictory_givens(
    *,
    box: tuple[int, int] | None = None,
    max_side: int = 9,
    max_errors: int = 3,
    min_givens_fraction: float = 0.3,
    max_givens_fraction: float = 0.7,
) -> st.SearchStrategy[NoisySudoku]:
    """``(noisy_task, clean_task, solution, changed)``: a puzzle whose givens conflict directly.

    1..``max_errors`` givens are changed by :func:`~tasks.noise.contradict_givens`, the first to
    the digit of a peer given, so ``noisy_task.given_conflicts()`` is never empty. The clean
    puzzle has at least ``N + 1`` givens (so two share a row); see :func:`noisy_sudoku`.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(sudoku_with_contradictory_givens(max_side=6))
    ... def test_conflicts(example):
    ...     noisy, clean, solution, changed = example
    ...     assert noisy.given_conflicts() and 1 <= len(changed) <= 3
    >>> test_conflicts()
    """
    shapes, most, low, high = _noise_args(
        box, max_side, "max_errors", max_errors, min_givens_fraction, max_givens_fraction
    )
    if most < 1:
        raise InvalidTaskError(f"max_errors must be >= 1 for a contradiction, got {most}")
    return _noisy_sudoku(shapes, low, high, "contradict", 1, most)


@st.composite
def _noisy_sudoku(
    draw: st.DrawFn,
    shapes: st.SearchStrategy[tuple[int, int]],
    low: float,
    high: float,
    kind: str,
    k_low: int,
    k_high: int,
) -> NoisySudoku:
    box_rows, box_cols = draw(shapes)
    n = box_rows * box_cols
    cells = n * n
    g_low = math.ceil(low * cells)
    if kind == "contradict":
        g_low = min(max(g_low, n + 1), cells)  # n + 1 givens: two of them share a row
    g_high = max(g_low, math.floor(high * cells))
    n_givens = draw(st.integers(g_low, g_high))
    clean, solution = generate_puzzle(
        box_rows, box_cols, n_givens=n_givens, rng=draw(st.integers(0, 2**32 - 1))
    )
    available = n_givens - 1 if kind == "contradict" else n_givens
    k = draw(st.integers(min(k_low, available), min(k_high, available)))
    noise_seed = draw(st.integers(0, 2**32 - 1))
    if kind == "corrupt":
        noisy = corrupt_givens(clean, k, rng=noise_seed)
    elif kind == "remove":
        noisy = remove_givens(clean, k, rng=noise_seed)
    else:
        noisy = contradict_givens(clean, k, rng=noise_seed)
    return noisy.task, clean, solution, noisy.changed  # type: ignore[return-value]


def maze_with_flipped_walls(
    *,
    min_side: int = 3,
    max_side: int = 10,
    max_flips: int = 3,
    max_goals: int = 2,
) -> st.SearchStrategy[tuple[MazeTask, MazeTask, tuple[Cell, ...]]]:
    """``(noisy_maze, clean_maze, changed)``: a solvable maze with 1..``max_flips`` cells
    toggled between wall and free (:func:`~tasks.noise.flip_walls`, drawn seed).

    ``clean_maze`` comes from :func:`maze_tasks` (``solvable=True``); the start and goals are
    never flipped, so both mazes share them. The noisy maze may have lost its path. (When the
    maze has no cell besides the start and goals, ``changed`` is empty.)

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(maze_with_flipped_walls(max_side=6))
    ... def test_flips(example):
    ...     noisy, clean, changed = example
    ...     assert 1 <= len(changed) <= 3 and noisy.start not in changed
    ...     assert all(noisy.rows[r][c] != clean.rows[r][c] for r, c in changed)
    >>> test_flips()
    """
    max_side = _int_arg("max_side", max_side, 2, MAX_MAZE_SIDE)
    min_side = _int_arg("min_side", min_side, 1, max_side)
    max_flips = _int_arg("max_flips", max_flips, 0, MAX_MAZE_SIDE**2)
    max_goals = _int_arg("max_goals", max_goals, 1, 1_000_000)
    return _flipped_mazes(
        maze_tasks(min_side=min_side, max_side=max_side, solvable=True, max_goals=max_goals),
        max_flips,
    )


@st.composite
def _flipped_mazes(
    draw: st.DrawFn, mazes: st.SearchStrategy[MazeTask], max_flips: int
) -> tuple[MazeTask, MazeTask, tuple[Cell, ...]]:
    clean = draw(mazes)
    available = clean.height * clean.width - 1 - len(clean.goals)
    k = draw(st.integers(min(1, max_flips, available), min(max_flips, available)))
    noisy = flip_walls(clean, k, rng=draw(st.integers(0, 2**32 - 1)))
    return noisy.task, clean, noisy.changed  # type: ignore[return-value]
