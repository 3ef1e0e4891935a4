"""Seeded, on-the-fly TRM training data: Sudoku and maze examples as (inputs, labels) token
batches, drawn from one ``np.random.Generator`` whose state a checkpoint can hold.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.augment import augment_maze, augment_sudoku_pair
from tasks.encodings import MAZE_FREE_ID, MazeCodec, SudokuCodec, bfs_distances, bfs_route
from tasks.errors import ConfigError, InvalidTaskError, describe_validation_error
from tasks.generators import (
    generate_maze_hard,
    generate_perfect_maze,
    generate_puzzle,
    generate_solution,
)
from tasks.maze import Cell, MazeTask
from tasks.sudoku import MAX_SUDOKU_SIDE, SudokuGrid, SudokuTask

__all__ = [
    "SudokuData",
    "MazeData",
    "DataConfig",
    "data_config",
    "Example",
    "EvalSet",
    "TaskStream",
    "shortest_path",
    "make_eval_set",
    "read_sudoku_pool",
    "union_of_shortest_paths",
    "DISTANCE_HINT_ID",
    "add_distance_hint",
    "other_solution",
]

#: First of the 3 label-only tokens of ``MazeData(hint="distance")``: a free cell off the path
#: at BFS distance d from the start is labelled ``DISTANCE_HINT_ID + d % 3``.
DISTANCE_HINT_ID = 6


class _DataBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            name = type(self).__name__
            raise ConfigError(f"invalid {name}: {describe_validation_error(exc)}") from None

    def label_vocab_size(self) -> int:
        """Tokens a label may hold, so the model's ``vocab_size``: the codec's, plus any
        label-only tokens (``MazeData(hint="distance")``)."""
        return self.codec().vocab_size  # type: ignore[attr-defined]


class SudokuData(_DataBase):
    """Random Sudoku puzzles of one box shape, carved from random solutions.

    Puzzles come from :func:`~tasks.generators.generate_puzzle` with ``n_givens`` drawn uniformly
    from ``[min_givens, max_givens]`` and, by default, *no* uniqueness check (fast). A puzzle
    with few givens can then have several solutions; its label is the grid it was carved from,
    one of the valid answers. That adds label noise to training and makes exact-match accuracy
    a lower bound (:func:`trm.inference.evaluate` also reports validity). With ``unique=True``
    each puzzle is completed to uniqueness: while a small search finds a second solution, one
    cell where it differs from the label becomes a given. The label is then the only answer;
    the price is a few more givens than drawn and ~1 ms per 6x6 puzzle.

    With ``pool_size`` the stream instead draws (with replacement) from that many fixed puzzles
    generated from ``pool_seed``: the memorisation setting of the tests, or a fixed training
    set as in the paper's 1k-puzzle Sudoku.

    Examples
    --------
    >>> SudokuData(box_rows=2, box_cols=3, min_givens=14, max_givens=22).codec().seq_len
    36
    """

    kind: Literal["sudoku"] = "sudoku"
    box_rows: int = Field(2, ge=1, description="Rows per box (grid side N = box_rows*box_cols).")
    box_cols: int = Field(3, ge=1, description="Columns per box.")
    min_givens: int = Field(14, ge=0, description="Fewest givens of a generated puzzle.")
    max_givens: int = Field(22, ge=0, description="Most givens of a generated puzzle.")
    unique: bool = Field(False, description="Add givens until the solution is unique.")
    augment: bool = Field(True, description="Apply a random Sudoku symmetry to every example.")
    pool_size: int | None = Field(None, ge=1, description="Draw from this many fixed puzzles.")
    pool_seed: int = Field(0, ge=0, description="Seed of the fixed pool (with pool_size).")
    minimal: bool = Field(
        False,
        description="Carve every puzzle to minimal (unique, no given removable; ~30 ms per 9x9); "
        "min/max_givens are then ignored.",
    )
    pool_path: str | None = Field(
        None,
        description="An .npz of generated puzzles (neurosym.hard_data.write_pool) to draw from "
        "instead of generating; min/max_givens are then ignored.",
    )
    hard_fraction: float = Field(
        0.0,
        ge=0,
        le=1,
        description="pool_path: share of draws from puzzles needing > "
        "hard_guesses backtracking guesses (the rest uniform over the pool).",
    )
    hard_guesses: int = Field(5, ge=0, description="pool_path: the 'hard' threshold in guesses.")
    curriculum_steps: int = Field(
        0,
        ge=0,
        description="pool_path: over these first optimiser steps, the extra givens put "
        "back into a puzzle fall linearly from max_extra_givens to 0 (easy to hard).",
    )
    max_extra_givens: int = Field(0, ge=0, description="pool_path: see curriculum_steps.")

    @model_validator(mode="after")
    def _check(self) -> SudokuData:
        n = self.box_rows * self.box_cols
        if n > MAX_SUDOKU_SIDE:
            raise ValueError(f"grid side {n} exceeds {MAX_SUDOKU_SIDE}")
        if not self.min_givens <= self.max_givens <= n * n:
            raise ValueError(
                f"need 0 <= min_givens <= max_givens <= {n * n}, "
                f"got {self.min_givens}..{self.max_givens}"
            )
        return self

    def codec(self) -> SudokuCodec:
        """The token codec of this box shape."""
        return SudokuCodec(box_rows=self.box_rows, box_cols=self.box_cols)


def read_sudoku_pool(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Arrays ``puzzles``, ``solutions`` (``[n, N*N]``), ``guesses``, ``givens`` and ``box`` of a
    pool file; loaded without unpickling.

    Raises
    ------
    ConfigError
        When the file is missing or lacks those arrays.
    """
    try:
        with np.load(os.fspath(path), allow_pickle=False) as data:
            pool = {key: np.asarray(data[key]) for key in data.files}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the Sudoku pool {os.fspath(path)!r}: {exc}") from exc
    missing = {"puzzles", "solutions", "guesses", "box"} - set(pool)
    if missing:
        raise ConfigError(f"Sudoku pool {os.fspath(path)!r} lacks {sorted(missing)}")
    return pool


class MazeData(_DataBase):
    """Random mazes on a ``height x width`` canvas, labelled with a shortest path.

    ``maze="perfect"``: :func:`~tasks.generators.generate_perfect_maze` (one path between any
    two cells, so the label is the only right answer). ``maze="hard"``:
    :func:`~tasks.generators.generate_maze_hard` on a square canvas (loops: several shortest
    paths may exist, and the label is the one :func:`shortest_path` finds).

    Examples
    --------
    >>> MazeData(height=9, width=9).codec().seq_len
    81
    """

    kind: Literal["maze"] = "maze"
    height: int = Field(15, ge=1, description="Canvas rows (and maze rows).")
    width: int = Field(15, ge=1, description="Canvas columns (and maze columns).")
    maze: Literal["perfect", "hard", "mixed"] = Field(
        "perfect",
        description="Generator to draw from; 'mixed': a size drawn from min_size..height (odd), "
        "a perfect maze or, with probability loop_prob, one with loops, at the canvas top-left.",
    )
    min_size: int = Field(5, ge=2, description="'mixed' only: the smallest maze side.")
    loop_prob: float = Field(0.5, ge=0, le=1, description="'mixed' only: share with loops.")
    loop_start_step: int = Field(
        0,
        ge=0,
        description="'mixed' only: a curriculum; before this optimiser step every maze is "
        "perfect (loops are drawn but not used), from it on loop_prob applies. Evaluation sets "
        "always use loop_prob.",
    )
    label: Literal["path", "union"] = Field(
        "path",
        description="'path': one shortest path (BFS order breaks ties); 'union': every cell on "
        "some shortest path (one right label even when several shortest paths exist).",
    )
    hint: Literal["none", "distance"] = Field(
        "none",
        description="'distance': also label every free cell off the path with its BFS "
        "distance from the start mod 3 (tokens DISTANCE_HINT_ID..+2; the model needs "
        "vocab_size 9): an algorithmic hint for mazes with loops, never read at inference.",
    )
    min_path_length: int = Field(0, ge=0, description="'hard' only: shortest path must exceed.")
    augment: bool = Field(True, description="Apply one of the 8 square symmetries per example.")
    pool_size: int | None = Field(None, ge=1, description="Draw from this many fixed mazes.")
    pool_seed: int = Field(0, ge=0, description="Seed of the fixed pool (with pool_size).")

    @model_validator(mode="after")
    def _check(self) -> MazeData:
        square = self.height == self.width
        if self.maze == "mixed" and (not square or self.min_size > self.height):
            raise ValueError(
                f"'mixed' mazes need a square canvas of side >= min_size, got "
                f"{self.height}x{self.width} with min_size {self.min_size}"
            )
        if self.maze == "hard" and not square:
            raise ValueError(f"'hard' mazes are square, got {self.height}x{self.width}")
        if self.augment and not square:
            # A quarter turn of an H x W maze is W x H, which would not fit the canvas.
            raise ValueError("augment needs a square canvas (rotations swap height and width)")
        return self

    def codec(self) -> MazeCodec:
        """The token codec of this canvas."""
        return MazeCodec(height=self.height, width=self.width)

    def label_vocab_size(self) -> int:
        """The codec's 6 tokens, plus the 3 distance hints with ``hint="distance"``.

        Examples
        --------
        >>> MazeData(hint="distance").label_vocab_size()
        9
        """
        return self.codec().vocab_size + (3 if self.hint == "distance" else 0)


DataConfig = Annotated[SudokuData | MazeData, Field(discriminator="kind")]
"""Either data source, told apart by ``kind``."""


def data_config(spec: SudokuData | MazeData | dict[str, Any]) -> SudokuData | MazeData:
    """A data config from itself or from a dict with ``kind`` ("sudoku" or "maze").

    Raises
    ------
    ConfigError
        On an unknown kind or invalid fields.

    Examples
    --------
    >>> data_config({"kind": "maze", "height": 7, "width": 7}).codec().vocab_size
    6
    """
    if isinstance(spec, SudokuData | MazeData):
        return spec
    if not isinstance(spec, dict):
        raise ConfigError(f"data must be a SudokuData, MazeData or dict, got {type(spec).__name__}")
    kinds = {"sudoku": SudokuData, "maze": MazeData}
    kind = spec.get("kind", "sudoku")
    if kind not in kinds:
        raise ConfigError(f"data kind must be 'sudoku' or 'maze', got {kind!r}")
    return kinds[kind](**spec)


@dataclass(slots=True)
class Example:
    """One training or evaluation example: the task, its answer, and their tokens."""

    task: SudokuTask | MazeTask
    solution: SudokuGrid | list[Cell]  # a complete grid, or a shortest path (start to goal)
    inputs: np.ndarray  # (seq_len,) int64
    labels: np.ndarray  # (seq_len,) int64


def shortest_path(task: MazeTask) -> list[Cell]:
    """A shortest start-to-goal path by breadth-first search (neighbours up, down, left, right).

    Ties between equally short paths are broken by that neighbour order, so the result is
    deterministic.

    Raises
    ------
    InvalidTaskError
        When no goal is reachable from the start.

    Examples
    --------
    >>> shortest_path(MazeTask.parse("S.#\\n#.G"))
    [(0, 0), (0, 1), (1, 1), (1, 2)]
    """
    free = [ch == "." for row in task.rows for ch in row]
    path = bfs_route(free, task.height, task.width, task.start, task.goals)
    if path[-1] not in set(task.goals):
        raise InvalidTaskError("no goal is reachable from the start")
    return path


def union_of_shortest_paths(task: MazeTask) -> list[Cell]:
    """Every cell on some shortest start-to-goal path, row-major: the one right label of a maze
    whatever its number of shortest paths.

    Raises
    ------
    InvalidTaskError
        When no goal is reachable from the start.

    Examples
    --------
    >>> union_of_shortest_paths(MazeTask.parse("S..\\n...\\n..G"))[:3]
    [(0, 0), (0, 1), (0, 2)]
    >>> len(union_of_shortest_paths(MazeTask.parse("S..\\n...\\n..G")))
    9
    """
    free = np.array([[ch == "." for ch in row] for row in task.rows])
    from_start = bfs_distances(free | _endpoint_mask(task), [task.start])
    to_goal = bfs_distances(free | _endpoint_mask(task), list(task.goals))
    length = to_goal[task.start]
    if length < 0:
        raise InvalidTaskError("no goal is reachable from the start")
    on = (from_start >= 0) & (to_goal >= 0) & (from_start + to_goal == length)
    rows, cols = np.nonzero(on)
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


def add_distance_hint(labels: np.ndarray, task: MazeTask, codec: MazeCodec) -> np.ndarray:
    """``labels`` (a maze label from ``codec``) with every free cell off the path that the start
    reaches relabelled ``DISTANCE_HINT_ID + d % 3``, d its BFS distance from the start.

    Neighbouring reachable cells differ in distance by at most one, so the residue mod 3 is
    enough to tell, locally, which neighbour is one move nearer the start: the field a
    wavefront search from the start computes. A label-only target (``MazeData.hint``): the
    decoder reads path marks only, so a prediction's hint tokens never change its answer.

    Examples
    --------
    >>> task = MazeTask.parse("S..\\n.#.\\n..G")
    >>> codec = MazeCodec(height=3, width=3)
    >>> label = codec.encode_label(task, [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)])
    >>> add_distance_hint(label, task, codec).reshape(3, 3).tolist()
    [[3, 5, 5], [7, 1, 5], [8, 6, 4]]
    """
    free = np.array([[ch == "." for ch in row] for row in task.rows])
    dist = bfs_distances(free | _endpoint_mask(task), [task.start])
    grid = labels.reshape(codec.height, codec.width).copy()
    view = grid[: task.height, : task.width]
    off_path = (view == MAZE_FREE_ID) & (dist >= 0)
    view[off_path] = DISTANCE_HINT_ID + dist[off_path] % 3
    return grid.reshape(labels.shape)


def _endpoint_mask(task: MazeTask) -> np.ndarray:
    mask = np.zeros((task.height, task.width), dtype=bool)
    for cell in (task.start, *task.goals):
        mask[cell] = True
    return mask


def other_solution(task: SudokuTask, solution: SudokuGrid) -> list[list[int]] | None:
    """A solution of ``task`` other than ``solution``, or None (``task`` is then unique): a
    bitmask search that picks the cell with the fewest candidates first (fast up to 9x9)."""
    br, bc, n = task.box_rows, task.box_cols, task.size
    grid = [list(row) for row in task.grid]
    full = (1 << (n + 1)) - 2  # bits 1..n
    rows, cols, boxes = [0] * n, [0] * n, [0] * n
    empties = []
    for r in range(n):
        for c in range(n):
            v = grid[r][c]
            if v:
                bit = 1 << v
                rows[r] |= bit
                cols[c] |= bit
                boxes[(r // br) * br + c // bc] |= bit
            else:
                empties.append((r, c, (r // br) * br + c // bc))
    target = [list(row) for row in solution]

    def search(remaining: list[tuple[int, int, int]]) -> bool:
        if not remaining:
            return grid != target
        best, best_mask, best_count = 0, 0, n + 1
        for i, (r, c, b) in enumerate(remaining):
            mask = full & ~(rows[r] | cols[c] | boxes[b])
            count = mask.bit_count()
            if count < best_count:
                best, best_mask, best_count = i, mask, count
                if count <= 1:
                    break
        if best_count == 0:
            return False
        r, c, b = remaining[best]
        rest = remaining[:best] + remaining[best + 1 :]
        mask = best_mask
        while mask:
            bit = mask & -mask
            mask ^= bit
            grid[r][c] = bit.bit_length() - 1
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            found = search(rest)
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
            if found:
                return True
        grid[r][c] = 0
        return False

    return [row[:] for row in grid] if search(empties) else None


def _complete_to_unique(
    task: SudokuTask, solution: SudokuGrid, rng: np.random.Generator
) -> SudokuTask:
    """Add givens from ``solution`` until it is the only solution of the puzzle."""
    grid = [list(row) for row in task.grid]
    while True:
        current = SudokuTask(box_rows=task.box_rows, box_cols=task.box_cols, grid=grid)
        other = other_solution(current, solution)
        if other is None:
            return current
        differ = [
            (r, c)
            for r in range(task.size)
            for c in range(task.size)
            if other[r][c] != solution[r][c]
        ]
        r, c = differ[int(rng.integers(len(differ)))]
        grid[r][c] = solution[r][c]


class TaskStream:
    """An endless, seeded stream of examples for one :data:`DataConfig`.

    Every random choice comes from ``rng``; saving ``rng.bit_generator.state`` and restoring it
    later continues the stream exactly (the fixed pool, if any, is rebuilt from ``pool_seed``).

    Parameters
    ----------
    config : SudokuData, MazeData or dict
    rng : numpy.random.Generator
        Owned by the caller (the trainer checkpoints its state).

    Examples
    --------
    >>> stream = TaskStream(SudokuData(), np.random.default_rng(0))
    >>> inputs, labels = stream.next_batch(4)
    >>> tuple(inputs.shape), inputs.dtype, bool((labels >= 2).all())
    ((4, 36), torch.int64, True)
    """

    def __init__(self, config: SudokuData | MazeData | dict[str, Any], rng: np.random.Generator):
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        self.config = data_config(config)
        self.codec = self.config.codec()
        self.rng = rng
        self.step = 0  # the trainer's optimiser step, for curricula (set_step)
        self._pool: list[tuple[Any, Any]] | None = None
        self._file: dict[str, np.ndarray] | None = None
        self._hard: np.ndarray | None = None
        cfg = self.config
        if isinstance(cfg, SudokuData) and cfg.pool_path is not None:
            self._file = read_sudoku_pool(cfg.pool_path)
            box = tuple(int(v) for v in self._file["box"])
            if box != (cfg.box_rows, cfg.box_cols):
                raise ConfigError(
                    f"pool {cfg.pool_path!r} holds {box[0]}x{box[1]} boxes, the data config "
                    f"{cfg.box_rows}x{cfg.box_cols}"
                )
            self._hard = np.flatnonzero(self._file["guesses"] > cfg.hard_guesses)
        if self.config.pool_size is not None:
            pool_rng = np.random.default_rng(self.config.pool_seed)
            self._pool = [self._generate(pool_rng) for _ in range(self.config.pool_size)]

    @property
    def pool(self) -> list[tuple[Any, Any]] | None:
        """The fixed ``(task, solution)`` pool (with ``pool_size``), else None."""
        return None if self._pool is None else list(self._pool)

    def set_step(self, step: int) -> None:
        """Tell the stream the trainer's optimiser step (drives ``curriculum_steps``)."""
        self.step = int(step)

    def _from_file(self, rng: np.random.Generator) -> tuple[SudokuTask, SudokuGrid]:
        cfg, pool = self.config, self._file
        assert isinstance(cfg, SudokuData) and pool is not None  # noqa: S101 (internal)
        # Always draw the same numbers, so the stream's position depends on nothing else.
        hard_draw = rng.random() < cfg.hard_fraction
        u_any, u_hard, u_extra = rng.random(3)
        n_pool = len(pool["puzzles"])
        if hard_draw and self._hard is not None and len(self._hard):
            index = int(self._hard[int(u_hard * len(self._hard))])
        else:
            index = int(u_any * n_pool)
        side = cfg.box_rows * cfg.box_cols
        puzzle = pool["puzzles"][index].astype(np.int64).copy()
        solution = pool["solutions"][index].astype(np.int64)
        order = rng.permutation(side * side)
        if cfg.curriculum_steps and cfg.max_extra_givens:
            left = max(0.0, 1.0 - self.step / cfg.curriculum_steps)
            extra = int(u_extra * (round(cfg.max_extra_givens * left) + 1))
            blanks = [i for i in order.tolist() if puzzle[i] == 0][:extra]
            puzzle[blanks] = solution[blanks]
        grid = tuple(tuple(int(v) for v in puzzle[r * side : (r + 1) * side]) for r in range(side))
        sol = tuple(tuple(int(v) for v in solution[r * side : (r + 1) * side]) for r in range(side))
        return SudokuTask(box_rows=cfg.box_rows, box_cols=cfg.box_cols, grid=grid), sol

    def _generate(self, rng: np.random.Generator) -> tuple[Any, Any]:
        cfg = self.config
        if isinstance(cfg, SudokuData):
            if self._file is not None:
                return self._from_file(rng)
            if cfg.minimal:
                solution = generate_solution(cfg.box_rows, cfg.box_cols, rng=rng)
                task, _ = generate_puzzle(
                    cfg.box_rows,
                    cfg.box_cols,
                    solution=solution,
                    is_unique=lambda t: other_solution(t, solution) is None,
                    minimal=True,
                    rng=rng,
                )
                return task, solution
            givens = int(rng.integers(cfg.min_givens, cfg.max_givens + 1))
            task, solution = generate_puzzle(cfg.box_rows, cfg.box_cols, n_givens=givens, rng=rng)
            if cfg.unique:
                task = _complete_to_unique(task, solution, rng)
            return task, solution
        if cfg.maze == "perfect":
            task = generate_perfect_maze(cfg.height, cfg.width, rng=rng)
        elif cfg.maze == "hard":
            task = generate_maze_hard(size=cfg.height, min_path_length=cfg.min_path_length, rng=rng)
        else:
            size = int(rng.integers(cfg.min_size, cfg.height + 1))
            # The coin is drawn before and after loop_start_step alike (a plain curriculum).
            loops = rng.random() < cfg.loop_prob and self.step >= cfg.loop_start_step
            if loops:
                task = generate_maze_hard(size=size, min_path_length=0, rng=rng)
            else:
                task = generate_perfect_maze(size, size, rng=rng)
        if cfg.label == "union":
            return task, union_of_shortest_paths(task)
        return task, shortest_path(task)

    def next_example(self) -> Example:
        """Draw one example (a pool member or a fresh task), augmented if configured."""
        if self._pool is not None:
            task, solution = self._pool[int(self.rng.integers(len(self._pool)))]
        else:
            task, solution = self._generate(self.rng)
        codec = self.codec
        if isinstance(codec, SudokuCodec):
            if self.config.augment:
                task, solution = augment_sudoku_pair(task, solution, self.rng)
            return Example(
                task, solution, codec.encode_puzzle(task), codec.encode_solution(solution)
            )
        if self.config.augment:
            task, solution = augment_maze(task, solution, self.rng)
        labels = codec.encode_label(task, solution)
        if self.config.hint == "distance":  # after the symmetry: distances move with the maze
            labels = add_distance_hint(labels, task, codec)
        return Example(task, solution, codec.encode_input(task), labels)

    def next_examples(self, n: int) -> list[Example]:
        """``n`` examples in stream order."""
        return [self.next_example() for _ in range(n)]

    def next_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(inputs, labels)``: two int64 tensors of shape ``[n, seq_len]`` on the CPU."""
        examples = self.next_examples(n)
        seq = self.codec.seq_len
        inputs = np.stack([e.inputs for e in examples]) if examples else np.zeros((0, seq))
        labels = np.stack([e.labels for e in examples]) if examples else np.zeros((0, seq))
        return torch.from_numpy(inputs.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))


@dataclass(slots=True)
class EvalSet:
    """A fixed evaluation set: tasks, their reference answers and label tokens."""

    tasks: list[SudokuTask | MazeTask]
    solutions: list[Any]
    labels: np.ndarray  # (n, seq_len) int64
    codec: SudokuCodec | MazeCodec

    def __len__(self) -> int:
        return len(self.tasks)


def make_eval_set(
    config: SudokuData | MazeData | dict[str, Any], n: int, seed: int, **overrides: Any
) -> EvalSet:
    """``n`` fresh examples from ``config`` (with ``overrides``) and ``seed``, unaugmented.

    A fixed pool in ``config`` is ignored: an evaluation set is drawn fresh, so with a seed
    other than the training one its puzzles are (with overwhelming probability) unseen.

    Raises
    ------
    ConfigError
        On a bad config, ``n < 0`` or a negative seed.

    Examples
    --------
    >>> es = make_eval_set({"kind": "sudoku", "box_rows": 2, "box_cols": 2,
    ...                     "min_givens": 8, "max_givens": 10}, n=3, seed=1)
    >>> len(es), es.labels.shape, all(8 <= t.n_givens <= 10 for t in es.tasks)
    (3, (3, 16), True)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"n must be an int >= 0, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be an int >= 0, got {seed!r}")
    base = data_config(config).model_dump()
    fresh: dict[str, Any] = {"augment": False, "pool_size": None}
    if base.get("pool_path") is not None:
        # Never score on the training pool: fresh minimal puzzles from the evaluation seed.
        fresh.update(pool_path=None, minimal=True)
    if base.get("loop_start_step"):
        fresh["loop_start_step"] = 0  # score on the full mix, whatever the curriculum
    cfg = data_config({**base, **fresh, **overrides})
    stream = TaskStream(cfg, np.random.default_rng(seed))
    examples = stream.next_examples(n)
    labels = (
        np.stack([e.labels for e in examples]) if examples else np.zeros((0, cfg.codec().seq_len))
    )
    return EvalSet(
        tasks=[e.task for e in examples],
        solutions=[e.solution for e in examples],
        labels=labels.astype(np.int64),
        codec=stream.codec,
    )
