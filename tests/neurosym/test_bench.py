"""The symbolic benchmark runs end to end (quick sizes) and reports verified, sane figures."""

from __future__ import annotations

import pytest

from neurosym.benchmarks.symbolic import run_symbolic_benchmark
from tasks.errors import ConfigError


def test_quick_symbolic_benchmark(data_dir):
    lines: list[str] = []
    report = run_symbolic_benchmark(
        data_dir=data_dir, quick=True, sections=("9x9", "maze"), echo=lines.append
    )
    hard = report["hard_9x9"]
    assert hard["n_norvig"] == 11 and hard["n_generated"] == 5
    for key in ("sat", "sat_fresh_solver", "cpsat_plain", "constraint"):
        assert hard[key]["verified"] == hard[key]["n"], key
    # one run, same puzzles: the default backend beats the plain CP-SAT model rebuilt per puzzle
    assert report["targets"]["sat_vs_cpsat_plain_9x9"]["value"] > 1
    mazes = report["mazes"]
    assert mazes["fast_lengths_ok"] == mazes["queries"] == mazes["networkx_lengths_ok"] == 20
    assert mazes["oracle_verified"] == 2
    assert any("target" in line for line in lines)


def test_unknown_section_is_a_config_error():
    with pytest.raises(ConfigError, match="sections"):
        run_symbolic_benchmark(sections=("nope",))


def test_train_benchmark_reports_speed_and_time_to_accuracy():
    from neurosym.benchmarks.train import run_train_benchmark

    lines: list[str] = []
    report = run_train_benchmark(steps=6, eval_every=3, eval_size=4, echo=lines.append)
    assert report["steps"] == 6 and report["examples_per_s"] > 0
    assert [e["step"] for e in report["evals"]] == [3, 6]
    assert set(report["time_to_exact"]) == {"0.5", "0.9", "0.99"}
    assert any("examples/s" in line for line in lines)
    with pytest.raises(ConfigError, match="unknown preset"):
        run_train_benchmark(preset="nope")
