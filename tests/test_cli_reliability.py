"""The CLI fails with one ``error:`` line (exit 1), before any long work, instead of a traceback
after it: output paths of the wrong kind, bad time limits, path-like puzzle arguments that name
no file, and a reader that closes the pipe."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurosym.cli import main

PUZZLE = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    """The captured stderr, which must be a single ``error:`` line."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "taken.txt"
    path.write_text("not a folder\n")
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--n", "2", "--size", "4x4", "--methods", "symbolic"],
        ["robustness", "--n", "2", "--size", "4x4", "--givens", "8-10"],
        ["demo", "--compare", "2"],
        ["train", "--preset", "sudoku6-tiny", "--steps", "2"],
        ["bench", "mixers", "--cpu-minutes", "0.01"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_out_that_is_a_file_fails_before_any_work(argv, a_file, capsys):
    start = time.perf_counter()
    assert main([*argv, "--out", str(a_file)]) == 1
    err = _error(capsys)
    assert f"--out {str(a_file)!r} is a file, not a folder" in err
    assert time.perf_counter() - start < 3  # refused up front, not after the runs
    # a file where a parent folder would be is refused the same way
    assert main([*argv, "--out", str(a_file / "sub")]) == 1
    assert "cannot be created" in _error(capsys)


@pytest.mark.parametrize(
    "argv",
    [["trace", PUZZLE, "--png"], ["bench", "symbolic", "--quick", "--json"], ["bench", "train"]],
    ids=["trace --png", "bench symbolic --json", "bench train --json"],
)
def test_output_file_that_is_a_directory_fails_before_any_work(argv, tmp_path, capsys):
    if argv[-1] not in ("--png", "--json"):
        argv = [*argv, "--json"]
    assert main([*argv, str(tmp_path)]) == 1
    assert "is a directory; name a file to write" in _error(capsys)


def test_trace_png_help_says_it_is_a_file(capsys):
    with pytest.raises(SystemExit):
        main(["trace", "--help"])
    assert "a file name, not a folder" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("command", ["compare", "robustness"])
@pytest.mark.parametrize("limit", ["-1", "0", "nan"])
def test_bad_time_limit_is_refused_like_solve(command, limit, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [command, "--n", "2", "--size", "4x4", "--methods", "symbolic", "--out", str(out)]
    assert main([*argv, "--time-limit", limit]) == 1
    assert "time_limit_s must be > 0" in _error(capsys)
    assert not out.exists()  # nothing ran, nothing was written
    assert main(["solve", PUZZLE, "--time-limit", limit]) == 1
    assert "time_limit_s must be > 0" in _error(capsys)


@pytest.mark.parametrize(
    ("puzzle", "message"),
    [
        ("/nonexistent/file.txt", "no such file: /nonexistent/file.txt"),
        ("nothere.txt", "no such file: nothere.txt"),
        ("missing/", "no such file: missing/"),
        ("some.map", "no such file: some.map"),
    ],
)
def test_solve_path_like_text_that_names_no_file(puzzle, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["solve", puzzle]) == 1
    assert _error(capsys) == f"error: {message}"


def test_solve_a_directory(tmp_path, capsys, monkeypatch):
    (tmp_path / "some_dir").mkdir()
    monkeypatch.chdir(tmp_path)
    for arg in ("some_dir", "some_dir/", str(tmp_path / "some_dir")):
        assert main(["solve", arg]) == 1
        assert "is a directory" in _error(capsys)


def test_solve_one_letter_names_every_kind_tried(capsys):
    assert main(["solve", "S"]) == 1
    err = _error(capsys)
    assert "could not read 'S' as any task kind" in err
    assert "not a Sudoku" in err and "not a maze" in err and "JSON" in err


def test_broken_pipe_exits_quietly(tmp_path):
    # The reader is gone before the answer is printed (`neurosym solve ... | head -c 10`).
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "neurosym.cli", "solve", PUZZLE],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr.decode() and "BrokenPipe" not in proc.stderr.decode()
    assert proc.stderr.decode().strip() == ""
    assert proc.returncode == 1
