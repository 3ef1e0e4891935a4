"""The halting threshold: a higher one never stops a sample earlier; bad values are refused."""

from __future__ import annotations

import pytest

from neurosym.neural import MODELS_DIR
from tasks.errors import ConfigError
from tasks.generators import generate_puzzles
from trm.inference import evaluate, load_model, predict


@pytest.fixture(scope="module")
def six():
    loaded = load_model(MODELS_DIR / "sudoku6")
    pairs = generate_puzzles(16, 2, 3, seed=77, n_givens=15)
    return loaded, [t for t, _ in pairs], [s for _, s in pairs]


def test_higher_threshold_never_stops_earlier(six):
    loaded, tasks, _ = six
    low = predict(loaded, None, tasks, halt_threshold=0.5)
    high = predict(loaded, None, tasks, halt_threshold=0.99)
    full = predict(loaded, None, tasks, halt=False)
    for a, b, c in zip(low, high, full, strict=True):
        assert a.steps <= b.steps <= c.steps == loaded.config.max_supervision_steps
        # A sample stops at the first step whose halt probability passes the threshold.
        assert b.steps == c.steps or b.halt_prob > 0.99


def test_evaluate_uses_the_same_rule(six):
    loaded, tasks, sols = six
    for threshold in (0.5, 0.99):
        metrics = evaluate(loaded, tasks, sols, halt_threshold=threshold)
        preds = predict(loaded, None, tasks, halt_threshold=threshold)
        assert metrics["mean_steps"] == pytest.approx(sum(p.steps for p in preds) / len(preds))


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.5", True, float("nan")])
def test_bad_threshold_raises(six, bad):
    loaded, tasks, _ = six
    with pytest.raises(ConfigError, match="halt_threshold"):
        predict(loaded, None, tasks[:1], halt_threshold=bad)
