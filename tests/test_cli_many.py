"""``neurosym solve``: ``--many`` lists (one puzzle per line, CSV, standard input, worker
processes), ``-`` for one puzzle on standard input, and Moving AI maps with ``--start/--goal``;
every mistake is one ``error:`` line, never a traceback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from neurosym import solve
from neurosym.cli import main

# unique puzzles, so every run's answer is the same grid (a puzzle with several solutions may
# get any of them, depending on what the SAT solver saw before)
FOUR_A = "1.43..........14"
FOUR_B = "....23.....13..."
NINE = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
MAP = "type octile\nheight 3\nwidth 4\nmap\n....\n.@@.\n..@.\n"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    """The captured stderr, which must be a single ``error:`` line."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def _rows(out: str) -> list[list[str]]:
    """The per-puzzle lines of ``--many``'s text output, split on whitespace."""
    return [line.split() for line in out.splitlines() if "line" in line.split()[:2]]


def _answer_line(puzzle: str) -> str:
    r = solve(puzzle)
    return "".join(str(v) for row in r.answer for v in row)


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    return feed


# --------------------------------------------------------------------------------- --many
def test_many_one_per_line_file(tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text(f"# my puzzles\n{FOUR_A}\n\n{NINE}\n{FOUR_B}\n")
    assert main(["solve", str(path), "--many"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert [(r[0], r[2]) for r in rows] == [("0", "2"), ("1", "4"), ("2", "5")]  # index, line
    assert all(r[3] == "verified" for r in rows)
    assert [r[-1] for r in rows] == [_answer_line(p) for p in (FOUR_A, NINE, FOUR_B)]
    assert "3 puzzles: 3 verified, 0 not verified, 0 errors in" in out
    assert "puzzles/s, 1 worker, method symbolic" in out


def test_many_csv_file_reads_the_puzzle_column(tmp_path, capsys):
    path = tmp_path / "set.csv"
    path.write_text(f"id,quizzes,solutions\n7,{NINE},x\n8,{FOUR_B},y\n")
    assert main(["solve", str(path), "--many"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [r[2] for r in rows] == ["2", "3"]
    assert [r[-1] for r in rows] == [_answer_line(NINE), _answer_line(FOUR_B)]


def test_many_a_bad_puzzle_is_an_error_line_and_exit_1(tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text(f"{FOUR_A}\nnot a puzzle\n11..............\n{FOUR_B}\n")
    assert main(["solve", str(path), "--many"]) == 1
    captured = capsys.readouterr()
    rows = _rows(captured.out)
    assert [r[3] for r in rows] == ["verified", "error", "error", "verified"]
    assert rows[1][4] == "InvalidTaskError:" and rows[2][4] == "UnsolvableError:"
    assert "4 puzzles: 2 verified, 0 not verified, 2 errors" in captured.out
    assert "Traceback" not in captured.err


def test_many_json_is_one_object_per_line_and_the_summary_on_stderr(tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text(f"{FOUR_A}\nbad\n")
    assert main(["solve", str(path), "--many", "--json"]) == 1
    captured = capsys.readouterr()
    items = [json.loads(line) for line in captured.out.splitlines()]
    assert [(i["line"], i["index"]) for i in items] == [(1, 0), (2, 1)]
    assert items[0]["verified"] is True and items[0]["kind"] == "sudoku"
    assert items[1]["error"] == "InvalidTaskError"
    assert "2 puzzles: 1 verified" in captured.err


def test_many_from_stdin(stdin, capsys):
    stdin(f"{NINE}\n{FOUR_B}\n")
    assert main(["solve", "-", "--many"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [r[-1] for r in rows] == [_answer_line(NINE), _answer_line(FOUR_B)]


def test_many_from_a_real_pipe():
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [sys.executable, "-m", "neurosym.cli", "solve", "-", "--many", "--workers", "2"],
        input=f"{FOUR_A}\n{NINE}\n{FOUR_B}\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = _rows(proc.stdout)
    assert [r[0] for r in rows] == ["0", "1", "2"]
    assert [r[-1] for r in rows] == [_answer_line(p) for p in (FOUR_A, NINE, FOUR_B)]
    assert "3 verified" in proc.stdout and "2 workers" in proc.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "list.txt: the list is empty: no puzzles to solve"),
        ("\n# nothing here\n", "list.txt: the list holds only # comments"),
    ],
)
def test_many_empty_file(tmp_path, capsys, text, message):
    path = tmp_path / "list.txt"
    path.write_text(text)
    assert main(["solve", str(path), "--many"]) == 1
    assert message in _error(capsys)
    assert capsys.readouterr().out == ""


def test_many_empty_stdin(stdin, capsys):
    stdin("")
    assert main(["solve", "-", "--many"]) == 1
    assert _error(capsys) == "error: <stdin>: the list is empty: no puzzles to solve"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--many", "--workers", "0"], "workers must be an int >= 1, got 0"),
        (["--many", "--workers", "-1"], "workers must be an int >= 1, got -1"),
        (["--workers", "2"], "--workers applies to --many"),
        (["--many", "--start", "0,0", "--goal", "1,1"], "--start/--goal apply to one Moving AI"),
    ],
)
def test_many_bad_options(tmp_path, capsys, argv, message):
    path = tmp_path / "list.txt"
    path.write_text(f"{FOUR_A}\n")
    assert main(["solve", str(path), *argv]) == 1
    assert message in _error(capsys)


def test_many_missing_file(capsys):
    assert main(["solve", "no/such/list.txt", "--many"]) == 1
    assert _error(capsys) == "error: no such file: no/such/list.txt"


def test_workers_not_an_int_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve", "x.txt", "--many", "--workers", "two"])
    assert exc.value.code == 2 and "invalid int value: 'two'" in capsys.readouterr().err


# ------------------------------------------------------------------------ - for one puzzle
def test_dash_reads_one_puzzle_from_stdin(stdin, capsys):
    stdin(NINE + "\n")
    assert main(["solve", "-", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is True and data["answer"] == [list(r) for r in solve(NINE).answer]


def test_dash_stdin_is_text_never_a_path(tmp_path, stdin, capsys, monkeypatch):
    (tmp_path / "p.txt").write_text(NINE)
    monkeypatch.chdir(tmp_path)
    stdin("p.txt\n")  # as an argument it names a file; from standard input it is puzzle text
    assert main(["solve", "-"]) == 1
    assert _error(capsys).startswith("error: <stdin>: could not read 'p.txt'")


def test_dash_with_empty_stdin(stdin, capsys):
    stdin("")
    assert main(["solve", "-"]) == 1
    assert _error(capsys) == (
        "error: <stdin>: empty input: expected a Sudoku, a maze or a JSON task"
    )


# ------------------------------------------------------------------ Moving AI --start/--goal
@pytest.fixture
def a_map(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.map"
    path.write_text(MAP)
    return path


def test_map_with_start_and_goal(a_map, capsys):
    assert main(["solve", str(a_map), "--start", "2,0", "--goal", "2,3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is True and data["kind"] == "maze"
    path = [tuple(c) for c in data["answer"]]
    assert path[0] == (2, 0) and path[-1] == (2, 3) and len(path) - 1 == 7  # round the walls


def test_map_from_stdin(stdin, capsys):
    stdin(MAP)
    assert main(["solve", "-", "--start", "0,0", "--goal", "0,3"]) == 0
    assert "3x4 maze, shortest path 3 moves" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--start", "3,0", "--goal", "0,0"], "start (3, 0) is outside the 3x4 map: 0-based"),
        (["--start", "0,0", "--goal", "0,-1"], "goal (0, -1) is outside the 3x4 map"),
        (["--start", "1,1", "--goal", "0,0"], "start (1, 1) is a wall on the map ('@')"),
        (["--start", "0,0", "--goal", "2,2"], "goal (2, 2) is a wall on the map"),
        (["--start", "0,0"], "start and goal come together: a Moving AI map needs both, no goal"),
        (["--goal", "0,0"], "no start"),
        ([], "a Moving AI map marks no start or goal: pass them as --start ROW,COL --goal"),
    ],
)
def test_map_bad_cells_are_one_clear_line(a_map, capsys, flags, message):
    assert main(["solve", str(a_map), *flags]) == 1
    assert message in _error(capsys)


def test_start_goal_on_what_is_no_map(tmp_path, capsys):
    path = tmp_path / "maze.txt"
    path.write_text("S.#\n..G\n")
    assert main(["solve", str(path), "--start", "0,0", "--goal", "1,2"]) == 1
    assert "is no Moving AI map" in _error(capsys)
    assert main(["solve", "no/such.map", "--start", "0,0", "--goal", "1,2"]) == 1
    assert _error(capsys) == "error: no such file: no/such.map"


def test_bad_cell_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve", "x.map", "--start", "1;2", "--goal", "0,0"])
    assert exc.value.code == 2 and "expected ROW,COL" in capsys.readouterr().err


def test_shared_moving_ai_map_matches_pairs_csv(capsys):
    """A real 512x512 map of the shared data set, when it is there: pairs.csv's BFS length."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "maze-movingai-512"
    if not (folder / "pairs.csv").is_file():
        pytest.skip("no ../shared/data/maze-movingai-512 in this checkout")
    head, first = (folder / "pairs.csv").read_text().splitlines()[:2]
    row = dict(zip(head.split(","), first.split(","), strict=True))
    argv = [
        "solve",
        str(folder / "maps" / f"{row['map']}.map.txt"),
        "--start",
        f"{row['start_row']},{row['start_col']}",
        "--goal",
        f"{row['goal_row']},{row['goal_col']}",
        "--json",
        "--no-unique",
    ]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] and len(data["answer"]) - 1 == int(row["shortest_len_4conn"])


def test_load_task_takes_start_and_goal_for_a_map(a_map):
    from neurosym import ConfigError, InvalidTaskError, MazeTask, load_task

    by_path = load_task(str(a_map), start=(2, 0), goal=(2, 3))
    assert by_path == load_task(a_map, start=(2, 0), goal=(2, 3))  # an os.PathLike too
    assert by_path == load_task(MAP, start=(2, 0), goal=(2, 3))  # or the map's text
    assert (by_path.rows, by_path.start, by_path.goals) == (
        ("....", ".##.", "..#."),
        (2, 0),
        ((2, 3),),
    )
    assert solve(by_path).verified
    with pytest.raises(ConfigError, match="start and goal come together"):
        load_task(a_map, start=(0, 0))
    with pytest.raises(ConfigError, match="not a MazeTask"):
        load_task(by_path, start=(0, 0), goal=(0, 1))
    with pytest.raises(InvalidTaskError, match=r"tiny.map: goal \(9, 9\) is outside the 3x4 map"):
        load_task(a_map, start=(0, 0), goal=(9, 9))
    with pytest.raises(InvalidTaskError, match="start is a \\(row, col\\) int pair"):
        load_task(a_map, start=(0, "a"), goal=(0, 1))
    assert isinstance(load_task(MAP.replace("@", "."), start=(1, 1), goal=(0, 0)), MazeTask)
