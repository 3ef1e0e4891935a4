"""Validity-preserving augmentations with exact inverses: Sudoku symmetries, maze dihedrals.

Seeded through ``np.random.Generator`` (or an int seed); numpy only.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from tasks.errors import InvalidTaskError, describe_validation_error
from tasks.generators._common import as_rng
from tasks.generators.sudoku import RngLike
from tasks.maze import MAX_MAZE_SIDE, Cell, MazeTask, as_cell
from tasks.sudoku import MAX_SUDOKU_SIDE, SudokuGrid, SudokuTask

__all__ = [
    "RngLike",
    "SudokuTransform",
    "random_sudoku_transform",
    "augment_sudoku_pair",
    "MazeTransform",
    "all_maze_transforms",
    "random_maze_transform",
    "augment_maze",
]


def _int_field(value: object) -> int:
    # pydantic's lax mode would accept True as 1; transform parameters must be real ints.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"expected an int, got {value!r}")
    return int(value)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        # Callers catch InvalidTaskError, not pydantic's ValidationError.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            name = type(self).__name__
            raise InvalidTaskError(f"invalid {name}: {describe_validation_error(exc)}") from None


def _is_permutation(values: Sequence[int], n: int, first: int = 0) -> bool:
    return len(values) == n and sorted(values) == list(range(first, first + n))


def _keeps_blocks(order: Sequence[int], block: int) -> bool:
    """True when each output block of ``block`` consecutive lines comes from one input block."""
    return all(
        len({i // block for i in order[b : b + block]}) == 1 for b in range(0, len(order), block)
    )


# ---------------------------------------------------------------------------- Sudoku
class SudokuTransform(_Frozen):
    """A Sudoku symmetry: relabel digits, reorder rows and columns, optionally transpose.

    Applied in that order: value ``v`` becomes ``digits[v - 1]`` (0, a blank, stays 0); output
    row ``i`` is input row ``rows[i]`` and output column ``j`` input column ``cols[j]``; then the
    grid is transposed when ``transpose``. ``rows`` may only permute the bands (groups of
    ``box_rows`` rows) and the rows within each band, ``cols`` the stacks and the columns within
    each stack, and ``transpose`` needs square boxes: exactly the moves that map every valid
    grid to a valid grid with the same box shape.

    Examples
    --------
    >>> t = SudokuTransform(
    ...     box_rows=1, box_cols=2, digits=(2, 1), rows=(1, 0), cols=(0, 1), transpose=False
    ... )
    >>> t.apply([[1, 2], [0, 1]])
    ((0, 2), (2, 1))
    >>> t.inverse().apply(t.apply([[1, 2], [0, 1]]))
    ((1, 2), (0, 1))
    """

    box_rows: int
    box_cols: int
    digits: tuple[int, ...]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    transpose: StrictBool = False

    @field_validator("box_rows", "box_cols", mode="before")
    @classmethod
    def _ints(cls, value: object) -> int:
        return _int_field(value)

    @field_validator("digits", "rows", "cols", mode="before")
    @classmethod
    def _int_tuples(cls, value: object) -> tuple[int, ...]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
            raise ValueError(f"expected a sequence of ints, got {value!r}")
        return tuple(_int_field(v) for v in value)

    @model_validator(mode="after")
    def _check(self) -> SudokuTransform:
        br, bc = self.box_rows, self.box_cols
        if br < 1 or bc < 1:
            raise ValueError(f"box dimensions must be >= 1, got {br}x{bc}")
        n = br * bc
        if n > MAX_SUDOKU_SIDE:
            raise ValueError(f"grid side {n} exceeds the supported {MAX_SUDOKU_SIDE}")
        if not _is_permutation(self.digits, n, first=1):
            raise ValueError(f"digits must be a permutation of 1..{n}, got {self.digits}")
        for name, order, block, unit in (
            ("rows", self.rows, br, "bands"),
            ("cols", self.cols, bc, "stacks"),
        ):
            if not _is_permutation(order, n):
                raise ValueError(f"{name} must be a permutation of 0..{n - 1}, got {order}")
            if not _keeps_blocks(order, block):
                raise ValueError(
                    f"{name} {order} mixes {unit}: only whole {unit} and lines within a "
                    f"{unit[:-1]} may move"
                )
        if self.transpose and br != bc:
            raise ValueError(f"transpose needs square boxes, got {br}x{bc}")
        return self

    @classmethod
    def identity(cls, box_rows: int, box_cols: int) -> SudokuTransform:
        """The transform that changes nothing.

        Examples
        --------
        >>> SudokuTransform.identity(2, 2).apply([[1, 2, 3, 4]] * 4)[0]
        (1, 2, 3, 4)
        """
        n = _int_field_or_raise("box_rows", box_rows) * _int_field_or_raise("box_cols", box_cols)
        return cls(
            box_rows=box_rows,
            box_cols=box_cols,
            digits=tuple(range(1, n + 1)),
            rows=tuple(range(n)),
            cols=tuple(range(n)),
        )

    @property
    def size(self) -> int:
        """Grid side N."""
        return self.box_rows * self.box_cols

    def _as_array(self, grid: object) -> np.ndarray:
        n = self.size
        try:
            array = np.asarray(grid)
        except (TypeError, ValueError) as exc:
            raise InvalidTaskError(f"grid must be {n}x{n} ints: {exc}") from None
        if array.dtype.kind not in "iu":
            raise InvalidTaskError(f"grid must hold ints, got dtype {array.dtype}")
        if array.shape != (n, n):
            raise InvalidTaskError(f"grid must be {n}x{n} for this transform, got {array.shape}")
        if array.size and (array.min() < 0 or array.max() > n):
            raise InvalidTaskError(f"grid values must be 0 (blank) or 1..{n}")
        return array

    def apply(self, grid: SudokuGrid | Sequence[Sequence[int]] | np.ndarray) -> SudokuGrid:
        """The transformed ``N x N`` grid (blanks stay blank).

        Raises
        ------
        InvalidTaskError
            On a grid of the wrong shape, non-integer cells or values outside ``0..N``.
        """
        array = self._as_array(grid)
        relabel = np.array((0, *self.digits), dtype=np.int64)
        out = relabel[array][np.ix_(self.rows, self.cols)]
        if self.transpose:
            out = out.T
        return tuple(tuple(row) for row in out.tolist())

    def apply_task(self, task: SudokuTask) -> SudokuTask:
        """The task with its givens transformed (same box shape).

        Raises
        ------
        InvalidTaskError
            When ``task`` is not a SudokuTask with this transform's box shape.
        """
        if not isinstance(task, SudokuTask):
            raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
        if task.box != (self.box_rows, self.box_cols):
            raise InvalidTaskError(
                f"this transform is for {self.box_rows}x{self.box_cols} boxes, the task has "
                f"{task.box_rows}x{task.box_cols} boxes"
            )
        return SudokuTask(
            box_rows=task.box_rows, box_cols=task.box_cols, grid=self.apply(task.grid)
        )

    def inverse(self) -> SudokuTransform:
        """The transform undoing this one: ``t.inverse().apply(t.apply(g)) == g``."""
        digits = [0] * self.size
        for v, new in enumerate(self.digits, start=1):
            digits[new - 1] = v
        row_inv = tuple(int(i) for i in np.argsort(self.rows))
        col_inv = tuple(int(j) for j in np.argsort(self.cols))
        # Forward: out = T?(relabel(g)[rows][:, cols]). Undoing a transpose swaps the roles of
        # the row and column orders (boxes are square then, so bands and stacks coincide).
        rows, cols = (col_inv, row_inv) if self.transpose else (row_inv, col_inv)
        return SudokuTransform(
            box_rows=self.box_rows,
            box_cols=self.box_cols,
            digits=tuple(digits),
            rows=rows,
            cols=cols,
            transpose=self.transpose,
        )


def _int_field_or_raise(name: str, value: object) -> int:
    try:
        return _int_field(value)
    except ValueError as exc:
        raise InvalidTaskError(f"{name}: {exc}") from None


def random_sudoku_transform(box_rows: int, box_cols: int, rng: RngLike = None) -> SudokuTransform:
    """A uniformly random symmetry: digit relabelling, band and row-in-band order, stack and
    column-in-stack order, and a fair-coin transpose when the boxes are square.

    The same draws as the TRM Sudoku-Extreme augmentation, for any box shape.

    Raises
    ------
    InvalidTaskError
        On bad box dimensions or a bad ``rng``.

    Examples
    --------
    >>> t = random_sudoku_transform(3, 3, np.random.default_rng(0))
    >>> t == random_sudoku_transform(3, 3, np.random.default_rng(0))
    True
    >>> sorted(t.digits) == list(range(1, 10))
    True
    """
    br = _int_field_or_raise("box_rows", box_rows)
    bc = _int_field_or_raise("box_cols", box_cols)
    if br < 1 or bc < 1 or br * bc > MAX_SUDOKU_SIDE:
        raise InvalidTaskError(
            f"box must have dimensions >= 1 and a side <= {MAX_SUDOKU_SIDE}, got {br}x{bc}"
        )
    gen = as_rng(rng)
    n = br * bc
    digits = (gen.permutation(n) + 1).tolist()
    bands = gen.permutation(bc).tolist()
    rows = [b * br + i for b in bands for i in gen.permutation(br).tolist()]
    stacks = gen.permutation(br).tolist()
    cols = [s * bc + j for s in stacks for j in gen.permutation(bc).tolist()]
    transpose = br == bc and bool(gen.integers(2))
    return SudokuTransform(
        box_rows=br, box_cols=bc, digits=digits, rows=rows, cols=cols, transpose=transpose
    )


def augment_sudoku_pair(
    task: SudokuTask,
    solution: SudokuGrid | Sequence[Sequence[int]] | np.ndarray,
    rng: RngLike = None,
) -> tuple[SudokuTask, SudokuGrid]:
    """``task`` and ``solution`` under one random symmetry (see :func:`random_sudoku_transform`).

    Examples
    --------
    >>> task = SudokuTask.parse("12.." "34.." "...." "....")
    >>> solution = ((1, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 2, 1))
    >>> new_task, new_solution = augment_sudoku_pair(task, solution, np.random.default_rng(1))
    >>> from tasks.verify import verify
    >>> verify(new_task, new_solution).ok, new_task.n_givens
    (True, 4)
    """
    if not isinstance(task, SudokuTask):
        raise InvalidTaskError(f"expected a SudokuTask, got {type(task).__name__}")
    transform = random_sudoku_transform(task.box_rows, task.box_cols, rng)
    return transform.apply_task(task), transform.apply(solution)


# ---------------------------------------------------------------------------- Maze
class MazeTransform(_Frozen):
    """One of the 8 symmetries of the square: an optional left-right mirror, then ``k_rot``
    quarter turns counter-clockwise (``np.fliplr`` then ``np.rot90``).

    A quarter turn of an ``H x W`` maze gives a ``W x H`` maze: non-square mazes are fine.

    Examples
    --------
    >>> m = MazeTask.parse('''
    ... S.#
    ... ..G''')
    >>> t = MazeTransform(k_rot=1, flip=False)
    >>> print(t.apply_task(m))
    #G
    ..
    S.
    >>> t.apply_path([(0, 0), (1, 0), (1, 1), (1, 2)], 2, 3)
    [(2, 0), (2, 1), (1, 1), (0, 1)]
    >>> t.inverse().apply_task(t.apply_task(m)) == m
    True
    """

    k_rot: int
    flip: StrictBool = False

    @field_validator("k_rot", mode="before")
    @classmethod
    def _k(cls, value: object) -> int:
        k = _int_field(value)
        if not 0 <= k <= 3:
            raise ValueError(f"k_rot must be in 0..3, got {k}")
        return k

    @classmethod
    def identity(cls) -> MazeTransform:
        """The transform that changes nothing."""
        return cls(k_rot=0, flip=False)

    def shape(self, height: int, width: int) -> tuple[int, int]:
        """``(height, width)`` after the transform: swapped by an odd number of quarter turns."""
        return (width, height) if self.k_rot % 2 else (height, width)

    def apply_cell(self, cell: Cell, height: int, width: int) -> Cell:
        """Where ``cell`` of an ``height x width`` grid lands.

        Raises
        ------
        InvalidTaskError
            On a cell that is not an int pair inside the grid.

        Examples
        --------
        >>> MazeTransform(k_rot=0, flip=True).apply_cell((0, 0), 2, 3)
        (0, 2)
        """
        h, w = _dims(height, width)
        r, c = _as_cell(cell)
        if not (0 <= r < h and 0 <= c < w):
            raise InvalidTaskError(f"cell {(r, c)} is outside the {h}x{w} grid")
        if self.flip:
            c = w - 1 - c
        for _ in range(self.k_rot):
            # np.rot90 once: new[i, j] = old[j, w - 1 - i], so old (r, c) lands at (w - 1 - c, r)
            r, c, h, w = w - 1 - c, r, w, h
        return (r, c)

    def apply_array(self, array: np.ndarray) -> np.ndarray:
        """The transformed 2-D array (e.g. a grid of per-cell tokens or scores)."""
        out = np.asarray(array)
        if out.ndim != 2:
            raise InvalidTaskError(f"expected a 2-D array, got shape {out.shape}")
        if self.flip:
            out = np.fliplr(out)
        return np.rot90(out, self.k_rot)

    def apply_task(self, task: MazeTask) -> MazeTask:
        """The transformed maze: walls, start and goals (goal order kept).

        Raises
        ------
        InvalidTaskError
            When ``task`` is not a MazeTask.
        """
        if not isinstance(task, MazeTask):
            raise InvalidTaskError(f"expected a MazeTask, got {type(task).__name__}")
        h, w = task.height, task.width
        raw = np.frombuffer("".join(task.rows).encode("ascii"), dtype=np.uint8).reshape(h, w)
        out = np.ascontiguousarray(self.apply_array(raw))
        rows = tuple(line.tobytes().decode("ascii") for line in out)
        return MazeTask(
            rows=rows,
            start=self.apply_cell(task.start, h, w),
            goals=tuple(self.apply_cell(g, h, w) for g in task.goals),
        )

    def apply_path(self, path: Sequence[Cell], height: int, width: int) -> list[Cell]:
        """Each cell of ``path`` (on the untransformed ``height x width`` maze) transformed.

        Raises
        ------
        InvalidTaskError
            On a cell that is not an int pair inside the grid.
        """
        return [self.apply_cell(cell, height, width) for cell in path]

    def inverse(self) -> MazeTransform:
        """The transform undoing this one.

        A mirror reverses the sense of rotation (``F R F = R^-1``), so a mirrored transform is
        its own inverse; a pure rotation is undone by the opposite rotation.
        """
        return MazeTransform(k_rot=self.k_rot if self.flip else -self.k_rot % 4, flip=self.flip)


def _dims(height: object, width: object) -> tuple[int, int]:
    h = _int_field_or_raise("height", height)
    w = _int_field_or_raise("width", width)
    if not (1 <= h <= MAX_MAZE_SIDE and 1 <= w <= MAX_MAZE_SIDE):
        raise InvalidTaskError(f"grid size must be in 1..{MAX_MAZE_SIDE}, got {h}x{w}")
    return h, w


def _as_cell(value: object) -> Cell:
    return as_cell(value, "a cell")


def all_maze_transforms() -> tuple[MazeTransform, ...]:
    """The 8 dihedral transforms, identity first (rotations, then mirrored rotations).

    Examples
    --------
    >>> len(set(all_maze_transforms()))
    8
    """
    return tuple(MazeTransform(k_rot=k, flip=f) for f in (False, True) for k in range(4))


def random_maze_transform(rng: RngLike = None) -> MazeTransform:
    """One of the 8 dihedral transforms, uniformly (identity included, as in TRM).

    Examples
    --------
    >>> random_maze_transform(3) == random_maze_transform(3)
    True
    """
    return all_maze_transforms()[int(as_rng(rng).integers(8))]


def augment_maze(
    task: MazeTask, path: Sequence[Cell], rng: RngLike = None
) -> tuple[MazeTask, list[Cell]]:
    """``task`` and its ``path`` under one random dihedral transform.

    Examples
    --------
    >>> m = MazeTask.parse("S.G")
    >>> new_task, new_path = augment_maze(m, [(0, 0), (0, 1), (0, 2)], 5)
    >>> from tasks.verify import verify
    >>> verify(new_task, new_path).ok
    True
    """
    if not isinstance(task, MazeTask):
        raise InvalidTaskError(f"expected a MazeTask, got {type(task).__name__}")
    transform = random_maze_transform(rng)
    return transform.apply_task(task), transform.apply_path(path, task.height, task.width)
