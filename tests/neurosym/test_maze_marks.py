"""neurosym.study.maze_marks: the classes of a maze network's marks."""

from __future__ import annotations

import numpy as np
import pytest

from neurosym.study.maze_marks import MARK_CLASSES, classify_marks, main, mark_report
from tasks.encodings import MazeCodec
from tasks.errors import ConfigError
from tasks.generators import generate_maze_hard
from tasks.maze import MazeTask
from trm.config import preset
from trm.data import union_of_shortest_paths
from trm.model import TRM

TASK = MazeTask.parse("S...\n.##.\n...G")  # two shortest routes round the wall


def _tokens(cells, task=TASK):
    return MazeCodec(height=task.height, width=task.width).encode_label(task, cells)


def test_each_class_from_hand_made_marks():
    union = union_of_shortest_paths(TASK)
    assert classify_marks(TASK, _tokens(union)) == ("exact", 0, 0)
    top = [(0, 1), (0, 2), (0, 3), (1, 3)]
    assert classify_marks(TASK, _tokens(top)) == ("subset", 0, 4)
    assert classify_marks(TASK, _tokens([])) == ("subset", 0, 8)
    # A 2-D canvas larger than the maze reads the maze at its top-left.
    canvas = MazeCodec(height=5, width=6).encode_label(TASK, union).reshape(5, 6)
    assert classify_marks(TASK, canvas) == ("exact", 0, 0)


def test_extra_marks_off_every_shortest_path():
    task = MazeTask.parse("S.G\n...")
    union = set(union_of_shortest_paths(task))
    free = [(r, c) for r in range(2) for c in range(3) if task.rows[r][c] == "."]
    off = [c for c in free if c not in union]
    assert off, "the example needs a free cell off the shortest paths"
    name, extra, missing = classify_marks(task, _tokens(free, task))
    assert (name, extra, missing) == ("superset", len(off), 0)
    name, extra, _ = classify_marks(task, _tokens(off, task))
    assert name == "both" and extra == len(off)


def test_tokens_of_the_wrong_shape_are_refused():
    with pytest.raises(ConfigError, match="tokens must be"):
        classify_marks(TASK, np.zeros(5, dtype=np.int64))


def test_the_report_counts_every_maze_once():
    net = TRM(preset("maze-conv", hidden_size=8, max_supervision_steps=2)).eval()
    from trm.inference import LoadedModel

    loaded = LoadedModel(model=net, config=net.config, codec=MazeCodec(height=9, width=9),
                         meta={"task": {"kind": "maze"}})  # fmt: skip
    tasks = [generate_maze_hard(size=9, min_path_length=0, rng=s) for s in range(5)]
    counts = mark_report(loaded, tasks, max_steps=2)
    assert [c.name for c in counts] == list(MARK_CLASSES)
    assert sum(c.n for c in counts) == 5
    with pytest.raises(ConfigError, match="MazeTask"):
        mark_report(loaded, [])


def test_the_script_refuses_bad_sizes():
    import argparse

    with pytest.raises(ConfigError, match="--sizes"):
        main(argparse.Namespace(sizes="a,b", model="x", n=1, depth=1, seed=0, min_path=0))
