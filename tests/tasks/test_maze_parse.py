"""Maze readers refuse ragged rows instead of inventing free cells (ASCII and Moving AI)."""

from __future__ import annotations

import pytest

from tasks.detect import parse_task
from tasks.errors import InvalidTaskError
from tasks.maze import MazeTask


@pytest.mark.parametrize(
    ("text", "row", "length"),
    [
        ("S..#\n.#\n...G", 1, 2),  # a short middle row: the path ran through invented cells
        ("S.\n....\n...G", 0, 2),  # the first row short
        ("S...\n....\n..G", 2, 3),  # the last row short
        ("S..#\r\n.#\r\n#..G\r\n", 1, 2),  # CRLF line ends
    ],
)
def test_ragged_ascii_rows_raise_naming_the_row(text, row, length):
    with pytest.raises(InvalidTaskError, match=rf"maze row {row} has {length} cells, expected 4"):
        MazeTask.parse(text)


def test_ragged_maze_is_refused_through_parse_task():
    with pytest.raises(InvalidTaskError, match="maze row 1 has 2 cells, expected 5"):
        parse_task("S...#\n.#\n...G.")


def test_equal_rows_and_space_drawn_mazes_still_parse():
    assert MazeTask.parse("S...#\n.#...\n...G.").rows == ("....#", ".#...", ".....")
    # free cells drawn as spaces: a short row lost its trailing spaces to an editor
    assert MazeTask.parse("S   #\n #\n   G ").rows == ("....#", ".#...", ".....")


def test_ragged_movingai_rows_raise():
    text = "type octile\nheight 3\nwidth 5\nmap\n.....\n.@\n.....\n"
    with pytest.raises(InvalidTaskError, match="map row 1 has 2 cells, header says 5"):
        MazeTask.from_movingai(text, (0, 0), (2, 4))
