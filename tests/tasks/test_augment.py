"""Augmentations: Sudoku symmetries and maze dihedrals keep answers valid, invert exactly, are
deterministic per seed, and reject parameters that would break validity."""

from __future__ import annotations

import doctest
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.augment as augment
from tasks.augment import (
    MazeTransform,
    SudokuTransform,
    all_maze_transforms,
    augment_maze,
    augment_sudoku_pair,
    random_maze_transform,
    random_sudoku_transform,
)
from tasks.errors import InvalidTaskError
from tasks.generators import (
    generate_maze_hard,
    generate_mazes,
    generate_perfect_maze,
    generate_puzzle,
    generate_solution,
)
from tasks.maze import MazeTask
from tasks.strategies import maze_tasks, sudoku_task_with_solution
from tasks.sudoku import SudokuTask
from tasks.verify import verify

seeds = st.integers(0, 2**32 - 1)


def _shortest_path(task: MazeTask) -> list[tuple[int, int]]:
    goals = set(task.goals)
    parent = {task.start: None}
    queue = deque([task.start])
    while queue:
        cell = queue.popleft()
        if cell in goals:
            path = []
            while cell is not None:
                path.append(cell)
                cell = parent[cell]
            return path[::-1]
        for nxt in task.neighbors(*cell):
            if nxt not in parent:
                parent[nxt] = cell
                queue.append(nxt)
    raise AssertionError("test mazes are solvable")


def test_doctests():
    result = doctest.testmod(augment, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------------------- Sudoku
@settings(max_examples=30)
@given(sudoku_task_with_solution(max_side=9), seeds)
def test_sudoku_transform_keeps_validity_and_inverts(pair, seed):
    task, solution = pair
    t = random_sudoku_transform(task.box_rows, task.box_cols, np.random.default_rng(seed))
    new_task, new_solution = t.apply_task(task), t.apply(solution)
    assert new_task.box == task.box and new_task.n_givens == task.n_givens
    assert verify(new_task, new_solution).ok
    assert t.inverse().apply_task(new_task) == task
    assert t.inverse().apply(new_solution) == solution
    assert t.inverse().inverse() == t
    if task.box_rows != task.box_cols:
        assert not t.transpose


@settings(max_examples=20)
@given(sudoku_task_with_solution(max_side=9), seeds)
def test_augment_sudoku_pair_is_seeded(pair, seed):
    task, solution = pair
    first = augment_sudoku_pair(task, solution, np.random.default_rng(seed))
    assert first == augment_sudoku_pair(task, solution, np.random.default_rng(seed))
    assert first == augment_sudoku_pair(task, solution, seed)
    assert verify(*first).ok


def test_sudoku_transforms_vary_and_cover_transpose():
    transforms = [random_sudoku_transform(3, 3, np.random.default_rng(s)) for s in range(40)]
    assert len(set(transforms)) == 40
    assert {t.transpose for t in transforms} == {False, True}


@pytest.mark.parametrize("box", [(2, 3), (3, 2), (4, 4), (5, 5), (1, 4), (4, 1)])
def test_sudoku_transform_on_generated_grids(box):
    solution = generate_solution(*box, rng=11)
    task, _ = generate_puzzle(*box, n_givens=box[0] * box[1], rng=11, solution=solution)
    for seed in range(3):
        new_task, new_solution = augment_sudoku_pair(task, solution, seed)
        assert verify(new_task, new_solution).ok
    t = random_sudoku_transform(*box, 5)
    # blanks move with the cells and are never relabelled: track them through a 0/1 grid
    given_mask = (np.array(task.grid) > 0).astype(np.int64)
    assert np.array_equal(np.array(t.apply_task(task).grid) > 0, np.array(t.apply(given_mask)) > 0)


def test_sudoku_identity_and_blank_cells():
    task = SudokuTask.parse("12..34..........")
    assert SudokuTransform.identity(2, 2).apply_task(task) == task
    t = random_sudoku_transform(2, 2, 0)
    assert t.apply([[0] * 4] * 4) == ((0,) * 4,) * 4


def test_sudoku_transpose_only_for_square_boxes():
    ident = SudokuTransform.identity(2, 3)
    with pytest.raises(InvalidTaskError, match="square"):
        SudokuTransform(**{**ident.model_dump(), "transpose": True})
    square = SudokuTransform.identity(2, 2)
    assert SudokuTransform(**{**square.model_dump(), "transpose": True}).apply(
        [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]]
    ) == ((1, 3, 2, 4), (2, 4, 1, 3), (3, 1, 4, 2), (4, 2, 3, 1))


@pytest.mark.parametrize(
    "change",
    [
        {"rows": (0, 2, 1, 3, 4, 5)},  # swaps rows of two different bands (2x3 boxes: bands of 2)
        {"cols": (0, 1, 3, 2, 4, 5)},  # mixes stacks (stacks of 3)
        {"rows": (0, 0, 2, 3, 4, 5)},  # not a permutation
        {"digits": (1, 2, 3, 4, 5, 5)},
        {"digits": (0, 1, 2, 3, 4, 5)},
        {"digits": (1, 2, 3)},
        {"transpose": 1},
        {"box_rows": True},
        {"box_rows": 0},
        {"rows": "012345"},
        {"extra": 1},
    ],
)
def test_sudoku_transform_rejects_invalid_parameters(change):
    base = SudokuTransform.identity(2, 3).model_dump()
    with pytest.raises(InvalidTaskError):
        SudokuTransform(**{**base, **change})


def test_sudoku_transform_allowed_moves_accepted():
    base = SudokuTransform.identity(2, 3).model_dump()
    # bands of 2 rows swapped whole, rows swapped within a band; stacks of 3 columns likewise
    t = SudokuTransform(**{**base, "rows": (2, 3, 1, 0, 4, 5), "cols": (3, 4, 5, 2, 0, 1)})
    solution = generate_solution(2, 3, rng=3)
    assert verify(SudokuTask.from_grid([[0] * 6] * 6, box=(2, 3)), t.apply(solution)).ok


def test_sudoku_transform_bad_inputs_raise():
    t = random_sudoku_transform(2, 2, 0)
    for grid in ([[1, 2], [2, 1]], [[5] * 4] * 4, [[-1] * 4] * 4, [[0.5] * 4] * 4, "1234"):
        with pytest.raises(InvalidTaskError):
            t.apply(grid)
    with pytest.raises(InvalidTaskError, match="2x2 boxes.*1x4 boxes"):
        t.apply_task(SudokuTask.from_grid([[0] * 4] * 4, box=(1, 4)))
    with pytest.raises(InvalidTaskError):
        t.apply_task(MazeTask.parse("SG"))
    with pytest.raises(InvalidTaskError):
        augment_sudoku_pair(MazeTask.parse("SG"), [[1]], 0)
    for box in ((0, 3), (8, 8), (True, 2)):
        with pytest.raises(InvalidTaskError):
            random_sudoku_transform(*box, 0)
    with pytest.raises(InvalidTaskError):
        random_sudoku_transform(3, 3, "seed")


# ---------------------------------------------------------------------------- Maze
@settings(max_examples=30)
@given(maze_tasks(max_side=10), st.sampled_from(all_maze_transforms()))
def test_maze_transform_keeps_validity_and_inverts(maze, t):
    path = _shortest_path(maze)
    new_maze = t.apply_task(maze)
    new_path = t.apply_path(path, maze.height, maze.width)
    assert (new_maze.height, new_maze.width) == t.shape(maze.height, maze.width)
    assert new_maze.n_free == maze.n_free
    assert verify(new_maze, new_path).ok
    inv = t.inverse()
    assert inv.apply_task(new_maze) == maze
    assert inv.apply_path(new_path, new_maze.height, new_maze.width) == path


@settings(max_examples=20)
@given(st.integers(1, 7), st.integers(1, 7), st.sampled_from(all_maze_transforms()))
def test_maze_cells_follow_the_array_transform(h, w, t):
    grid = np.arange(h * w).reshape(h, w)
    out = t.apply_array(grid)
    assert out.shape == t.shape(h, w)
    for r in range(h):
        for c in range(w):
            assert out[t.apply_cell((r, c), h, w)] == grid[r, c]


def test_maze_transforms_form_the_dihedral_group():
    group = all_maze_transforms()
    assert len(set(group)) == 8 and group[0] == MazeTransform.identity()
    grid = np.arange(12).reshape(3, 4)
    for t in group:
        assert np.array_equal(t.inverse().apply_array(t.apply_array(grid)), grid)
        assert t.inverse() in group


@pytest.mark.parametrize(
    "maze",
    [generate_maze_hard(rng=0), generate_perfect_maze(5, 8, rng=1), MazeTask.parse("S.#\n..G")],
)
def test_all_eight_transforms_are_distinct_on_an_asymmetric_maze(maze):
    images = {t.apply_task(maze) for t in all_maze_transforms()}
    assert len(images) == 8


def test_maze_transform_determinism_and_coverage():
    assert [random_maze_transform(s) for s in range(20)] == [
        random_maze_transform(np.random.default_rng(s)) for s in range(20)
    ]
    assert set(random_maze_transform(s) for s in range(200)) == set(all_maze_transforms())
    maze = generate_mazes(1, size=(7, 11), seed=4)[0]
    path = _shortest_path(maze)
    first = augment_maze(maze, path, np.random.default_rng(9))
    assert first == augment_maze(maze, path, np.random.default_rng(9))
    assert verify(*first).ok


def test_augment_maze_on_generated_mazes():
    for i, maze in enumerate(generate_mazes(4, size=(9, 14), seed=5, endpoints="random")):
        new_maze, new_path = augment_maze(maze, _shortest_path(maze), i)
        assert verify(new_maze, new_path).ok


@pytest.mark.parametrize(
    "kwargs",
    [{"k_rot": 4}, {"k_rot": -1}, {"k_rot": True}, {"k_rot": 1.5}, {"k_rot": 0, "flip": "yes"}],
)
def test_maze_transform_rejects_invalid_parameters(kwargs):
    with pytest.raises(InvalidTaskError):
        MazeTransform(**kwargs)


def test_maze_transform_bad_inputs_raise():
    t = MazeTransform(k_rot=1, flip=True)
    for path in ([(0, 3)], [(-1, 0)], [(0,)], [("a", 0)], [(0, True)]):
        with pytest.raises(InvalidTaskError):
            t.apply_path(path, 2, 3)
    for h, w in ((0, 3), (2, True)):
        with pytest.raises(InvalidTaskError):
            t.apply_cell((0, 0), h, w)
    with pytest.raises(InvalidTaskError):
        t.apply_task(SudokuTask.parse("1.3...1..1.....1"))
    with pytest.raises(InvalidTaskError):
        t.apply_array(np.zeros(3))
    with pytest.raises(InvalidTaskError):
        augment_maze("S.G", [(0, 0)], 0)
