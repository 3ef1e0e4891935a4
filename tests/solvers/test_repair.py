"""Repair: the repaired Sudoku is valid, keeps the givens and changes the fewest proposed cells
(checked against brute force), confidence breaks ties; the repaired maze path is a shortest path
sharing the most cells with the proposal (checked against networkx); bad input raises."""

from __future__ import annotations

import itertools
import math
from functools import cache

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

import solvers.repair as repair_module
from solvers.repair import RepairOutput, agreement_weights, repair_maze, repair_sudoku
from tasks.errors import (
    ConfigError,
    InvalidTaskError,
    SolverTimeoutError,
    UnsolvableError,
    UnsupportedTaskError,
)
from tasks.generators import generate_puzzle
from tasks.maze import MazeTask
from tasks.strategies import maze_tasks, sudoku_task_with_solution
from tasks.sudoku import SudokuTask
from tasks.verify import verify

_FAST = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

Grid = tuple[tuple[int, ...], ...]


# ---------------------------------------------------------------------------- brute force
def _solutions(task: SudokuTask) -> list[Grid]:
    """Every solution of a small puzzle, by plain backtracking (independent of solvers/)."""
    n, br, bc = task.size, task.box_rows, task.box_cols
    grid = [list(row) for row in task.grid]
    if task.given_conflicts():
        return []
    empty = [(r, c) for r in range(n) for c in range(n) if not grid[r][c]]
    out: list[Grid] = []

    def ok(r: int, c: int, v: int) -> bool:
        if v in grid[r] or any(grid[i][c] == v for i in range(n)):
            return False
        r0, c0 = r - r % br, c - c % bc
        return all(grid[i][j] != v for i in range(r0, r0 + br) for j in range(c0, c0 + bc))

    def fill(i: int) -> None:
        if i == len(empty):
            out.append(tuple(tuple(row) for row in grid))
            return
        r, c = empty[i]
        for v in range(1, n + 1):
            if ok(r, c, v):
                grid[r][c] = v
                fill(i + 1)
                grid[r][c] = 0

    fill(0)
    return out


@cache
def _all_4x4() -> list[Grid]:
    return _solutions(SudokuTask.from_grid([[0] * 4] * 4))


def _distance(proposal: Grid, grid: Grid) -> int:
    n = len(grid)
    return sum(proposal[r][c] not in (0, grid[r][c]) for r in range(n) for c in range(n))


def _corrupt(solution: Grid, task: SudokuTask, data: st.DataObject) -> Grid:
    """A fake network: the true solution with some cells wrong or blank (no opinion)."""
    n = task.size
    grid = [list(row) for row in solution]
    cells = [(r, c) for r in range(n) for c in range(n)]
    k = data.draw(st.integers(0, min(6, len(cells))), label="k")
    for r, c in data.draw(st.permutations(cells), label="order")[:k]:
        wrong = [v for v in range(n + 1) if v != solution[r][c]]
        grid[r][c] = data.draw(st.sampled_from(wrong))
    return tuple(tuple(row) for row in grid)


def _check_sudoku_repair(task: SudokuTask, proposal: Grid, out: RepairOutput) -> None:
    assert verify(task, out.answer).ok
    n = task.size
    expected = tuple(
        (r, c)
        for r in range(n)
        for c in range(n)
        if proposal[r][c] and proposal[r][c] != out.answer[r][c]
    )
    assert out.changed == expected


# ---------------------------------------------------------------------------- Sudoku
@_FAST
@given(sudoku_task_with_solution(box=(2, 2), max_givens_fraction=0.6), st.data())
def test_repair_4x4_is_minimal_against_brute_force(pair, data):
    task, solution = pair
    proposal = _corrupt(solution, task, data)
    out = repair_sudoku(task, proposal)
    _check_sudoku_repair(task, proposal, out)
    fits = [g for g in _all_4x4() if verify(task, g).ok]
    assert out.optimal
    assert len(out.changed) == min(_distance(proposal, g) for g in fits)


@settings(_FAST, max_examples=10)
@given(sudoku_task_with_solution(box=(2, 3), min_givens_fraction=0.45), st.data())
def test_repair_6x6_is_minimal_against_brute_force(pair, data):
    task, solution = pair
    proposal = _corrupt(solution, task, data)
    out = repair_sudoku(task, proposal)
    _check_sudoku_repair(task, proposal, out)
    assert len(out.changed) == min(_distance(proposal, g) for g in _solutions(task))


@pytest.mark.parametrize("seed", range(3))
def test_repair_9x9_fixes_a_corrupted_solution(seed):
    task, solution = generate_puzzle(3, 3, n_givens=30, rng=seed)
    rng = np.random.default_rng(seed)
    proposal = np.array(solution)
    blanks = [(r, c) for r in range(9) for c in range(9) if not task.grid[r][c]]
    for i in rng.choice(len(blanks), size=4, replace=False):
        r, c = blanks[i]
        proposal[r, c] = proposal[r, c] % 9 + 1
    out = repair_sudoku(task, proposal)
    _check_sudoku_repair(task, tuple(map(tuple, proposal.tolist())), out)
    assert out.optimal and len(out.changed) <= 4
    assert set(out.effort) >= {"branches", "conflicts", "wall_s"}


@_FAST
@given(sudoku_task_with_solution(max_side=9))
def test_a_valid_proposal_comes_back_unchanged(pair):
    task, solution = pair
    out = repair_sudoku(task, solution)
    assert out.answer == solution and out.changed == () and out.optimal


def test_blank_proposal_gives_any_solution_and_no_change():
    task = SudokuTask.parse("12..34..........")
    out = repair_sudoku(task, [[0] * 4] * 4)
    assert verify(task, out.answer).ok and out.changed == ()


def test_proposal_against_a_given_is_overruled_and_counted():
    task = SudokuTask.parse("12..34..........")
    proposal = ((2, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 2, 1))
    out = repair_sudoku(task, proposal)
    assert out.answer[0][0] == 1 and out.changed == ((0, 0),)


def _deadly_pair() -> tuple[Grid, Grid, list[tuple[int, int]]]:
    """Two 4x4 solutions differing in exactly four cells (a swappable rectangle)."""
    grids = _all_4x4()
    a = grids[0]
    for b in grids[1:]:
        diff = [(r, c) for r in range(4) for c in range(4) if a[r][c] != b[r][c]]
        if len(diff) == 4:
            return a, b, diff
    raise AssertionError("no rectangle found")  # pragma: no cover


@pytest.mark.parametrize("confident", ["a", "b"])
def test_confidence_breaks_ties_towards_confident_cells(confident):
    a, b, diff = _deadly_pair()
    task = SudokuTask.from_grid(
        [[a[r][c] if (r, c) not in diff else 0 for c in range(4)] for r in range(4)]
    )
    assert sorted(_solutions(task)) == sorted([a, b])
    # Two rectangle cells proposed as in `a`, the other two as in `b`: both are 2 changes away.
    proposal = [list(row) for row in a]
    from_b = diff[2:]
    for r, c in from_b:
        proposal[r][c] = b[r][c]
    confidence = np.full((4, 4), 0.5)
    for r, c in diff[:2] if confident == "a" else from_b:
        confidence[r, c] = 0.95
    out = repair_sudoku(task, proposal, confidence)
    assert len(out.changed) == 2 and out.optimal
    assert out.answer == (a if confident == "a" else b)


def test_weights_are_lexicographic():
    w, big = agreement_weights(np.ones((9, 9)), 81)
    assert big > 100 * 81 and (w == big + 100).all()
    # 80 cells at full confidence never outweigh one more cell kept.
    assert 80 * (big + 100) < 81 * big


def test_no_solution_names_the_conflict():
    task = SudokuTask.parse("1..1............")
    with pytest.raises(UnsolvableError, match=r"givens admit no solution.*row 0 holds 1"):
        repair_sudoku(task, [[0] * 4] * 4)


def test_no_solution_without_direct_conflict():
    task = SudokuTask.parse("..421......3....")
    with pytest.raises(UnsolvableError, match="givens admit no solution"):
        repair_sudoku(task, [[0] * 4] * 4)


@pytest.mark.parametrize(
    ("proposal", "confidence", "message"),
    [
        ([[0] * 4] * 3, None, "proposal must be an 4x4 grid"),
        ([[5, 0, 0, 0]] + [[0] * 4] * 3, None, r"proposal cell \(0, 0\) holds 5"),
        ([[1.5, 0, 0, 0]] + [[0] * 4] * 3, None, r"proposal cell \(0, 0\)"),
        ([[-1, 0, 0, 0]] + [[0] * 4] * 3, None, r"proposal cell \(0, 0\)"),
        (np.zeros((4, 4), dtype=bool), None, "dtype bool"),
        ("1234" * 4, None, "proposal must be"),
        ([[0] * 4] * 4, np.full((4, 4), 1.5), r"confidence at \(0, 0\) is 1.5"),
        ([[0] * 4] * 4, np.full((4, 4), np.nan), "confidence"),
        ([[0] * 4] * 4, np.ones((3, 4)), "confidence must be an 4x4 grid"),
    ],
)
def test_bad_proposal_or_confidence(proposal, confidence, message):
    task = SudokuTask.parse("12..34..........")
    with pytest.raises(InvalidTaskError, match=message):
        repair_sudoku(task, proposal, confidence)


def test_bad_task_and_config():
    with pytest.raises(InvalidTaskError, match="expected a SudokuTask"):
        repair_sudoku("12..34..........", [[0] * 4] * 4)
    task = SudokuTask.parse("12..34..........")
    with pytest.raises(ConfigError):
        repair_sudoku(task, [[0] * 4] * 4, time_limit_s=0)
    with pytest.raises(ConfigError):
        repair_sudoku(task, [[0] * 4] * 4, workers=-1)


def test_time_limit_statuses_map_to_optimal_flag_and_timeout(cpsat_reports):
    task, solution = generate_puzzle(2, 2, n_givens=4, rng=0)
    proposal = [[0] * 4] * 3 + [list(solution[3][:2]) + [solution[3][3], solution[3][2]]]
    cpsat_reports(repair_module, cp_model.FEASIBLE)
    out = repair_sudoku(task, proposal)
    assert not out.optimal and verify(task, out.answer).ok
    cpsat_reports(repair_module, cp_model.UNKNOWN)
    with pytest.raises(SolverTimeoutError, match="time limit"):
        repair_sudoku(task, proposal)


# ---------------------------------------------------------------------------- mazes
def _nx_shortest_paths(task: MazeTask) -> list[list[tuple[int, int]]]:
    graph = nx.grid_2d_graph(task.height, task.width)
    graph.remove_nodes_from(
        [(r, c) for r, row in enumerate(task.rows) for c, ch in enumerate(row) if ch == "#"]
    )
    lengths = nx.single_source_shortest_path_length(graph, task.start)
    reached = [g for g in task.goals if g in lengths]
    best = min(lengths[g] for g in reached)
    paths = []
    for g in reached:
        if lengths[g] == best:
            paths += [list(p) for p in nx.all_shortest_paths(graph, task.start, g)]
    return paths


@_FAST
@given(maze_tasks(max_side=6, max_goals=2), st.data())
def test_maze_repair_maximises_overlap_against_networkx(maze, data):
    cells = [(r, c) for r in range(-1, maze.height + 1) for c in range(-1, maze.width + 1)]
    proposed = data.draw(st.lists(st.sampled_from(cells), max_size=20), label="proposed")
    out = repair_maze(maze, proposed)
    assert verify(maze, out.answer).ok and out.optimal
    assert out.changed == tuple(sorted(set(proposed) ^ set(out.answer)))
    best = min(len(set(proposed) ^ set(path)) for path in _nx_shortest_paths(maze))
    assert len(out.changed) == best


@_FAST
@given(maze_tasks(max_side=7), st.data())
def test_maze_repair_of_a_shortest_path_returns_it(maze, data):
    paths = _nx_shortest_paths(maze)
    path = data.draw(st.sampled_from(paths))
    out = repair_maze(maze, path)
    assert out.answer == path and out.changed == ()


def test_maze_repair_prefers_the_proposed_side():
    maze = MazeTask.parse(
        """
S...
.##.
...G
"""
    )
    top = repair_maze(maze, [(0, 2)])
    bottom = repair_maze(maze, [(2, 1), (1, 1)])  # (1, 1) is a wall: never matched
    assert top.answer == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]
    assert bottom.answer == [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (2, 3)]
    assert (1, 1) in bottom.changed and (2, 1) not in bottom.changed
    assert top.effort["path_length"] == 5 and top.effort["nodes"] == 10


def test_maze_repair_uses_the_nearest_goal_only():
    maze = MazeTask(rows=("......",), start=(0, 2), goals=((0, 0), (0, 5)))
    out = repair_maze(maze, [(0, 3), (0, 4), (0, 5)])
    assert out.answer == [(0, 2), (0, 1), (0, 0)]


def test_maze_start_on_a_goal():
    maze = MazeTask(rows=("...",), start=(0, 1), goals=((0, 1), (0, 2)))
    assert repair_maze(maze, []).answer == [(0, 1)]


def test_maze_repair_errors():
    blocked = MazeTask.parse("S#G")
    with pytest.raises(UnsolvableError, match="no path from start"):
        repair_maze(blocked, [])
    open_maze = MazeTask.parse("S.G")
    with pytest.raises(UnsupportedTaskError):
        repair_maze(SudokuTask.parse("12..34.........."), [])
    with pytest.raises(InvalidTaskError, match="proposed cell"):
        repair_maze(open_maze, [(0, 1.5)])
    with pytest.raises(InvalidTaskError, match="proposed_cells must be"):
        repair_maze(open_maze, 3)
    with pytest.raises(ConfigError):
        repair_maze(open_maze, [], time_limit_s=-1)
    cells = iter([(0, 0), (0, 1), (0, 2)])
    assert repair_maze(open_maze, cells, time_limit_s=math.inf).changed == ()


def test_maze_repair_on_a_large_open_map_is_fast():
    maze = MazeTask(rows=("." * 200,) * 200, start=(0, 0), goals=((199, 199),))
    diagonal = list(itertools.chain.from_iterable(((i, i), (i, i + 1)) for i in range(199)))
    out = repair_maze(maze, diagonal + [(199, 199)])
    assert verify(maze, out.answer).ok and out.changed == ()
    assert out.effort["wall_s"] < 5
