"""Hard training data: minimal puzzles rated by guesses, the pool file, the curriculum, mixed
maze sizes with loops and their union-of-shortest-paths labels."""

from __future__ import annotations

import numpy as np
import pytest

from neurosym.hard_data import guesses_needed, make_hard_sudoku, read_pool, write_pool
from tasks.errors import ConfigError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import maze_shortest_length, verify
from trm.data import (
    MazeData,
    SudokuData,
    TaskStream,
    make_eval_set,
    other_solution,
    union_of_shortest_paths,
)


@pytest.fixture(scope="module")
def pool_file(tmp_path_factory):
    pool = make_hard_sudoku(24, seed=3)
    path = tmp_path_factory.mktemp("pool") / "hard.npz"
    write_pool(path, pool)
    return path, pool


def _task(flat, n=9, box=(3, 3)) -> SudokuTask:
    grid = tuple(tuple(int(v) for v in flat[r * n : (r + 1) * n]) for r in range(n))
    return SudokuTask(box_rows=box[0], box_cols=box[1], grid=grid)


def test_pool_puzzles_are_minimal_unique_and_rated(pool_file):
    path, pool = pool_file
    back = read_pool(path)
    assert np.array_equal(back["puzzles"], pool["puzzles"])
    for flat, sol, guesses in list(
        zip(pool["puzzles"], pool["solutions"], pool["guesses"], strict=True)
    )[:6]:
        task, solution = _task(flat), _task(sol).grid
        assert verify(task, solution).ok
        assert other_solution(task, solution) is None  # unique
        assert guesses_needed(task) == guesses
        # minimal: removing any one given opens a second solution
        for i in np.flatnonzero(flat)[:10]:
            fewer = flat.copy()
            fewer[i] = 0
            assert other_solution(_task(fewer), solution) is not None
    assert (pool["givens"] <= 30).all()


def test_pool_is_reproducible():
    a, b = make_hard_sudoku(3, seed=9), make_hard_sudoku(3, seed=9, workers=1)
    assert np.array_equal(a["puzzles"], b["puzzles"])
    c = make_hard_sudoku(2, seed=9, start=1)
    assert np.array_equal(a["puzzles"][1:], c["puzzles"])


def test_stream_from_pool_with_curriculum(pool_file):
    path, pool = pool_file
    cfg = SudokuData(
        box_rows=3,
        box_cols=3,
        pool_path=str(path),
        hard_fraction=0.5,
        curriculum_steps=100,
        max_extra_givens=20,
        augment=False,
    )
    stream = TaskStream(cfg, np.random.default_rng(0))
    early = [stream.next_example() for _ in range(40)]
    stream.set_step(100)
    late = [stream.next_example() for _ in range(40)]
    minimal = set(pool["givens"].tolist())
    for ex in early + late:
        assert verify(ex.task, ex.solution).ok  # every given agrees with the label
    # after the curriculum every puzzle is a pool puzzle as generated
    assert all(ex.task.n_givens in minimal for ex in late)
    assert np.mean([e.task.n_givens for e in early]) > np.mean([e.task.n_givens for e in late]) + 3


def test_stream_replays_from_the_same_rng_state(pool_file):
    path, _ = pool_file
    cfg = SudokuData(
        box_rows=3, box_cols=3, pool_path=str(path), curriculum_steps=10, max_extra_givens=5
    )
    one = TaskStream(cfg, np.random.default_rng(4))
    two = TaskStream(cfg, np.random.default_rng(4))
    one.set_step(3)
    two.set_step(3)
    a, b = one.next_batch(8), two.next_batch(8)
    assert all(bool((x == y).all()) for x, y in zip(a, b, strict=True))


def test_pool_errors(tmp_path, pool_file):
    with pytest.raises(ConfigError, match="cannot read the Sudoku pool"):
        TaskStream(
            SudokuData(box_rows=3, box_cols=3, pool_path=str(tmp_path / "no.npz")),
            np.random.default_rng(0),
        )
    path, _ = pool_file
    with pytest.raises(ConfigError, match="3x3 boxes"):
        TaskStream(
            SudokuData(box_rows=2, box_cols=3, pool_path=str(path)), np.random.default_rng(0)
        )


def test_eval_set_of_a_pool_config_is_fresh_minimal_puzzles(pool_file):
    path, pool = pool_file
    es = make_eval_set(SudokuData(box_rows=3, box_cols=3, pool_path=str(path)), n=3, seed=77)
    known = {p.tobytes() for p in pool["puzzles"].astype(np.int64)}
    for task, solution in zip(es.tasks, es.solutions, strict=True):
        flat = np.array([v for row in task.grid for v in row], dtype=np.int64)
        assert flat.tobytes() not in known
        assert other_solution(task, solution) is None


def test_mixed_mazes_have_many_sizes_loops_and_union_labels():
    cfg = MazeData(height=11, width=11, maze="mixed", min_size=5, loop_prob=0.5, label="union")
    stream = TaskStream(cfg, np.random.default_rng(1))
    sizes, several = set(), 0
    for _ in range(60):
        ex = stream.next_example()
        task = ex.task
        sizes.add(task.height)
        length = maze_shortest_length(task)
        union = set(ex.solution)
        assert {task.start, *task.goals} <= union
        several += len(union) > length + 1  # more cells than one path: several paths
        path = stream.codec.decode_path(ex.labels, task, strict=True)
        assert verify(task, path).ok
    assert len(sizes) >= 4 and several >= 3


def _has_cycle(task: MazeTask) -> bool:
    """A free-cell graph is a forest iff edges = cells - components; count both."""
    free = {(r, c) for r in range(task.height) for c in range(task.width) if task.is_free(r, c)}
    edges = sum(((r + 1, c) in free) + ((r, c + 1) in free) for r, c in free)
    seen, components = set(), 0
    for cell in free:
        if cell in seen:
            continue
        components += 1
        todo = [cell]
        seen.add(cell)
        while todo:
            r, c = todo.pop()
            for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if nxt in free and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return edges > len(free) - components


def test_loop_curriculum_withholds_loops_until_its_step_and_not_from_evaluation():
    cfg = MazeData(height=9, width=9, maze="mixed", loop_prob=1.0, loop_start_step=100)
    stream = TaskStream(cfg, np.random.default_rng(0))
    stream.set_step(99)
    assert not any(_has_cycle(stream.next_example().task) for _ in range(40))
    # From the step on every maze comes from the loop generator; small ones often end up with
    # no wall opened (6 of these 20 have a cycle, seed fixed).
    stream.set_step(100)
    assert sum(_has_cycle(stream.next_example().task) for _ in range(20)) >= 3
    evaluation = make_eval_set(cfg, 10, seed=1)  # the full mix, whatever the curriculum
    assert sum(_has_cycle(task) for task in evaluation.tasks) >= 3
    with pytest.raises(ConfigError, match="loop_start_step"):
        MazeData(maze="mixed", loop_start_step=-1)


def test_union_label_of_a_perfect_maze_is_its_path():
    maze = MazeTask.parse("S.#\n#.G")
    assert union_of_shortest_paths(maze) == [(0, 0), (0, 1), (1, 1), (1, 2)]


def test_mixed_needs_a_square_canvas():
    with pytest.raises(ConfigError, match="square canvas"):
        MazeData(height=9, width=11, maze="mixed", augment=False)
