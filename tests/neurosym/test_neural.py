"""`solve(method="neural")`: a TRM checkpoint's answer, always judged by verify()."""

from __future__ import annotations

import pytest
import torch

from neurosym import (
    CheckpointError,
    SudokuTask,
    UnsupportedTaskError,
    count_solutions,
    solve,
    verify,
)
from neurosym.neural import MODELS_DIR
from tasks.generators import generate_perfect_maze, generate_puzzle


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_neural_answer_is_verified_not_trusted(tiny_checkpoint):
    task, _ = generate_puzzle(2, 3, n_givens=20, rng=1)
    r = solve(task, method="neural", model=tiny_checkpoint)
    assert r.method == "neural" and r.backend == "trm"
    assert r.verified == verify(task, r.answer).ok  # a wrong answer is reported, not raised
    assert len(r.answer) == 6 and all(len(row) == 6 for row in r.answer)
    assert 1 <= r.effort["trm_steps"] <= 4
    assert 0.0 <= r.effort["min_confidence"] <= r.effort["mean_confidence"] <= 1.0
    assert r.unique is None


def test_untrained_model_wrong_answer_comes_back_unverified(tiny_checkpoint):
    # A 4-step model cannot solve a sparse 6x6: the result must say so, not hide it.
    results = [
        solve(generate_puzzle(2, 3, n_givens=14, rng=s)[0], method="neural", model=tiny_checkpoint)
        for s in range(5)
    ]
    assert not all(r.verified for r in results)
    for r in results:
        assert r.verified == verify(r.task, r.answer).ok
        if not r.verified:
            assert r.verification.violations


def test_model_must_cover_the_task(tiny_checkpoint):
    nine = SudokuTask.parse(
        "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
    )
    with pytest.raises(UnsupportedTaskError, match="does not cover"):
        solve(nine, method="neural", model=tiny_checkpoint)
    with pytest.raises(UnsupportedTaskError, match="does not cover this 7x7 maze"):
        solve(generate_perfect_maze(7, 7, rng=0), method="neural", model=tiny_checkpoint)


def test_no_shipped_model_is_a_clear_error():
    task, _ = generate_puzzle(3, 4, n_givens=100, rng=1)  # 12 digits: more than any covers
    with pytest.raises(
        UnsupportedTaskError, match=r"no shipped TRM model.*covered: .*6x6 Sudoku.*9x9 Sudoku"
    ):
        solve(task, method="neural")
    # The fixed-size 9x9 maze model covers exactly 9x9 (0% on smaller mazes padded to 9x9);
    # the shipped convolutional model answers every size.
    for h, w in ((11, 11), (7, 7)):
        maze = generate_perfect_maze(h, w, rng=0)
        with pytest.raises(UnsupportedTaskError, match=r"9x9 mazes"):
            solve(maze, method="neural", model=MODELS_DIR / "maze9")
        assert solve(maze, method="neural").backend == "trm"


def test_shipped_6x6_model_solves_easy_puzzles():
    from neurosym.neural import default_models

    assert "sudoku6" in default_models()
    for seed in range(8):
        task, solution = generate_puzzle(2, 3, n_givens=22, rng=seed)
        r = solve(task, method="neural")
        assert r.verified, (seed, r.verification.violations)
        assert r.effort["trm_steps"] <= 4


def test_shipped_9x9_model_solves_most_easy_puzzles():
    # 88.6% exact with halting on its training distribution (30-35 givens): most, not all
    results = [
        solve(generate_puzzle(3, 3, n_givens=35, rng=seed)[0], method="neural")
        for seed in range(10)
    ]
    assert sum(r.verified for r in results) >= 7
    assert all(r.verified == verify(r.task, r.answer).ok for r in results)


def test_bad_checkpoint_path(tmp_path):
    task, _ = generate_puzzle(2, 3, n_givens=20, rng=1)
    with pytest.raises(CheckpointError):
        solve(task, method="neural", model=tmp_path / "missing")
    assert count_solutions(task, limit=1) == 1  # the symbolic side is unaffected


def test_cli_train_resume_eval(tmp_path, capsys):
    from neurosym.cli import main

    out = str(tmp_path / "run")
    common = ["--preset", "sudoku6-tiny", "--out", out, "--batch-size", "4", "--eval-size", "4"]
    assert main(["train", *common, "--steps", "3"]) == 0
    assert main(["train", *common, "--steps", "3"]) == 1  # refuses to overwrite a run
    assert main(["train", *common, "--steps", "5", "--resume"]) == 0
    captured = capsys.readouterr()
    assert "steps 5" in captured.out and "already holds a checkpoint" in captured.err
    assert main(["eval", out, "--generate", "4", "--json"]) == 0
    metrics = __import__("json").loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["n"] == 4 and 0.0 <= metrics["cell_accuracy"] <= 1.0
    # A time limit (here: less than one step of CPU time) stops early; --resume continues.
    limited = [*common, "--steps", "9", "--budget-clock", "cpu", "--max-minutes", "1e-9"]
    assert main(["train", *limited, "--resume"]) == 0
    text = capsys.readouterr().out
    assert "steps 6" in text and "continue with --resume" in text
    assert main(["train", *common, "--steps", "9", "--resume", "--max-minutes", "0"]) == 1
    assert "max-minutes" in capsys.readouterr().err


def test_cli_train_cuda_without_cuda_is_a_clean_error(tmp_path, capsys):
    from neurosym.cli import main

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    argv = ["train", "--out", str(tmp_path / "r"), "--steps", "1", "--device", "cuda"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "cuda" in err.lower()


def test_cli_solve_neural_json(tiny_checkpoint, capsys):
    from neurosym.cli import main

    task, _ = generate_puzzle(2, 3, n_givens=20, rng=4)
    code = main(
        ["solve", task.to_line(), "--method", "neural", "--model", str(tiny_checkpoint), "--json"]
    )
    data = __import__("json").loads(capsys.readouterr().out)
    assert data["method"] == "neural" and data["backend"] == "trm"
    assert code == (0 if data["verified"] else 1)
    assert data["verified"] == verify(task, data["answer"]).ok
