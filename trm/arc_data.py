"""ARC for TRM: the reference's canvas codec, the augmentations (dihedral x colour permutation,
translation) with exact inverses, and the per-task augmented views that own puzzle ids.

Tokens (TRM_REFERENCE section 6): 0 PAD, 1 EOS, 2..11 colours 0..9, on a ``side x side``
canvas flattened row-major (``side`` = 30 in the reference; smaller canvases hold smaller
grids with the same layout, see :class:`ArcCodec`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pydantic import field_validator, model_validator

from tasks.arc import MAX_ARC_SIDE, ArcTask, Grid
from tasks.augment import _Frozen, _int_field, all_maze_transforms
from tasks.errors import InvalidTaskError, UnsupportedTaskError
from trm.losses import IGNORE_INDEX

__all__ = [
    "ARC_PAD_ID",
    "ARC_EOS_ID",
    "ARC_COLOUR_OFFSET",
    "ARC_VOCAB_SIZE",
    "ArcCodec",
    "ArcAugmentation",
    "random_arc_augmentation",
    "ArcPuzzleSet",
    "make_puzzle_set",
    "ArcExampleStream",
]

#: Canvas cells outside the grid and its EOS border; the ignored label of the loss.
ARC_PAD_ID = 0
#: The row just below the grid and the column just right of it: they give its size.
ARC_EOS_ID = 1
#: Colour ``c`` is token ``c + 2``.
ARC_COLOUR_OFFSET = 2
#: PAD, EOS and the ten colours.
ARC_VOCAB_SIZE = 12

# The 8 symmetries of the square, identity first; ArcAugmentation.dihedral indexes them.
_DIHEDRAL = all_maze_transforms()
_DIHEDRAL_INVERSE = tuple(_DIHEDRAL.index(t.inverse()) for t in _DIHEDRAL)


def _grid_array(grid: Grid | Sequence[Sequence[int]] | np.ndarray) -> np.ndarray:
    array = np.asarray(grid, dtype=np.int64)
    if array.ndim != 2 or 0 in array.shape:
        raise InvalidTaskError(f"an ARC grid is a non-empty 2-D array, got shape {array.shape}")
    if array.min() < 0 or array.max() > 9:
        raise InvalidTaskError("an ARC grid holds colours 0-9")
    return array


def _as_grid(array: np.ndarray) -> Grid:
    return tuple(tuple(int(v) for v in row) for row in array)


# ---------------------------------------------------------------------------- codec
class ArcCodec(_Frozen):
    """Grids <-> token sequences on a ``side x side`` canvas, as the reference encodes ARC.

    A grid of ``h x w`` colours is written at ``offset`` (top-left by default; training pairs
    may be translated), colours as ``c + 2``; EOS fills the row just below it (across its
    columns) and the column just right of it (across its rows) where these fit on the canvas;
    every other cell is PAD. The reference's canvas is 30 x 30 (900 tokens). A smaller
    ``side`` is the same layout cut down: it holds grids up to ``side x side`` (a grid that
    reaches the canvas edge has no EOS on that side; the edge marks its extent), which is how
    the CPU preset trains on small tasks with 100 tokens instead of 900.

    Examples
    --------
    >>> codec = ArcCodec(side=4)
    >>> codec.encode(((3, 0), (0, 7))).reshape(4, 4)
    array([[5, 2, 1, 0],
           [2, 9, 1, 0],
           [1, 1, 0, 0],
           [0, 0, 0, 0]])
    >>> codec.decode(codec.encode(((3, 0), (0, 7))))
    ((3, 0), (0, 7))
    >>> codec.decode(np.zeros(16, dtype=int)) is None  # no grid at the top-left: malformed
    True
    """

    side: int = MAX_ARC_SIDE

    @field_validator("side", mode="before")
    @classmethod
    def _side(cls, value: object) -> int:
        side = _int_field(value)
        if not 1 <= side <= MAX_ARC_SIDE:
            raise ValueError(f"side must be in 1..{MAX_ARC_SIDE}, got {side}")
        return side

    @classmethod
    def for_seq_len(cls, seq_len: int) -> ArcCodec:
        """The codec whose canvas has ``seq_len`` cells (a square: 900 -> side 30)."""
        side = int(round(seq_len**0.5))
        if side * side != seq_len or not 1 <= side <= MAX_ARC_SIDE:
            raise UnsupportedTaskError(
                f"an ARC canvas is side x side with side <= {MAX_ARC_SIDE}; seq_len {seq_len} "
                "is not such a square"
            )
        return cls(side=side)

    @property
    def vocab_size(self) -> int:
        return ARC_VOCAB_SIZE

    @property
    def seq_len(self) -> int:
        return self.side * self.side

    def fits(self, grid: Grid) -> bool:
        """Whether ``grid`` fits the canvas (at the top-left)."""
        return len(grid) <= self.side and len(grid[0]) <= self.side

    def max_offset(self, *grids: Grid) -> tuple[int, int]:
        """The largest (row, column) offset at which all ``grids`` fit together."""
        rows = self.side - max(len(g) for g in grids)
        cols = self.side - max(len(g[0]) for g in grids)
        if rows < 0 or cols < 0:
            raise UnsupportedTaskError(
                f"a grid does not fit the {self.side}x{self.side} canvas: "
                f"{[(len(g), len(g[0])) for g in grids]}"
            )
        return rows, cols

    def encode(self, grid: Grid | np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
        """The ``side * side`` int64 tokens of ``grid`` written at ``offset``.

        Raises
        ------
        UnsupportedTaskError
            If the grid does not fit the canvas at that offset.
        InvalidTaskError
            If ``grid`` is not a grid of colours 0-9.
        """
        array = _grid_array(grid)
        h, w = array.shape
        r0, c0 = (int(v) for v in offset)
        if r0 < 0 or c0 < 0 or r0 + h > self.side or c0 + w > self.side:
            raise UnsupportedTaskError(
                f"a {h}x{w} grid at offset {(r0, c0)} does not fit the {self.side}x{self.side} "
                "canvas"
            )
        canvas = np.full((self.side, self.side), ARC_PAD_ID, dtype=np.int64)
        canvas[r0 : r0 + h, c0 : c0 + w] = array + ARC_COLOUR_OFFSET
        if r0 + h < self.side:
            canvas[r0 + h, c0 : c0 + w] = ARC_EOS_ID
        if c0 + w < self.side:
            canvas[r0 : r0 + h, c0 + w] = ARC_EOS_ID
        return canvas.reshape(-1)

    def encode_label(self, grid: Grid | np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
        """Like :meth:`encode`, with PAD replaced by the loss's ignore index: the reference
        supervises the grid and its EOS border, not the padding."""
        tokens = self.encode(grid, offset)
        return np.where(tokens == ARC_PAD_ID, IGNORE_INDEX, tokens)

    def decode(self, tokens: Any, offset: tuple[int, int] = (0, 0)) -> Grid | None:
        """The grid written at ``offset``, or None when ``tokens`` hold no well-formed one.

        The height is the run of colour tokens down the first column, the width the run along
        the first row; the grid is well-formed when that rectangle is all colours and EOS
        closes it below and to the right (where the canvas continues). Cells beyond the EOS
        border are padding, which the loss ignores, so their tokens are not read. A malformed
        prediction decodes to None, never to a guessed grid.

        Raises
        ------
        InvalidTaskError
            If ``tokens`` do not have ``side * side`` entries.
        """
        flat = np.asarray(
            tokens.detach().cpu() if isinstance(tokens, torch.Tensor) else tokens, dtype=np.int64
        ).reshape(-1)
        if flat.size != self.seq_len:
            raise InvalidTaskError(f"expected {self.seq_len} tokens, got {flat.size}")
        r0, c0 = (int(v) for v in offset)
        canvas = flat.reshape(self.side, self.side)[r0:, c0:]
        if canvas.size == 0:
            return None
        colour = (canvas >= ARC_COLOUR_OFFSET) & (canvas < ARC_VOCAB_SIZE)
        h = _leading_true(colour[:, 0])
        w = _leading_true(colour[0, :])
        if h == 0 or w == 0 or not colour[:h, :w].all():
            return None
        if h < canvas.shape[0] and not (canvas[h, :w] == ARC_EOS_ID).all():
            return None
        if w < canvas.shape[1] and not (canvas[:h, w] == ARC_EOS_ID).all():
            return None
        return _as_grid(canvas[:h, :w] - ARC_COLOUR_OFFSET)


def _leading_true(values: np.ndarray) -> int:
    stops = np.flatnonzero(~values)
    return int(stops[0]) if stops.size else int(values.size)


# ---------------------------------------------------------------------------- augmentation
class ArcAugmentation(_Frozen):
    """A colour permutation with 0 (black) fixed, then one of the 8 dihedral transforms.

    ``colours[c]`` is the new colour of ``c`` (``colours[0] == 0``); ``dihedral`` indexes
    :func:`tasks.augment.all_maze_transforms` (0 = identity, 1-3 quarter turns, 4-7 mirrored).
    The two parts commute, so :meth:`inverse` is the inverse permutation with the inverse
    transform, and ``aug.inverse().apply(aug.apply(g)) == g`` for every grid.

    Examples
    --------
    >>> aug = ArcAugmentation(dihedral=1, colours=(0, 2, 1, 3, 4, 5, 6, 7, 8, 9))
    >>> aug.apply(((1, 0), (0, 2)))  # colours 1 <-> 2, then a quarter turn
    ((0, 1), (2, 0))
    >>> aug.inverse().apply(aug.apply(((1, 0), (0, 2))))
    ((1, 0), (0, 2))
    """

    dihedral: int = 0
    colours: tuple[int, ...] = tuple(range(10))

    @field_validator("dihedral", mode="before")
    @classmethod
    def _k(cls, value: object) -> int:
        k = _int_field(value)
        if not 0 <= k < len(_DIHEDRAL):
            raise ValueError(f"must be in 0..{len(_DIHEDRAL) - 1}, got {k}")
        return k

    @field_validator("colours", mode="before")
    @classmethod
    def _ints(cls, value: object) -> tuple[int, ...]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
            raise ValueError(f"expected a sequence of 10 colours, got {value!r}")
        return tuple(_int_field(v) for v in value)

    @model_validator(mode="after")
    def _check(self) -> ArcAugmentation:
        if sorted(self.colours) != list(range(10)) or self.colours[0] != 0:
            raise ValueError(
                f"colours must be a permutation of 0..9 that keeps 0, got {self.colours}"
            )
        return self

    @classmethod
    def identity(cls) -> ArcAugmentation:
        return cls()

    @property
    def is_identity(self) -> bool:
        return self.dihedral == 0 and self.colours == tuple(range(10))

    def apply_array(self, grid: Grid | np.ndarray) -> np.ndarray:
        """The augmented grid as a 2-D int64 array."""
        recoloured = np.asarray(self.colours, dtype=np.int64)[_grid_array(grid)]
        return np.ascontiguousarray(_DIHEDRAL[self.dihedral].apply_array(recoloured))

    def apply(self, grid: Grid | np.ndarray) -> Grid:
        """The augmented grid (a transposing transform swaps height and width)."""
        return _as_grid(self.apply_array(grid))

    def inverse(self) -> ArcAugmentation:
        """The augmentation that undoes this one."""
        inverse = [0] * 10
        for c, new in enumerate(self.colours):
            inverse[new] = c
        return ArcAugmentation(dihedral=_DIHEDRAL_INVERSE[self.dihedral], colours=tuple(inverse))

    def apply_task(self, task: ArcTask) -> ArcTask:
        """Every grid of ``task`` (demonstrations, test inputs, known test outputs) augmented."""
        train = [{"input": self.apply(p.input), "output": self.apply(p.output)} for p in task.train]
        test = [
            {
                "input": self.apply(t.input),
                "output": None if t.output is None else self.apply(t.output),
            }
            for t in task.test
        ]
        return ArcTask(task_id=task.task_id, train=train, test=test)


def random_arc_augmentation(rng: np.random.Generator) -> ArcAugmentation:
    """A uniform dihedral transform and a uniform permutation of colours 1-9 (0 fixed), as the
    reference draws them."""
    dihedral = int(rng.integers(len(_DIHEDRAL)))
    colours = (0, *(int(c) + 1 for c in rng.permutation(9)))
    return ArcAugmentation(dihedral=dihedral, colours=colours)


# ---------------------------------------------------------------------------- views and ids
def _puzzle_key(task: ArcTask, aug: ArcAugmentation) -> bytes:
    # What the model sees of a view: its demonstrations and test inputs (outputs excluded,
    # since unseen tasks have none). Two augmentations giving the same key are one view.
    grids = [g for p in task.train for g in (p.input, p.output)] + list(task.test_inputs)
    return repr([aug.apply(g) for g in grids]).encode()


def distinct_views(task: ArcTask, n_views: int, rng: np.random.Generator) -> list[ArcAugmentation]:
    """Up to ``n_views`` augmentations giving pairwise different puzzles, identity first.

    Draws at random and drops duplicates (a symmetric task has fewer distinct views), giving
    up after ``50 * n_views`` draws, as the reference rejects repeats by hashing the puzzle.
    """
    views = [ArcAugmentation.identity()]
    seen = {_puzzle_key(task, views[0])}
    for _ in range(50 * n_views):
        if len(views) >= n_views:
            break
        aug = random_arc_augmentation(rng)
        key = _puzzle_key(task, aug)
        if key not in seen:
            seen.add(key)
            views.append(aug)
    return views


@dataclass(frozen=True, slots=True)
class ArcPuzzleSet:
    """Tasks, each with its augmented views; every view owns one puzzle-embedding row.

    View ``k`` of task ``i`` is ``views[i][k]`` (view 0 is the identity) and its puzzle id is
    ``first_ids[i] + k``. From :func:`make_puzzle_set`, ids start at 1 (id 0 is the
    reference's blank id, used by no view); a :class:`trm.arc.FittedTask`'s single task
    starts at 0, the first row of its own table.
    """

    tasks: tuple[ArcTask, ...]
    views: tuple[tuple[ArcAugmentation, ...], ...]
    first_ids: tuple[int, ...]
    codec: ArcCodec

    @property
    def num_puzzle_ids(self) -> int:
        """Rows the model's puzzle-embedding table needs (blank id 0 included)."""
        return 1 + sum(len(v) for v in self.views)

    def puzzle_id(self, task_index: int, view: int) -> int:
        return self.first_ids[task_index] + view

    def index(self, task_id: str) -> int:
        """The position of the task named ``task_id``."""
        for i, task in enumerate(self.tasks):
            if task.task_id == task_id:
                return i
        raise InvalidTaskError(f"no task {task_id!r} in this puzzle set")


def check_fits(task: ArcTask, codec: ArcCodec) -> None:
    """:class:`UnsupportedTaskError` unless every grid of ``task`` fits ``codec``'s canvas."""
    grids = [g for p in task.train for g in (p.input, p.output)]
    grids += [g for t in task.test for g in (t.input, t.output) if g is not None]
    biggest = max(max(len(g), len(g[0])) for g in grids)
    if biggest > codec.side:
        raise UnsupportedTaskError(
            f"ARC task {task.name!r} has a grid of side {biggest}; the model's canvas is "
            f"{codec.side}x{codec.side}"
        )


def make_puzzle_set(
    tasks: Sequence[ArcTask], codec: ArcCodec, *, n_views: int, seed: int = 0
) -> ArcPuzzleSet:
    """Give every task ``n_views`` distinct views (identity first) and consecutive ids from 1.

    Raises
    ------
    UnsupportedTaskError
        If a task's grid does not fit the canvas.
    InvalidTaskError
        For an empty task list, a non-task, or ``n_views < 1``.
    """
    if isinstance(n_views, bool) or not isinstance(n_views, int) or n_views < 1:
        raise InvalidTaskError(f"n_views must be an int >= 1, got {n_views!r}")
    tasks = tuple(tasks)
    if not tasks:
        raise InvalidTaskError("no ARC tasks given")
    for task in tasks:
        if not isinstance(task, ArcTask):
            raise InvalidTaskError(f"expected ArcTask objects, got {type(task).__name__}")
        check_fits(task, codec)
    rng = np.random.default_rng(seed)
    views = tuple(tuple(distinct_views(t, n_views, rng)) for t in tasks)
    first_ids = tuple(int(v) for v in 1 + np.cumsum([0] + [len(v) for v in views[:-1]]))
    return ArcPuzzleSet(tasks=tasks, views=views, first_ids=first_ids, codec=codec)


class ArcExampleStream:
    """Random training examples of a puzzle set: a uniform task, view and pair, translated to a
    random offset with probability ``translate_prob`` (input and output share the offset).

    ``next_batch(n)`` returns ``(inputs, labels)`` like :class:`trm.data.TaskStream` (so the
    trainer's slot refill takes it) and leaves the rows' puzzle ids in ``last_ids``. Pairs are
    the demonstrations, plus the test pairs with known outputs when ``include_test_pairs``.
    """

    def __init__(
        self,
        puzzles: ArcPuzzleSet,
        rng: np.random.Generator,
        *,
        translate_prob: float,
        include_test_pairs: bool = False,
    ) -> None:
        self.puzzles = puzzles
        self.rng = rng
        self.translate_prob = float(translate_prob)
        self.pairs: list[list[tuple[Grid, Grid]]] = []
        for task in puzzles.tasks:
            pairs = [(p.input, p.output) for p in task.train]
            if include_test_pairs:
                pairs += [(t.input, t.output) for t in task.test if t.output is not None]
            self.pairs.append(pairs)
        self.last_ids = torch.zeros(0, dtype=torch.int64)

    def set_step(self, step: int) -> None:
        """Ignored: the stream does not change over training (the trainer's interface)."""

    def next_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        codec, rng = self.puzzles.codec, self.rng
        inputs = np.zeros((n, codec.seq_len), dtype=np.int64)
        labels = np.zeros((n, codec.seq_len), dtype=np.int64)
        ids = np.zeros(n, dtype=np.int64)
        for row in range(n):
            i = int(rng.integers(len(self.puzzles.tasks)))
            k = int(rng.integers(len(self.puzzles.views[i])))
            source, target = self.pairs[i][int(rng.integers(len(self.pairs[i])))]
            aug = self.puzzles.views[i][k]
            source, target = aug.apply(source), aug.apply(target)
            offset = (0, 0)
            if rng.random() < self.translate_prob:
                max_r, max_c = codec.max_offset(source, target)
                offset = (int(rng.integers(max_r + 1)), int(rng.integers(max_c + 1)))
            inputs[row] = codec.encode(source, offset)
            labels[row] = codec.encode_label(target, offset)
            ids[row] = self.puzzles.puzzle_id(i, k)
        self.last_ids = torch.from_numpy(ids)
        return torch.from_numpy(inputs), torch.from_numpy(labels)
