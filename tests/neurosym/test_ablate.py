"""neurosym ablate: the grid, equal budgets, resuming, validation before work, the summary, and
the gradient flag it ablates (trm.config.TRMConfig.gradient)."""

from __future__ import annotations

import argparse
import csv
import json

import pytest
import torch

from neurosym.study import ablate
from neurosym.study.ablate import Budget, forward_passes_per_step, parse_grid, summarize
from tasks.errors import ConfigError
from trm.config import preset
from trm.model import TRM

TINY = {"hidden_size": 16}


def _run(out, **kwargs):
    options = dict(
        task="sudoku6",
        grid="T=3",
        seeds=2,
        budget=Budget("forward-passes", 36),  # 3 steps of the base, 2 of T=3
        batch_size=4,
        n_eval=4,
        model=TINY,
    )
    options.update(kwargs)
    return ablate.run_ablation(out, **options)


@pytest.fixture(autouse=True)
def _no_training_plots(monkeypatch):
    """Each run's training.png costs ~2 s of matplotlib layout; ablate.png is still drawn."""
    import trm.metrics

    monkeypatch.setattr(trm.metrics._Metrics, "plot", lambda self: None)


@pytest.fixture
def counted(monkeypatch):
    """Count the trainer's calls."""
    calls = []
    real = ablate._run_training

    def wrapped(config, run_dir, seconds, **kwargs):
        calls.append(run_dir)
        return real(config, run_dir, seconds, **kwargs)

    monkeypatch.setattr(ablate, "_run_training", wrapped)
    return calls


def test_rows_are_variants_times_seeds_at_equal_forward_passes(tmp_path, counted):
    report = _run(tmp_path / "out")
    rows = report["rows"]
    assert [(r["variant"], r["seed"]) for r in rows] == [
        ("base", 0),
        ("base", 1),
        ("T=3", 0),
        ("T=3", 1),
    ]
    assert len(counted) == 4
    by = {r["variant"]: r for r in rows}
    assert by["base"]["steps"] == 3 and by["base"]["forward_passes"] == 36  # 2*3*2 per step
    assert by["T=3"]["steps"] == 2 and by["T=3"]["forward_passes"] == 36  # 3*3*2 per step
    for r in rows:
        assert r["budget_used"] <= 36 and r["eval_n"] == 4
        assert 0.0 <= r["exact_accuracy"] <= r["valid_accuracy"] <= 1.0
    out = tmp_path / "out"
    with (out / "ablate.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 4
    assert [s["variant"] for s in report["summary"]] == ["base", "T=3"]
    assert (out / "ablate.png").stat().st_size > 0
    record = json.loads((out / "T=3" / "1" / "result.json").read_text())
    grid = json.loads((out / "grid.json").read_text())
    assert record["grid"] == grid["id"] and (record["factor"], record["value"]) == ("T", "3")
    # nothing but the grid's files in --out, and nothing beside it
    assert {p.name for p in tmp_path.iterdir()} == {"out"}
    assert {p.name for p in (out / "base" / "0").iterdir()} >= {"checkpoint.json", "result.json"}
    assert {p.name for p in out.iterdir()} == {
        "grid.json",
        "ablate.csv",
        "summary.csv",
        "ablate.json",
        "ablate.png",
        "base",
        "T=3",
    }


def test_resume_reuses_finished_runs_and_redoes_unfinished(tmp_path, counted):
    out = tmp_path / "out"
    first = _run(out, seeds=1)
    assert len(counted) == 2
    # a grid killed in its last run: that run has no result.json yet
    (out / "T=3" / "0" / "result.json").unlink()
    counted.clear()
    second = _run(out, seeds=1)
    assert [p.parts[-2:] for p in counted] == [("T=3", "0")]
    assert second["rows"][0] == first["rows"][0]
    counted.clear()
    _run(out, seeds=1)  # finished: nothing trains again
    assert counted == []


def test_out_holding_another_grid_or_other_files_is_refused_before_work(tmp_path, counted):
    out = tmp_path / "out"
    _run(out, seeds=1, grid="ema")
    counted.clear()
    with pytest.raises(ConfigError, match="another grid.*seeds"):
        _run(out, seeds=2, grid="ema")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        _run(other)
    assert counted == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grid": "depth=3"}, "unknown factor 'depth'"),
        ({"grid": "T=0"}, "T takes whole numbers >= 1"),
        ({"grid": "T=x"}, "T takes whole numbers"),
        ({"grid": "mixer=conv"}, "mixer takes one of"),
        ({"grid": "ema=maybe"}, "ema takes one of"),
        ({"grid": "T=2"}, "base's value"),
        ({"grid": "T T=3"}, "named twice"),
        # a variant the model rejects: attention needs hidden_size divisible by the heads
        (
            {"grid": "mixer=attention", "model": {"hidden_size": 30, "num_heads": 4}},
            "variant mixer=attention.*divisible",
        ),
        ({"seeds": 0}, "seeds must be"),
        ({"jobs": 0}, "jobs must be"),
        ({"budget": Budget("forward-passes", 5)}, "more than the budget"),
        ({"task": "sudoku4"}, "task must be one of"),
    ],
)
def test_bad_grids_raise_before_any_work(tmp_path, counted, kwargs, match):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=match):
        _run(out, **kwargs)
    assert counted == [] and not out.exists()


@pytest.mark.parametrize("amount", [0, -1.0, float("inf"), float("nan"), 2.5])
def test_budget_must_be_positive(amount):
    kind = "forward-passes" if amount == 2.5 else "cpu-minutes"
    with pytest.raises(ConfigError, match="budget"):
        Budget(kind, amount)
    with pytest.raises(ConfigError, match="budget kind"):
        Budget("hours", 1.0)


def test_cpu_budget_reaches_the_trainer_as_a_cpu_clock(tmp_path, monkeypatch):
    seen = []

    def fake(config, run_dir, seconds, callbacks=()):
        seen.append(seconds)
        from trm.train import train

        # stand in for the clock: a few steps, then stop
        return train(config.model_copy(update={"steps": 2}), run_dir, callbacks=callbacks)

    monkeypatch.setattr(ablate, "_run_training", fake)
    report = _run(tmp_path / "out", seeds=1, budget=Budget("cpu-minutes", 0.5))
    assert seen == [30.0, 30.0]
    for r in report["rows"]:
        assert r["budget_kind"] == "cpu-minutes" and r["steps"] == 2
        assert 0 < r["train_cpu_s"] <= r["cpu_s"] and r["budget_used"] == r["train_cpu_s"] / 60


def test_default_levels_and_overrides():
    base = preset("sudoku6-tiny")
    names = [v.name for v in parse_grid(None, base)]
    assert names == [
        "base",
        "T=1",
        "T=3",
        "n=1",
        "n=3",
        "layers=1",
        "layers=4",
        "width=32",
        "width=128",
        "N_sup=2",
        "N_sup=8",
        "ema=off",
        "grad=one_step",
        "grad=all_cycles",
        "mixer=attention",
        "arch=hrm",
    ]
    hrm = next(v for v in parse_grid("arch", base) if v.name == "arch=hrm")
    cfg = preset("sudoku6-tiny", **hrm.model)
    assert cfg.arch == "hrm" and cfg.num_layers == 1  # the TRM's parameter count
    assert forward_passes_per_step(cfg) == forward_passes_per_step(base) == 12
    off = next(v for v in parse_grid("ema", base) if v.factor == "ema")
    assert off.ema is False and off.model == {}


def test_summary_mean_and_spread():
    def row(variant, acc, exact):
        return {
            "variant": variant,
            "factor": "base" if variant == "base" else "T",
            "value": variant,
            "exact_accuracy": exact,
            "valid_accuracy": acc,
            "steps": 10,
            "cpu_s": 2.0,
            "forward_passes": 120,
            "parameters": 7,
            "depth": 12,
        }

    rows = [row("base", a, a) for a in (0.5, 0.7, 0.9)] + [row("T=3", 0.4, 0.3)]
    base, t3 = summarize(rows)
    assert base["seeds"] == 3
    assert base["valid_mean"] == pytest.approx(0.7)
    assert base["valid_std"] == pytest.approx(0.2)  # sample std (n - 1)
    assert (base["valid_min"], base["valid_max"]) == (0.5, 0.9)
    assert t3["valid_std"] == 0.0 and t3["exact_mean"] == pytest.approx(0.3)
    assert t3["valid_vs_base"] == pytest.approx(-0.3)


def test_register_adds_the_ablate_command(tmp_path):
    parser = argparse.ArgumentParser()
    ablate.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["ablate", "--grid", "T", "ema", "--budget", "forward-passes", "120", "--out", "x"]
    )
    assert args.func is ablate.main and args.grid == ["T", "ema"]
    assert ablate._budget_from(args) == Budget("forward-passes", 120)
    args.cpu_minutes = 1.0
    with pytest.raises(ConfigError, match="not both"):
        ablate._budget_from(args)


# ------------------------------------------------------------------ the gradient flag
def _grads(gradient):
    cfg = preset("sudoku6-tiny", hidden_size=16, n_improve_steps=2, gradient=gradient)
    torch.manual_seed(0)
    model = TRM(cfg)
    inputs = torch.randint(0, 8, (3, 36), generator=torch.Generator().manual_seed(1))
    _, logits, _ = model(inputs, model.initial_carry(3))
    logits.square().mean().backward()
    return logits.detach(), {n: p.grad for n, p in model.named_parameters() if p.grad is not None}


def test_gradient_flag_changes_gradients_not_the_forward_pass():
    logits, default = _grads(None)
    for mode in ("recursion", "one_step", "all_cycles"):
        mode_logits, grads = _grads(mode)
        assert torch.equal(mode_logits, logits)  # the same forward computation
        same = all(torch.equal(grads[n], default[n]) for n in default)
        assert same == (mode == "recursion"), mode
    _, one = _grads("one_step")
    _, full = _grads("all_cycles")
    assert not torch.allclose(one["token_embedding.weight"], full["token_embedding.weight"])


def test_hrm_takes_only_its_one_step_gradient():
    assert preset("sudoku6-hrm-tiny", gradient="one_step").arch == "hrm"
    with pytest.raises(ConfigError, match="one-step gradient only"):
        preset("sudoku6-hrm-tiny", gradient="recursion")


_SCORES = ("steps", "forward_passes", "exact_accuracy", "valid_accuracy", "valid_accuracy_halt")


def test_a_forward_pass_budget_repeats_exactly(tmp_path):
    """The same grid run twice gives the same steps, scores and weights: what the report's
    ablation section relies on for "rerunning gives the same numbers"."""
    first = _run(tmp_path / "a", seeds=1)["rows"]
    second = _run(tmp_path / "b", seeds=1)["rows"]
    assert [[r[k] for k in _SCORES] for r in first] == [[r[k] for k in _SCORES] for r in second]
    from safetensors.torch import load_file

    for variant in ("base", "T=3"):
        name = f"{variant}/0/checkpoint.safetensors"
        a, b = load_file(tmp_path / "a" / name), load_file(tmp_path / "b" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_report_ablates_at_a_forward_pass_budget():
    from neurosym.study.report import SECTIONS

    (section,) = [s for s in SECTIONS if s.name == "ablate"]
    for options in (section.quick, section.full):
        assert options["budget"][0] == "forward-passes" and "cpu_minutes" not in options
