"""`neurosym.solve_many`: the same answers as `solve` one by one, in input order, in this process
or in worker processes; a task's error comes back in its slot; bad options fail before any work;
and `parse_puzzle_list`, which reads ``neurosym solve --many`` files."""

from __future__ import annotations

import doctest

import pytest

import neurosym
import neurosym.many
import solvers
from neurosym import ConfigError, InvalidTaskError, ManyResult, solve, solve_many
from neurosym.many import ListedPuzzle, parse_puzzle_list
from tasks.generators import generate_mazes, generate_puzzles
from tasks.sudoku import SudokuTask

CONTRADICTION = "11.............."  # two 1s in a row: parses, has no solution


def _unique_sudoku(n: int, box: tuple[int, int], seed: int) -> list[SudokuTask]:
    def is_unique(task: SudokuTask) -> bool:
        return solvers.count_sudoku_solutions(task, 2) == 1

    return [p for p, _ in generate_puzzles(n, *box, seed=seed, minimal=True, is_unique=is_unique)]


@pytest.fixture(scope="module")
def mixed() -> list:
    """4x4 and 6x6 Sudoku (objects and text), small mazes (objects and JSON text), and a bad
    puzzle and an unsolvable one in the middle."""
    sudoku4 = _unique_sudoku(2, (2, 2), seed=1)
    sudoku6 = _unique_sudoku(3, (2, 3), seed=2)
    mazes = generate_mazes(3, size=9, seed=3)
    return [
        sudoku6[0],
        mazes[0],
        "".join(str(v) for row in sudoku4[0].grid for v in row),  # as an 16-character line
        mazes[1].model_dump_json(),
        "not a puzzle",
        sudoku6[1],
        CONTRADICTION,
        mazes[2],
        sudoku4[1],
        sudoku6[2],
    ]


@pytest.fixture(scope="module")
def runs(mixed) -> dict[int, list[ManyResult]]:
    """The mixed tasks solved symbolically in this process and by two worker processes."""
    return {k: solve_many(mixed, method="symbolic", workers=k, progress=False) for k in (1, 2)}


@pytest.mark.parametrize("workers", [1, 2])
def test_same_answers_as_solve_one_by_one(mixed, runs, workers):
    for task, item in zip(mixed, runs[workers], strict=True):
        try:
            expected = solve(task, method="symbolic")
        except neurosym.NeurosymError as exc:
            assert item.result is None and item.error == type(exc).__name__
            assert item.message == str(exc)
            continue
        assert item.ok and item.verified and item.error is None
        assert item.result.answer == expected.answer
        assert item.result.task == expected.task
        assert item.result.unique == expected.unique
        assert item.wall_s > 0


@pytest.mark.parametrize("workers", [1, 2])
def test_input_order_kept(mixed, runs, workers):
    out = runs[workers]
    assert [r.index for r in out] == list(range(len(mixed)))
    kinds = [r.result.task.kind if r.result else None for r in out]
    assert (
        kinds == ["sudoku", "maze", "sudoku", "maze", None, "sudoku", None, "maze"] + ["sudoku"] * 2
    )
    assert out[0].result.task == mixed[0] and out[7].result.task == mixed[7]


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_puzzles_in_the_middle_are_error_items(runs, workers):
    out = runs[workers]
    bad, unsolvable = out[4], out[6]
    assert (bad.ok, bad.verified, bad.result) == (False, False, None)
    assert bad.error == "InvalidTaskError" and "could not read 'not a puzzle'" in bad.message
    assert unsolvable.error == "UnsolvableError" and unsolvable.message
    assert all(r.verified for i, r in enumerate(out) if i not in (4, 6))
    assert bad.summary() == {
        "index": 4,
        "wall_s": bad.wall_s,
        "error": "InvalidTaskError",
        "message": bad.message,
    }
    assert out[0].summary()["kind"] == "sudoku" and out[0].summary()["verified"] is True


def test_more_workers_than_tasks_and_empty_input():
    out = solve_many(["12..34.........."], method="symbolic", workers=4, progress=False)
    assert len(out) == 1 and out[0].verified
    assert solve_many([], method="symbolic", workers=2, progress=False) == []


def _no_tasks():
    raise AssertionError("the tasks were read before the options were checked")
    yield  # pragma: no cover


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "workers must be an int >= 1, got 0"),
        ({"workers": -2}, "workers must be an int >= 1"),
        ({"workers": 1.5}, "workers must be an int >= 1, got 1.5"),
        ({"workers": True}, "workers must be an int >= 1, got True"),
        ({"workers": "2"}, "workers must be an int >= 1"),
        ({"method": "magic"}, "method must be one of"),
        ({"progress": "yes"}, "progress must be True or False"),
        ({"methd": "symbolic"}, r"unknown option\(s\) \['methd'\]"),
        ({"givens": "squishy"}, "givens must be 'hard' or 'soft'"),
        ({"time_limit_s": 0}, "time_limit_s must be a number > 0"),
        ({"method": "symbolic", "max_steps": 4}, "applies to method 'neural' or 'hybrid'"),
        ({"method": "hybrid", "trajectories": 0}, "trajectories must be an int"),
    ],
)
def test_bad_options_raise_config_error_before_any_work(options, message):
    with pytest.raises(ConfigError, match=message):
        solve_many(_no_tasks(), **{"progress": False, **options})


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ("12..34..........", "got one str; for one puzzle call solve"),
        (SudokuTask.parse("12..34.........."), "got one SudokuTask"),
        (42, "tasks must be a list .* got int"),
    ],
)
def test_one_puzzle_alone_or_no_iterable_is_a_config_error(tasks, message):
    with pytest.raises(ConfigError, match=message):
        solve_many(tasks, progress=False)


def test_a_bug_is_raised_not_returned(monkeypatch):
    def broken(task, **options):
        raise RuntimeError("a bug")

    monkeypatch.setattr(neurosym.many, "solve", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        solve_many(["12..34.........."], method="symbolic", progress=False)


def test_progress_bar_on_stderr(capsys):
    solve_many(["12..34..........", "1.3...1..1...3.."], method="symbolic", progress=True)
    captured = capsys.readouterr()
    # tqdm draws the bar when it opens (0/2); later redraws are throttled, so 2/2 may not show
    assert "solve:" in captured.err and "/2 [" in captured.err and captured.out == ""
    solve_many(["12..34.........."], method="symbolic", progress=False)
    assert capsys.readouterr().err == ""


def test_default_method_is_symbolic_like_solve(mixed):
    out = solve_many([mixed[5], mixed[1]], progress=False)
    assert [r.result.method for r in out] == ["symbolic", "symbolic"]
    assert [r.result.method for r in out] == [solve(mixed[5]).method, solve(mixed[1]).method]


def test_hybrid_in_this_process(mixed):
    """In this process (one model load, shared with the other network tests of the session)."""
    out = solve_many([mixed[5], mixed[1]], method="hybrid", progress=False)
    assert [r.result.method for r in out] == ["hybrid", "hybrid"]
    assert all(r.verified and r.result.stage in ("neural", "repair", "fallback") for r in out)


@pytest.mark.slow
def test_hybrid_in_worker_processes_matches_in_process(mixed):
    """Each worker imports torch and loads the model (seconds), hence slow."""
    tasks = [t for i, t in enumerate(mixed) if i not in (4, 6)]
    here = solve_many(tasks, method="hybrid", progress=False)
    pooled = solve_many(tasks, method="hybrid", workers=2, progress=False)
    assert [r.result.answer for r in pooled] == [r.result.answer for r in here]
    assert [r.result.stage for r in pooled] == [r.result.stage for r in here]


def test_doctests_of_the_module():
    # tests/test_doctests.py lists the modules it runs; this one's examples run here
    result = doctest.testmod(neurosym.many, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0


# ----------------------------------------------------------------------- parse_puzzle_list
def test_list_skips_blank_lines_and_comments():
    text = "# header\n\n 12..34..........  \n  # indented comment\n1.3...1..1...3..\n"
    assert parse_puzzle_list(text) == [
        ListedPuzzle(3, "12..34.........."),
        ListedPuzzle(5, "1.3...1..1...3.."),
    ]


def test_json_lines_are_not_taken_for_csv():
    maze = generate_mazes(1, size=7, seed=1)[0].model_dump_json()
    assert parse_puzzle_list(f"{maze}\n{maze}\n") == [ListedPuzzle(1, maze), ListedPuzzle(2, maze)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quizzes,solutions\n12..34..........,x\n", [ListedPuzzle(2, "12..34..........")]),
        ("id,Puzzle\n7,12..34..........\n8,\n", [ListedPuzzle(2, "12..34..........")]),
        ("board\n12..34..........\n", [ListedPuzzle(2, "12..34..........")]),
        # no header: the first column, from the first row
        ("12..34..........,a\n1.3...1..1...3..,b\n", [ListedPuzzle(1, "12..34.........."),
                                                      ListedPuzzle(2, "1.3...1..1...3..")]),
        # a quoted record over two lines is numbered by its first
        ('puzzle\n"12..\n34.........."\n1.3...1..1...3..\n',
         [ListedPuzzle(2, "12..\n34.........."), ListedPuzzle(4, "1.3...1..1...3..")]),
    ],
)  # fmt: skip
def test_csv_puzzle_column(text, expected):
    assert parse_puzzle_list(text) == expected


def test_csv_forced_and_a_bad_first_row_is_kept_as_a_puzzle():
    # a first cell that is no word is a puzzle (bad or not), so it fails when solved, not here
    assert parse_puzzle_list("12..34!.........\n", as_csv=True) == [
        ListedPuzzle(1, "12..34!.........")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the list is empty: no puzzles to solve"),
        ("\n  \n", "the list is empty"),
        ("# only a comment\n\n", "holds only # comments"),
        ("puzzle,id\n", "holds no puzzles \\(a CSV header and no rows\\)"),
        ("puzzle\n", "holds no puzzles"),
        ("id,puzzle\n7\n", "line 2: no column 2"),
    ],
)
def test_list_errors(text, message):
    with pytest.raises(InvalidTaskError, match=message):
        parse_puzzle_list(text)


# ----------------------------------------------------------------------- neurosym bench many
def test_bench_many_reports_both_runs_and_agreement(capsys):
    from neurosym.benchmarks.many import run_many_benchmark
    from neurosym.cli import main

    lines: list[str] = []
    report = run_many_benchmark(n=4, box=(2, 2), method="symbolic", echo=lines.append)
    assert [r["workers"] for r in report["runs"]] == [1, 2]
    assert all(r["verified"] == 4 and r["errors"] == 0 for r in report["runs"])
    assert report["answers_agree"] is True and report["disagreeing_indices"] == []
    assert report["speedup"]["1"] == 1.0
    two = report["runs"][1]["puzzles_per_s"] / report["runs"][0]["puzzles_per_s"]
    assert report["speedup"]["2"] == pytest.approx(two)
    assert any(line.startswith("speed-up of 2 workers over 1: ") for line in lines)
    assert main(["bench", "many", "--n", "2", "--box", "2x2", "--method", "symbolic"]) == 0
    assert "answers agree across runs: yes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n": 0}, "n must be an int >= 1, got 0"),
        ({"workers": ()}, "workers must name at least one worker count"),
        ({"workers": (1, 0)}, "workers must be an int >= 1, got 0"),
        ({"method": "magic"}, "method must be one of"),
    ],
)
def test_bench_many_bad_options_fail_before_any_work(options, message, monkeypatch):
    import neurosym.benchmarks.many as bench

    def no_work(*args, **kwargs):
        raise AssertionError("puzzles were generated before the options were checked")

    monkeypatch.setattr(bench, "make_sudoku_tasks", no_work)
    with pytest.raises(ConfigError, match=message):
        bench.run_many_benchmark(box=(2, 2), **{"n": 2, "method": "symbolic", **options})


def test_bench_many_doctests():
    import neurosym.benchmarks.many as bench

    result = doctest.testmod(bench, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0
