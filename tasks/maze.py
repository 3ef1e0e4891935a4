"""The grid-maze task type: walls and free cells, a start, one or more goal cells, 4-connected.

Rows are stored as strings of ``#`` (wall) and ``.`` (free), which keeps a 512x512 map compact.
A path is a list of ``(row, col)`` cells from the start to any goal cell.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from tasks.errors import InvalidTaskError, describe_validation_error

__all__ = ["MazeTask", "Cell", "MAX_MAZE_SIDE", "WALL", "FREE", "as_cell"]

Cell = tuple[int, int]
WALL = "#"
FREE = "."
#: Largest height or width accepted; bigger inputs are rejected as malformed.
MAX_MAZE_SIDE = 4096

_ASCII_WALLS = frozenset("#@")
_ASCII_FREE = frozenset(". o")
#: ASCII maze characters to cells; S and G are free cells (their positions are read apart).
_TO_CELL = str.maketrans(
    {**dict.fromkeys(_ASCII_WALLS, WALL), **dict.fromkeys(_ASCII_FREE | {"S", "G"}, FREE)}
)
_MOVINGAI_FREE = frozenset(".GS")  # Moving AI: '.', 'G' ground and 'S' swamp are passable
_MOVINGAI_WALLS = frozenset("@OTW")


class MazeTask(BaseModel):
    """A maze on an ``H x W`` grid: find a shortest 4-connected path from ``start`` to a goal.

    ``goals`` holds one or more goal cells (a goal area, as in micromouse mazes); a path may end
    at any of them. ``goal=(r, c)`` is accepted as a shorthand for ``goals=((r, c),)``.

    Examples
    --------
    >>> m = MazeTask.parse('''
    ... #####
    ... #S..#
    ... ###.#
    ... #G..#
    ... #####''')
    >>> m.height, m.width, m.start, m.goal
    (5, 5, (1, 1), (3, 1))
    >>> MazeTask.model_validate_json(m.model_dump_json()) == m
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["maze"] = "maze"
    rows: tuple[str, ...]
    start: Cell
    goals: tuple[Cell, ...]

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InvalidTaskError(f"invalid MazeTask: {describe_validation_error(exc)}") from None

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "goal" in data:
                if "goals" in data:
                    raise ValueError("pass goal or goals, not both")
                data["goals"] = (data.pop("goal"),)
            rows = data.get("rows")
            if isinstance(rows, Sequence) and not isinstance(rows, str) and rows:
                if all(isinstance(row, Sequence) and not isinstance(row, str) for row in rows):
                    # a 2-D grid of booleans / 0-1 ints: truthy = wall
                    data["rows"] = tuple("".join(WALL if v else FREE for v in row) for row in rows)
        return data

    @model_validator(mode="after")
    def _check(self) -> MazeTask:
        if not self.rows or not self.rows[0]:
            raise ValueError("a maze needs at least one row and one column")
        h, w = len(self.rows), len(self.rows[0])
        if h > MAX_MAZE_SIDE or w > MAX_MAZE_SIDE:
            raise ValueError(f"maze {h}x{w} exceeds the supported maximum side {MAX_MAZE_SIDE}")
        joined = "".join(self.rows)
        ragged = any(len(row) != w for row in self.rows)  # lengths can sum to h * w anyway
        if ragged or len(joined) != h * w or joined.count(WALL) + joined.count(FREE) != h * w:
            # one pass over the whole grid normally; the row loop only names the culprit
            for r, row in enumerate(self.rows):
                if len(row) != w:
                    raise ValueError(f"row {r} has {len(row)} cells, expected {w}")
                bad = set(row) - {WALL, FREE}
                if bad:
                    raise ValueError(f"row {r} holds {sorted(bad)}; rows use only '#' and '.'")
        if not self.goals:
            raise ValueError("a maze needs at least one goal cell")
        if len(set(self.goals)) != len(self.goals):
            raise ValueError("goal cells must be distinct")
        for name, cell in [("start", self.start)] + [("goal", g) for g in self.goals]:
            r, c = cell
            if not (0 <= r < h and 0 <= c < w):
                raise ValueError(f"{name} {cell} is outside the {h}x{w} grid")
            if self.rows[r][c] != FREE:
                raise ValueError(f"{name} {cell} is on a wall")
        return self

    # ------------------------------------------------------------------ geometry
    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0])

    @property
    def goal(self) -> Cell:
        """The first goal cell (the only one for ordinary mazes)."""
        return self.goals[0]

    def is_free(self, row: int, col: int) -> bool:
        """True when ``(row, col)`` is inside the grid and not a wall."""
        return 0 <= row < self.height and 0 <= col < self.width and self.rows[row][col] == FREE

    def neighbors(self, row: int, col: int) -> list[Cell]:
        """Free 4-connected neighbours of a cell."""
        steps = ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1))
        return [(r, c) for r, c in steps if self.is_free(r, c)]

    @property
    def n_free(self) -> int:
        return sum(row.count(FREE) for row in self.rows)

    # ------------------------------------------------------------------ text
    def to_text(self, path: Sequence[Cell] | None = None) -> str:
        """ASCII art: ``#`` wall, ``.`` free, ``S`` start, ``G`` goal, ``o`` path cells."""
        grid = [list(row) for row in self.rows]
        for r, c in path or ():
            if 0 <= r < self.height and 0 <= c < self.width and grid[r][c] == FREE:
                grid[r][c] = "o"
        for r, c in self.goals:
            grid[r][c] = "G"
        grid[self.start[0]][self.start[1]] = "S"
        return "\n".join("".join(row) for row in grid)

    def __str__(self) -> str:
        return self.to_text()

    @classmethod
    def parse(cls, text: str) -> MazeTask:
        """Read an ASCII maze.

        ``#`` (or ``@``) is a wall; ``.``, space and ``o`` (a drawn path, ignored) are free;
        ``S`` marks the start (exactly one), ``G`` a goal cell (one or more: a goal area).
        Every row must be as wide as the widest: a short row is refused rather than padded, since
        padding would invent free cells the input never held. The one exception is a maze that
        draws free cells as spaces (a space in a row, or an empty row): editors strip trailing
        spaces, so there a short row is read as ending in free cells. Leading and trailing empty
        lines are ignored.

        Raises
        ------
        InvalidTaskError
            On an unknown character, rows of different widths (naming the row), no or several
            ``S``, or no ``G``.

        Examples
        --------
        >>> MazeTask.parse("S...#\\n.#\\n...G.")
        Traceback (most recent call last):
        ...
        tasks.errors.InvalidTaskError: maze row 1 has 2 cells, expected 5 (the widest row);
        every row must be equally wide
        >>> MazeTask.parse("S   #\\n #\\n   G ").rows  # spaces: stripped trailing spaces are free
        ('....#', '.#...', '.....')
        """
        if not isinstance(text, str):
            raise InvalidTaskError(f"expected maze text (str), got {type(text).__name__}")
        lines = [line.rstrip("\r\n") for line in text.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            raise InvalidTaskError("no maze found in the text (empty input)")
        width = max(len(line) for line in lines)
        if len(lines) > MAX_MAZE_SIDE or width > MAX_MAZE_SIDE:
            raise InvalidTaskError(
                f"maze {len(lines)}x{width} exceeds the supported maximum side {MAX_MAZE_SIDE}"
            )
        if not any(" " in line or not line for line in lines):
            # no space-drawn free cells (an empty row is one whose spaces were all stripped),
            # so no stripped trailing spaces: a short row is an error
            for r, line in enumerate(lines):
                if len(line) != width:
                    raise InvalidTaskError(
                        f"maze row {r} has {len(line)} cells, expected {width} (the widest row); "
                        "every row must be equally wide"
                    )
        # Row by row with str.translate / str.find (C loops): a character at a time in Python
        # took 0.16 s of a 0.2 s time limit on a 1000x1000 maze.
        rows, starts, goals = [], [], []
        for r, line in enumerate(lines):
            padded = line.ljust(width)
            row = padded.translate(_TO_CELL)
            unknown = set(row) - {WALL, FREE}
            if unknown:
                c = min(row.index(ch) for ch in unknown)
                raise InvalidTaskError(
                    f"unexpected character {padded[c]!r} at row {r}, column {c}; "
                    "mazes use '#' wall, '.'/' ' free, 'S' start, 'G' goal, 'o' path"
                )
            for mark, found in (("S", starts), ("G", goals)):
                c = padded.find(mark)
                while c != -1:
                    found.append((r, c))
                    c = padded.find(mark, c + 1)
            rows.append(row)
        if len(starts) != 1:
            raise InvalidTaskError(f"a maze needs exactly one 'S' start cell, found {len(starts)}")
        if not goals:
            raise InvalidTaskError("a maze needs at least one 'G' goal cell, found none")
        return cls(rows=tuple(rows), start=starts[0], goals=tuple(goals))

    @classmethod
    def from_movingai(cls, map_text: str, start: Cell, goal: Cell | Sequence[Cell]) -> MazeTask:
        """Read a Moving AI ``.map`` (``@``/``O``/``T``/``W`` blocked; ``.``/``G``/``S`` free).

        Accepts the standard header (``type octile`` / ``height H`` / ``width W`` / ``map``) and
        the ``MapWidth=`` / ``MapHeight=`` / ``MapData`` style. ``start`` and ``goal`` are
        0-based ``(row, col)``; ``goal`` may be one cell or a sequence of cells.

        Raises
        ------
        InvalidTaskError
            A malformed map, or a start or goal outside the map or on a blocked cell.

        Examples
        --------
        >>> text = "type octile\\nheight 2\\nwidth 3\\nmap\\n.@.\\n...\\n"
        >>> MazeTask.from_movingai(text, (0, 0), (0, 2)).rows
        ('.#.', '...')
        >>> MazeTask.from_movingai(text, (0, 1), (0, 2))
        Traceback (most recent call last):
        ...
        tasks.errors.InvalidTaskError: start (0, 1) is a wall on the map ('@'); pick a free
        cell ('.', 'G' or 'S')
        """
        if not isinstance(map_text, str):
            raise InvalidTaskError(f"expected map text (str), got {type(map_text).__name__}")
        lines = map_text.splitlines()
        height = width = None
        body_start = None
        for i, line in enumerate(lines[:8]):
            key, _, value = line.strip().replace("=", " ").partition(" ")
            key = key.lower()
            try:
                if key in ("height", "mapheight"):
                    height = int(value)
                elif key in ("width", "mapwidth"):
                    width = int(value)
            except ValueError:
                raise InvalidTaskError(f"bad Moving AI header line {line!r}") from None
            if key in ("map", "mapdata"):
                body_start = i + 1
                break
        if body_start is None or height is None or width is None:
            raise InvalidTaskError(
                "not a Moving AI map: expected a header with height, width and 'map' "
                "(or MapWidth=, MapHeight=, MapData)"
            )
        if not (0 < height <= MAX_MAZE_SIDE and 0 < width <= MAX_MAZE_SIDE):
            raise InvalidTaskError(f"map size {height}x{width} is outside 1..{MAX_MAZE_SIDE}")
        body = [line.rstrip("\r") for line in lines[body_start:] if line.strip()]
        if len(body) != height:
            raise InvalidTaskError(f"header says {height} map rows, found {len(body)}")
        table = str.maketrans(
            {**dict.fromkeys(_MOVINGAI_FREE, FREE), **dict.fromkeys(_MOVINGAI_WALLS, WALL)}
        )
        rows = [line.translate(table) for line in body]
        for r, row in enumerate(rows):
            if len(row) != width:
                raise InvalidTaskError(f"map row {r} has {len(row)} cells, header says {width}")
        joined = "".join(rows)
        if joined.count(WALL) + joined.count(FREE) != len(joined):
            leftover = set(joined) - {WALL, FREE}
            raise InvalidTaskError(f"map holds unknown terrain {sorted(leftover)}")
        start_cell, goals = _as_cell(start, "start"), _as_cells(goal)
        for name, (r, c) in [("start", start_cell)] + [("goal", g) for g in goals]:
            if not (0 <= r < height and 0 <= c < width):
                raise InvalidTaskError(
                    f"{name} ({r}, {c}) is outside the {height}x{width} map: 0-based (row, col) "
                    f"with row 0..{height - 1} and col 0..{width - 1}"
                )
            if rows[r][c] == WALL:
                raise InvalidTaskError(
                    f"{name} ({r}, {c}) is a wall on the map ({body[r][c]!r}); pick a free "
                    "cell ('.', 'G' or 'S')"
                )
        return cls(rows=tuple(rows), start=start_cell, goals=goals)


def as_cell(value: Any, what: str = "a cell") -> Cell:
    """``value`` as a ``(row, col)`` pair of ints, or InvalidTaskError naming ``what``."""
    try:
        r, c = value
        if isinstance(r, bool) or isinstance(c, bool):
            raise TypeError
        if not isinstance(r, numbers.Integral) or not isinstance(c, numbers.Integral):
            raise TypeError
    except (TypeError, ValueError):
        raise InvalidTaskError(f"{what} is a (row, col) int pair, got {value!r}") from None
    return (int(r), int(c))


_as_cell = as_cell


def _as_cells(value: Any) -> tuple[Cell, ...]:
    try:
        first = value[0]
    except (TypeError, IndexError, KeyError):
        raise InvalidTaskError(
            f"goal must be (row, col) or a list of cells, got {value!r}"
        ) from None
    if isinstance(first, Sequence):
        return tuple(_as_cell(v) for v in value)
    return (_as_cell(value),)
