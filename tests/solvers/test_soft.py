"""Soft givens: the answer is a valid grid keeping every given it does not override, overrides
no more givens than were corrupted, the fewest possible (brute force on 4x4), weights break ties;
bad input raises."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from ortools.sat.python import cp_model

import solvers.repair as repair_module
from solvers import count_sudoku_solutions
from solvers.soft import SoftOutput, solve_soft_givens
from tasks.errors import ConfigError, InvalidTaskError, SolverTimeoutError
from tasks.generators import generate_puzzle
from tasks.noise import corrupt_givens
from tasks.strategies import noisy_sudoku, sudoku_with_contradictory_givens
from tasks.sudoku import SudokuTask
from tasks.verify import verify

_FAST = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _without_overridden(task: SudokuTask, out: SoftOutput) -> SudokuTask:
    drop = {(r, c) for r, c, _, _ in out.overridden}
    grid = [
        [0 if (r, c) in drop else v for c, v in enumerate(row)] for r, row in enumerate(task.grid)
    ]
    return SudokuTask.from_grid(grid, box=task.box)


def _check(task: SudokuTask, out: SoftOutput) -> None:
    """The answer is complete and valid, and agrees with every given it does not override."""
    assert verify(_without_overridden(task, out), out.answer).ok
    for r, c, given_value, value in out.overridden:
        assert task.grid[r][c] == given_value != value == out.answer[r][c]
    assert list(out.overridden) == sorted(out.overridden)


@cache
def _all_4x4() -> list[tuple[tuple[int, ...], ...]]:
    """All 288 valid 4x4 grids, by brute force over rows (independent of solvers/)."""
    rows = list(itertools.permutations(range(1, 5)))

    def valid(grid: tuple[tuple[int, ...], ...]) -> bool:
        columns = all(len({row[c] for row in grid}) == 4 for c in range(4))
        boxes = all(
            len({grid[r][c] for r in (r0, r0 + 1) for c in (c0, c0 + 1)}) == 4
            for r0 in (0, 2)
            for c0 in (0, 2)
        )
        return columns and boxes

    return [grid for grid in itertools.product(rows, repeat=4) if valid(grid)]


@_FAST
@given(noisy_sudoku(box=(2, 2), max_errors=4, max_givens_fraction=0.9))
def test_4x4_overrides_the_fewest_givens_against_brute_force(example):
    noisy, _, _, changed = example
    out = solve_soft_givens(noisy)
    _check(noisy, out)
    assert out.optimal and len(out.overridden) <= len(changed)
    fewest = min(sum(noisy.grid[r][c] != g[r][c] for r, c, _ in noisy.givens()) for g in _all_4x4())
    assert len(out.overridden) == fewest


@_FAST
@given(sudoku_with_contradictory_givens(max_side=9, max_errors=3))
def test_contradictory_puzzles_are_answered(example):
    noisy, _, _, changed = example
    out = solve_soft_givens(noisy)
    _check(noisy, out)
    assert 1 <= len(out.overridden) <= len(changed)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_unique_9x9_with_k_wrong_givens(seed, k):
    def is_unique(task: SudokuTask) -> bool:
        return count_sudoku_solutions(task, 2) == 1

    clean, solution = generate_puzzle(3, 3, n_givens=30, is_unique=is_unique, rng=seed)
    noisy = corrupt_givens(clean, k, rng=100 + seed).task
    out = solve_soft_givens(noisy)
    _check(noisy, out)
    # Overriding the k corrupted givens gives back the original solution, so k always suffices.
    assert out.optimal and len(out.overridden) <= k
    if out.answer == solution:
        assert {(r, c) for r, c, _, _ in out.overridden} == {
            (r, c)
            for r, c in itertools.product(range(9), repeat=2)
            if noisy.grid[r][c] not in (0, solution[r][c])
        }


def test_valid_puzzle_overrides_nothing():
    task, solution = generate_puzzle(3, 3, n_givens=35, rng=3)
    out = solve_soft_givens(task)
    assert out.overridden == () and verify(task, out.answer).ok and out.optimal


def test_empty_grid_is_solved():
    out = solve_soft_givens(SudokuTask.from_grid([[0] * 9] * 9))
    assert out.overridden == () and verify(SudokuTask.from_grid([[0] * 9] * 9), out.answer).ok


@pytest.mark.parametrize(("keep", "drop"), [((0, 0), (0, 1)), ((0, 1), (0, 0))])
def test_weights_decide_which_conflicting_given_is_overridden(keep, drop):
    task = SudokuTask.parse("11..............")
    weights = np.zeros((4, 4))
    weights[keep] = 0.9
    weights[drop] = 0.2
    out = solve_soft_givens(task, weights=weights)
    assert [o[:2] for o in out.overridden] == [drop] and out.answer[keep[0]][keep[1]] == 1


def test_count_comes_before_weight():
    # Row 0 holds 1 twice and column 0 holds 1 twice, sharing (0, 0): overriding (0, 0) alone
    # fixes both, and must win over overriding the two others even when (0, 0) weighs the most.
    task = SudokuTask.parse("1..1........1...")
    weights = np.full((4, 4), 0.01)
    weights[0, 0] = 1.0
    out = solve_soft_givens(task, weights=weights)
    assert [o[:2] for o in out.overridden] == [(0, 0)]


def test_weights_scale_free():
    task = SudokuTask.parse("11..............")
    small = solve_soft_givens(task, weights=[[0.9, 0.2, 0, 0]] + [[0] * 4] * 3)
    large = solve_soft_givens(task, weights=[[900, 200, 0, 0]] + [[0] * 4] * 3)
    assert small.overridden == large.overridden


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones((3, 4)), "weights must be an 4x4 grid"),
        (np.full((4, 4), -1.0), r"weights at \(0, 0\) is -1.0"),
        (np.full((4, 4), np.inf), "finite"),
        ([["a"] * 4] * 4, "non-negative numbers"),
    ],
)
def test_bad_weights(weights, message):
    task = SudokuTask.parse("11..............")
    with pytest.raises(InvalidTaskError, match=message):
        solve_soft_givens(task, weights=weights)


def test_bad_task_and_config():
    with pytest.raises(InvalidTaskError, match="expected a SudokuTask"):
        solve_soft_givens([[0] * 4] * 4)
    task = SudokuTask.parse("11..............")
    with pytest.raises(ConfigError):
        solve_soft_givens(task, time_limit_s=float("nan"))


def test_time_limit_statuses(cpsat_reports):
    task = SudokuTask.parse("11..............")
    cpsat_reports(repair_module, cp_model.FEASIBLE)  # soft solves through repair
    out = solve_soft_givens(task)
    assert not out.optimal
    _check(task, out)
    cpsat_reports(repair_module, cp_model.UNKNOWN)
    with pytest.raises(SolverTimeoutError, match="time limit"):
        solve_soft_givens(task)
