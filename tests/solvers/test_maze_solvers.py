"""Maze search: both backends give verified, optimal paths (checked against networkx built here),
GridGraph reuse agrees with fresh searches, exact path counts, errors and time limits, and the
Moving AI 512x512 maps from ``../shared/data`` (skipped when absent)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvers import maze as maze_solver
from solvers.maze import (
    BACKENDS,
    GridGraph,
    count_shortest_paths,
    networkx_shortest_path,
    shortest_length,
    solve,
)
from tasks.errors import (
    ConfigError,
    InvalidTaskError,
    SolverTimeoutError,
    UnsolvableError,
    UnsupportedTaskError,
)
from tasks.generators.maze import generate_maze_hard, generate_perfect_maze
from tasks.maze import MazeTask
from tasks.verify import verify

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "maze-movingai-512"


# ---------------------------------------------------------------------------- reference
def _nx_graph(task: MazeTask) -> nx.Graph:
    graph = nx.grid_2d_graph(task.height, task.width)
    graph.remove_nodes_from(
        [(r, c) for r, row in enumerate(task.rows) for c, ch in enumerate(row) if ch == "#"]
    )
    return graph


def _nx_length(task: MazeTask) -> int | None:
    """Shortest start-to-goal moves by networkx (independent of solvers/), None if unreachable."""
    lengths = nx.single_source_shortest_path_length(_nx_graph(task), task.start)
    found = [lengths[g] for g in task.goals if g in lengths]
    return min(found) if found else None


def _nx_count(task: MazeTask) -> int:
    graph = _nx_graph(task)
    lengths = nx.single_source_shortest_path_length(graph, task.start)
    found = [lengths[g] for g in task.goals if g in lengths]
    if not found:
        return 0
    best = min(found)
    return sum(
        sum(1 for _ in nx.all_shortest_paths(graph, task.start, g))
        for g in task.goals
        if lengths.get(g) == best
    )


def _random_maze(seed: int, h: int, w: int, density: float, n_goals: int) -> MazeTask:
    """Random walls with the given density; start and goals on distinct random cells."""
    rng = np.random.default_rng(seed)
    walls = rng.random((h, w)) < density
    cells = [(int(r), int(c)) for r, c in rng.permutation(np.argwhere(np.ones((h, w))))]
    start, goals = cells[0], cells[1 : 1 + n_goals] or [cells[0]]
    for r, c in [start, *goals]:
        walls[r, c] = False
    return MazeTask(rows=walls.tolist(), start=start, goals=tuple(goals))


def _check_answer(task: MazeTask, path: list, expected_length: int) -> None:
    assert verify(task, path).ok, verify(task, path).violations
    assert len(path) - 1 == expected_length
    assert all(type(r) is int and type(c) is int for r, c in path)
    assert all(isinstance(cell, tuple) for cell in path)


# ---------------------------------------------------------------------------- properties
@given(
    height=st.integers(1, 25),
    width=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
    hard=st.booleans(),
)
def test_generated_mazes_solved_optimally_by_both_backends(height, width, seed, hard):
    if hard:  # loops and open patches: several shortest paths
        task = (
            generate_maze_hard(
                size=max(height, width), min_path_length=0, rng=seed, loop_fraction=0.2
            )
            if max(height, width) > 2
            else generate_perfect_maze(height, width, rng=seed)
        )
    else:
        task = generate_perfect_maze(height, width, rng=seed)
    expected = _nx_length(task)
    assert expected is not None
    for backend in BACKENDS:
        out = solve(task, backend=backend)
        assert out.backend == backend
        _check_answer(task, out.answer, expected)
        assert out.effort["path_length"] == expected
        assert all(isinstance(v, int | float) for v in out.effort.values())
        assert shortest_length(task, backend=backend) == expected
    if not hard:
        assert count_shortest_paths(task) == 1  # a perfect maze has one path


@given(
    height=st.integers(1, 8),
    width=st.integers(1, 8),
    density=st.floats(0.0, 0.6),
    n_goals=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_walls_and_goal_areas(height, width, density, n_goals, seed):
    task = _random_maze(seed, height, width, density, n_goals)
    expected = _nx_length(task)
    if expected is None:
        for backend in BACKENDS:
            with pytest.raises(UnsolvableError, match=r"no path from start \(\d+, \d+\)"):
                solve(task, backend=backend)
            with pytest.raises(UnsolvableError):
                shortest_length(task, backend=backend)
        assert count_shortest_paths(task) == 0
        return
    for backend in BACKENDS:
        _check_answer(task, solve(task, backend=backend).answer, expected)
    exact = _nx_count(task)
    assert count_shortest_paths(task) == exact
    assert count_shortest_paths(task, limit=2) == min(exact, 2)
    assert count_shortest_paths(task, limit=1) == min(exact, 1)


@given(seed=st.integers(0, 2**32 - 1), size=st.integers(3, 31), loops=st.floats(0.0, 0.3))
def test_uniqueness_shortcut_agrees_with_the_exact_count(seed, size, loops):
    """limit <= 2 answers from the layer sizes alone; it must match the full count."""
    task = generate_maze_hard(
        size=size, min_path_length=0, loop_fraction=loops, open_fraction=loops / 2, rng=seed
    )
    exact = count_shortest_paths(task)
    assert exact >= 1
    assert count_shortest_paths(task, limit=2) == min(exact, 2)


@given(seed=st.integers(0, 2**32 - 1), size=st.integers(2, 25), cut=st.floats(0.0, 0.15))
def test_gridgraph_reuse_matches_fresh_search(seed, size, cut):
    """Many queries on one graph (remembered trees, known components) agree with fresh BFS."""
    rng = np.random.default_rng(seed)
    base = generate_perfect_maze(size, size, rng=rng)
    walls = np.array([[ch == "#" for ch in row] for row in base.rows])
    # Extra walls split the perfect maze into a forest of several tree components.
    walls |= rng.random(walls.shape) < cut
    free = [(int(r), int(c)) for r, c in np.argwhere(~walls)]
    if len(free) < 2:
        return
    reused = GridGraph(walls)
    fresh = GridGraph(walls, reuse_trees=False)
    graph = nx.grid_2d_graph(size, size)
    graph.remove_nodes_from([(int(r), int(c)) for r, c in np.argwhere(walls)])
    for _ in range(8):
        i, j = rng.choice(len(free), size=2, replace=False)
        start, goal = free[i], free[j]
        try:
            expected = nx.shortest_path_length(graph, start, goal)
        except nx.NetworkXNoPath:
            for g in (reused, fresh):
                with pytest.raises(UnsolvableError):
                    g.shortest_path(start, goal)
            continue
        path, effort = reused.shortest_path(start, [goal])
        path2, effort2 = fresh.shortest_path(start, [goal])
        assert path == path2  # a forest has a single path between two cells
        task = MazeTask(rows=walls.tolist(), start=start, goal=goal)
        _check_answer(task, path, expected)
        assert effort["path_length"] == effort2["path_length"] == expected
        assert effort2["nodes_reached"] == len(nx.node_connected_component(graph, start))


def test_tree_reuse_with_several_goals_and_effort():
    task = generate_perfect_maze(21, 21, rng=3)
    g = GridGraph(task)
    free = [(r, c) for r, row in enumerate(task.rows) for c, ch in enumerate(row) if ch == "."]
    first, effort = g.shortest_path(task.start, task.goals)
    assert effort["nodes_reached"] == len(free)  # the BFS ordered the whole (single) component
    assert effort["tree_climb_steps"] == 0
    assert 1 <= effort["nodes_expanded_early_exit"] <= len(free)
    again, effort = g.shortest_path(task.start, task.goals)
    assert again == first
    assert effort["nodes_reached"] == 0 and effort["tree_climb_steps"] == len(first) - 1
    goals = free[::37][:5]
    for start in free[::53]:
        path, _ = g.shortest_path(start, goals)
        lengths = [
            len(GridGraph(task, reuse_trees=False).shortest_path(start, x)[0]) for x in goals
        ]
        assert len(path) == min(lengths) and path[0] == start and path[-1] in goals


# ---------------------------------------------------------------------------- examples
OPEN = MazeTask.parse(
    """
S.....
......
......
.....G"""
)


def test_count_on_open_grid_is_binomial():
    assert count_shortest_paths(OPEN) == math.comb(8, 3)
    assert count_shortest_paths(OPEN, limit=5) == 5
    big = MazeTask(rows=("." * 40,) * 40, start=(0, 0), goal=(39, 39))
    assert count_shortest_paths(big) == math.comb(78, 39)  # exact, far beyond 2**64


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, "2"])
def test_count_limit_is_checked(limit):
    with pytest.raises(InvalidTaskError, match="limit"):
        count_shortest_paths(OPEN, limit=limit)


def test_multiple_goals_path_ends_at_the_nearest():
    task = MazeTask.parse(
        """
G.....#
.####.#
...S..G
#######"""
    )
    for backend in BACKENDS:
        path = solve(task, backend=backend).answer
        assert path[-1] == (2, 6) and len(path) - 1 == 3
        assert verify(task, path).ok
    # Two goals at the same distance: both count.
    twin = MazeTask(rows=("...",), start=(0, 1), goals=((0, 0), (0, 2)))
    assert count_shortest_paths(twin) == 2
    assert len(solve(twin).answer) == 2


def test_start_on_a_goal_is_a_one_cell_path():
    task = MazeTask(rows=("..", ".."), start=(1, 1), goals=((0, 0), (1, 1)))
    for backend in BACKENDS:
        out = solve(task, backend=backend)
        assert out.answer == [(1, 1)]
        assert out.effort["path_length"] == 0
        assert verify(task, out.answer).ok
        assert shortest_length(task, backend=backend) == 0
    assert count_shortest_paths(task) == 1
    assert GridGraph(task).shortest_path((1, 1), (1, 1))[0] == [(1, 1)]


def test_unreachable_goal_raises_unsolvable_not_networkx_errors():
    task = MazeTask.parse(
        """
S.#..
..#.G"""
    )
    for backend in BACKENDS:
        with pytest.raises(UnsolvableError, match=r"no path from start \(0, 0\) to any goal") as e:
            solve(task, backend=backend)
        assert not isinstance(e.value, nx.NetworkXException)
        with pytest.raises(UnsolvableError):
            shortest_length(task, backend=backend)
    assert count_shortest_paths(task) == 0
    g = GridGraph(task)
    for _ in range(2):  # the second answer comes from the remembered component
        with pytest.raises(UnsolvableError):
            g.shortest_path((0, 0), (1, 4))


def test_bad_backend_and_bad_task():
    with pytest.raises(UnsupportedTaskError, match="bfs.*networkx"):
        solve(OPEN, backend="astar")
    with pytest.raises(UnsupportedTaskError, match="bfs.*networkx"):
        shortest_length(OPEN, backend="dijkstra")
    with pytest.raises(UnsupportedTaskError, match="MazeTask"):
        solve("S.G")  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [0, -1.0, float("nan"), "soon"])
def test_time_limit_is_checked(limit):
    with pytest.raises(ConfigError, match="time_limit_s"):
        solve(OPEN, time_limit_s=limit)


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_limit_exceeded_raises(backend):
    task = generate_perfect_maze(61, 61, rng=0)
    with pytest.raises(SolverTimeoutError, match="time limit"):
        solve(task, backend=backend, time_limit_s=1e-9)
    assert verify(task, solve(task, backend=backend, time_limit_s=math.inf).answer).ok
    assert verify(task, solve(task, backend=backend, time_limit_s=60).answer).ok


def test_gridgraph_inputs_and_cell_checks():
    rows = ["..#", "#..", "..."]
    from_rows = GridGraph(rows)
    from_array = GridGraph(np.array([[ch == "#" for ch in row] for row in rows]))
    from_task = GridGraph(MazeTask(rows=tuple(rows), start=(0, 0), goal=(2, 0)))
    from_lists = GridGraph([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    for g in (from_rows, from_array, from_task, from_lists):
        assert (g.n_nodes, g.n_edges) == (7, 7)
        assert g.shortest_path((0, 0), (2, 0))[0] == [(0, 0), (0, 1), (1, 1), (2, 1), (2, 0)]
    dist = from_rows.distances((0, 0))
    assert dist.shape == (3, 3) and dist[2, 0] == 4 and math.isinf(dist[0, 2])
    with pytest.raises(InvalidTaskError, match="wall"):
        from_rows.shortest_path((0, 2), (2, 2))
    with pytest.raises(InvalidTaskError, match="outside"):
        from_rows.shortest_path((0, 0), (3, 0))
    for bad_goal in ("goal", [], (True, 0)):
        with pytest.raises(InvalidTaskError, match="cell"):
            from_rows.shortest_path((0, 0), bad_goal)
    assert from_rows.csr.shape == (5 * 5, 5 * 5)  # the 3x3 grid padded by a wall border
    for bad in (["..", "..."], ["x."], ["é."], [], "...", np.zeros((0, 3)), [[1, 0], [1]], 5):
        with pytest.raises(InvalidTaskError):
            GridGraph(bad)


# ---------------------------------------------------------------------------- Moving AI
def _pairs() -> dict[str, list[dict[str, str]]]:
    if not (DATA / "pairs.csv").is_file():
        pytest.skip(f"Moving AI maze data not found at {DATA}")
    out: dict[str, list[dict[str, str]]] = {}
    with open(DATA / "pairs.csv", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["map"], []).append(row)
    return out


def _cell(row: dict[str, str], which: str) -> tuple[int, int]:
    return int(row[f"{which}_row"]), int(row[f"{which}_col"])


@pytest.mark.parametrize("name", ["maze512-1-0", "maze512-1-7", "maze512-8-0"])
def test_movingai_maps_match_published_pairs(name):
    rows = _pairs()[name][:4]
    text = (DATA / "maps" / f"{name}.map.txt").read_text()
    task = MazeTask.from_movingai(text, _cell(rows[0], "start"), _cell(rows[0], "goal"))
    graph = GridGraph(task)
    for row in rows:
        path, _ = graph.shortest_path(_cell(row, "start"), _cell(row, "goal"))
        assert len(path) - 1 == int(row["shortest_len_4conn"])
    out = solve(task)
    assert verify(task, out.answer).ok
    width_one = name.startswith("maze512-1-")
    count = count_shortest_paths(task, limit=None if width_one else 10**18)
    assert count == int(rows[0]["num_shortest_paths_4conn"])  # the csv caps counts at 1e18
    if width_one:
        assert count == 1


def test_networkx_backend_on_a_movingai_map():
    row = _pairs()["maze512-1-3"][1]
    text = (DATA / "maps" / "maze512-1-3.map.txt").read_text()
    task = MazeTask.from_movingai(text, _cell(row, "start"), _cell(row, "goal"))
    out = solve(task, backend="networkx")
    assert len(out.answer) - 1 == int(row["shortest_len_4conn"])
    assert out.effort["nodes"] == task.n_free
    assert out.answer == solve(task).answer  # unique path in a width-1 maze


def test_networkx_many_queries_on_one_graph():
    task = generate_maze_hard(size=15, min_path_length=10, rng=4)
    free = [(r, c) for r, row in enumerate(task.rows) for c, ch in enumerate(row) if ch == "."]
    queries = [(free[i], [free[-1 - i], free[i // 2]]) for i in range(0, len(free), 17)]
    queries.append((free[0], free[0]))
    graph = GridGraph(task)
    for (start, goals), path in zip(queries, networkx_shortest_path(task, queries), strict=True):
        expected, _ = graph.shortest_path(start, goals)
        assert path[0] == start and path[-1] in (goals if isinstance(goals, list) else [goals])
        assert len(path) == len(expected)
    split = ["..#..", "..#.."]
    with pytest.raises(UnsolvableError):
        networkx_shortest_path(split, [((0, 0), [(0, 4), (1, 4)])])
    with pytest.raises(InvalidTaskError, match="wall"):
        networkx_shortest_path(split, [((0, 2), (0, 0))])
    with pytest.raises(SolverTimeoutError):
        networkx_shortest_path(task, queries, time_limit_s=1e-9)


def test_module_interface():
    assert maze_solver.BACKENDS == ("bfs", "networkx")
    assert set(maze_solver.__all__) >= {"solve", "count_shortest_paths", "shortest_length"}
