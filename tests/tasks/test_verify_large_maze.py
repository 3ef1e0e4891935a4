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
