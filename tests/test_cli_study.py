"""Subcommands registered from their own modules are reachable through ``neurosym``'s parser:
``bench reliability``, ``bench throughput``, ``compress``, ``halting``, ``perturb`` and
``compute`` run, and bad arguments stop them with one
``error:`` line before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neurosym.cli import build_parser, main


@pytest.mark.parametrize(
    ("argv", "func_module"),
    [
        (["bench", "reliability"], "neurosym.benchmarks.reliability"),
        (["compress"], "neurosym.study.compression"),
        (["halting"], "neurosym.study.halting"),
        (["bench", "throughput"], "neurosym.benchmarks.throughput"),
        (["perturb"], "neurosym.study.perturb"),
        (["compute"], "neurosym.study.compute"),
        (["ablate"], "neurosym.study.ablate"),
        (["report", "out"], "neurosym.study.report"),
    ],
)
def test_registered_commands_dispatch_to_their_modules(argv, func_module):
    args = build_parser().parse_args(argv)
    assert args.func.__module__ == func_module


def test_bench_reliability_runs_through_the_cli(tmp_path: Path, capsys):
    report = tmp_path / "rel.json"
    code = main(["bench", "reliability", "--n", "60", "--n-solve", "6", "--json", str(report)])
    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    assert code == (0 if data["all_goals_met"] else 1)
    assert "exceptions outside NeurosymError" in out
    assert data["n_inputs"] == 60 and data["solve_calls"] == 6
    assert sum(g["inputs"] for g in data["per_generator"].values()) == 60


def test_compress_refuses_a_bad_sparsity_before_work(tmp_path: Path, capsys):
    code = main(["compress", "--sparsities", "1.5", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: ") and "\n" not in err
    assert not (tmp_path / "c").exists()


def test_halting_refuses_a_bad_depth_before_work(tmp_path: Path, capsys):
    code = main(["halting", "--depths", "0", "--out", str(tmp_path / "h")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: ") and "\n" not in err
    assert not (tmp_path / "h").exists()


def test_every_option_of_every_command_has_help_text():
    import argparse

    missing = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif action.dest != "help" and not action.help:
                missing.append(" ".join([*path, *(action.option_strings or [action.dest])]))

    walk(build_parser(), ["neurosym"])
    assert missing == []
