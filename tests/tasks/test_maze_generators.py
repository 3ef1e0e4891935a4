"""Maze generators: seeded and deterministic, valid MazeTasks, perfect mazes are spanning trees
whose default endpoints are a longest path, Maze-Hard mazes have loops and paths over 110 moves,
and bad arguments raise InvalidTaskError instead of looping."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tasks.generators as generators
from tasks.errors import InvalidTaskError
from tasks.generators.maze import generate_maze_hard, generate_mazes, generate_perfect_maze
from tasks.maze import MazeTask
from tasks.verify import maze_shortest_length, verify


def _free(task: MazeTask) -> list[tuple[int, int]]:
    return [(r, c) for r, row in enumerate(task.rows) for c, ch in enumerate(row) if ch == "."]


def _edges(task: MazeTask) -> int:
    free = set(_free(task))
    return sum((r, c + 1) in free for r, c in free) + sum((r + 1, c) in free for r, c in free)


def _distances(task: MazeTask, source: tuple[int, int]) -> dict[tuple[int, int], int]:
    dist = {source: 0}
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for nxt in task.neighbors(*cell):
            if nxt not in dist:
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    return dist


# ---------------------------------------------------------------------------- perfect mazes
@given(height=st.integers(1, 25), width=st.integers(1, 25), seed=st.integers(0, 2**32 - 1))
def test_perfect_maze_is_a_spanning_tree_with_far_endpoints(height, width, seed):
    task = generate_perfect_maze(height, width, rng=seed)
    assert isinstance(task, MazeTask) and (task.height, task.width) == (height, width)
    assert MazeTask.model_validate_json(task.model_dump_json()) == task
    free = _free(task)
    reach = _distances(task, task.start)
    assert len(reach) == len(free)  # connected
    assert _edges(task) == len(free) - 1  # and acyclic: a tree
    # Cells sit at even coordinates; squares at two odd coordinates are always wall.
    assert all(task.rows[r][c] == "#" for r in range(1, height, 2) for c in range(1, width, 2))
    if height % 2 == 0:
        assert set(task.rows[-1]) == {"#"}
    if width % 2 == 0:
        assert {row[-1] for row in task.rows} == {"#"}
    # The double sweep finds a longest path of the tree (its diameter).
    length = maze_shortest_length(task)
    assert length == reach[task.goal]
    if len(free) <= 80:
        assert length == max(max(_distances(task, cell).values()) for cell in free)
    if len(free) > 1:
        assert task.start != task.goal
    assert generate_perfect_maze(height, width, rng=seed) == task  # deterministic


def test_perfect_maze_seeds_and_generators():
    a = generate_perfect_maze(15, 15, rng=1)
    assert generate_perfect_maze(15, 15, rng=np.random.default_rng(1)) == a
    assert generate_perfect_maze(15, 15, rng=np.random.SeedSequence(1)) == a
    assert len({generate_perfect_maze(15, 15, rng=s).rows for s in range(8)}) == 8
    assert generate_perfect_maze(1, 1, rng=0).start == (0, 0)  # one cell: start == goal


def test_border_endpoints_and_fixed_cells():
    framed = generate_perfect_maze(9, 12, rng=2, border=True)
    assert set(framed.rows[0]) == set(framed.rows[-1]) == {"#"}
    assert {row[0] for row in framed.rows} == {row[-1] for row in framed.rows} == {"#"}
    assert framed.is_free(1, 1)
    with pytest.raises(InvalidTaskError, match="border"):
        generate_perfect_maze(2, 9, rng=0, border=True)

    rnd = generate_perfect_maze(11, 11, rng=5, endpoints="random")
    assert rnd.start != rnd.goal
    fixed = generate_perfect_maze(11, 11, rng=5, start=(0, 0), goal=(10, 10))
    assert (fixed.start, fixed.goal) == ((0, 0), (10, 10))
    half = generate_perfect_maze(11, 11, rng=5, start=(4, 4))
    assert half.start == (4, 4)
    assert maze_shortest_length(half) == max(_distances(half, (4, 4)).values())
    other = generate_perfect_maze(11, 11, rng=5, goal=(4, 4), endpoints="random")
    assert other.goal == (4, 4) and other.start != (4, 4)
    far_start = generate_perfect_maze(11, 11, rng=5, goal=(4, 4))
    assert maze_shortest_length(far_start) == max(_distances(far_start, (4, 4)).values())
    with pytest.raises(InvalidTaskError, match="wall"):
        generate_perfect_maze(11, 11, rng=5, start=(1, 1))
    with pytest.raises(InvalidTaskError, match="cell"):
        generate_perfect_maze(11, 11, rng=5, start=(True, 0))
    with pytest.raises(InvalidTaskError, match="outside"):
        generate_perfect_maze(11, 11, rng=5, goal=(11, 0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"height": 0, "width": 5},
        {"height": 5, "width": 10**5},
        {"height": True, "width": 5},
        {"height": 5.0, "width": 5},
        {"height": 5, "width": 5, "rng": "seed"},
        {"height": 5, "width": 5, "rng": -1},
        {"height": 5, "width": 5, "endpoints": "near"},
        {"height": 5, "width": 5, "start": "a"},
    ],
)
def test_perfect_maze_bad_arguments(kwargs):
    with pytest.raises(InvalidTaskError):
        generate_perfect_maze(**kwargs)


# ---------------------------------------------------------------------------- Maze-Hard
@pytest.mark.parametrize("seed", range(6))
def test_maze_hard_paths_exceed_110(seed):
    task = generate_maze_hard(rng=seed)
    assert (task.height, task.width) == (30, 30)
    length = maze_shortest_length(task)
    assert length is not None and length > 110
    assert generate_maze_hard(rng=seed) == task
    assert verify(task, _shortest_path(task)).ok


def _shortest_path(task: MazeTask) -> list[tuple[int, int]]:
    dist = _distances(task, task.goal)
    path = [task.start]
    while path[-1] != task.goal:
        path.append(min(task.neighbors(*path[-1]), key=lambda c: dist.get(c, 10**9)))
    return path


def test_maze_hard_has_loops():
    loopy = [generate_maze_hard(rng=s) for s in range(5)]
    assert all(_edges(t) > len(_free(t)) - 1 for t in loopy)  # more edges than a tree
    assert len({t.rows for t in loopy}) == 5


def test_maze_hard_parameters():
    small = generate_maze_hard(size=12, min_path_length=20, rng=0)
    assert small.height == 12 and maze_shortest_length(small) > 20
    with pytest.raises(InvalidTaskError, match="out of reach"):
        generate_maze_hard(size=5, min_path_length=100)
    with pytest.raises(InvalidTaskError, match="out of reach"):
        generate_maze_hard(min_path_length=10**6)
    # Feasible in principle, but fully opened mazes have short paths: gives up after max_tries.
    with pytest.raises(InvalidTaskError, match="3 tries"):
        generate_maze_hard(size=10, min_path_length=40, loop_fraction=1.0, max_tries=3, rng=0)
    for bad in (
        {"size": 0},
        {"min_path_length": -1},
        {"max_tries": 0},
        {"loop_fraction": 1.5},
        {"open_fraction": "x"},
        {"rng": 1.5},
    ):
        with pytest.raises(InvalidTaskError):
            generate_maze_hard(**bad)


# ---------------------------------------------------------------------------- batches
def test_generate_mazes_is_seeded_and_prefix_stable():
    mazes = generate_mazes(4, size=(9, 13), seed=11)
    assert [(m.height, m.width) for m in mazes] == [(9, 13)] * 4
    assert generate_mazes(4, size=(9, 13), seed=11) == mazes
    assert generate_mazes(2, size=(9, 13), seed=11) == mazes[:2]
    assert generate_mazes(4, size=(9, 13), seed=12) != mazes
    assert generate_mazes(0, size=5, seed=0) == []
    hard = generate_mazes(2, size=30, kind="hard", seed=3)
    assert all(maze_shortest_length(m) > 110 for m in hard)
    framed = generate_mazes(2, size=7, seed=0, border=True)
    assert all(set(m.rows[0]) == {"#"} for m in framed)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": -1, "size": 5},
        {"n": 2, "size": 5, "kind": "spiral"},
        {"n": 2, "size": (30, 30), "kind": "hard"},
        {"n": 2, "size": (5, 5, 5)},
        {"n": 2, "size": 5, "seed": "x"},
        {"n": 2, "size": 5, "seed": -3},
    ],
)
def test_generate_mazes_bad_arguments(kwargs):
    with pytest.raises(InvalidTaskError):
        generate_mazes(**kwargs)


def test_package_exports():
    for name in ("generate_perfect_maze", "generate_maze_hard", "generate_mazes"):
        assert name in generators.__all__ and callable(getattr(generators, name))
