"""compare / trace / robustness: well-formed files, honest numbers, clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import neurosym
from neurosym.cli import main
from neurosym.study.comparison import (
    COLUMNS,
    DEFAULT_DEPTHS,
    DEPTH_COLUMNS,
    compare,
    make_puzzles,
    parse_depths,
    parse_size,
)
from tasks.errors import ConfigError, InvalidTaskError
from tasks.verify import verify

NORVIG = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sudoku-norvig-hardest"
PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path: str | Path) -> bool:
    data = Path(path).read_bytes()
    return data[:8] == PNG and len(data) > 1000


@pytest.fixture(scope="module")
def six(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp6")
    return compare(kind="sudoku", size="6x6", n=6, seed=5, out_dir=out), out


def test_compare_writes_well_formed_csv_summary_and_plots(six):
    report, out = six
    with open(out / "compare.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == COLUMNS
        rows = list(reader)
    assert len(rows) == 6 * 3
    assert {r["method"] for r in rows} == {"neural", "symbolic", "hybrid"}
    assert all(r["correct"] in ("True", "False") for r in rows)
    assert all(r["verified"] in ("True", "False") for r in rows)
    assert all(r["correct"] == "False" or r["verified"] == "True" for r in rows)
    assert all(float(r["time_s"]) >= 0 for r in rows)
    # The CSV says what the report holds.
    assert [r["correct"] for r in rows] == [str(r["correct"]) for r in report.rows]
    for name in ("accuracy_by_difficulty", "time", "steps_vs_effort", "accuracy_vs_steps"):
        assert _is_png(report.files[name]), name
    summary = json.loads((out / "summary.json").read_text())
    assert [s["method"] for s in summary["summary"]] == ["neural", "symbolic", "hybrid"]
    assert "accuracy_vs_steps" in summary["search"] and "guidance" in summary["search"]
    # The depth curve, by default up to 256 supervision steps, per difficulty bucket.
    by_depth = summary["search"]["accuracy_vs_depth"]
    from neurosym.neural import resolve_model

    shipped, _ = resolve_model(make_puzzles("sudoku", "6x6", 1, seed=5).tasks[0])
    trained = shipped.config.max_supervision_steps
    assert by_depth["depths"] == list(DEFAULT_DEPTHS) and by_depth["trained_depth"] == trained
    buckets = by_depth["buckets"]
    assert list(buckets)[0] == "all" and buckets["all"]["n"] == 6
    assert sum(e["n"] for b, e in buckets.items() if b != "all") == 6
    assert _is_png(report.files["accuracy_vs_depth"])
    with open(out / "depth.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == DEPTH_COLUMNS
        depth_rows = list(reader)
    assert len(depth_rows) == len(buckets) * len(DEFAULT_DEPTHS)
    assert {r["difficulty"] for r in depth_rows} == set(buckets)


def test_compare_numbers_agree_with_the_verifier(six):
    report, _ = six
    puzzles = make_puzzles("sudoku", "6x6", 6, seed=5)
    by_id = dict(zip(puzzles.ids, puzzles.tasks, strict=True))
    for row in report.rows:
        assert row["puzzle_id"] in by_id
        if row["method"] in ("symbolic", "hybrid"):
            assert row["correct"] is True  # solvable puzzles: never wrong
        if row["method"] == "hybrid":
            assert row["stage"] in ("neural", "repair", "fallback")
    neural = [r for r in report.rows if r["method"] == "neural"]
    acc = next(s["accuracy"] for s in report.summary if s["method"] == "neural")
    assert acc == sum(r["correct"] for r in neural) / len(neural)
    # A neural row is correct exactly when its steps-to-correct trace says the halted answer
    # verified; the last point of the all-steps curve counts the same puzzles' full runs.
    curve = report.search["accuracy_vs_steps"]
    assert [k for k, _ in curve] == list(range(1, len(curve) + 1))
    assert all(0.0 <= a <= 1.0 for _, a in curve)
    for guide in report.search["guidance"].values():
        assert guide["ratio_most"] is None or guide["ratio_most"] > 0


def test_compare_reads_data_files_and_hybrid_solves_the_hardest():
    if not NORVIG.is_dir():
        pytest.skip("shared data not present")
    report = compare(data=NORVIG / "hardest.csv", n=2, methods=("symbolic", "hybrid"), guided=False)
    assert len(report.rows) == 4
    assert all(r["correct"] for r in report.rows)
    assert report.source.endswith("hardest.csv")


def test_compare_maze_symbolic_only():
    report = compare(kind="maze", size="7x7", n=3, methods=("symbolic",), guided=False)
    assert len(report.rows) == 3 and all(r["correct"] for r in report.rows)
    assert all(r["difficulty"].startswith("path ") for r in report.rows)


def test_bad_arguments_raise_library_errors(tmp_path):
    with pytest.raises(ConfigError, match="methods"):
        compare(kind="sudoku", size="6x6", n=2, methods=("psychic",))
    with pytest.raises(ConfigError, match="size"):
        parse_size("sudoku", "9by9")
    with pytest.raises(ConfigError, match="NxN"):
        parse_size("sudoku", "6x9")
    with pytest.raises(ConfigError, match="givens"):
        make_puzzles("sudoku", "6x6", 2, givens="40-50")
    with pytest.raises(InvalidTaskError, match="no such file"):
        make_puzzles(data=tmp_path / "missing.csv")
    with pytest.raises(ConfigError, match="positive"):
        make_puzzles(n=0)


def test_trace_steps_and_png(tmp_path):
    from tasks.generators import generate_puzzle

    task, solution = generate_puzzle(2, 3, n_givens=16, rng=8)
    tr = neurosym.trace(task, png=tmp_path / "trace.png")
    from neurosym.neural import resolve_model

    n_sup = resolve_model(task)[0].config.max_supervision_steps  # the shipped 6x6 model's
    assert [r.step for r in tr.rows] == list(range(1, n_sup + 1))
    assert tr.rows[0].changed == 36  # the first step fills every cell
    for row in tr.rows:
        assert row.correct == verify(task, row.answer).ok
    if tr.correct_step is not None:
        assert tr.rows[tr.correct_step - 1].correct
        assert not any(r.correct for r in tr.rows[: tr.correct_step - 1])
    assert _is_png(tr.png)


def test_cli_compare_trace_robustness(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--size", "6x6", "--n", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "method" in text and "hybrid" in text and "compare.csv" in text
    assert (out / "compare.csv").is_file()
    puzzle = "1.......3............4.............5"
    assert main(["trace", puzzle, "--box", "2x3", "--png", str(tmp_path / "t.png")]) in (0, 1)
    text = capsys.readouterr().out
    assert "step 1:" in text and "halt p=" in text
    rob = tmp_path / "rob"
    args = ["robustness", "--size", "6x6", "--n", "2", "--max-errors", "1", "--givens", "16-20"]
    assert main([*args, "--out", str(rob)]) == 0
    text = capsys.readouterr().out
    assert "soft" in text and "hard" in text
    with open(rob / "robustness.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["errors"] for r in rows} == {"0", "1"}
    assert _is_png(rob / "robustness.png")
    assert main(["compare", "--size", "6x6", "--n", "2", "--methods", "bogus"]) == 1
    assert "methods" in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "size"), [("sudoku", "6x6"), ("maze", "9x9")])
def test_cycle_trace_matches_the_models_supervision_steps(kind, size):
    from neurosym.hybrid import propose
    from neurosym.study.tracing import cycle_tokens

    puzzles = make_puzzles(kind, size, 5, seed=2)
    props, _, loaded = propose(puzzles.tasks, halt=False, trace=True)
    cycles = cycle_tokens(loaded, puzzles.tasks)
    t = loaded.config.n_improve_steps
    assert cycles.shape == (5, loaded.config.max_supervision_steps * t, loaded.codec.seq_len)
    for i, p in enumerate(props):
        for k, step in enumerate(p.trace):
            # The last answer update of each supervision step is what forward() returns.
            assert (cycles[i, (k + 1) * t - 1] == step.tokens).all()


def test_compare_mazes_all_methods_and_growth():
    report = compare(kind="maze", size="9x9", n=4, seed=1)
    assert len(report.rows) == 12
    assert all(r["correct"] for r in report.rows if r["method"] != "neural")
    from neurosym.study.analysis import MAZE_LABELS

    for key in ("maze_growth", "maze_growth_cycles"):
        labels = report.search[key]["labels"]
        assert sum(labels.values()) == 4 and set(labels) <= set(MAZE_LABELS)


def test_trace_by_answer_update_refines_the_step_trace(tmp_path, capsys):
    from tasks.generators import generate_perfect_maze

    task = generate_perfect_maze(9, 9, rng=5)
    steps = neurosym.trace(task)
    updates = neurosym.trace(task, cycles=True)
    per = updates.cycles_per_step
    assert per >= 2 and len(updates.rows) == per * len(steps.rows)
    assert updates.unit == "answer update"
    for k, row in enumerate(steps.rows, start=1):
        # The last update of each supervision step is the step's answer.
        assert updates.rows[k * per - 1].answer == row.answer
        assert updates.rows[k * per - 1].correct == row.correct
    path = tmp_path / "m.txt"
    path.write_text(task.to_text())
    assert main(["trace", str(path), "--cycles"]) == 0
    assert "update 2 (step 1, cycle 2)" in capsys.readouterr().out


def test_symbolic_only_compare_needs_no_model():
    # No shipped model covers 16x16: the guided runs are skipped instead of failing.
    report = compare(kind="sudoku", size="16x16", n=2, methods=("symbolic",), givens="150-160")
    assert [r["correct"] for r in report.rows] == [True, True]
    assert "guidance" not in report.search or not report.search["guidance"]
    with pytest.raises(neurosym.UnsupportedTaskError, match="16x16"):
        compare(kind="sudoku", size="16x16", n=1, methods=("neural",), givens="150-160")


def test_accuracy_vs_depth_is_what_solve_answers_at_that_depth():
    # Each point is the share of puzzles whose answer verifies when solve() runs with that
    # depth cap (halting on), read from one run of every step instead of one run per depth.
    puzzles = make_puzzles("sudoku", "9x9", 6, seed=11)
    report = compare(puzzles, methods=("neural",), depths="1,2,8,24", guided=False)
    curve = report.search["accuracy_vs_depth"]
    assert curve["depths"] == [1, 2, 8, 24]
    entry = curve["buckets"]["all"]
    for (k, acc), (_, steps) in zip(entry["accuracy"], entry["mean_steps"], strict=True):
        results = [neurosym.solve(t, method="neural", max_steps=k) for t in puzzles.tasks]
        assert acc == sum(r.verified for r in results) / len(results), k
        assert steps == pytest.approx(sum(r.effort["trm_steps"] for r in results) / len(results))
    # After exactly the depth the answers ran under (the shipped model's default): the last
    # point of the step-by-step curve.
    from neurosym.neural import default_max_steps, resolve_model

    loaded, _ = resolve_model(puzzles.tasks[0])
    depth = default_max_steps(loaded, puzzles.tasks[0]) or loaded.config.max_supervision_steps
    report_d = compare(puzzles, methods=("neural",), depths=(depth,), guided=False)
    [(_, acc_d)] = report_d.search["accuracy_vs_depth"]["buckets"]["all"]["accuracy_all_steps"]
    assert acc_d == report_d.search["accuracy_vs_steps"][-1][1]
    # The step-by-step analyses keep reading the depth the answers ran under.
    assert len(report.search["accuracy_vs_steps"]) == depth
    # Puzzle difficulty buckets partition the puzzles.
    rows = {b: e["n"] for b, e in curve["buckets"].items() if b != "all"}
    assert set(rows) == {r["difficulty"] for r in report.rows} and sum(rows.values()) == 6


def test_compare_with_depth_and_trajectories():
    report = compare(
        kind="sudoku",
        size="6x6",
        n=3,
        seed=4,
        methods=("neural", "hybrid"),
        max_steps=12,
        trajectories=3,
        noise=0.3,
        depths=(),
    )
    assert "accuracy_vs_depth" not in report.search
    assert all(r["correct"] for r in report.rows if r["method"] == "hybrid")
    assert all(1 <= r["trm_steps"] <= 12 for r in report.rows)
    assert len(report.search["accuracy_vs_steps"]) == 12  # every step up to the cap
    with pytest.raises(ConfigError, match="depths"):
        compare(kind="sudoku", size="6x6", n=1, depths="1,0")
    with pytest.raises(ConfigError, match="trajectories"):
        compare(kind="sudoku", size="6x6", n=1, trajectories=0)


def test_accuracy_vs_trajectories_per_rule(tmp_path):
    puzzles = make_puzzles("sudoku", "6x6", 5, seed=8)
    report = compare(
        puzzles,
        methods=("neural",),
        depths=(),
        guided=False,
        trajectory_counts="3,1",
        out_dir=tmp_path,
    )
    curve = report.search["accuracy_vs_trajectories"]
    assert [p["k"] for p in curve["points"]] == [1, 3] and curve["n"] == 5
    one, three = (p["rules"] for p in curve["points"])
    # One trajectory: every rule picks it, and it is what the neural rows answered.
    neural = [r for r in report.rows if r["method"] == "neural"]
    assert {r["accuracy"] for r in one.values()} == {sum(r["correct"] for r in neural) / 5}
    # The noise-free trajectory 0 is the same run with more trajectories beside it; "verify"
    # (any trajectory verifies) is an upper bound of every rule.
    assert three["trajectory0"]["accuracy"] == one["trajectory0"]["accuracy"]
    assert all(three["verify"]["accuracy"] >= r["accuracy"] for r in three.values())
    rows = list(csv.DictReader((tmp_path / "trajectories.csv").open()))
    assert len(rows) == 2 * len(one) and {r["k"] for r in rows} == {"1", "3"}
    assert _is_png(report.files["accuracy_vs_trajectories"])
    for bad in ("0", "1,x", "999"):
        with pytest.raises(ConfigError, match="trajectory_counts"):
            compare(puzzles, methods=("neural",), trajectory_counts=bad)


def test_parse_depths():
    assert parse_depths("256,1,4,4") == (1, 4, 256)
    assert parse_depths(" none ") == () and parse_depths(None) is None
    for bad in ("1,x", "0", "5000"):
        with pytest.raises(ConfigError, match="depths"):
            parse_depths(bad)


def test_cli_compare_and_trace_depth_options(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "--size", "6x6", "--n", "2", "--methods", "neural", "--out", str(out)]
    assert main([*argv, "--depths", "1,2,16", "--max-steps", "6", "--trajectories", "2"]) == 0
    text = capsys.readouterr().out
    assert "accuracy vs test-time depth" in text and "depth.csv" in text
    assert (out / "accuracy_vs_depth.png").is_file()
    assert main([*argv, "--depths", "none", "--k-curve", "1,2"]) == 0
    text = capsys.readouterr().out
    assert "accuracy vs K noisy trajectories" in text and "trajectories.csv" in text
    assert main([*argv, "--depths", "1,0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: depths:")
    puzzle = "1.......3............4.............5"
    assert main(["trace", puzzle, "--box", "2x3", "--max-steps", "9"]) in (0, 1)
    assert "--- step 9:" in capsys.readouterr().out
    assert main(["trace", puzzle, "--box", "2x3", "--max-steps", "5000"]) == 1
    assert "max_steps" in capsys.readouterr().err
