"""``neurosym solve TASK.json`` on an ARC task prints the attempts with their programs and the
verdict (it raised AttributeError: the text formatter only knew Sudoku and mazes)."""

from __future__ import annotations

import json
from pathlib import Path

from neurosym.cli import main

#: ARC-AGI-1 training task 3c9b0459 (rotate by 180 degrees), its first two pairs.
TASK = {
    "train": [
        {"input": [[2, 2, 1], [2, 1, 2], [2, 8, 1]], "output": [[1, 8, 2], [2, 1, 2], [1, 2, 2]]},
        {"input": [[9, 2, 4], [2, 4, 4], [2, 9, 2]], "output": [[2, 9, 2], [4, 4, 2], [4, 2, 9]]},
    ],
    "test": [
        {"input": [[6, 4, 4], [6, 6, 4], [4, 6, 7]], "output": [[7, 6, 4], [4, 6, 6], [4, 4, 6]]}
    ],
}


def test_solve_prints_an_arc_answer_with_its_program(tmp_path: Path, capsys) -> None:
    path = tmp_path / "task.json"
    path.write_text(json.dumps(TASK))
    code = main(["solve", str(path), "--time-limit", "5"])
    out = capsys.readouterr().out
    assert code == 0
    assert "program 1: rot180 (symbolic)" in out
    assert "verified: yes (pass@2)" in out
    assert "764" in out  # the attempt's first row


def test_solve_without_the_test_output_is_unverified_exit_1(tmp_path: Path, capsys) -> None:
    task = json.loads(json.dumps(TASK))
    del task["test"][0]["output"]
    path = tmp_path / "task.json"
    path.write_text(json.dumps(task))
    code = main(["solve", str(path), "--time-limit", "5"])
    out = capsys.readouterr().out
    assert code == 1
    assert "verified: NO" in out and "no known output" in out
