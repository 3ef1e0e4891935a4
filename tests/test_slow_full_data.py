"""Full public data sets, end to end (slow: run with ``pytest -m slow``)."""

from __future__ import annotations

import pytest

from neurosym import count_solutions, solve
from solvers import sudoku_constraint
from solvers.maze import GridGraph
from tasks.datasets import load_movingai_tasks, load_sudoku_csv
from tasks.verify import verify

pytestmark = pytest.mark.slow


def test_every_movingai_pair_has_the_published_length_and_count(data_dir):
    graphs: dict[str, GridGraph] = {}
    for query, maze in load_movingai_tasks(data_dir / "maze-movingai-512"):
        graph = graphs.setdefault(query.map_name, GridGraph(maze))
        path, _ = graph.shortest_path(query.start, [query.goal])
        assert len(path) - 1 == query.shortest_length, query
        if query.map_name.startswith("maze512-1-"):  # corridor width 1: perfect mazes
            assert query.n_shortest_paths == 1
    q, maze = load_movingai_tasks(data_dir / "maze-movingai-512", limit=1)[0]
    result = solve(maze)
    assert result.verified and len(result.answer) - 1 == q.shortest_length


def test_python_constraint_counts_every_tdoku_puzzle(data_dir):
    for record in load_sudoku_csv(data_dir / "sudoku-tdoku-test-puzzles" / "puzzles.csv"):
        got = sudoku_constraint.count_solutions(record.task, limit=1000, time_limit_s=120)
        assert got == record.n_solutions, record.id


def test_serg_benchmark_all_reported_not_unique(data_dir):
    records = load_sudoku_csv(data_dir / "sudoku-serg-benchmark" / "puzzles.csv")
    assert len(records) == 10_000
    for record in records:
        assert count_solutions(record.task, limit=2) == 2, record.id


def test_norvig_and_gecode_with_python_constraint(data_dir):
    for name in ["sudoku-norvig-hardest/hardest.csv", "sudoku-gecode-9x9/puzzles.csv"]:
        for record in load_sudoku_csv(data_dir / name):
            out = sudoku_constraint.solve(record.task, time_limit_s=120)
            assert verify(record.task, out.answer).ok, record.id
