"""The compiled BFS that ``maze_shortest_length`` uses on large grids agrees with the plain one."""

from __future__ import annotations

import importlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.generators import generate_maze_hard, generate_perfect_maze
from tasks.maze import MazeTask
from tasks.verify import maze_shortest_length, verify

# tasks.verify the module (the package re-exports the function under the same name)
verify_mod = importlib.import_module("tasks.verify")
_plain = verify_mod._shortest_length_plain
_compiled = verify_mod._shortest_length_csr


def _random_task(seed: int, h: int, w: int, density: float) -> MazeTask:
    rng = random.Random(seed)
    cells = [["#" if rng.random() < density else "." for _ in range(w)] for _ in range(h)]
    free = [(r, c) for r in range(h) for c in range(w)]
    start = rng.choice(free)
    goals = rng.sample(free, k=min(len(free), rng.randint(1, 3)))
    for r, c in [start, *goals]:
        cells[r][c] = "."
    rows = tuple("".join(row) for row in cells)
    return MazeTask(rows=rows, start=start, goals=tuple(goals))


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(1, 14),
    st.integers(1, 14),
    st.sampled_from([0.0, 0.2, 0.35, 0.5]),
)
def test_compiled_bfs_agrees_on_random_grids(seed, h, w, density):
    # Unreachable goals, several goals, the start on a goal, 1-wide grids: all included.
    task = _random_task(seed, h, w, density)
    assert _compiled(task) == _plain(task)


def test_compiled_bfs_agrees_on_generated_mazes():
    for seed in range(5):
        for task in (generate_perfect_maze(41, 41, rng=seed), generate_maze_hard(rng=seed)):
            plain = _plain(task)
            assert plain is not None and _compiled(task) == plain


def test_large_open_grid_uses_the_compiled_path_and_verifies():
    n = 300  # 90,000 cells: past LARGE_MAZE_CELLS
    task = MazeTask(rows=("." * n,) * n, start=(0, 0), goal=(n - 1, n - 1))
    assert n * n >= verify_mod.LARGE_MAZE_CELLS
    assert maze_shortest_length(task) == 2 * (n - 1)
    path = [(0, c) for c in range(n)] + [(r, n - 1) for r in range(1, n)]
    assert verify(task, path).ok
    detour = [(0, 0), (1, 0), (1, 1), (0, 1)] + [(0, c) for c in range(2, n)]
    detour += [(r, n - 1) for r in range(1, n)]
    assert not verify(task, detour).ok


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(1, 12),
    st.integers(1, 12),
    st.lists(st.tuples(st.integers(-3, 14), st.integers(-3, 14)), min_size=1, max_size=60),
)
def test_numpy_path_checks_flag_the_same_cells_and_moves(seed, h, w, path):
    # Off-grid cells, walls, jumps and repeats, in any mix: both checks give the same indices.
    task = _random_task(seed, h, w, 0.3)
    assert verify_mod._bad_steps_numpy(task, path) == verify_mod._bad_steps_plain(task, path)


def test_long_paths_take_the_numpy_checks_and_give_the_same_verdicts():
    n = 120
    snake = [(r, c if r % 2 == 0 else n - 1 - c) for r in range(n) for c in range(n)]
    assert len(snake) >= verify_mod._VECTOR_PATH_CELLS
    task = MazeTask(rows=("." * n,) * n, start=(0, 0), goal=snake[-1])
    # A valid walk through every cell: legal moves, but far from shortest.
    assert [v.rule for v in verify(task, snake).violations] == ["optimal"]
    jump = snake[:5000] + snake[5002:]
    assert [v.rule for v in verify(task, jump).violations] == ["adjacency"]
    huge = [(0, 0), (2**62, 0), *snake[1:]]  # a coordinate far past int32
    rules = [v.rule for v in verify(task, huge).violations]
    assert rules.count("bounds") == 1 and rules.count("adjacency") == 2
