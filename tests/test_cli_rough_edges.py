"""Rough edges of the CLI (issue 11, item 7): the ``trace --cycles`` plot says what its x axis
counts; ``bench symbolic`` runs on generated puzzles without a data folder, reads the public sets
only from ``--data`` and refuses a bad one in one line with exit 2; long runs (``bench
symbolic``'s generation, ``eval`` on 1,000 puzzles) show a progress bar on stderr, stdout clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import neurosym.study.plots as plots
from neurosym.benchmarks.symbolic import check_data_dir, run_symbolic_benchmark
from neurosym.cli import main
from tasks.errors import ConfigError
from tasks.generators import generate_puzzle

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


# ----------------------------------------------------------------- (b) trace --cycles x label
@pytest.fixture
def saved_figures(monkeypatch):
    """The figures plot functions save, kept for inspection (the PNG is still written)."""
    figures = []
    save = plots.save_figure

    def keep(fig, path):
        figures.append(fig)
        return save(fig, path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


@pytest.mark.parametrize(
    ("flags", "xlabel", "star"),
    [
        (["--cycles"], "answer update (T=2 per supervision step)", "correct at answer update"),
        ([], "supervision step", "correct at supervision step"),
    ],
)
def test_trace_plot_x_axis_says_what_a_step_is(
    tmp_path, saved_figures, capsys, flags, xlabel, star
):
    task, _ = generate_puzzle(2, 3, n_givens=20, rng=3)  # the shipped 6x6 model answers it
    png = tmp_path / "trace.png"
    assert main(["trace", task.to_line(), "--png", str(png), *flags]) == 0
    assert png.stat().st_size > 1000
    [fig] = saved_figures
    ax = fig.axes[0]
    assert ax.get_xlabel() == xlabel
    assert ax.get_title().startswith("TRM trace by " + xlabel.split(" (")[0])
    labels = [h.get_label() for h in fig.axes[0].get_legend().legend_handles]
    assert any(label.startswith(star) for label in labels), labels
    assert capsys.readouterr().out.count("--- ") == (16 if flags else 8)


def test_plot_trace_default_label_is_unchanged(tmp_path, saved_figures):
    plots.plot_trace([3, 1], [0.2, 0.9], 2, tmp_path / "t.png")
    assert saved_figures[0].axes[0].get_xlabel() == "supervision step"


# ------------------------------------------------------- (c) bench symbolic without ../shared
def test_bench_symbolic_generates_its_mazes_without_a_data_folder():
    """Even where ../shared/data exists, no folder named means nothing is read from it."""
    lines: list[str] = []
    report = run_symbolic_benchmark(quick=True, sections=("maze",), echo=lines.append)
    assert report["data_dir"] is None
    mazes = report["mazes"]
    assert mazes["source"] == "generated" and mazes["maps"] == 2 and mazes["queries"] == 6
    # lengths of the fast path and of networkx equal the oracle's own BFS, pair by pair
    assert mazes["fast_lengths_ok"] == mazes["networkx_lengths_ok"] == 6
    assert mazes["oracle_verified"] == 2
    assert "maze_fast_vs_networkx" in report["targets"]
    assert any("generated 511x511 perfect mazes" in line for line in lines)


def test_bench_symbolic_9x9_without_data_and_its_generation_bar(capsys):
    code = main(["bench", "symbolic", "--quick", "--only", "9x9"])
    captured = capsys.readouterr()
    assert code == 0  # --quick: exit 0 whatever the ratios
    assert "data: generated only" in captured.out
    assert "generated minimal puzzles (add Norvig's hardest with --data)" in captured.out
    assert "0 Norvig + 5 generated minimal 9x9" in captured.out
    # the progress bar goes to stderr, also when stderr is no terminal; stdout stays clean.
    # Only its first frame (0/5) is certain: tqdm redraws at most every 0.1 s and clears the bar
    # when done (leave=False), so on a fast machine 5/5 is never drawn (it failed CI so).
    assert "generating minimal 9x9" in captured.err and "0/5" in captured.err
    assert "generating" not in captured.out and "\r" not in captured.out


@pytest.mark.skipif(not (SHARED / "sudoku-norvig-hardest").is_dir(), reason="no ../shared/data")
def test_bench_symbolic_reads_the_public_sets_only_from_data():
    report = run_symbolic_benchmark(data_dir=SHARED, quick=True, sections=("9x9",))
    assert report["data_dir"] == str(SHARED) and report["hard_9x9"]["n_norvig"] == 11
    assert check_data_dir(SHARED) == SHARED


@pytest.mark.parametrize(
    ("make", "sections", "message"),
    [
        (lambda tmp: tmp / "missing", [], "data folder {} does not exist"),
        (lambda tmp: tmp, [], "data folder {} has no sudoku-norvig-hardest/hardest.csv"),
        (
            lambda tmp: tmp,
            ["--only", "maze"],
            "data folder {} has no maze-movingai-512/pairs.csv (the maze section's public set)",
        ),
        (lambda tmp: _touch(tmp / "a-file"), [], "data folder {} is a file, not a folder"),
    ],
)
def test_bench_symbolic_bad_data_folder_is_one_line_and_exit_2(
    tmp_path, capsys, make, sections, message
):
    folder = make(tmp_path)
    json_out = tmp_path / "report.json"
    code = main(["bench", "symbolic", "--data", str(folder), *sections, "--json", str(json_out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith(f"error: --data: {message.format(folder)}")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.out == "" and not json_out.exists()  # refused before any work


def test_a_folder_with_only_the_large_section_needs_no_set(tmp_path):
    assert check_data_dir(tmp_path, ("large",)) == tmp_path
    with pytest.raises(ConfigError, match="has no sudoku-norvig-hardest"):
        run_symbolic_benchmark(data_dir=tmp_path, sections=("9x9", "large"))


def _touch(path: Path) -> Path:
    path.write_text("x")
    return path


def test_symbolic_benchmark_doctests():
    import doctest

    import neurosym.benchmarks.symbolic as bench

    result = doctest.testmod(bench, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0


# ---------------------------------------------------------------------- (d) eval progress bar
def test_evaluate_reports_progress_per_step_of_every_batch():
    from trm.config import preset
    from trm.data import make_eval_set
    from trm.inference import evaluate
    from trm.model import TRM

    es = make_eval_set({"kind": "sudoku"}, n=5, seed=0)
    model = TRM(preset("sudoku6-tiny", hidden_size=16))
    calls: list[tuple[int, int]] = []
    quiet = evaluate(model, es.tasks, es.solutions, codec=es.codec, batch_size=2)
    loud = evaluate(
        model,
        es.tasks,
        es.solutions,
        codec=es.codec,
        batch_size=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert loud == quiet  # watching does not change the figures
    steps = model.config.max_supervision_steps
    assert len(calls) == 3 * steps  # batches of 2, 2, 1; one call per supervision step
    assert all(total == 5 for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 5 and done[steps - 1] == 2


def test_eval_draws_a_bar_on_stderr_and_keeps_stdout_for_the_metrics(capsys):
    assert main(["eval", "neurosym/models/sudoku6", "--generate", "40", "--json"]) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out)  # stdout is the JSON alone
    assert metrics["n"] == 40
    assert "eval:" in captured.err and "/40 [" in captured.err
