"""The public contract of `neurosym.solve` / `count_solutions` and the CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

import neurosym
from neurosym import (
    ConfigError,
    InvalidTaskError,
    MazeTask,
    NeurosymError,
    SolverTimeoutError,
    SudokuTask,
    UnsolvableError,
    UnsupportedTaskError,
    count_solutions,
    solve,
    verify,
)
from neurosym.cli import main
from tasks.strategies import any_task_inputs

HARD = "85...24..72......9..4.........1.7..23.5...9...4...........8..7..17..........36.4."
MAZE = """
#########
#S..#...#
###.#.#.#
#...#.#.#
#.###.#.#
#.....#G#
#########
"""


def test_public_names_importable():
    for name in [
        "solve",
        "count_solutions",
        "SudokuTask",
        "MazeTask",
        "verify",
        "SolveResult",
        "NeurosymError",
        "InvalidTaskError",
        "UnsupportedTaskError",
        "UnsolvableError",
        "SolverTimeoutError",
        "CheckpointError",
        "ConfigError",
    ]:
        assert hasattr(neurosym, name), name
    assert issubclass(neurosym.InvalidTaskError, ValueError)
    assert issubclass(neurosym.SolverTimeoutError, TimeoutError)
    assert issubclass(neurosym.UnsupportedTaskError, TypeError)
    assert neurosym.strategies.sudoku_tasks is not None


def test_solve_sudoku_line_fields():
    r = solve(HARD)
    assert r.verified and r.verification.ok
    assert r.method == "symbolic" and r.backend == "sat"
    assert isinstance(r.answer, tuple) and all(isinstance(row, tuple) for row in r.answer)
    assert r.unique is True
    assert r.time_s > 0 and r.effort
    assert "".join(map(str, r.answer[0])) == "859612437"


@pytest.mark.parametrize("backend", ["sat", "cpsat", "backtrack", "constraint"])
def test_every_backend_through_solve(backend):
    task = SudokuTask.parse("1.3.\n.4.2\n2.4.\n.3.1")
    r = solve(task, backend=backend)
    assert r.verified and r.backend == backend


def test_solve_maze_text_and_file(tmp_path):
    r = solve(MAZE)
    assert r.verified and r.backend == "bfs"
    assert r.answer[0] == (1, 1) and r.answer[-1] == (5, 7)
    assert all(isinstance(c, tuple) for c in r.answer)
    path = tmp_path / "maze.txt"
    path.write_text(MAZE)
    r2 = solve(str(path), backend="networkx")
    assert r2.verified and len(r2.answer) == len(r.answer)
    assert solve(path).verified  # a PathLike works too


def test_solve_16x16_grid_file(tmp_path):
    from tasks.generators import generate_puzzle

    task, solution = generate_puzzle(4, 4, n_givens=150, rng=3)
    path = tmp_path / "p16.txt"
    path.write_text(task.to_text())
    r = solve(str(path))
    assert r.verified
    assert verify(task, r.answer).ok


def test_count_solutions():
    assert count_solutions(HARD) == 1
    assert count_solutions("1.......2...3..4", limit=10) == 3
    assert count_solutions("1.......2...3..4", limit=2) == 2
    assert count_solutions("11.." + "." * 12) == 0  # conflicting givens: no solution
    with pytest.raises(InvalidTaskError, match="limit"):
        count_solutions(HARD, limit=0)
    assert count_solutions(MAZE, limit=5) == 1


def test_unsolvable_and_conflicts():
    with pytest.raises(UnsolvableError, match="conflict"):
        solve("11.." + "." * 12)
    with pytest.raises(UnsolvableError):
        solve("S#G")


def test_every_method_on_a_hard_puzzle():
    r = solve(HARD, method="neural")  # the shipped 9x9 model answers; verify() judges it
    assert r.method == "neural" and r.verified == verify(r.task, r.answer).ok
    h = solve(HARD, method="hybrid")  # whatever the network gets wrong is repaired
    assert h.method == "hybrid" and h.verified and verify(h.task, h.answer).ok
    assert h.answer == solve(HARD).answer  # the puzzle is unique
    assert h.stage in ("neural", "repair", "fallback")
    with pytest.raises(UnsupportedTaskError, match="soft"):
        solve("S..G", givens="soft")
    with pytest.raises(ConfigError, match="method"):
        solve(HARD, method="magic")  # type: ignore[arg-type]


def test_bad_inputs_raise_library_errors(tmp_path):
    with pytest.raises(InvalidTaskError):
        solve("123")
    with pytest.raises(InvalidTaskError, match="no such file"):
        solve(tmp_path / "missing.txt")
    with pytest.raises(InvalidTaskError):
        solve(42)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTaskError, match="backend"):
        solve(HARD, backend="nope")
    with pytest.raises(ConfigError, match="time_limit_s"):
        solve(HARD, time_limit_s=-1)


def test_timeout_maps_to_solver_timeout_error():
    empty25 = SudokuTask(box_rows=5, box_cols=5, grid=((0,) * 25,) * 25)
    with pytest.raises(SolverTimeoutError):
        solve(empty25, backend="constraint", time_limit_s=0.2, check_unique=False)


def test_solve_blank_49x49_honours_a_one_second_limit():
    # The SAT backend used to build the 11.3M-clause CNF (~12 s) before looking at the clock.
    import time

    blank = SudokuTask(box_rows=7, box_cols=7, grid=((0,) * 49,) * 49)
    start = time.perf_counter()
    try:
        r = solve(blank, time_limit_s=1)
        assert r.verified and verify(blank, r.answer).ok
    except SolverTimeoutError:
        pass
    assert time.perf_counter() - start < 1.6


def test_uniqueness_check_shares_the_time_limit(monkeypatch):
    # An answer found in time comes back, verified, when the uniqueness check runs out of time.
    import time

    import solvers

    def slow_count(task, limit=2, *, time_limit_s=10.0, **kwargs):
        assert time_limit_s <= 5.0  # it gets what the search left, not a second full limit
        raise SolverTimeoutError("SAT hit the time limit")

    monkeypatch.setattr(solvers, "count_sudoku_solutions", slow_count)
    r = solve(HARD, time_limit_s=5.0)
    assert r.verified and r.unique is None and r.effort["unique_check_timed_out"] == 1.0
    blank = SudokuTask(box_rows=5, box_cols=5, grid=((0,) * 25,) * 25)
    monkeypatch.undo()
    start = time.perf_counter()
    try:  # search (~0.4 s) and count (~0.4 s) fit in 1 s on an idle machine
        r = solve(blank, time_limit_s=1.0)
        assert r.verified and r.unique in (False, None)
    except SolverTimeoutError:
        pass
    assert time.perf_counter() - start < 1.0 * 1.1 + 0.05 + 0.3


@given(any_task_inputs())
def test_solve_returns_result_or_library_error(source):
    """Anything a strategy produces, valid or malformed, gives a result or our error."""
    try:
        r = solve(source, time_limit_s=5.0)
    except NeurosymError:
        return
    assert r.verified == verify(r.task, r.answer).ok
    assert r.verified  # a symbolic answer that comes back is always a verified one


# ---------------------------------------------------------------------------- CLI
def test_cli_solve_json(capsys):
    assert main(["solve", HARD, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is True and data["unique"] is True and data["kind"] == "sudoku"


def test_cli_solve_maze_file_draws_path(tmp_path, capsys):
    path = tmp_path / "maze.txt"
    path.write_text(MAZE)
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    assert "o" in out and "verified: yes" in out
    assert MazeTask.parse(out.split("\n\n")[0]).start == (1, 1)


def test_cli_errors_are_clean(capsys):
    assert main(["solve", "not a puzzle"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["solve", HARD, "--box", "bad"])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["solve"],
        ["bench"],
        ["--help"],
        ["solve", "--help"],
        ["demo", "--help"],
        ["bench", "symbolic", "--help"],
        ["robustness", "--help"],
        ["trace", "--help"],
        ["compare", "--help"],
    ],
)
def test_cli_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    captured = capsys.readouterr()
    assert "usage: neurosym" in captured.out + captured.err


def test_cli_demo(capsys):
    assert main(["demo", "--compare", "6"]) == 0
    out = capsys.readouterr().out
    assert out.count("method: symbolic") >= 3
    # The two Sudokus and the 9x9 perfect maze (one path); the 30x30 maze has several.
    assert out.count("verified: yes   unique: yes   method: symbolic") == 3
    assert "16x16 Sudoku" in out and "maze" in out
    assert "method: neural   backend: trm" in out
    # The hybrid answer always verifies; the table compares the three methods.
    assert "verified: yes   unique: not checked   method: hybrid" in out
    assert "hybrid stage:" in out
    table = out[out.index("=== neural vs symbolic vs hybrid") :]
    for method in ("neural", "symbolic", "hybrid"):
        assert f"\n{method} " in table
