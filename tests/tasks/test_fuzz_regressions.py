"""Bugs found by ``neurosym bench reliability``, each pinned by its minimal reproducer."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.detect import parse_task
from tasks.errors import InvalidTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify


@pytest.mark.parametrize(
    "rows",
    [
        ("...", "..", "...."),  # lengths 3+2+4 sum to 3*3: the joined-length check passed it
        ("..", "....", ""),
    ],
)
def test_ragged_rows_whose_lengths_sum_to_h_times_w_are_refused(rows):
    with pytest.raises(InvalidTaskError, match="row 1 has"):
        MazeTask(rows=rows, start=(0, 0), goal=(0, 1))


def test_ragged_json_maze_is_refused_not_crashing_verify_later():
    text = '{"kind":"maze","rows":["...","..","...."],"start":[0,0],"goal":[2,2]}'
    with pytest.raises(InvalidTaskError, match="row 1 has 2 cells, expected 3"):
        parse_task(text)


MAZE = MazeTask(rows=("...", "#.#", "..."), start=(0, 0), goal=(2, 1))
PATH = [(0, 0), (0, 1), (1, 1), (2, 1)]


@pytest.mark.parametrize(
    "answer",
    [
        [(r + 0.5, c) for r, c in PATH],  # int() truncated 0.5 to 0: a fractional path passed
        [(str(r), str(c)) for r, c in PATH],  # and int("1") read strings as cells
        [(float(r), c) for r, c in PATH],  # whole floats are not cells either
    ],
)
def test_verify_rejects_non_integer_maze_cells(answer):
    assert verify(MAZE, PATH).ok
    verdict = verify(MAZE, answer)
    assert not verdict.ok and verdict.violations[0].rule == "shape"


def test_verify_still_takes_numpy_integer_cells():
    assert verify(MAZE, np.array(PATH, dtype=np.int64)).ok
    assert verify(MAZE, [(np.int32(r), np.int16(c)) for r, c in PATH]).ok


@pytest.mark.parametrize("digits", [10, 5000])
def test_a_huge_number_token_is_an_invalid_task_not_a_value_error_from_int(digits):
    # 5000 digits: int() raised ValueError (the 4300-digit conversion limit), outside the hierarchy
    rows = ["1 2 3 4", "3 4 1 2", "2 1 4 3", "4 3 2 " + "9" * digits]
    with pytest.raises(InvalidTaskError, match=f"{digits} digits"):
        SudokuTask.parse("\n".join(rows))
    with pytest.raises(InvalidTaskError, match=f"{digits} digits"):
        parse_task("\n".join(rows))


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json_is_an_invalid_task_not_a_recursion_error(depth):
    text = '{"kind":"sudoku","grid":' + "[" * depth + "]" * depth + "}"
    with pytest.raises(InvalidTaskError):
        parse_task(text)
