"""``bench reliability`` counts what it claims: inputs, foreign exceptions, wrongly verified
answers and time-limit overruns, each shown to be counted by injecting one."""

from __future__ import annotations

import argparse
import json
import time

import pytest

import neurosym.api
from neurosym.benchmarks import reliability
from neurosym.benchmarks.reliability import (
    GENERATORS,
    build_corpus,
    check_maze_path,
    check_sudoku_answer,
    make_input,
    register,
    run_reliability_benchmark,
)
from tasks.errors import ConfigError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import Verification

N = 90  # ten inputs per generator
N_SOLVE = 18


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(0, None)


@pytest.fixture
def fast(monkeypatch, corpus):
    """Reuse one generated corpus (no shared data) so every run here takes seconds."""
    monkeypatch.setattr(reliability, "build_corpus", lambda seed, data_dir=None: corpus)
    monkeypatch.setattr("neurosym.benchmarks.symbolic.find_data_dir", lambda explicit=None: None)


def _run(**kw):
    lines: list[str] = []
    kw.setdefault("n", N)
    kw.setdefault("n_solve", N_SOLVE)
    report = run_reliability_benchmark(seed=kw.pop("seed", 3), echo=lines.append, **kw)
    return report, "\n".join(lines)


def test_small_run_counts_every_input_and_meets_the_goals(fast):
    report, text = _run()
    assert report["n_inputs"] == N and report["parse_calls"] == 3 * N
    assert {k: v["inputs"] for k, v in report["per_generator"].items()} == dict.fromkeys(
        GENERATORS, N // len(GENERATORS)
    )
    assert report["solve_calls"] == N_SOLVE == sum(report["solve_outcomes"].values())
    # solves are spread over every generator, not aliased onto a few
    assert all(v.get("solved_calls", 0) >= 1 for v in report["per_generator"].values())
    assert report["verify_calls"] > 0 and report["verify_accepted"] > 0
    assert report["foreign_exceptions"] == 0 and report["n_wrongly_verified"] == 0
    goals = report["goals"]  # time_limit_kept depends on the machine's load: not asserted here
    assert goals["no_foreign_exceptions"]["met"] and goals["no_wrongly_verified"]["met"]
    assert not report["scale_reached"]
    assert report["peak_rss_mb"] > 10
    assert "seed 3" in text and "below the goal's scale" in text


def test_inputs_are_reproducible_from_seed_and_index(corpus):
    assert make_input(5, 17, corpus) == make_input(5, 17, corpus)
    assert make_input(5, 17, corpus) != make_input(6, 17, corpus)
    assert [make_input(0, i, corpus)[0] for i in range(9)] == list(GENERATORS)


def test_a_non_library_exception_in_a_parser_is_counted(fast, monkeypatch):
    real = reliability.parse_task

    def broken(text, **kw):
        if len(text) % 2:
            raise KeyError("injected")
        return real(text, **kw)

    monkeypatch.setattr(reliability, "parse_task", broken)
    report, text = _run(n_solve=0)
    assert report["foreign_exceptions"] > 0
    assert report["foreign_by_target"] == {"parse_task": report["foreign_exceptions"]}
    kind = report["foreign_kinds"][0]
    assert kind["type"] == "KeyError" and kind["target"] == "parse_task"
    name, again = make_input(3, kind["index"], reliability.build_corpus(3))
    assert name == kind["generator"] and len(again) % 2  # the reproducer rebuilds the input
    assert not report["goals"]["no_foreign_exceptions"]["met"] and not report["all_goals_met"]
    assert "BUG parse_task: KeyError" in text


def test_a_verify_that_accepts_everything_is_caught(fast, monkeypatch):
    monkeypatch.setattr(reliability, "verify", lambda task, answer: Verification.of([]))
    report, _ = _run(n_solve=0)
    assert report["n_wrongly_verified"] > 0
    assert {w["target"] for w in report["wrongly_verified"]} == {"verify"}
    assert not report["goals"]["no_wrongly_verified"]["met"]


def test_a_solve_that_marks_a_wrong_answer_verified_is_caught(fast, monkeypatch):
    real = neurosym.api.solve

    def lying(text, **kw):
        result = real(text, **kw)
        if isinstance(result.task, SudokuTask):
            bad = [list(row) for row in result.answer]
            bad[0][0], bad[0][1] = bad[0][1], bad[0][0]
            return result.model_copy(update={"answer": bad, "verified": True})
        return result

    monkeypatch.setattr(neurosym.api, "solve", lying)
    report, _ = _run(n=270, n_solve=90)
    assert any(w["target"] == "solve" for w in report["wrongly_verified"])
    assert not report["all_goals_met"]


def test_a_solve_that_overruns_its_time_limit_is_caught(fast, monkeypatch):
    def slow(text, *, method, time_limit_s):
        if time_limit_s < 10:  # not the warm-up calls
            time.sleep(time_limit_s * 1.1 + 0.08)
        raise neurosym.api.SolverTimeoutError("injected")

    monkeypatch.setattr(neurosym.api, "solve", slow)
    report, text = _run(n=18, n_solve=3, time_limit_s=0.05)
    assert report["solve_over_limit"] == 3 and report["worst_overrun"]["overrun_s"] > 0.08
    assert report["solve_outcomes"] == {"SolverTimeoutError": 3}
    assert not report["goals"]["time_limit_kept"]["met"]
    assert "worst time-limit overrun" in text


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="n_solve"):
        run_reliability_benchmark(n=5, n_solve=6)
    with pytest.raises(ConfigError, match="time_limit_s"):
        run_reliability_benchmark(n=5, n_solve=0, time_limit_s=0)


SOLVED = ((1, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 2, 1))


def test_independent_sudoku_checker():
    task = SudokuTask.parse("12..\n34..\n....\n....")
    assert check_sudoku_answer(task, SOLVED)
    latin = [[1, 2, 3, 4], [2, 3, 4, 1], [3, 4, 1, 2], [4, 1, 2, 3]]  # rows, columns ok; boxes not
    assert not check_sudoku_answer(SudokuTask.parse("." * 16), latin)
    assert not check_sudoku_answer(SudokuTask.parse("21..\n....\n....\n...."), SOLVED)  # givens
    assert not check_sudoku_answer(task, [[float(v) for v in r] for r in SOLVED])
    assert not check_sudoku_answer(task, [[True, 2, 3, 4], *SOLVED[1:]])
    assert not check_sudoku_answer(task, SOLVED[:3]) and not check_sudoku_answer(task, None)


def test_independent_maze_checker_wants_a_shortest_integer_path():
    maze = MazeTask(rows=("...", ".#.", "..."), start=(0, 0), goal=(2, 2))
    assert check_maze_path(maze, [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)])
    assert check_maze_path(maze, [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2)])
    assert not check_maze_path(maze, [(0, 0), (1, 1), (2, 2)])  # diagonal, through a wall
    assert not check_maze_path(maze, [(0, 0), (0, 1), (0, 2), (1, 2)])  # not at the goal
    assert not check_maze_path(maze, [(0.5, 0), (0, 1), (0, 2), (1, 2), (2, 2)])
    loop = [(0, 0), (0, 1), (0, 0), (0, 1), (0, 2), (1, 2), (2, 2)]
    assert not check_maze_path(maze, loop)  # valid moves, not shortest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurosym")
    bench = parser.add_subparsers(dest="cmd").add_parser("bench").add_subparsers(dest="bench")
    register(bench)
    return parser


def test_cli_runs_writes_json_and_exits_by_the_goals(fast, tmp_path, capsys, monkeypatch):
    out = tmp_path / "rel.json"
    args = _parser().parse_args(
        ["bench", "reliability", "--n", "27", "--n-solve", "9", "--seed", "4", "--json", str(out)]
    )
    assert args.func(args) == 0
    report = json.loads(out.read_text())
    assert report["seed"] == 4 and report["n_inputs"] == 27 and report["solve_calls"] == 9
    assert "seed 4" in capsys.readouterr().out

    monkeypatch.setattr(reliability, "parse_task", lambda text, **kw: {}[text])
    args = _parser().parse_args(["bench", "reliability", "--n", "9", "--n-solve", "0"])
    assert args.func(args) == 1


def test_every_option_has_help():
    parser = _parser()
    sub = parser._subparsers._group_actions[0].choices["bench"]  # noqa: SLF001
    rel = sub._subparsers._group_actions[0].choices["reliability"]  # noqa: SLF001
    options = [a for a in rel._actions if a.option_strings and a.dest != "help"]  # noqa: SLF001
    assert {a.dest for a in options} >= {"n", "n_solve", "seed", "time_limit", "json", "data"}
    assert all(a.help for a in options)
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "reliability", "--time-limit", "0"])
