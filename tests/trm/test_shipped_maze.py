"""The shipped 9x9 maze TRM (neurosym/models/maze9) through ``solve(method="neural")``, and the
training presets the CLI offers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosym import solve
from neurosym.train_cli import PRESET_DATA
from tasks.encodings import MazeCodec
from tasks.generators import generate_perfect_maze
from tasks.verify import verify
from trm.config import PRESETS
from trm.data import shortest_path
from trm.inference import load_model, predict
from trm.train import TrainConfig

MAZE9 = Path(__file__).resolve().parents[2] / "neurosym" / "models" / "maze9"


def _mazes(n: int = 5) -> list:
    # A fixed seeded set (seeds 0..n-1), not picked by how the model does on it.
    return [generate_perfect_maze(9, 9, rng=seed) for seed in range(n)]


def test_shipped_maze9_model_solves_generated_mazes_through_solve():
    assert (MAZE9 / "checkpoint.json").is_file(), "the 9x9 maze model is not shipped"
    results = [solve(task, method="neural") for task in _mazes()]
    for task, result in zip(_mazes(), results, strict=True):
        assert result.method == "neural"
        # solve's verdict is the oracle's verdict on the answer it returns.
        assert result.verified == verify(task, result.answer).ok
    assert sum(r.verified for r in results) >= 4


def test_shipped_maze9_model_draws_the_exact_path():
    # verify() accepts any shortest route through the cells the network marks, so marking
    # every free cell of a perfect maze would pass it; here the tokens must equal the label.
    loaded = load_model(MAZE9)
    assert loaded.kind == "maze"
    codec = loaded.codec
    assert isinstance(codec, MazeCodec) and (codec.height, codec.width) == (9, 9)
    tasks = _mazes()
    exact = 0
    for task, pred in zip(tasks, predict(loaded, None, tasks), strict=True):
        label = codec.encode_label(task, shortest_path(task))
        exact += bool(np.array_equal(pred.tokens, label))
    assert exact >= 4


@pytest.mark.parametrize("name", sorted(PRESET_DATA))
def test_every_cli_preset_has_a_model_and_fitting_data(name):
    assert name in PRESETS
    cfg = TrainConfig(preset=name, data=PRESET_DATA[name], steps=1)
    assert cfg.trm_config() == PRESETS[name]
