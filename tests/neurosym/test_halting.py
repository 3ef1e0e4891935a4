"""neurosym.study.halting: ECE, halting figures, per-step outcomes, the --out guard, the CLI."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from neurosym.study import halting as h
from tasks.errors import ConfigError


def test_ece_on_a_hand_made_case():
    # Bin [0, .5): probs .1, .1, outcomes 0, 0 -> |0 - .1| = .1; bin [.5, 1]: probs .9, .9,
    # outcomes 1, 0 -> |.5 - .9| = .4. ECE = .5 * .1 + .5 * .4 = .25.
    ece, bins = h.expected_calibration_error([0.1, 0.1, 0.9, 0.9], [1 == 0, 0, 1, 0], n_bins=2)
    assert ece == pytest.approx(0.25)
    assert [(b["count"], b["mean_prob"], b["accuracy"]) for b in bins] == [
        (2, pytest.approx(0.1), 0.0),
        (2, pytest.approx(0.9), 0.5),
    ]
    # Perfectly calibrated: a bin at 0.25 with one success in four, a bin at 1.0 (last bin).
    ece, bins = h.expected_calibration_error([0.25] * 4 + [1.0] * 2, [1, 0, 0, 0, 1, 1], 4)
    assert ece == pytest.approx(0.0)
    assert [b["count"] for b in bins] == [0, 4, 0, 2]
    assert bins[0]["mean_prob"] is None
    # Always confident, always wrong: ECE = 1.
    assert h.expected_calibration_error([1.0, 1.0], [0, 0])[0] == pytest.approx(1.0)


def test_ece_rejects_bad_input():
    with pytest.raises(ConfigError, match="outcomes"):
        h.expected_calibration_error([0.5], [1, 0])
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        h.expected_calibration_error([1.5], [1])
    with pytest.raises(ConfigError, match="n_bins"):
        h.expected_calibration_error([0.5], [1], n_bins=0)


def test_halting_stats_by_depth():
    probs = np.array([[0.1, 0.2, 0.95], [0.99, 0.1, 0.1], [0.1, 0.1, 0.1], [0.1, 0.92, 0.1]])
    correct = np.array([[0, 0, 1], [0, 1, 1], [0, 0, 1], [0, 1, 1]], dtype=bool)
    s = h.halting_stats(probs, correct, 3, 0.9)
    # Task 0 halts right at 3, task 1 wrong at 1, task 2 never halts (right at the cap), task
    # 3 halts right at 2.
    assert (s["halted_right"], s["halted_wrong"], s["never_halted"]) == (0.5, 0.25, 0.25)
    assert s["never_halted_right"] == 0.25 and s["accuracy"] == 0.75
    assert s["halt_steps"] == [3, 1, 2] and s["mean_halt_step"] == 2.0
    s2 = h.halting_stats(probs, correct, 2, 0.9)  # a cap of 2: task 0 no longer halts
    assert (s2["halted_right"], s2["halted_wrong"], s2["never_halted"]) == (0.25, 0.25, 0.5)
    assert s2["accuracy"] == 0.25  # task 2's and task 0's answers at step 2 are wrong
    with pytest.raises(ConfigError, match="depth"):
        h.halting_stats(probs, correct, 4, 0.9)


@pytest.fixture(scope="module")
def six():
    from neurosym.neural import default_models
    from tasks.generators import generate_puzzle
    from trm.inference import load_model

    loaded = load_model(default_models()["sudoku6_peers"])
    tasks = [generate_puzzle(2, 3, n_givens=n, rng=n)[0] for n in (12, 14, 16, 18)]
    return loaded, tasks


def test_step_outcomes_match_predict_traces(six):
    from neurosym.neural import torch_threads
    from tasks.verify import verify
    from trm.inference import predict

    loaded, tasks = six
    probs, correct = h.step_outcomes(loaded, tasks, 5)
    assert probs.shape == correct.shape == (4, 5)
    with torch_threads(1):
        preds = predict(loaded, None, tasks, max_steps=5, halt=False, trace=True)
    for i, (task, pred) in enumerate(zip(tasks, preds, strict=True)):
        assert np.allclose(probs[i], [s.halt_prob for s in pred.trace], atol=1e-6)
        assert list(correct[i]) == [verify(task, s.answer).ok for s in pred.trace]
    again = h.step_outcomes(loaded, tasks, 5, noise=0.3, seed=1)
    assert np.array_equal(again[0], h.step_outcomes(loaded, tasks, 5, noise=0.3, seed=1)[0])
    assert not np.array_equal(again[0], probs)  # the noise reaches the halt head
    with pytest.raises(ConfigError, match="noise"):
        h.step_outcomes(loaded, tasks, 5, noise=-1)


def test_untrained_head_never_halts():
    from tasks.encodings import SudokuCodec
    from tasks.generators import generate_puzzle
    from trm.config import preset
    from trm.inference import LoadedModel
    from trm.model import TRM

    codec = SudokuCodec(box_rows=2, box_cols=3)
    net = TRM(preset("sudoku6-tiny", hidden_size=16)).eval()
    loaded = LoadedModel(model=net, config=net.config, codec=codec, meta={})
    tasks = [generate_puzzle(2, 3, n_givens=20, rng=k)[0] for k in range(3)]
    probs, correct = h.step_outcomes(loaded, tasks, 3)
    stats = h.halting_stats(probs, correct, 3, 0.5)
    assert stats["never_halted"] == 1.0 and stats["halt_steps"] == []
    assert np.allclose(probs, 1 / (1 + np.exp(5)), atol=1e-4)  # the head's bias -5


def _parser():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    h.register(sub)
    return parser


def test_bad_arguments_and_out_guard(tmp_path, monkeypatch):
    taken = tmp_path / "file"
    taken.write_text("x")

    def boom(*_a, **_k):
        raise AssertionError("work started")

    monkeypatch.setattr("trm.inference.load_model", boom)
    for argv, match in (
        (["--out", str(taken)], "is a file"),
        (["--depths", "0,8"], "depths"),
        (["--depths", "eight"], "depths"),
        (["--noises", "-0.1"], "noises"),
        (["--n", "0"], "n must"),
        (["--bins", "0"], "n_bins"),
        (["--halt-threshold", "2"], "halt_threshold"),
        (["--models", "nope"], "neither a checkpoint"),
    ):
        args = _parser().parse_args(["halting", "--out", str(tmp_path / "o"), *argv])
        with pytest.raises(ConfigError, match=match):
            args.func(args)
    assert not (tmp_path / "o").exists()
    monkeypatch.undo()
    # A name that would land outside --out is refused, whatever the caller passes as a model.
    (tmp_path / "o2").mkdir()
    (tmp_path / "o2" / "halting.csv").symlink_to(tmp_path / "outside.csv")
    args = _parser().parse_args(
        ["halting", "--models", "sudoku6_peers", "--out", str(tmp_path / "o2")]
    )
    with pytest.raises(ConfigError, match="outside the output folder"):
        args.func(args)
    assert not (tmp_path / "outside.csv").exists()


def test_register_runs_end_to_end(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "h"
    args = _parser().parse_args(
        ["halting", "--models", str(tiny_checkpoint), "--n", "3", "--depths", "1,3",
         "--noises", "0,0.1", "--out", str(out)]
    )  # fmt: skip
    assert args.func(args) == 0
    lines = (out / "halting.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 2  # two noises x two depths
    assert len((out / "reliability.csv").read_text().splitlines()) == 1 + 4 * 10
    assert (out / f"halting_{tiny_checkpoint.name}.png").stat().st_size > 0
    assert f"| {tiny_checkpoint.name} | 0.1 | 3 | 3 |" in capsys.readouterr().out
