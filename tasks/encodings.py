"""Token codecs between tasks and the flat int sequences the Tiny Recursive Model reads and writes.

Numpy only. Token ids follow the TRM datasets: Sudoku 0 PAD, 1 blank, 2..N+1 digits; mazes 0 PAD,
1 wall, 2 free, 3 start, 4 goal, 5 path. ``spec()`` describes a codec, so a checkpoint rebuilds it.
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from tasks.errors import InvalidTaskError, describe_validation_error
from tasks.maze import MAX_MAZE_SIDE, Cell, MazeTask, as_cell
from tasks.sudoku import MAX_SUDOKU_SIDE, SudokuGrid, SudokuTask

__all__ = [
    "bfs_distances",
    "PAD_ID",
    "SUDOKU_BLANK_ID",
    "MAZE_WALL_ID",
    "MAZE_FREE_ID",
    "MAZE_START_ID",
    "MAZE_GOAL_ID",
    "MAZE_PATH_ID",
    "bfs_route",
    "SudokuCodec",
    "MazeCodec",
    "Codec",
    "codec_from_spec",
]

#: Padding, in every codec: canvas cells outside the task (and the ignore label of the loss).
PAD_ID = 0
#: A blank Sudoku cell; digit ``v`` is token ``v + 1``.
SUDOKU_BLANK_ID = 1
MAZE_WALL_ID = 1
MAZE_FREE_ID = 2
MAZE_START_ID = 3
MAZE_GOAL_ID = 4
MAZE_PATH_ID = 5

_MAZE_VOCAB = 6
# Byte -> token for the maze rows ('#' wall, '.' free), so a whole maze encodes in one lookup.
_ROW_LUT = np.zeros(256, dtype=np.int64)
_ROW_LUT[ord("#")] = MAZE_WALL_ID
_ROW_LUT[ord(".")] = MAZE_FREE_ID


def _int_field(value: object) -> int:
    # pydantic's lax mode would turn True into 1 and "3" into 3; a codec shape must be an int.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"expected an int, got {value!r}")
    return int(value)


def _token_array(tokens: object, seq_len: int, what: str) -> np.ndarray:
    """``tokens`` as a flat int64 array of ``seq_len`` ids (any shape with that many elements)."""
    try:
        array = np.asarray(tokens)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidTaskError(f"{what} tokens must be an int array: {exc}") from None
    if array.dtype.kind not in "iu":
        raise InvalidTaskError(f"{what} tokens must be integers, got dtype {array.dtype}")
    if array.size != seq_len:
        raise InvalidTaskError(
            f"{what} tokens must hold seq_len={seq_len} ids, got shape {array.shape}"
        )
    return array.astype(np.int64, copy=False).reshape(seq_len)


class _Codec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pad_id: ClassVar[int] = PAD_ID

    def __init__(self, **data: Any) -> None:
        # Callers catch InvalidTaskError, not pydantic's ValidationError.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            name = type(self).__name__
            raise InvalidTaskError(f"invalid {name}: {describe_validation_error(exc)}") from None

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    @property
    def seq_len(self) -> int:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """A JSON-able description of the codec; :func:`codec_from_spec` rebuilds it."""
        return {
            **self.model_dump(),
            "vocab_size": self.vocab_size,
            "seq_len": self.seq_len,
            "pad_id": self.pad_id,
        }


# ---------------------------------------------------------------------------- Sudoku
class SudokuCodec(_Codec):
    """Sudoku <-> tokens for one box shape: ``N*N`` tokens row-major, vocabulary ``N + 2``.

    Token 0 is PAD (unused inside a Sudoku), 1 a blank, ``v + 1`` the digit ``v``; so a 9x9
    Sudoku has vocabulary 11 and sequence length 81, exactly as the TRM Sudoku-Extreme data.

    Examples
    --------
    >>> codec = SudokuCodec(box_rows=2, box_cols=2)
    >>> codec.vocab_size, codec.seq_len
    (6, 16)
    >>> task = SudokuTask.parse("1.3." "..1." ".1.." "...1")
    >>> codec.encode_puzzle(task)[:4].tolist()
    [2, 1, 4, 1]
    >>> codec.decode(codec.encode_puzzle(task)) == task.grid
    True
    """

    kind: Literal["sudoku"] = "sudoku"
    box_rows: int
    box_cols: int

    blank_id: ClassVar[int] = SUDOKU_BLANK_ID

    @field_validator("box_rows", "box_cols", mode="before")
    @classmethod
    def _ints(cls, value: object) -> int:
        return _int_field(value)

    @model_validator(mode="after")
    def _check_box(self) -> SudokuCodec:
        if self.box_rows < 1 or self.box_cols < 1:
            raise ValueError(f"box dimensions must be >= 1, got {self.box_rows}x{self.box_cols}")
        if self.size > MAX_SUDOKU_SIDE:
            raise ValueError(f"grid side {self.size} exceeds the supported {MAX_SUDOKU_SIDE}")
        return self

    @classmethod
    def for_task(cls, task: SudokuTask) -> SudokuCodec:
        """The codec of ``task``'s box shape.

        Examples
        --------
        >>> SudokuCodec.for_task(SudokuTask.from_grid([[0] * 6] * 6)).spec()["seq_len"]
        36
        """
        if not isinstance(task, SudokuTask):
            raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
        return cls(box_rows=task.box_rows, box_cols=task.box_cols)

    @property
    def size(self) -> int:
        """Grid side N."""
        return self.box_rows * self.box_cols

    @property
    def vocab_size(self) -> int:
        """``N + 2``: PAD, blank and the N digits."""
        return self.size + 2

    @property
    def seq_len(self) -> int:
        """``N * N``, one token per cell, row-major."""
        return self.size * self.size

    def _describe(self) -> str:
        return f"{self.size}x{self.size} Sudoku with {self.box_rows}x{self.box_cols} boxes"

    def _check_task(self, task: object) -> SudokuTask:
        if not isinstance(task, SudokuTask):
            raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
        if (task.box_rows, task.box_cols) != (self.box_rows, self.box_cols):
            raise InvalidTaskError(
                f"this codec is for {self._describe()}; the task is {task.size}x{task.size} "
                f"with {task.box_rows}x{task.box_cols} boxes"
            )
        return task

    def encode_puzzle(self, task: SudokuTask) -> np.ndarray:
        """The puzzle's ``(seq_len,)`` int64 tokens: blanks are 1, digit ``v`` is ``v + 1``.

        Raises
        ------
        InvalidTaskError
            When ``task`` is not a SudokuTask of this codec's box shape (naming both sizes).
        """
        task = self._check_task(task)
        return np.asarray(task.grid, dtype=np.int64).reshape(self.seq_len) + 1

    def encode_batch(self, tasks: Sequence[SudokuTask]) -> np.ndarray:
        """Puzzles stacked to ``(len(tasks), seq_len)``.

        Examples
        --------
        >>> codec = SudokuCodec(box_rows=2, box_cols=2)
        >>> codec.encode_batch([]).shape
        (0, 16)
        """
        out = np.empty((len(tasks), self.seq_len), dtype=np.int64)
        for i, task in enumerate(tasks):
            out[i] = self.encode_puzzle(task)
        return out

    def encode_solution(
        self, grid: SudokuGrid | Sequence[Sequence[int]] | np.ndarray
    ) -> np.ndarray:
        """A complete ``N x N`` grid (values ``1..N``) as ``(seq_len,)`` int64 label tokens.

        Raises
        ------
        InvalidTaskError
            On a wrong shape, a non-integer cell, or a value outside ``1..N`` (blanks included:
            a label must be complete).

        Examples
        --------
        >>> SudokuCodec(box_rows=1, box_cols=2).encode_solution([[1, 2], [2, 1]]).tolist()
        [2, 3, 3, 2]
        """
        n = self.size
        try:
            array = np.asarray(grid)
        except (TypeError, ValueError) as exc:
            raise InvalidTaskError(f"solution must be an {n}x{n} grid of ints: {exc}") from None
        if array.dtype.kind not in "iu":
            raise InvalidTaskError(f"solution must hold ints, got dtype {array.dtype}")
        if array.shape != (n, n):
            raise InvalidTaskError(
                f"solution must be {n}x{n} for {self._describe()}, got shape {array.shape}"
            )
        if array.size and (array.min() < 1 or array.max() > n):
            raise InvalidTaskError(f"solution values must be in 1..{n}")
        return array.astype(np.int64).reshape(self.seq_len) + 1

    def decode(self, tokens: object) -> SudokuGrid:
        """Tokens (``(seq_len,)`` or ``(N, N)``) back to a grid.

        Any token that is not a digit (PAD, blank, out of vocabulary) decodes to 0, a blank, so a
        wrong prediction is still a grid that :func:`~tasks.verify.verify` can reject.

        Raises
        ------
        InvalidTaskError
            When ``tokens`` is not an int array of ``seq_len`` elements.

        Examples
        --------
        >>> SudokuCodec(box_rows=1, box_cols=2).decode([2, 0, 9, 3])
        ((1, 0), (0, 2))
        """
        array = _token_array(tokens, self.seq_len, "Sudoku")
        digit = (array >= 2) & (array <= self.size + 1)
        values = np.where(digit, array - 1, 0).reshape(self.size, self.size)
        return tuple(tuple(row) for row in values.tolist())

    def decode_batch(self, tokens: object) -> list[SudokuGrid]:
        """Each row of a ``(B, seq_len)`` token array decoded with :meth:`decode`."""
        try:
            array = np.asarray(tokens)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise InvalidTaskError(
                f"tokens must be a (B, {self.seq_len}) int array: {exc}"
            ) from None
        if array.ndim != 2:
            raise InvalidTaskError(
                f"tokens must be a (B, {self.seq_len}) int array, got shape {array.shape}"
            )
        return [self.decode(row) for row in array]


# ---------------------------------------------------------------------------- Maze
class MazeCodec(_Codec):
    """Maze <-> tokens on a fixed ``height x width`` canvas; vocabulary 6.

    Tokens: 0 PAD, 1 wall ``#``, 2 free, 3 start ``S``, 4 goal ``G``, 5 path ``o``, as the TRM
    Maze-Hard data (30x30 -> ``seq_len`` 900). A smaller maze sits at the canvas's top-left,
    the rest PAD. The label is the input with the path cells drawn as 5.

    Examples
    --------
    >>> m = MazeTask.parse('''
    ... S.#
    ... #.G''')
    >>> codec = MazeCodec(height=2, width=4)
    >>> codec.encode_input(m).reshape(2, 4).tolist()
    [[3, 2, 1, 0], [1, 2, 4, 0]]
    >>> label = codec.encode_label(m, [(0, 0), (0, 1), (1, 1), (1, 2)])
    >>> label.reshape(2, 4).tolist()
    [[3, 5, 1, 0], [1, 5, 4, 0]]
    >>> codec.decode_path(label, m)
    [(0, 0), (0, 1), (1, 1), (1, 2)]
    """

    kind: Literal["maze"] = "maze"
    height: int
    width: int

    @field_validator("height", "width", mode="before")
    @classmethod
    def _ints(cls, value: object) -> int:
        return _int_field(value)

    @model_validator(mode="after")
    def _check_canvas(self) -> MazeCodec:
        for name, value in (("height", self.height), ("width", self.width)):
            if not 1 <= value <= MAX_MAZE_SIDE:
                raise ValueError(f"{name} must be in 1..{MAX_MAZE_SIDE}, got {value}")
        return self

    @classmethod
    def for_task(cls, task: MazeTask) -> MazeCodec:
        """The codec whose canvas is exactly ``task``'s size."""
        if not isinstance(task, MazeTask):
            raise InvalidTaskError(f"expected a MazeTask, got {type(task).__name__}")
        return cls(height=task.height, width=task.width)

    @property
    def vocab_size(self) -> int:
        """6: PAD, wall, free, start, goal, path."""
        return _MAZE_VOCAB

    @property
    def seq_len(self) -> int:
        """``height * width``, one token per canvas cell, row-major."""
        return self.height * self.width

    def _check_task(self, task: object) -> MazeTask:
        if not isinstance(task, MazeTask):
            raise InvalidTaskError(f"expected a MazeTask, got {type(task).__name__}")
        if task.height > self.height or task.width > self.width:
            raise InvalidTaskError(
                f"a {task.height}x{task.width} maze does not fit this codec's "
                f"{self.height}x{self.width} canvas"
            )
        return task

    def _maze_canvas(self, task: MazeTask) -> np.ndarray:
        """``(height, width)`` tokens of the walls and free cells, PAD around the maze."""
        canvas = np.zeros((self.height, self.width), dtype=np.int64)
        raw = np.frombuffer("".join(task.rows).encode("ascii"), dtype=np.uint8)
        canvas[: task.height, : task.width] = _ROW_LUT[raw].reshape(task.height, task.width)
        return canvas

    @staticmethod
    def _mark_endpoints(canvas: np.ndarray, task: MazeTask) -> None:
        for r, c in task.goals:
            canvas[r, c] = MAZE_GOAL_ID
        # drawn last: a start that is also a goal reads as S, as MazeTask.to_text shows it
        canvas[task.start] = MAZE_START_ID

    def encode_input(self, task: MazeTask) -> np.ndarray:
        """The maze as ``(seq_len,)`` int64 tokens: walls, free cells, S, every goal cell G.

        Raises
        ------
        InvalidTaskError
            When ``task`` is not a MazeTask or is bigger than the canvas (naming both sizes).
        """
        task = self._check_task(task)
        canvas = self._maze_canvas(task)
        self._mark_endpoints(canvas, task)
        return canvas.reshape(self.seq_len)

    def encode_batch(self, tasks: Sequence[MazeTask]) -> np.ndarray:
        """Inputs stacked to ``(len(tasks), seq_len)``."""
        out = np.empty((len(tasks), self.seq_len), dtype=np.int64)
        for i, task in enumerate(tasks):
            out[i] = self.encode_input(task)
        return out

    def encode_label(self, task: MazeTask, path: Sequence[Cell]) -> np.ndarray:
        """The label: the input with every path cell drawn as 5 (``o``), S and G kept.

        ``path`` is not checked for optimality (that is :func:`~tasks.verify.verify`'s job),
        only that its cells lie on free cells of the maze. An empty path gives the input.

        Raises
        ------
        InvalidTaskError
            On a cell that is not a ``(row, col)`` pair, outside the maze or on a wall.
        """
        task = self._check_task(task)
        canvas = self._maze_canvas(task)
        for cell in path:
            r, c = _as_cell(cell)
            if not (0 <= r < task.height and 0 <= c < task.width):
                raise InvalidTaskError(
                    f"path cell {(r, c)} is outside the {task.height}x{task.width} maze"
                )
            if canvas[r, c] != MAZE_FREE_ID:
                raise InvalidTaskError(f"path cell {(r, c)} is on a wall")
            canvas[r, c] = MAZE_PATH_ID
        self._mark_endpoints(canvas, task)
        return canvas.reshape(self.seq_len)

    def decode_path(self, tokens: object, task: MazeTask, *, strict: bool = False) -> list[Cell]:
        """Read a path out of predicted tokens: decoding, never solving.

        The usable cells are the free cells of ``task`` the prediction marks ``o`` (5), plus the
        start and the goal cells; marks on walls, on PAD or outside the maze are ignored, as are
        predicted ``S``/``G`` tokens. A breadth-first search from the start *restricted to the
        usable cells* returns the shortest start-to-goal route among them, which is the marked
        path itself when the marks form a simple path. When the marks do not connect the start
        to a goal, the result is the route to the farthest usable cell reachable from the start
        (ties: nearest to a goal, then row-major), or just ``[start]``: a partial path that
        :func:`~tasks.verify.verify` rejects.

        With ``strict=True`` the marks must *be* the path, or a union of equally short paths:
        if any cell of the maze marked ``o`` (a free cell or a wall) lies on no shortest
        start-to-goal route through the marked cells, the result is ``[start]``. Without it, a
        prediction marking every free cell of a perfect maze would decode to its shortest
        path, and the decoder's search, not the network, would have found it. (A maze with
        several shortest paths may be answered by marking all of them: every marked cell then
        lies on one; the route returned is the first in BFS order, and :func:`verify` checks
        that it is globally shortest.)

        Raises
        ------
        InvalidTaskError
            When ``tokens`` is not an int array of ``seq_len`` elements or ``task`` does not fit.

        Examples
        --------
        >>> m = MazeTask.parse("S..G")
        >>> codec = MazeCodec(height=1, width=4)
        >>> codec.decode_path([3, 5, 5, 4], m)
        [(0, 0), (0, 1), (0, 2), (0, 3)]
        >>> codec.decode_path([3, 5, 2, 4], m)  # a missing cell: only the prefix
        [(0, 0), (0, 1)]
        >>> m2 = MazeTask.parse("S.G\\n...")
        >>> codec2 = MazeCodec(height=2, width=3)
        >>> codec2.decode_path([3, 5, 4, 5, 5, 5], m2)  # every free cell marked
        [(0, 0), (0, 1), (0, 2)]
        >>> codec2.decode_path([3, 5, 4, 5, 5, 5], m2, strict=True)
        [(0, 0)]
        """
        task = self._check_task(task)
        grid = _token_array(tokens, self.seq_len, "maze").reshape(self.height, self.width)
        h, w = task.height, task.width
        raw = np.frombuffer("".join(task.rows).encode("ascii"), dtype=np.uint8).reshape(h, w)
        usable = (grid[:h, :w] == MAZE_PATH_ID) & (raw == ord("."))
        for r, c in task.goals:
            usable[r, c] = True
        usable[task.start] = True
        route = bfs_route(usable.ravel().tolist(), h, w, task.start, task.goals)
        if strict:
            rows, cols = np.nonzero(grid[:h, :w] == MAZE_PATH_ID)
            marked = set(zip(rows.tolist(), cols.tolist(), strict=True))
            extra = marked - set(route) - {task.start, *task.goals}
            if extra and not _on_shortest_routes(extra, usable, task, len(route) - 1):
                return [task.start]
        return route


def bfs_distances(usable: np.ndarray, sources: Sequence[Cell]) -> np.ndarray:
    """Moves from the nearest of ``sources`` to every cell over ``usable`` cells (4-connected);
    -1 where unreachable.

    Examples
    --------
    >>> bfs_distances(np.array([[True, True], [False, True]]), [(0, 0)]).tolist()
    [[0, 1], [-1, 2]]
    """
    h, w = usable.shape
    dist = np.full((h, w), -1, dtype=np.int64)
    queue = deque()
    for r, c in sources:
        if usable[r, c] and dist[r, c] < 0:
            dist[r, c] = 0
            queue.append((r, c))
    while queue:
        r, c = queue.popleft()
        d = dist[r, c] + 1
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nr < h and 0 <= nc < w and usable[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = d
                queue.append((nr, nc))
    return dist


def _on_shortest_routes(cells: set[Cell], usable: np.ndarray, task: MazeTask, length: int) -> bool:
    """Whether every cell in ``cells`` lies on some shortest start-to-goal route of ``length``
    moves through the ``usable`` cells: then the marks are a union of such routes (several
    shortest paths drawn at once), not a blob of marked cells that the decoder would solve."""
    from_start = bfs_distances(usable, [task.start])
    to_goal = bfs_distances(usable, list(task.goals))
    if length < 0 or to_goal[task.start] != length:
        return False  # the route did not reach a goal
    return all(
        from_start[c] >= 0 and to_goal[c] >= 0 and from_start[c] + to_goal[c] == length
        for c in cells
    )


def _as_cell(value: object) -> Cell:
    return as_cell(value, "a path cell")


def bfs_route(usable: list[bool], h: int, w: int, start: Cell, goals: Sequence[Cell]) -> list[Cell]:
    """Shortest route from ``start`` to a goal over ``usable`` cells (flat, row-major), else the
    route to the farthest reachable usable cell. Neighbours are tried up, down, left, right,
    which breaks ties between equally short routes deterministically."""
    goal_ids = {r * w + c for r, c in goals}
    s = start[0] * w + start[1]
    parent = {s: -1}
    order = [s]  # BFS visiting order: distances are non-decreasing along it
    dist = {s: 0}
    end = s if s in goal_ids else None
    queue = deque([s])
    while queue and end is None:
        u = queue.popleft()
        col = u % w
        for v, ok in (
            (u - w, u >= w),
            (u + w, u + w < h * w),
            (u - 1, col > 0),
            (u + 1, col < w - 1),
        ):
            if ok and usable[v] and v not in parent:
                parent[v] = u
                dist[v] = dist[u] + 1
                order.append(v)
                if v in goal_ids:
                    end = v
                    break
                queue.append(v)
    if end is None:
        far = dist[order[-1]]

        def goal_gap(u: int) -> int:
            r, c = divmod(u, w)
            return min(abs(r - gr) + abs(c - gc) for gr, gc in goals)

        end = min((u for u in order if dist[u] == far), key=lambda u: (goal_gap(u), u))
    route = []
    while end != -1:
        route.append(divmod(end, w))
        end = parent[end]
    return route[::-1]


Codec = SudokuCodec | MazeCodec

_CODECS: dict[str, type[_Codec]] = {"sudoku": SudokuCodec, "maze": MazeCodec}


def codec_from_spec(spec: Mapping[str, Any]) -> SudokuCodec | MazeCodec:
    """Rebuild a codec from its :meth:`spec` (e.g. read back from a checkpoint's JSON).

    The derived entries (``vocab_size``, ``seq_len``, ``pad_id``) are optional; when present
    they must match what the codec computes, which catches a checkpoint built for another
    token layout.

    Raises
    ------
    InvalidTaskError
        On a spec that is not a mapping, an unknown ``kind``, unknown or missing keys, bad
        values, or derived entries that disagree.

    Examples
    --------
    >>> import json
    >>> codec = MazeCodec(height=30, width=30)
    >>> codec_from_spec(json.loads(json.dumps(codec.spec()))) == codec
    True
    >>> codec_from_spec({"kind": "sudoku", "box_rows": 3, "box_cols": 3}).vocab_size
    11
    """
    if not isinstance(spec, Mapping):
        raise InvalidTaskError(f"a codec spec is a mapping, got {type(spec).__name__}")
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in _CODECS:
        raise InvalidTaskError(f"unknown codec kind {kind!r}; expected one of {sorted(_CODECS)}")
    cls = _CODECS[kind]
    derived = ("vocab_size", "seq_len", "pad_id")
    if not all(isinstance(k, str) for k in spec):
        raise InvalidTaskError(f"codec spec keys must be strings, got {sorted(map(repr, spec))}")
    fields = {k: v for k, v in spec.items() if k not in derived}
    codec = cls(**fields)
    expected = codec.spec()
    for key in derived:
        if key in spec and spec[key] != expected[key]:
            raise InvalidTaskError(
                f"codec spec says {key}={spec[key]!r} but a {kind} codec of this shape has "
                f"{key}={expected[key]!r}"
            )
    return codec  # type: ignore[return-value]
