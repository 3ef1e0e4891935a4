"""bench mixers: equal CPU-time training of each mixer, scored on the same verified sets."""

from __future__ import annotations

import json

import pytest

from neurosym.benchmarks.mixers import format_mixer_report, run_mixer_benchmark
from tasks.errors import ConfigError

TINY = {"hidden_size": 16, "num_heads": 2, "n_latent_steps": 1, "max_supervision_steps": 2}


def test_each_mixer_gets_the_budget_and_fixed_size_mixers_skip_other_sizes(tmp_path):
    seen = []
    report = run_mixer_benchmark(
        "maze",
        tmp_path,
        cpu_minutes=0.01,
        mixers=("conv", "mlp"),
        model=TINY,
        n=2,
        sizes=(15, 21),
        depths=(1, 2),
        echo=seen.append,
    )
    assert set(report["runs"]) == {"conv", "mlp"}
    assert all(run["steps"] >= 1 for run in report["runs"].values())
    conv, mlp = report["results"]["conv"], report["results"]["mlp"]
    # The conv mixer runs every size; the MLP's position table holds only its 15x15 canvas.
    assert all(conv[name] is not None for name in report["sets"])
    assert mlp["21x21 perfect"] is None and mlp["15x15 perfect"] is not None
    assert all(0.0 <= acc <= 1.0 for acc in conv["15x15 loops"].values())
    saved = json.loads((tmp_path / "mixers.json").read_text())
    assert saved["results"] == report["results"]
    text = format_mixer_report(report)
    assert "conv" in text and "15x15 perfect @2" in text and "-" in text
    # A second run reuses the finished trainings instead of training again.
    seen.clear()
    again = run_mixer_benchmark(
        "maze",
        tmp_path,
        cpu_minutes=0.01,
        mixers=("conv",),
        model=TINY,
        n=2,
        sizes=(15,),
        depths=(1,),
        echo=seen.append,
    )
    assert any("reusing" in line for line in seen)
    assert again["runs"]["conv"] == report["runs"]["conv"]


def test_bad_arguments_raise_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="kind"):
        run_mixer_benchmark("arc", tmp_path)
    with pytest.raises(ConfigError, match="mixers"):
        run_mixer_benchmark("maze", tmp_path, mixers=("peers",))
    with pytest.raises(ConfigError, match="cpu_minutes"):
        run_mixer_benchmark("maze", tmp_path, cpu_minutes=0)


def test_cli_bench_mixers(tmp_path, capsys):
    from neurosym.cli import main

    argv = ["bench", "mixers", "--kind", "maze", "--mixers", "conv", "--cpu-minutes", "0.005"]
    argv += ["--n", "1", "--sizes", "7", "--depths", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "7x7 perfect @1" in text and (tmp_path / "mixers.json").is_file()
    assert main([*argv[:-2], "--out", str(tmp_path / "x"), "--cpu-minutes", "-1"]) == 1
    assert "cpu_minutes" in capsys.readouterr().err
