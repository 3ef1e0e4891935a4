"""``bench throughput`` reports one row per (model, batch size, halting mode) with consistent
figures, counts verified answers as ``verify`` does, and refuses bad options before any work."""

from __future__ import annotations

import argparse
import json

import pytest

from neurosym.benchmarks.throughput import (
    case_depth,
    format_table,
    measure,
    model_cases,
    register,
    run_throughput,
)
from tasks.errors import ConfigError
from tasks.verify import verify
from trm.inference import load_model, predict

SIX = "sudoku6"  # the shipped 6x6 model: N_sup = 4, no DEFAULT_DEPTH entry


@pytest.fixture(scope="module")
def report():
    return run_throughput(SIX, n=3, batch_sizes="1,2", repeats=2)


def test_one_row_per_model_batch_size_and_halting_mode(report):
    rows = report["rows"]
    assert len(rows) == 1 * 2 * 2
    assert {(r["model"], r["batch_size"], r["halting"]) for r in rows} == {
        (SIX, b, h) for b in (1, 2) for h in (True, False)
    }
    assert all(r["tasks"] == "6x6 10-12 givens" and r["n"] == 3 for r in rows)
    assert set(report["models"]) == {SIX} and report["models"][SIX]["load_s"] > 0
    assert report["settings"]["repeats"] == 2 and report["settings"]["torch_threads"] == 1


def test_halting_off_runs_every_step_and_on_runs_at_most_that(report):
    depth = load_model(report["models"][SIX]["path"]).config.max_supervision_steps
    for r in report["rows"]:
        assert r["depth"] == depth == 4
        if r["halting"]:
            assert 1 <= r["mean_steps"] <= depth
        else:
            assert r["mean_steps"] == depth


def test_speed_figures_agree_with_the_best_repeat(report):
    for r in report["rows"]:
        assert len(r["repeat_s"]) == 2 and r["best_s"] == min(r["repeat_s"])
        assert r["puzzles_per_s"] > 0 and r["warmup_s"] > 0
        assert r["puzzles_per_s"] == pytest.approx(r["n"] / r["best_s"])
        assert r["ms_per_puzzle"] == pytest.approx(1000.0 / r["puzzles_per_s"])
        assert 0.0 <= r["verified"] <= 1.0
    table = format_table(report)
    assert table.count(f"| {SIX} |") == 4 and "best of 2 timed repeats" in table


def test_verified_share_is_a_recount_through_verify():
    loaded = load_model(f"neurosym/models/{SIX}")
    tasks = model_cases(loaded, 4, seed=7)[0].tasks
    m = measure(loaded, tasks, depth=2, batch_size=3, halt=False, repeats=1)
    again = predict(loaded, None, tasks, max_steps=2, halt=False)
    recount = [verify(t, p.answer).ok for t, p in zip(tasks, again, strict=True)]
    assert m.verified == recount
    assert m.verified_share == sum(recount) / len(tasks)
    assert m.mean_steps == 2 and len(m.repeat_s) == 1


def test_case_depth_takes_the_shipped_default_or_the_trained_one():
    from neurosym.neural import resolve_model

    loaded = load_model(f"neurosym/models/{SIX}")
    tasks = model_cases(loaded, 2, seed=1)[0].tasks
    cached, _ = resolve_model(tasks[0], f"neurosym/models/{SIX}")
    assert case_depth(cached, tasks) == loaded.config.max_supervision_steps


@pytest.fixture
def no_work(monkeypatch):
    """Any model load fails the test: options must be refused before it."""

    def refuse(*_a, **_k):
        raise AssertionError("work started before the options were checked")

    monkeypatch.setattr("trm.inference.load_model", refuse)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"models": "no-such-model"}, "no-such-model"),
        ({"n": 0}, "n must be"),
        ({"batch_sizes": "0"}, "batch_sizes"),
        ({"batch_sizes": "1,x"}, "batch_sizes"),
        ({"repeats": 0}, "repeats"),
        ({"halt_threshold": 1.0}, "halt_threshold"),
        ({"seed": -1}, "seed"),
        ({"maze_sizes": "1"}, "maze_sizes"),
    ],
)
def test_bad_options_raise_config_error_before_work(no_work, options, match):
    kwargs = {"models": SIX, **options}
    with pytest.raises(ConfigError, match=match):
        run_throughput(**kwargs)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurosym bench")
    register(parser.add_subparsers(dest="bench", required=True))
    return parser


def test_cli_refuses_a_json_folder_before_work(no_work, tmp_path):
    args = _parser().parse_args(["throughput", "--models", SIX, "--json", str(tmp_path)])
    with pytest.raises(ConfigError, match="--json"):
        args.func(args)


def test_cli_prints_the_table_and_writes_the_json(tmp_path, capsys):
    out = tmp_path / "sub" / "tp.json"
    argv = ["throughput", "--models", SIX, "--n", "2", "--batch-sizes", "2", "--repeats", "1"]
    args = _parser().parse_args([*argv, "--json", str(out)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert printed.count(f"| {SIX} |") == 2 and "wrote" in printed
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert len(saved["rows"]) == 2 and saved["settings"]["batch_sizes"] == [2]
