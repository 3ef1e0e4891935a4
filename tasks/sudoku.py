"""The Sudoku task type: any box size, parsing from the text formats people have, rendering.

A grid is a tuple of row tuples of ints; ``0`` marks a blank. Values past 9 print as letters
(``A`` = 10 ... ``Z`` = 35).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from tasks.errors import InvalidTaskError, describe_validation_error

__all__ = ["SudokuTask", "SudokuGrid", "MAX_SUDOKU_SIDE", "infer_box", "value_to_char"]

SudokuGrid = tuple[tuple[int, ...], ...]

#: Largest grid side accepted (a 7x7-box Sudoku). Bigger grids are rejected as malformed input.
MAX_SUDOKU_SIDE = 49

_ALPHABET = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # value v prints as _ALPHABET[v - 1]
_BLANK_CHARS = frozenset(".0_*?")
_SEPARATOR_LINE = re.compile(r"^[\s\-+=|:~]*$")


def value_to_char(value: int) -> str:
    """The one-character form of a cell value (``0`` -> ``.``, ``10`` -> ``A``)."""
    if value == 0:
        return "."
    if 1 <= value <= len(_ALPHABET):
        return _ALPHABET[value - 1]
    raise InvalidTaskError(f"value {value} has no one-character form (1..{len(_ALPHABET)})")


def _char_to_value(ch: str) -> int:
    if ch in _BLANK_CHARS:
        return 0
    index = _ALPHABET.find(ch.upper()) if ch.isascii() else -1
    if index < 0:
        raise InvalidTaskError(f"unexpected character {ch!r} in Sudoku text")
    return index + 1


def _token_to_value(token: str) -> int:
    if token in _BLANK_CHARS or set(token) <= _BLANK_CHARS:
        return 0
    if token.isascii() and token.isdigit():
        if len(token) > 9:  # no grid is that big, and past 4300 digits int() itself refuses
            raise InvalidTaskError(
                f"cell value {token[:12]}... ({len(token)} digits) is too large for a Sudoku"
            )
        return int(token)
    if len(token) == 1:
        return _char_to_value(token)
    raise InvalidTaskError(f"unexpected token {token!r} in Sudoku text")


def infer_box(side: int) -> tuple[int, int]:
    """The conventional box shape for a grid side: square root when square, else the closest
    factor pair with fewer rows than columns (6 -> 2x3, 8 -> 2x4, 12 -> 3x4).

    Raises
    ------
    InvalidTaskError
        When ``side`` has no factor pair with both factors >= 2 (a prime side), so the box is
        ambiguous and must be passed explicitly.

    Examples
    --------
    >>> infer_box(9), infer_box(6), infer_box(12)
    ((3, 3), (2, 3), (3, 4))
    """
    if side < 1:
        raise InvalidTaskError(f"grid side must be positive, got {side}")
    if side == 1:
        return (1, 1)
    rows = math.isqrt(side)
    while rows > 1 and side % rows:
        rows -= 1
    if rows == 1:
        raise InvalidTaskError(
            f"cannot infer the box of a {side}x{side} grid ({side} is prime); pass box=(rows, cols)"
        )
    return (rows, side // rows)


class SudokuTask(BaseModel):
    """A Sudoku of any box shape: ``box_rows x box_cols`` boxes, side ``N = box_rows*box_cols``.

    The givens may conflict (noisy input is a supported case); :meth:`given_conflicts` lists such
    pairs and solvers report them as unsolvable.

    Examples
    --------
    >>> t = SudokuTask.parse("1.3." "..1." ".1.." "...1")
    >>> t.size, (t.box_rows, t.box_cols), t.n_givens
    (4, (2, 2), 5)
    >>> SudokuTask.model_validate_json(t.model_dump_json()) == t
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["sudoku"] = "sudoku"
    box_rows: int
    box_cols: int
    grid: SudokuGrid

    @field_validator("box_rows", "box_cols")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"box dimensions must be >= 1, got {value}")
        return value

    @model_validator(mode="after")
    def _check_grid(self) -> SudokuTask:
        n = self.box_rows * self.box_cols
        if n > MAX_SUDOKU_SIDE:
            raise ValueError(f"grid side {n} exceeds the supported maximum {MAX_SUDOKU_SIDE}")
        if len(self.grid) != n:
            raise ValueError(
                f"a {self.box_rows}x{self.box_cols}-box Sudoku needs {n} rows, got {len(self.grid)}"
            )
        for r, row in enumerate(self.grid):
            if len(row) != n:
                raise ValueError(f"row {r} has {len(row)} cells, expected {n}")
            for c, v in enumerate(row):
                if not 0 <= v <= n:
                    raise ValueError(f"cell ({r}, {c}) holds {v}, expected 0 (blank) or 1..{n}")
        return self

    def __init__(self, **data: object) -> None:
        # Map pydantic's ValidationError onto our hierarchy: callers catch InvalidTaskError.
        from pydantic import ValidationError

        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InvalidTaskError(
                f"invalid SudokuTask: {describe_validation_error(exc)}"
            ) from None

    # ------------------------------------------------------------------ geometry
    @property
    def size(self) -> int:
        """Grid side N (9 for a classic Sudoku)."""
        return self.box_rows * self.box_cols

    @property
    def box(self) -> tuple[int, int]:
        return (self.box_rows, self.box_cols)

    def box_index(self, row: int, col: int) -> int:
        """Index of the box holding ``(row, col)``, boxes numbered row-major."""
        return (row // self.box_rows) * self.box_rows + col // self.box_cols

    def units(self) -> Iterator[tuple[str, tuple[tuple[int, int], ...]]]:
        """Every row, column and box as ``(name, cells)``; each must hold 1..N exactly once."""
        n = self.size
        for r in range(n):
            yield f"row {r}", tuple((r, c) for c in range(n))
        for c in range(n):
            yield f"column {c}", tuple((r, c) for r in range(n))
        for b in range(n):
            r0 = (b // self.box_rows) * self.box_rows
            c0 = (b % self.box_rows) * self.box_cols
            yield (
                f"box {b}",
                tuple((r0 + i, c0 + j) for i in range(self.box_rows) for j in range(self.box_cols)),
            )

    # ------------------------------------------------------------------ givens
    @property
    def n_givens(self) -> int:
        return sum(1 for row in self.grid for v in row if v)

    def givens(self) -> list[tuple[int, int, int]]:
        """``(row, col, value)`` for every given, row-major."""
        return [(r, c, v) for r, row in enumerate(self.grid) for c, v in enumerate(row) if v]

    def given_conflicts(self) -> list[tuple[str, tuple[int, int], tuple[int, int], int]]:
        """Pairs of givens that break a rule directly: ``(unit, cell_a, cell_b, value)``."""
        conflicts = []
        for name, cells in self.units():
            seen: dict[int, tuple[int, int]] = {}
            for r, c in cells:
                v = self.grid[r][c]
                if not v:
                    continue
                if v in seen:
                    conflicts.append((name, seen[v], (r, c), v))
                else:
                    seen[v] = (r, c)
        return conflicts

    # ------------------------------------------------------------------ text
    def to_line(self) -> str:
        """One line, one character per cell (``.`` blank, letters past 9); for N > 35 the
        values are space-separated integers (``0`` blank)."""
        if self.size > len(_ALPHABET):
            return " ".join(str(v) for row in self.grid for v in row)
        return "".join(value_to_char(v) for row in self.grid for v in row)

    def to_text(self, grid: SudokuGrid | None = None) -> str:
        """A human-readable grid with box separators (``grid`` defaults to the puzzle)."""
        grid = self.grid if grid is None else grid
        n = self.size
        wide = n > len(_ALPHABET)
        width = len(str(n)) if wide else 1

        def cell(v: int) -> str:
            if wide:
                return (str(v) if v else ".").rjust(width)
            return value_to_char(v)

        chunk_width = self.box_cols * (width + 1) - 1
        rule = "-+-".join(["-" * chunk_width] * (n // self.box_cols))
        lines = []
        for r, row in enumerate(grid):
            if r and r % self.box_rows == 0:
                lines.append(rule)
            chunks = [
                " ".join(cell(v) for v in row[c0 : c0 + self.box_cols])
                for c0 in range(0, n, self.box_cols)
            ]
            lines.append(" | ".join(chunks))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    @classmethod
    def from_grid(cls, grid: object, box: tuple[int, int] | None = None) -> SudokuTask:
        """Build from any N x N nested sequence of ints (``0``/``None`` blank)."""
        try:
            rows = tuple(tuple(_cell_value(v) for v in row) for row in grid)  # type: ignore[union-attr]
        except TypeError as exc:
            raise InvalidTaskError(f"grid must be an N x N sequence of ints: {exc}") from None
        n = len(rows)
        if box is None:
            box = _choose_box(rows, n)
        return cls(box_rows=box[0], box_cols=box[1], grid=rows)

    @classmethod
    def parse(cls, text: str, box: tuple[int, int] | None = None) -> SudokuTask:
        """Read a Sudoku from text.

        Accepts an 81-character line (``.`` or ``0`` blank; any N*N length works), or an N x N
        grid with any whitespace and separators (``|``, ``+``, ``-`` rule lines, commas), values
        as digits, letters past 9 (``A`` = 10) or whitespace-separated integers. The box is
        inferred from N when unambiguous (:func:`infer_box`); pass ``box=(rows, cols)`` otherwise.

        Raises
        ------
        InvalidTaskError
            Naming what is wrong: a bad character, a wrong cell count, a value out of range.

        Examples
        --------
        >>> t = SudokuTask.parse(
        ...     "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
        ... )
        >>> t.size, t.n_givens
        (9, 17)
        """
        if not isinstance(text, str):
            raise InvalidTaskError(f"expected puzzle text (str), got {type(text).__name__}")
        rows = _read_rows(text)
        if box is not None:
            box = _check_box_arg(box)
        if len(rows) == 1:
            cells = rows[0]
            n = math.isqrt(len(cells))
            if n * n != len(cells) or n == 0:
                raise InvalidTaskError(
                    f"a one-line Sudoku needs N*N cells (81 for 9x9), got {len(cells)}"
                )
            rows = [cells[i * n : (i + 1) * n] for i in range(n)]
        n = len(rows)
        for r, row in enumerate(rows):
            if len(row) != n:
                raise InvalidTaskError(
                    f"row {r} has {len(row)} cells but the grid has {n} rows; expected {n}x{n}"
                )
        return cls.from_grid(rows, box=box)


def _cell_value(value: object) -> int:
    """A cell as an int: ``None`` is blank; integral floats/numpy ints pass, anything else fails."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise InvalidTaskError(f"cell value {value!r} is a bool, expected an int")
    try:
        as_int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidTaskError(f"cell value {value!r} is not an integer") from None
    if as_int != value:
        raise InvalidTaskError(f"cell value {value!r} is not an integer")
    return as_int


def _check_box_arg(box: object) -> tuple[int, int]:
    try:
        rows, cols = box  # type: ignore[misc]
        return (int(rows), int(cols))
    except (TypeError, ValueError):
        raise InvalidTaskError(f"box must be (box_rows, box_cols), got {box!r}") from None


def _choose_box(rows: SudokuGrid, n: int) -> tuple[int, int]:
    if n == 0:
        raise InvalidTaskError("empty Sudoku grid")
    if n > MAX_SUDOKU_SIDE:
        raise InvalidTaskError(f"grid side {n} exceeds the supported maximum {MAX_SUDOKU_SIDE}")
    box = infer_box(n)
    if box[0] == box[1]:
        return box
    # Wide boxes are the convention; pick tall ones only when the givens say so.
    tall = (box[1], box[0])
    if _box_conflicts(rows, box) and not _box_conflicts(rows, tall):
        return tall
    return box


def _box_conflicts(rows: SudokuGrid, box: tuple[int, int]) -> bool:
    br, bc = box
    seen: set[tuple[int, int]] = set()
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v:
                key = ((r // br) * br + c // bc, v)
                if key in seen:
                    return True
                seen.add(key)
    return False


def _read_rows(text: str) -> list[list[int]]:
    """Split text into rows of cell values, dropping rule lines and separators."""
    lines = [line for line in text.replace(",", " ").replace(";", " ").splitlines()]
    content = [line for line in lines if not _SEPARATOR_LINE.match(line)]
    if not content:
        raise InvalidTaskError("no Sudoku cells found in the text")
    n_rows = len(content)
    rows = []
    for line in content:
        tokens = line.replace("|", " ").replace("+", " ").split()
        chars = "".join(tokens)
        if n_rows == 1:
            # one line: whitespace-separated integers when they all fit the implied side,
            # else one cell per character (box chunks like "85. ..2 4.." included)
            side = math.isqrt(len(tokens))
            use_tokens = (
                len(tokens) > 1
                and side * side == len(tokens)
                and all(t.isascii() and t.isdigit() and int(t) <= side for t in tokens)
                and any(len(t) > 1 for t in tokens)
            )
        else:
            # a row of a multi-line grid: one cell per char unless the tokens count matches
            use_tokens = len(chars) != n_rows and len(tokens) == n_rows
        if use_tokens:
            rows.append([_token_to_value(t) for t in tokens])
        else:
            rows.append([_char_to_value(ch) for ch in chars])
    return rows
