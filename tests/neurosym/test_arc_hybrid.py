"""ARC with a user's checkpoint: ``solve(..., method="neural" | "hybrid", model=PATH)``, the
hybrid's ranking (programs first, the network fills, ``"both"`` on agreement), the refusals, the
shared deadline, and ``compare --kind arc --model``."""

from __future__ import annotations

import csv
import doctest
import json
import time

import pytest
import torch

import solvers.arc
from neurosym import arc_hybrid
from neurosym.api import solve
from neurosym.arc_hybrid import NetworkCandidates
from neurosym.cli import main
from neurosym.study.arc_compare import ARC_COLUMNS, compare_arc
from solvers.arc import ArcSolverOutput
from tasks.arc import ArcTask
from tasks.errors import CheckpointError, ConfigError, UnsupportedTaskError
from tasks.verify import verify
from trm.arc import load_arc_model, save_arc_model
from trm.arc_train import ArcTrainConfig, train_arc

#: Seconds a solve may run past its limit, on top of 10%: one fit step, the vote and verify on
#: a loaded 2-core machine.
GRACE_S = 0.5


def _task(task_id: str, pairs, tests) -> ArcTask:
    return ArcTask(
        task_id=task_id,
        train=[{"input": i, "output": o} for i, o in pairs],
        test=[{"input": i, "output": o} for i, o in tests],
    )


def _rotation() -> ArcTask:
    """Quarter turn clockwise: ``rot90`` reproduces every demonstration."""
    return _task(
        "rotate",
        [([[1, 2], [3, 4]], [[3, 1], [4, 2]]), ([[5, 0], [0, 6]], [[0, 5], [6, 0]])],
        [([[7, 8], [9, 1]], [[9, 7], [1, 8]])],
    )


def _recolour() -> ArcTask:
    return _task(
        "recolour",
        [([[1, 0], [0, 1]], [[2, 0], [0, 2]]), ([[0, 1, 1]], [[0, 2, 2]])],
        [([[1, 1], [0, 0]], [[2, 2], [0, 0]])],
    )


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny ARC model trained for a handful of steps on two small tasks, saved by
    ``save_arc_model`` (a 4x4 canvas: grids up to 4x4)."""
    config = ArcTrainConfig(
        steps=4,
        batch_size=4,
        n_views=2,
        device="cpu",
        warmup_steps=1,
        model={"seq_len": 16, "hidden_size": 16, "max_supervision_steps": 2},
    )
    trained = train_arc(config, [_rotation(), _recolour()])
    path = tmp_path_factory.mktemp("arc-model") / "tiny"
    save_arc_model(path, trained.averaged, trained.puzzles, step=4)
    return path


def _fake_network(monkeypatch, per_test):
    """The network's attempts replaced by ``per_test`` (one tuple of grids per test input)."""

    def propose(task, network, *, deadline, **kwargs):
        assert time.perf_counter() < deadline
        return NetworkCandidates(attempts=per_test, effort={"fit_steps": 1.0}, time_s=0.0)

    monkeypatch.setattr(arc_hybrid, "propose_arc", propose)


def _grid(rows) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(r) for r in rows)


# --------------------------------------------------------------------------- neural


def test_neural_gives_at_most_two_attempts_tagged_neural(model_path):
    task = _rotation()
    result = solve(task, method="neural", model=model_path, time_limit_s=1.0)
    assert result.method == "neural" and result.backend == "trm"
    assert len(result.answer) == task.n_test
    for attempts, sources in zip(result.answer, result.test_attempts, strict=True):
        assert 1 <= len(attempts) <= 2 and len(set(attempts)) == len(attempts)
        assert len(sources) == len(attempts)
        assert all(a.stage == "neural" and a.program is None for a in sources)
    assert result.attempts and all(a.stage == "neural" for a in result.attempts)
    assert result.verified == verify(task, result.answer).ok
    assert result.effort["fit_steps"] >= 1 and result.effort["views"] >= 1
    assert set(result.stage_times) == {"neural"}


def test_neural_is_verified_only_when_verify_accepts(model_path, monkeypatch):
    task = _rotation()
    right, wrong = _grid(task.test[0].output), _grid([[1, 1], [1, 1]])
    _fake_network(monkeypatch, ((wrong, right),))
    assert solve(task, method="neural", model=model_path, time_limit_s=1.0).verified
    _fake_network(monkeypatch, ((wrong,),))
    result = solve(task, method="neural", model=model_path, time_limit_s=1.0)
    assert not result.verified
    assert [v.rule for v in result.verification.violations] == ["output"]


def test_a_task_without_test_outputs_is_never_verified(model_path, monkeypatch):
    task = _rotation()
    unknown = ArcTask(task_id="unknown", train=task.train, test=[{"input": task.test[0].input}])
    _fake_network(monkeypatch, ((_grid(task.test[0].output),),))
    for method in ("neural", "hybrid"):
        result = solve(unknown, method=method, model=model_path, time_limit_s=1.0)
        assert result.answer[0][0] == task.test[0].output  # the right grid, yet not verified
        assert not result.verified
        assert "unverified" in {v.rule for v in result.verification.violations}


# --------------------------------------------------------------------------- hybrid


def test_hybrid_ranks_a_program_that_fits_every_demonstration_first(model_path):
    task = _rotation()
    result = solve(task, method="hybrid", model=model_path, time_limit_s=1.0)
    first = result.attempts[0]
    assert first.stage in ("symbolic", "both") and first.program == "rot90"
    assert result.answer[0][0] == task.test[0].output
    assert result.verified and result.backend == "search+trm"
    assert result.effort["programs_tried"] >= 1 and result.effort["fit_steps"] >= 1
    assert set(result.stage_times) == {"search", "neural"}


def test_hybrid_marks_both_when_the_network_agrees_with_a_program(model_path, monkeypatch):
    task = _rotation()
    other = _grid([[1, 1], [1, 1]])
    _fake_network(monkeypatch, ((other, _grid(task.test[0].output)),))
    result = solve(task, method="hybrid", model=model_path, time_limit_s=1.0)
    assert result.attempts[0].stage == "both" and result.attempts[0].program == "rot90"
    assert result.answer[0][0] == task.test[0].output
    assert result.verified


def test_hybrid_fills_the_attempts_left_with_the_networks(model_path, monkeypatch):
    task = _rotation()
    program_grid, net_grid = _grid([[3, 3], [3, 3]]), _grid([[4, 4], [4, 4]])
    found = ArcSolverOutput(answer=((program_grid,),), programs=("only_program",))
    monkeypatch.setattr(solvers.arc, "solve", lambda task, time_limit_s: found)
    _fake_network(monkeypatch, ((net_grid, program_grid),))
    result = solve(task, method="hybrid", model=model_path, time_limit_s=1.0)
    # the grid both give ranks first, the network's other candidate fills attempt 2
    assert result.answer == ((program_grid, net_grid),)
    assert [(a.stage, a.program) for a in result.attempts] == [
        ("both", "only_program"),
        ("neural", None),
    ]
    assert not result.verified  # neither grid is the rotation

    nothing = ArcSolverOutput(answer=((),), programs=())
    monkeypatch.setattr(solvers.arc, "solve", lambda task, time_limit_s: nothing)
    right = _grid(task.test[0].output)
    _fake_network(monkeypatch, ((right, net_grid),))
    result = solve(task, method="hybrid", model=model_path, time_limit_s=1.0)
    assert result.answer == ((right, net_grid),)
    assert [a.stage for a in result.attempts] == ["neural", "neural"] and result.verified


def test_attempts_of_several_test_inputs_say_where_they_differ():
    n, s = arc_hybrid.Attempt(stage="neural"), arc_hybrid.Attempt(stage="symbolic", program="p")
    assert arc_hybrid.task_attempts([[s, n], [n]]) == (arc_hybrid.Attempt(stage="mixed"), n)
    assert arc_hybrid.task_attempts([]) == ()


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("method", ["neural", "hybrid"])
def test_without_a_model_no_arc_model_ships(method):
    with pytest.raises(UnsupportedTaskError, match="no ARC model ships.*train_arc.*save_arc_model"):
        solve(_rotation(), method=method)


@pytest.mark.parametrize("method", ["neural", "hybrid"])
def test_a_bad_model_path_is_a_checkpoint_error(tmp_path, method):
    with pytest.raises(CheckpointError):
        solve(_rotation(), method=method, model=tmp_path / "missing")


def test_a_loaded_model_and_its_pair_are_accepted(model_path):
    pair = load_arc_model(model_path)
    for model in (pair, pair[0]):
        result = solve(_rotation(), method="neural", model=model, time_limit_s=0.3)
        assert all(a.stage == "neural" for a in result.attempts)
    with pytest.raises(ConfigError, match="model for an ARC task must be"):
        solve(_rotation(), method="neural", model=42)


def test_grids_larger_than_the_canvas_and_sampling_options_are_refused(model_path):
    big = _task("big", [([[1] * 5] * 5, [[2] * 5] * 5)], [([[1] * 5] * 5, [[2] * 5] * 5)])
    with pytest.raises(UnsupportedTaskError, match="side 5; the model's canvas is 4x4"):
        solve(big, method="hybrid", model=model_path)
    with pytest.raises(ConfigError, match="votes over augmented views"):
        solve(_rotation(), method="neural", model=model_path, trajectories=2)


# --------------------------------------------------------------------------- time limits


@pytest.mark.parametrize("method", ["neural", "hybrid"])
def test_the_time_limit_bounds_search_and_network_together(model_path, method):
    limit = 1.0
    t0 = time.perf_counter()
    result = solve(_recolour(), method=method, model=model_path, time_limit_s=limit)
    wall = time.perf_counter() - t0
    assert wall <= limit * 1.1 + GRACE_S
    assert result.time_s <= limit * 1.1 + GRACE_S
    assert sum(result.stage_times.values()) <= result.time_s + 1e-6
    steps = result.effort["fit_steps"]
    assert 1 <= steps <= arc_hybrid.ARC_FIT_STEPS
    assert result.effort["fit_timed_out"] == float(steps < arc_hybrid.ARC_FIT_STEPS)


# --------------------------------------------------------------------------- compare


def _write_tasks(folder, *tasks: ArcTask) -> None:
    for task in tasks:
        data = {
            "train": [p.model_dump() for p in task.train],
            "test": [p.model_dump() for p in task.test],
        }
        (folder / f"{task.task_id}.json").write_text(json.dumps(data))


def test_compare_runs_neural_and_hybrid_with_a_model(model_path, tmp_path):
    big = _task("big", [([[1] * 5] * 5, [[2] * 5] * 5)], [([[1] * 5] * 5, [[2] * 5] * 5)])
    _write_tasks(tmp_path, _rotation(), big)
    report = compare_arc(tmp_path, model=model_path, time_limit_s=0.3)
    assert [s["method"] for s in report.summary] == ["symbolic", "neural", "hybrid"]
    rows = {(r["task_id"], r["method"]): r for r in report.rows}
    assert rows[("rotate", "hybrid")]["solved"] and rows[("rotate", "hybrid")]["program_1"]
    assert rows[("rotate", "neural")]["stage_1"] == "neural"
    assert "canvas" in rows[("big", "neural")]["skipped"]  # 5x5 grids, a 4x4 canvas
    assert rows[("big", "symbolic")]["skipped"] is None
    by_method = {s["method"]: s for s in report.summary}
    assert by_method["neural"]["skipped"] == 1 and by_method["symbolic"]["skipped"] == 0


def test_compare_cli_takes_model_for_arc(model_path, tmp_path, capsys):
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    _write_tasks(data, _rotation())
    argv = ["compare", "--kind", "arc", "--data", str(data), "--model", str(model_path)]
    argv += ["--methods", "neural,hybrid", "--time-limit", "0.3", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "neural: pass@2" in printed and "hybrid: pass@2 1/1" in printed
    with open(out / "compare.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == ARC_COLUMNS
    assert [r["method"] for r in rows] == ["neural", "hybrid"]
    bad = ["compare", "--kind", "arc", "--model", str(tmp_path / "nope"), "--out", str(out)]
    assert main(bad) == 1
    assert "error:" in capsys.readouterr().err


def test_the_module_examples_run():
    failed, attempted = doctest.testmod(arc_hybrid)
    assert attempted >= 5 and failed == 0
