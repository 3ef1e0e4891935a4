"""Token codecs: TRM vocabularies and lengths, exact round trips, garbage tokens decode to answers
that verify() rejects (never an exception), and maze labels decode back to a shortest path."""

from __future__ import annotations

import doctest
import json
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.encodings as encodings
from tasks.encodings import (
    MAZE_FREE_ID,
    MAZE_PATH_ID,
    MAZE_WALL_ID,
    PAD_ID,
    MazeCodec,
    SudokuCodec,
    codec_from_spec,
)
from tasks.errors import InvalidTaskError
from tasks.generators import generate_maze_hard, generate_mazes, generate_solution
from tasks.maze import MazeTask
from tasks.strategies import maze_tasks, sudoku_task_with_solution
from tasks.sudoku import SudokuTask
from tasks.verify import maze_shortest_length, verify

EXTREME = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"


def _shortest_path(task: MazeTask) -> list[tuple[int, int]]:
    """The test's own BFS (not the codec's, not solvers/): a shortest start-to-goal path."""
    goals = set(task.goals)
    parent = {task.start: None}
    queue = deque([task.start])
    while queue:
        cell = queue.popleft()
        if cell in goals:
            path = []
            while cell is not None:
                path.append(cell)
                cell = parent[cell]
            return path[::-1]
        for nxt in task.neighbors(*cell):
            if nxt not in parent:
                parent[nxt] = cell
                queue.append(nxt)
    raise AssertionError("test mazes are solvable")


def test_doctests():
    result = doctest.testmod(encodings, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------------------- Sudoku
def test_sudoku_9x9_matches_trm_layout():
    codec = SudokuCodec(box_rows=3, box_cols=3)
    assert (codec.vocab_size, codec.seq_len, codec.pad_id, codec.blank_id) == (11, 81, 0, 1)
    task = SudokuTask.parse(EXTREME)
    tokens = codec.encode_puzzle(task)
    assert tokens.dtype == np.int64 and tokens.shape == (81,)
    assert tokens.tolist() == [1 if ch == "." else int(ch) + 1 for ch in EXTREME]
    solution = generate_solution(3, 3, rng=0)
    label = codec.encode_solution(solution)
    assert label.min() >= 2 and label.max() <= 10
    assert codec.decode(label) == solution


@settings(max_examples=25)
@given(sudoku_task_with_solution(max_side=9))
def test_sudoku_round_trips(pair):
    task, solution = pair
    codec = SudokuCodec.for_task(task)
    n = task.size
    assert codec.vocab_size == n + 2 and codec.seq_len == n * n
    puzzle = codec.encode_puzzle(task)
    grid = np.array(task.grid).ravel()
    assert np.array_equal(puzzle == 1, grid == 0)  # blanks, and only blanks, are token 1
    assert np.array_equal(puzzle[grid > 0], grid[grid > 0] + 1)
    assert codec.decode(puzzle) == task.grid
    assert codec.decode(puzzle.reshape(n, n)) == task.grid
    assert codec.decode(codec.encode_solution(solution)) == solution
    assert codec.decode(codec.encode_solution(np.array(solution))) == solution
    batch = codec.encode_batch([task, task])
    assert batch.shape == (2, n * n) and np.array_equal(batch[1], puzzle)
    assert codec.decode_batch(batch) == [task.grid, task.grid]


@settings(max_examples=25)
@given(
    st.lists(st.integers(-3, 40), min_size=81, max_size=81),
    st.integers(0, 80),
    st.sampled_from([PAD_ID, 1, 11, 99, -1]),
)
def test_sudoku_garbage_tokens_decode_to_a_rejected_grid(tokens, spot, junk):
    codec = SudokuCodec(box_rows=3, box_cols=3)
    tokens[spot] = junk  # at least one token that is no digit
    grid = codec.decode(np.array(tokens))
    assert len(grid) == 9 and all(len(row) == 9 for row in grid)
    assert all(isinstance(v, int) and 0 <= v <= 9 for row in grid for v in row)
    assert grid[spot // 9][spot % 9] == 0
    assert not verify(SudokuTask.parse(EXTREME), grid).ok


def test_sudoku_all_pad_decodes_blank():
    codec = SudokuCodec(box_rows=2, box_cols=3)
    grid = codec.decode(np.zeros(36, dtype=np.int32))
    assert grid == ((0,) * 6,) * 6
    assert not verify(SudokuTask.from_grid(grid, box=(2, 3)), grid).ok


def test_sudoku_size_mismatch_names_both_sizes():
    codec = SudokuCodec(box_rows=3, box_cols=3)
    small = SudokuTask.parse("1.3...1..1.....1")
    with pytest.raises(InvalidTaskError, match=r"9x9.*4x4"):
        codec.encode_puzzle(small)
    with pytest.raises(InvalidTaskError, match=r"2x3 boxes.*3x2 boxes"):
        SudokuCodec(box_rows=2, box_cols=3).encode_puzzle(
            SudokuTask.from_grid([[0] * 6] * 6, box=(3, 2))
        )
    with pytest.raises(InvalidTaskError, match="SudokuTask"):
        codec.encode_batch([MazeTask.parse("SG")])


@pytest.mark.parametrize(
    "grid",
    [
        [[1, 2], [2, 1]],  # wrong shape
        [[1, 2, 3, 4]] * 3 + [[4, 3, 2, 0]],  # a blank in a label
        [[1, 2, 3, 5]] * 4,  # out of range
        [[1.0, 2.0, 3.0, 4.0]] * 4,  # not ints
        [[True] * 4] * 4,
        [[1, 2, 3], [1, 2, 3, 4]] * 2,  # ragged
        "1234",
    ],
)
def test_sudoku_bad_solution_raises(grid):
    with pytest.raises(InvalidTaskError):
        SudokuCodec(box_rows=2, box_cols=2).encode_solution(grid)


@pytest.mark.parametrize("tokens", [np.zeros(80, dtype=np.int64), np.zeros(81), "x" * 81, None])
def test_sudoku_bad_token_arrays_raise(tokens):
    with pytest.raises(InvalidTaskError):
        SudokuCodec(box_rows=3, box_cols=3).decode(tokens)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"box_rows": 0, "box_cols": 3},
        {"box_rows": True, "box_cols": 3},
        {"box_rows": 3.5, "box_cols": 3},
        {"box_rows": 8, "box_cols": 8},
        {"box_rows": 3, "box_cols": 3, "extra": 1},
        {"box_rows": 3},
    ],
)
def test_sudoku_codec_bad_shape_raises(kwargs):
    with pytest.raises(InvalidTaskError):
        SudokuCodec(**kwargs)


# ---------------------------------------------------------------------------- specs
@pytest.mark.parametrize(
    "codec",
    [
        SudokuCodec(box_rows=3, box_cols=3),
        SudokuCodec(box_rows=2, box_cols=3),
        MazeCodec(height=30, width=30),
        MazeCodec(height=7, width=12),
    ],
)
def test_spec_round_trips_through_json(codec):
    spec = json.loads(json.dumps(codec.spec()))
    assert codec_from_spec(spec) == codec
    assert spec["vocab_size"] == codec.vocab_size and spec["seq_len"] == codec.seq_len


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "arc", "height": 30, "width": 30},
        {"height": 30, "width": 30},
        {"kind": "maze", "height": 30},
        {"kind": "maze", "height": 30, "width": 30, "seq_len": 81},
        {"kind": "maze", "height": 30, "width": 30, "vocab_size": 12},
        {"kind": "sudoku", "box_rows": 3, "box_cols": 3, "pad_id": 1},
        {"kind": "sudoku", "box_rows": 3, "box_cols": 3, "colour": "red"},
        {"kind": "sudoku", "box_rows": "3", "box_cols": 3},
        {"kind": "maze", "height": 0, "width": 30},
        {"kind": ["maze"]},
        ["kind", "maze"],
        None,
    ],
)
def test_bad_spec_raises(spec):
    with pytest.raises(InvalidTaskError):
        codec_from_spec(spec)


# ---------------------------------------------------------------------------- Maze
def test_maze_30x30_matches_trm_layout():
    codec = MazeCodec(height=30, width=30)
    assert (codec.vocab_size, codec.seq_len, codec.pad_id) == (6, 900, 0)
    maze = generate_maze_hard(rng=0)
    tokens = codec.encode_input(maze)
    assert tokens.dtype == np.int64 and tokens.shape == (900,)
    chars = {"#": 1, ".": 2, "S": 3, "G": 4}
    assert tokens.tolist() == [chars[ch] for ch in maze.to_text().replace("\n", "")]
    label = codec.encode_label(maze, _shortest_path(maze))
    drawn = {"#": 1, ".": 2, "S": 3, "G": 4, "o": 5}
    text = maze.to_text(_shortest_path(maze)).replace("\n", "")
    assert label.tolist() == [drawn[ch] for ch in text]


def test_maze_smaller_than_canvas_sits_top_left():
    maze = MazeTask.parse("S.#\n#.G")
    codec = MazeCodec(height=4, width=5)
    canvas = codec.encode_input(maze).reshape(4, 5)
    assert canvas[:2, :3].tolist() == [[3, 2, 1], [1, 2, 4]]
    assert (canvas[2:] == PAD_ID).all() and (canvas[:, 3:] == PAD_ID).all()
    assert codec.encode_batch([maze, maze]).shape == (2, 20)
    with pytest.raises(InvalidTaskError, match=r"2x3 maze.*2x2 canvas"):
        MazeCodec(height=2, width=2).encode_input(maze)
    with pytest.raises(InvalidTaskError, match="MazeTask"):
        codec.encode_input(SudokuTask.parse("1.3...1..1.....1"))


def _check_decodes_shortest(maze: MazeTask, codec: MazeCodec) -> None:
    path = _shortest_path(maze)
    decoded = codec.decode_path(codec.encode_label(maze, path), maze)
    assert verify(maze, decoded).ok
    assert len(decoded) - 1 == maze_shortest_length(maze)
    if len(maze.goals) == 1:  # marks are exactly one shortest path: it comes back unchanged
        assert decoded == path


@pytest.mark.parametrize(
    "mazes",
    [
        generate_mazes(4, size=15, seed=1),
        generate_mazes(3, size=(9, 21), seed=2, endpoints="random"),
        generate_mazes(2, size=30, kind="hard", seed=3),
    ],
)
def test_generated_maze_labels_decode_to_the_shortest_path(mazes):
    codec = MazeCodec(height=30, width=30)
    for maze in mazes:
        _check_decodes_shortest(maze, codec)


@settings(max_examples=40)
@given(maze_tasks(max_side=12))
def test_strategy_maze_labels_decode_to_a_shortest_path(maze):
    _check_decodes_shortest(maze, MazeCodec(height=12, width=12))


@settings(max_examples=25)
@given(maze_tasks(min_side=3, max_side=12, max_goals=1), st.data())
def test_missing_path_cell_gives_a_rejected_prefix(maze, data):
    path = _shortest_path(maze)
    if len(path) < 3:
        return  # no interior cell to drop
    codec = MazeCodec(height=12, width=12)
    label = codec.encode_label(maze, path).reshape(12, 12)
    i = data.draw(st.integers(1, len(path) - 2))
    label[path[i]] = MAZE_FREE_ID
    decoded = codec.decode_path(label.ravel(), maze)
    assert not verify(maze, decoded).ok
    assert decoded == path[:i]  # the marks are followed as far as they go, no further


def test_decode_ignores_marks_on_walls_and_outside_the_maze():
    maze = MazeTask.parse("S.#\n#.G")
    codec = MazeCodec(height=3, width=4)
    label = codec.encode_label(maze, [(0, 0), (0, 1), (1, 1), (1, 2)]).reshape(3, 4)
    label[0, 2] = label[1, 0] = MAZE_PATH_ID  # 'o' on walls
    label[2, :] = label[:, 3] = MAZE_PATH_ID  # 'o' on PAD
    assert codec.decode_path(label, maze) == [(0, 0), (0, 1), (1, 1), (1, 2)]
    # a wall marked 'o' is never a shortcut
    maze2 = MazeTask.parse("S#G\n...")
    label2 = np.full(12, MAZE_PATH_ID).reshape(3, 4)
    assert codec.decode_path(label2, maze2) == [(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)]
    assert label2[0, 1] == MAZE_PATH_ID and maze2.rows[0][1] == "#"


@settings(max_examples=25)
@given(maze_tasks(max_side=10))
def test_marking_every_cell_gives_a_shortest_path(maze):
    codec = MazeCodec.for_task(maze)
    decoded = codec.decode_path(np.full(codec.seq_len, MAZE_PATH_ID), maze)
    assert verify(maze, decoded).ok


@settings(max_examples=30)
@given(maze_tasks(max_side=8), st.data())
def test_garbage_maze_tokens_decode_without_error(maze, data):
    codec = MazeCodec(height=8, width=8)
    tokens = np.array(data.draw(st.lists(st.integers(-2, 9), min_size=64, max_size=64)))
    decoded = codec.decode_path(tokens, maze)
    assert decoded[0] == maze.start and len(set(decoded)) == len(decoded)
    marked = {
        (r, c) for r in range(maze.height) for c in range(maze.width) if tokens[r * 8 + c] == 5
    }
    allowed = marked | {maze.start, *maze.goals}
    assert set(decoded) <= allowed  # decoding never invents a cell
    for a, b in zip(decoded, decoded[1:], strict=False):
        assert abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1
        assert maze.is_free(*b)


def test_no_marks_gives_just_the_start():
    maze = generate_mazes(1, size=9, seed=0)[0]
    codec = MazeCodec.for_task(maze)
    decoded = codec.decode_path(codec.encode_input(maze), maze)
    assert decoded == [maze.start]
    assert not verify(maze, decoded).ok
    one_cell = MazeTask(rows=("#.",), start=(0, 1), goals=((0, 1),))
    assert MazeCodec.for_task(one_cell).decode_path([1, 3], one_cell) == [(0, 1)]


@pytest.mark.parametrize(
    "path", [[(0, 0), (0, 2)], [(5, 5)], [(0, -1)], [("a", 0)], [(True, 0)], [0]]
)
def test_bad_label_path_raises(path):
    maze = MazeTask.parse("S.#\n#.G")
    with pytest.raises(InvalidTaskError):
        MazeCodec(height=3, width=3).encode_label(maze, path)


@pytest.mark.parametrize(
    "tokens", [np.zeros(8, dtype=np.int64), np.full(9, 5.0), [[1, 2], [3, 4]], object()]
)
def test_bad_maze_tokens_raise(tokens):
    maze = MazeTask.parse("S.#\n#.G")
    with pytest.raises(InvalidTaskError):
        MazeCodec(height=3, width=3).decode_path(tokens, maze)


@pytest.mark.parametrize(
    "kwargs",
    [{"height": 0, "width": 3}, {"height": 3, "width": 5000}, {"height": False, "width": 3}],
)
def test_maze_codec_bad_canvas_raises(kwargs):
    with pytest.raises(InvalidTaskError):
        MazeCodec(**kwargs)


def test_wall_id_is_one():
    # TRM Maze-Hard: '#' is 1 and ' ' is 2; datasets built elsewhere rely on it
    assert (MAZE_WALL_ID, MAZE_FREE_ID, MAZE_PATH_ID) == (1, 2, 5)


def test_partial_path_goes_farthest_then_towards_the_goal():
    maze = MazeTask.parse("G..S..")
    codec = MazeCodec.for_task(maze)
    # no mark next to G: the route goes to the farthest marked cell reachable from S ...
    assert codec.decode_path([4, 2, 5, 3, 5, 5], maze) == [(0, 3), (0, 4), (0, 5)]
    # ... and between equally far ones, to the one nearer a goal
    assert codec.decode_path([4, 2, 5, 3, 5, 2], maze) == [(0, 3), (0, 2)]
