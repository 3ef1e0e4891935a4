"""Sudoku generators: valid grids for every box shape, determinism, unique and minimal puzzles."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pytest

from tasks.errors import InvalidTaskError
from tasks.generators.sudoku import generate_puzzle, generate_puzzles, generate_solution
from tasks.sudoku import SudokuTask
from tasks.verify import verify

Unique = Callable[[SudokuTask], bool]
Count = Callable[..., int]

SHAPES = [
    (1, 1), (1, 4), (4, 1), (2, 2), (2, 3), (3, 2), (2, 4), (4, 2), (3, 3), (2, 5),
    (3, 4), (4, 3), (2, 6), (3, 5), (4, 4), (5, 5), (6, 6), (5, 7), (7, 7), (1, 49),
]  # fmt: skip


def _empty(box: tuple[int, int]) -> SudokuTask:
    n = box[0] * box[1]
    return SudokuTask.from_grid([[0] * n] * n, box=box)


@pytest.mark.parametrize("box", SHAPES, ids=lambda b: f"{b[0]}x{b[1]}")
def test_solutions_are_valid_for_every_shape(box: tuple[int, int]) -> None:
    empty = _empty(box)
    for seed in range(3):
        grid = generate_solution(*box, rng=seed)
        assert verify(empty, grid).ok, (box, seed)
        assert all(type(v) is int for row in grid for v in row)


@pytest.mark.parametrize("box", [(2, 2), (2, 3), (3, 3), (4, 4), (5, 5)])
def test_solutions_are_deterministic_per_seed(box: tuple[int, int]) -> None:
    assert generate_solution(*box, rng=11) == generate_solution(*box, rng=11)
    grids = {generate_solution(*box, rng=seed) for seed in range(10)}
    assert len(grids) == 10
    gen_a, gen_b = np.random.default_rng(5), np.random.default_rng(5)
    assert [generate_solution(*box, rng=gen_a) for _ in range(3)] == [
        generate_solution(*box, rng=gen_b) for _ in range(3)
    ]


def test_every_4x4_grid_is_reachable() -> None:
    # 288 complete 4x4 grids in two classes; the pattern orbit alone would miss one class
    grids = {generate_solution(2, 2, rng=seed) for seed in range(3000)}
    assert len(grids) == 288


def test_big_grids_are_fast() -> None:
    start = time.perf_counter()
    for seed in range(20):
        generate_solution(5, 5, rng=seed)
        generate_solution(4, 4, rng=seed)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("box_rows", "box_cols"),
    [(0, 3), (3, 0), (-1, 2), (2.5, 2), (True, 3), ("3", 3), (None, 3), (7, 8), (50, 1)],
)
def test_bad_box_raises(box_rows: object, box_cols: object) -> None:
    with pytest.raises(InvalidTaskError, match="box_rows|box_cols|maximum"):
        generate_solution(box_rows, box_cols)  # type: ignore[arg-type]


@pytest.mark.parametrize("rng", [-1, "seed", 1.5, True, [1, 2]])
def test_bad_rng_raises(rng: object) -> None:
    with pytest.raises(InvalidTaskError, match="rng"):
        generate_solution(3, 3, rng=rng)  # type: ignore[arg-type]


@pytest.mark.parametrize("box", [(2, 2), (2, 3), (3, 2), (3, 3), (3, 4), (4, 4), (5, 5)])
def test_puzzle_without_uniqueness_keeps_n_givens_of_the_solution(box: tuple[int, int]) -> None:
    n = box[0] * box[1]
    for n_givens in (0, 1, n * n // 3, n * n):
        puzzle, solution = generate_puzzle(*box, n_givens=n_givens, rng=n_givens)
        assert puzzle.box == box
        assert puzzle.n_givens == n_givens
        assert verify(puzzle, solution).ok
        assert generate_puzzle(*box, n_givens=n_givens, rng=n_givens) == (puzzle, solution)


def test_puzzle_from_a_given_solution() -> None:
    solution = generate_solution(3, 3, rng=4)
    puzzle, same = generate_puzzle(3, 3, n_givens=40, rng=1, solution=solution)
    assert same == solution
    assert verify(puzzle, solution).ok
    broken = [list(row) for row in solution]
    broken[0][0], broken[0][1] = broken[0][1], broken[0][0]
    with pytest.raises(InvalidTaskError, match="not a complete valid"):
        generate_puzzle(3, 3, n_givens=40, solution=broken)
    with pytest.raises(InvalidTaskError):
        generate_puzzle(3, 3, n_givens=40, solution=[[1, 2], [2, 1]])


@pytest.mark.parametrize(("box", "seeds"), [((2, 2), range(6)), ((2, 3), range(4)), ((3, 3), [0])])
def test_unique_puzzles_are_minimal(
    box: tuple[int, int], seeds: range, sat_is_unique: Unique, sat_count: Count
) -> None:
    is_unique, count_solutions = sat_is_unique, sat_count
    for seed in seeds:
        puzzle, solution = generate_puzzle(*box, is_unique=is_unique, minimal=True, rng=seed)
        assert verify(puzzle, solution).ok
        assert count_solutions(puzzle, 2) == 1
        for r, c, _ in puzzle.givens():
            grid = [list(row) for row in puzzle.grid]
            grid[r][c] = 0
            fewer = SudokuTask.from_grid(grid, box=box)
            assert count_solutions(fewer, 2) == 2, f"given ({r}, {c}) was removable"


def test_unique_9x9_reaches_30_givens(sat_is_unique: Unique, sat_count: Count) -> None:
    is_unique, count_solutions = sat_is_unique, sat_count
    for seed in range(2):
        puzzle, solution = generate_puzzle(3, 3, n_givens=30, is_unique=is_unique, rng=seed)
        assert puzzle.n_givens == 30
        assert count_solutions(puzzle, 2) == 1
        assert verify(puzzle, solution).ok


def test_unreachable_target_returns_the_sparsest_unique_puzzle(
    sat_is_unique: Unique, sat_count: Count
) -> None:
    is_unique, count_solutions = sat_is_unique, sat_count
    puzzle, _ = generate_puzzle(2, 2, n_givens=0, is_unique=is_unique, rng=3)
    assert puzzle.n_givens >= 4  # no 4x4 Sudoku with fewer than 4 clues is unique
    assert count_solutions(puzzle, 2) == 1


def test_is_unique_is_consulted_and_its_verdict_kept() -> None:
    calls: list[int] = []

    def never_unique(task: SudokuTask) -> bool:
        calls.append(task.n_givens)
        return False

    puzzle, solution = generate_puzzle(2, 3, is_unique=never_unique, rng=0)
    assert puzzle.grid == solution  # every removal was refused
    assert len(calls) == 36


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "n_givens .* or is_unique"),
        ({"minimal": True}, "minimal=True needs is_unique"),
        ({"minimal": True, "is_unique": bool, "n_givens": 20}, "cannot also stop"),
        ({"n_givens": -1}, "n_givens"),
        ({"n_givens": 82}, "n_givens"),
        ({"n_givens": "30"}, "n_givens"),
        ({"n_givens": 30, "is_unique": "yes"}, "callable"),
    ],
)
def test_puzzle_argument_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidTaskError, match=match):
        generate_puzzle(3, 3, rng=0, **kwargs)


def test_generate_puzzles_is_seeded_and_prefix_stable(
    sat_is_unique: Unique, sat_count: Count
) -> None:
    is_unique, count_solutions = sat_is_unique, sat_count
    pairs = generate_puzzles(5, 2, 3, seed=42, n_givens=18)
    assert len(pairs) == 5
    assert all(p.n_givens == 18 and verify(p, s).ok for p, s in pairs)
    assert generate_puzzles(3, 2, 3, seed=42, n_givens=18) == pairs[:3]
    assert generate_puzzles(5, 2, 3, seed=43, n_givens=18) != pairs
    assert len({p.grid for p, _ in pairs}) == 5
    assert generate_puzzles(0, 3, 3, seed=0, n_givens=1) == []
    unique = generate_puzzles(2, 2, 2, seed=1, is_unique=is_unique)
    assert all(count_solutions(p, 2) == 1 for p, _ in unique)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((-1, 3, 3), {"seed": 0, "n_givens": 3}),
        ((2, 3, 3), {"seed": -5, "n_givens": 3}),
        ((2, 3, 3), {"seed": "x", "n_givens": 3}),
        ((2, 3, 3), {"seed": 0, "n_givens": 3, "rng": 1}),
        ((2, 0, 3), {"seed": 0, "n_givens": 3}),
    ],
)
def test_generate_puzzles_argument_errors(args: tuple, kwargs: dict) -> None:
    with pytest.raises(InvalidTaskError):
        generate_puzzles(*args, **kwargs)


def test_tasks_package_imports_stay_light() -> None:
    code = (
        "import sys, tasks, tasks.generators, tasks.datasets, tasks.verify\n"
        "heavy = {'solvers', 'trm', 'neurosym', 'torch', 'ortools', 'scipy', 'networkx',"
        " 'hypothesis'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
