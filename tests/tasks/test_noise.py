"""Noise injectors change exactly k cells, the way they promise, deterministically under a seed;
the noisy Hypothesis strategies produce what they document."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.errors import InvalidTaskError
from tasks.maze import MazeTask
from tasks.noise import (
    Noisy,
    add_wrong_givens,
    contradict_givens,
    corrupt_givens,
    flip_walls,
    remove_givens,
)
from tasks.strategies import (
    maze_tasks,
    maze_with_flipped_walls,
    noisy_sudoku,
    sudoku_task_with_solution,
    sudoku_with_contradictory_givens,
    sudoku_with_missing_givens,
)
from tasks.sudoku import SudokuTask
from tasks.verify import verify

_FAST = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

TASK = SudokuTask.parse("12..34..........")
SOLUTION = ((1, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 2, 1))
MAZE = MazeTask.parse(
    """
S..#
.#..
...G
"""
)


def _diff(a: SudokuTask, b: SudokuTask) -> set[tuple[int, int]]:
    n = a.size
    return {(r, c) for r in range(n) for c in range(n) if a.grid[r][c] != b.grid[r][c]}


# ---------------------------------------------------------------------------- Sudoku injectors
@_FAST
@given(sudoku_task_with_solution(max_side=9, min_givens_fraction=0.2), st.data())
def test_corrupt_givens_changes_k_givens_to_wrong_digits(pair, data):
    task, solution = pair
    k = data.draw(st.integers(0, task.n_givens))
    seed = data.draw(st.integers(0, 2**32 - 1))
    noisy = corrupt_givens(task, k, rng=seed)
    assert isinstance(noisy, Noisy)
    assert len(noisy.changed) == k and list(noisy.changed) == sorted(set(noisy.changed))
    assert _diff(task, noisy.task) == set(noisy.changed)
    for r, c in noisy.changed:
        assert task.grid[r][c] and noisy.task.grid[r][c] not in (0, task.grid[r][c])
    assert noisy.task.n_givens == task.n_givens
    assert noisy == corrupt_givens(task, k, rng=seed)
    assert not verify(noisy.task, solution).ok or k == 0


@_FAST
@given(sudoku_task_with_solution(max_side=9), st.data())
def test_remove_givens_blanks_k_givens(pair, data):
    task, solution = pair
    k = data.draw(st.integers(0, task.n_givens))
    seed = data.draw(st.integers(0, 2**32 - 1))
    noisy = remove_givens(task, k, rng=seed)
    assert len(noisy.changed) == k
    assert _diff(task, noisy.task) == set(noisy.changed)
    assert all(noisy.task.grid[r][c] == 0 for r, c in noisy.changed)
    assert noisy.task.n_givens == task.n_givens - k
    assert verify(noisy.task, solution).ok
    assert noisy == remove_givens(task, k, rng=seed)


@_FAST
@given(sudoku_task_with_solution(max_side=9, max_givens_fraction=0.8), st.data())
def test_add_wrong_givens_contradicts_the_solution(pair, data):
    task, solution = pair
    blanks = task.size**2 - task.n_givens
    k = data.draw(st.integers(0, blanks))
    seed = data.draw(st.integers(0, 2**32 - 1))
    noisy = add_wrong_givens(task, solution, k, rng=seed)
    assert len(noisy.changed) == k
    assert _diff(task, noisy.task) == set(noisy.changed)
    for r, c in noisy.changed:
        assert task.grid[r][c] == 0 and noisy.task.grid[r][c] not in (0, solution[r][c])
    assert noisy.task.n_givens == task.n_givens + k
    assert noisy == add_wrong_givens(task, np.array(solution), k, rng=seed)


@_FAST
@given(sudoku_task_with_solution(max_side=9, min_givens_fraction=0.3), st.data())
def test_contradict_givens_always_leaves_a_direct_conflict(pair, data):
    task, _ = pair
    k = data.draw(st.integers(1, task.n_givens - 1))
    seed = data.draw(st.integers(0, 2**32 - 1))
    noisy = contradict_givens(task, k, rng=seed)
    assert len(noisy.changed) == k
    assert _diff(task, noisy.task) == set(noisy.changed)
    assert noisy.task.given_conflicts()
    assert noisy == contradict_givens(task, k, rng=seed)


def test_different_seeds_usually_differ():
    outs = {corrupt_givens(TASK, 2, rng=seed).task for seed in range(20)}
    assert len(outs) > 5


def test_a_generator_is_accepted_and_advanced():
    gen = np.random.default_rng(5)
    first = corrupt_givens(TASK, 1, rng=gen)
    second = corrupt_givens(TASK, 1, rng=gen)
    again = np.random.default_rng(5)
    assert corrupt_givens(TASK, 1, rng=again) == first
    assert corrupt_givens(TASK, 1, rng=again) == second


@pytest.mark.parametrize(
    "call",
    [
        lambda: corrupt_givens(TASK, 5),
        lambda: corrupt_givens(TASK, -1),
        lambda: corrupt_givens(TASK, True),
        lambda: corrupt_givens(TASK, 1.0),
        lambda: remove_givens(TASK, 5),
        lambda: add_wrong_givens(TASK, SOLUTION, 13),
        lambda: contradict_givens(TASK, 4),
        lambda: contradict_givens(TASK, 0),
        lambda: contradict_givens(SudokuTask.parse("1..............2"), 1),
        lambda: corrupt_givens(TASK, 1, rng=-3),
        lambda: corrupt_givens("12..34..........", 1),
        lambda: add_wrong_givens(TASK, SOLUTION[:3], 1),
        lambda: add_wrong_givens(TASK, [[0] * 4] * 4, 1),
        lambda: add_wrong_givens(TASK, 7, 1),
        lambda: flip_walls(MAZE, 11),
        lambda: flip_walls(TASK, 1),
    ],
)
def test_bad_arguments_raise_invalid_task_error(call):
    with pytest.raises(InvalidTaskError):
        call()


def test_error_names_the_limit():
    with pytest.raises(InvalidTaskError, match="k=5 but the task has only 4 givens"):
        corrupt_givens(TASK, 5)


# ---------------------------------------------------------------------------- maze injector
@_FAST
@given(maze_tasks(min_side=2, max_side=8, solvable=None), st.data())
def test_flip_walls_toggles_k_cells_never_start_or_goals(maze, data):
    pool = maze.height * maze.width - 1 - len(maze.goals)
    k = data.draw(st.integers(0, pool))
    seed = data.draw(st.integers(0, 2**32 - 1))
    noisy = flip_walls(maze, k, rng=seed)
    assert len(noisy.changed) == k and len(set(noisy.changed)) == k
    assert noisy.task.start == maze.start and noisy.task.goals == maze.goals
    assert maze.start not in noisy.changed and not set(maze.goals) & set(noisy.changed)
    flipped = {
        (r, c)
        for r in range(maze.height)
        for c in range(maze.width)
        if maze.rows[r][c] != noisy.task.rows[r][c]
    }
    assert flipped == set(noisy.changed)
    assert noisy == flip_walls(maze, k, rng=seed)


def test_flip_walls_all_cells():
    noisy = flip_walls(MAZE, 10, rng=0)
    assert noisy.task.rows == (".##.", "#.##", "###.")
    assert noisy.task.start == MAZE.start


# ---------------------------------------------------------------------------- strategies
@_FAST
@given(noisy_sudoku(max_side=9, max_errors=3))
def test_noisy_sudoku(example):
    noisy, clean, solution, changed = example
    assert verify(clean, solution).ok
    assert 0 <= len(changed) <= 3
    assert _diff(clean, noisy) == set(changed)
    assert all(noisy.grid[r][c] != solution[r][c] for r, c in changed)


@_FAST
@given(sudoku_with_missing_givens(box=(2, 3), max_missing=2))
def test_sudoku_with_missing_givens(example):
    noisy, clean, solution, changed = example
    assert noisy.box == (2, 3) and 1 <= len(changed) <= 2
    assert noisy.n_givens == clean.n_givens - len(changed)
    assert verify(noisy, solution).ok


@_FAST
@given(sudoku_with_contradictory_givens(max_side=9))
def test_sudoku_with_contradictory_givens(example):
    noisy, clean, solution, changed = example
    assert noisy.given_conflicts() and not clean.given_conflicts()
    assert 1 <= len(changed) <= 3 and _diff(clean, noisy) == set(changed)


@_FAST
@given(maze_with_flipped_walls(max_side=8, max_flips=4))
def test_maze_with_flipped_walls(example):
    noisy, clean, changed = example
    assert 1 <= len(changed) <= 4
    assert noisy.start == clean.start and noisy.goals == clean.goals
    assert all(noisy.rows[r][c] != clean.rows[r][c] for r, c in changed)


def test_noisy_strategies_reject_bad_arguments():
    with pytest.raises(InvalidTaskError):
        noisy_sudoku(max_errors=-1)
    with pytest.raises(InvalidTaskError):
        sudoku_with_contradictory_givens(max_errors=0)
    with pytest.raises(InvalidTaskError):
        sudoku_with_missing_givens(min_givens_fraction=0.9, max_givens_fraction=0.1)
    with pytest.raises(InvalidTaskError):
        maze_with_flipped_walls(max_flips=-2)
