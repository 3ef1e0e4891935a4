"""``neurosym datagen`` and ``neurosym bench neural`` end to end on tiny inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurosym.cli import main
from neurosym.hard_data import read_pool
from trm.train import TrainConfig, train


def test_datagen_writes_a_rated_pool(tmp_path, capsys):
    out = tmp_path / "six.npz"
    assert main(["datagen", "--n", "5", "--box", "2x3", "--seed", "4", "--out", str(out)]) == 0
    pool = read_pool(out)
    assert pool["puzzles"].shape == (5, 36) and (pool["guesses"] >= 0).all()
    assert "wrote" in capsys.readouterr().out
    # refuses to overwrite, before any work
    assert main(["datagen", "--n", "5", "--out", str(out)]) != 0
    assert "exists" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_maze_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("maze")
    cfg = TrainConfig(
        preset="maze-conv",
        model={"hidden_size": 8, "grid_height": 7, "grid_width": 7, "seq_len": 49},
        data={"kind": "maze", "height": 7, "width": 7, "maze": "mixed", "label": "union"},
        steps=2,
        batch_size=4,
        eval_size=0,
        device="cpu",
    )
    train(cfg, out)
    return out


def test_bench_neural_on_mazes(tiny_maze_model, tmp_path, capsys):
    report = tmp_path / "r.json"
    argv = ["bench", "neural", "--kind", "maze", "--model", str(tiny_maze_model)]
    argv += ["--sizes", "5,9", "--n", "2", "--depths", "1,3", "--trajectories", "1,2"]
    assert main([*argv, "--json", str(report)]) == 0
    text = capsys.readouterr().out
    assert "9x9 loops: 2 tasks" in text and "K=  2" in text
    data = json.loads(report.read_text())
    case = data["cases"]["5x5 perfect"]
    assert [row["depth"] for row in case["depth"]] == [1, 3]
    assert all(0.0 <= row["valid"] <= 1.0 for row in case["depth"])
    rules = case["trajectories"][1]["rules"]
    # "verify" keeps a task when any candidate verifies: never below another rule
    assert rules["verify"] >= max(rules["halt"], rules["first"], rules["vote"])
    assert np.isfinite(case["trajectories"][0]["seconds"])


def test_bench_neural_bad_model(capsys):
    assert main(["bench", "neural", "--model", "no-such-model"]) != 0
    assert "neither a checkpoint path nor a shipped model" in capsys.readouterr().err


def test_bench_neural_bad_halt_threshold_fails_before_any_work(tiny_maze_model, capsys):
    argv = ["bench", "neural", "--kind", "maze", "--model", str(tiny_maze_model)]
    argv += ["--sizes", "5", "--n", "2", "--depths", "1", "--halt-threshold", "1.0"]
    assert main(argv) != 0
    captured = capsys.readouterr()
    assert "halt_threshold must lie in [0, 1)" in captured.err
    # no depth curve was printed before the error
    assert "5x5 perfect" not in captured.out
