"""neurosym.study.perturb and trm.inference's on_step hook: zero perturbations change nothing,
a perturbed cell really is wrong at the step, fixed points and cycles are found, bad options
fail before any work, and the command writes its files."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosym.neural import torch_threads
from neurosym.study import perturb as pt
from neurosym.study import perturb_steps
from tasks.encodings import MAZE_FREE_ID, MAZE_PATH_ID
from tasks.errors import ConfigError


@pytest.fixture(scope="module")
def six():
    """The shipped 6x6 TRM-MLP (fast) and five of its evaluation puzzles with references."""
    from neurosym.study.halting import _model_tasks
    from trm.inference import load_model

    loaded = load_model(pt.resolve_models("sudoku6")["sudoku6"])
    tasks, _ = _model_tasks(loaded, 5, 15, 7)
    return loaded, tasks, pt.task_references(loaded, tasks)


@pytest.fixture(scope="module")
def base(six):
    loaded, tasks, _ = six
    return pt.run_steps(loaded, tasks, 5)


def test_zero_noise_reproduces_the_unperturbed_run_exactly(six, base):
    from trm.inference import predict

    loaded, tasks, _ = six
    same = pt.run_steps(loaded, tasks, 5, pt.Perturbation("noise", step=2, sigma=0.0))
    assert np.array_equal(same.tokens, base.tokens)
    assert np.array_equal(same.correct, base.correct)
    # The unperturbed run is predict's own answer at every depth (the hook changes nothing).
    with torch_threads(1):
        preds = predict(loaded, None, tasks, max_steps=5, halt=False)
    assert np.array_equal(np.stack([p.tokens for p in preds]), base.tokens[:, -1])
    assert base.correct.shape == (5, 5) and base.correct[:, -1].any()


def test_on_step_hook_is_called_between_steps_and_replaces_the_carry(six):
    from trm.model import Carry
    from trm.rollout import run_batch

    loaded, tasks, _ = six
    net, codec = loaded.model, loaded.codec
    inputs = torch.from_numpy(codec.encode_batch(tasks))

    def run(hook=None):  # halt probabilities: they move with the state when tokens do not
        with torch_threads(1):
            return [h.clone() for _, _, _, h in run_batch(net, inputs, 4, False, on_step=hook)]

    plain = run()
    seen = []
    kept = run(lambda step, rows, carry: seen.append((step, rows.tolist())))
    assert seen == [(s, list(range(5))) for s in (1, 2, 3)]  # never after the last step
    assert all(torch.equal(a, b) for a, b in zip(plain, kept, strict=True))

    def scramble(step, rows, carry):
        if step == 1:
            return Carry(y=torch.zeros_like(carry.y), z=torch.zeros_like(carry.z))
        return None

    changed = run(scramble)
    assert torch.equal(changed[0], plain[0])  # step 1 is read before the hook runs
    assert any(not torch.equal(a, b) for a, b in zip(plain[1:], changed[1:], strict=True))


def test_noise_and_reset_are_seeded_and_act_only_after_the_step(six, base):
    loaded, tasks, _ = six
    noisy = pt.Perturbation("noise", step=2, sigma=5.0)
    a = pt.run_steps(loaded, tasks, 5, noisy, seed=3)
    b = pt.run_steps(loaded, tasks, 5, noisy, seed=3, batch_size=2)  # batching: same noise
    assert np.array_equal(a.tokens, b.tokens)
    reset = pt.run_steps(loaded, tasks, 5, pt.Perturbation("reset", step=3))
    assert np.array_equal(a.tokens[:, :2], base.tokens[:, :2])
    assert np.array_equal(reset.tokens[:, :3], base.tokens[:, :3])


def test_the_hook_draws_per_task_noise_and_resets_z(six):
    from trm.model import Carry

    loaded, tasks, _ = six
    net = loaded.model
    carry = net.initial_carry(3)
    carry = Carry(y=carry.y + 0.5, z=carry.z - 0.25)
    index = np.array([4, 7, 9])  # the batch holds tasks 4, 7 and 9 of the set
    out = pt.StepRun(np.zeros((10, 3, 36), np.int16), np.zeros((10, 3), bool))

    def hook(pert):
        return perturb_steps._hook(loaded, pert, index, out.tokens, None, 11, out, 8)

    noisy = hook(pt.Perturbation("noise", step=2, sigma=2.0))
    assert noisy(1, torch.arange(3), carry) is None  # only after step 2
    new = noisy(2, torch.arange(3), carry)
    assert torch.equal(new.y, carry.y)
    delta = new.z - carry.z
    assert 1.8 < float(delta.std()) < 2.2 and not torch.equal(delta[0], delta[1])
    # A task's noise depends on the task and the seed, not on its batch neighbours.
    alone = noisy(2, torch.tensor([1]), Carry(y=carry.y[1:2], z=carry.z[1:2]))
    assert torch.allclose(alone.z[0] - carry.z[1], delta[1])
    reset = hook(pt.Perturbation("reset", step=2))(2, torch.arange(3), carry)
    assert torch.equal(reset.z, net.z_init.expand_as(carry.z)) and torch.equal(reset.y, carry.y)


@pytest.mark.parametrize("kind", ["cells", "cells_yz"])
def test_perturbed_cells_are_wrong_non_given_and_the_only_change_at_the_step(six, base, kind):
    loaded, tasks, refs = six
    k, s = 2, 2
    run = pt.run_steps(loaded, tasks, 5, pt.Perturbation(kind, step=s, cells=k), refs=refs)
    assert run.cells is not None and run.perturbed is not None
    before = base.tokens[:, s - 1]
    for i in range(len(tasks)):
        cells = run.cells[i]
        assert (cells >= 0).all() and len(set(cells.tolist())) == k
        assert refs.editable[i, cells].all()  # never a given
        assert (run.perturbed[i, cells] != before[i, cells]).all()  # really different at s
        assert (run.perturbed[i, cells] != refs.label[i, cells]).all()  # and wrong
        others = np.ones(before.shape[1], dtype=bool)
        others[cells] = False
        assert np.array_equal(run.perturbed[i, others], before[i, others])
    assert np.array_equal(run.tokens[:, :s], base.tokens[:, :s])
    rows = pt.task_records(base, run, s, refs)
    assert all(r["differs"] for r in rows)
    summary = pt.aggregate(rows)
    assert summary["perturbed_differs"] == 1.0 and summary["n"] == len(tasks)
    with pytest.raises(ConfigError, match="references"):
        pt.run_steps(loaded, tasks, 5, pt.Perturbation(kind, step=s))


def test_maze_cells_lose_their_path_mark():
    from neurosym.study.halting import _model_tasks
    from trm.inference import load_model

    loaded = load_model(pt.resolve_models("maze9")["maze9"])
    tasks, _ = _model_tasks(loaded, 3, 9, 1)
    refs = pt.task_references(loaded, tasks)
    base = pt.run_steps(loaded, tasks, 3)
    run = pt.run_steps(loaded, tasks, 3, pt.Perturbation("cells", step=1, cells=2), refs=refs)
    # A 9x9 perfect maze whose path covers every free cell has no cell reading "free" to
    # copy from: nothing is perturbed there (-1), and the record says so.
    assert (run.cells >= 0).any()
    for i in range(len(tasks)):
        cells = run.cells[i][run.cells[i] >= 0]
        assert (base.tokens[i, 0, cells] == MAZE_PATH_ID).all()
        assert (run.perturbed[i, cells] == MAZE_FREE_ID).all()
        assert refs.editable[i, cells].all()


def test_records_and_aggregate_on_a_hand_made_run():
    refs = pt.References(
        label=np.array([[2, 3, 4]]), editable=np.ones((1, 3), bool), difficulty=["x"], size=[0]
    )
    base = pt.StepRun(np.array([[[2, 3, 4]] * 4]), np.array([[True] * 4]))
    # Cell 0 made wrong after step 1; the answer comes back at step 3 after cell 2 moved.
    tokens = np.array([[[2, 3, 4], [2, 3, 3], [2, 3, 4], [2, 3, 4]]])
    run = pt.StepRun(
        tokens, np.array([[True, False, True, True]]), np.array([[1]]), np.array([[2, 4, 4]])
    )
    [rec] = pt.task_records(base, run, 1, refs)
    assert rec["differs"] and rec["restored"] == 1.0 and rec["steps_to_restore"] == 1
    assert rec["steps_to_correct"] == 2 and rec["other_changed"] == 1
    assert rec["base_other_changed"] == 0 and rec["disturbed"] == 1
    row = pt.aggregate([rec])
    assert row["recovered"] == 1.0 and row["local_fix"] == 0.0 and row["steps_to_recover"] == 2


def test_answer_cycles_fixed_point_cycle_and_wander():
    fixed = [[1], [2], [3]] + [[4]] * 21  # settles at update 3 -> supervision step 2 (T=2)
    cycle = [[1], [2], [3]] * 8
    wander = [[v] for v in range(24)]
    s = pt.answer_cycles(np.array([fixed, cycle, wander]), 2, [False, False, False])
    assert s["kinds"] == ["fixed_wrong", "cycle", "wander"]
    assert s["first_fixed_steps"] == [2] and s["cycle_lengths"] == {"3": 1}
    assert s["fixed_point"] == pytest.approx(1 / 3) and s["fixed_correct"] == 0.0


@settings(max_examples=40, deadline=None)
@given(
    period=st.integers(2, 6), prefix=st.integers(0, 10), reps=st.integers(8, 12), seed=st.integers()
)
def test_a_periodic_tail_is_found_with_its_least_period(period, prefix, reps, seed):
    rng = np.random.default_rng(abs(seed))
    unit = np.arange(period)[:, None] + 100  # distinct answers, so the least period is exact
    seq = np.concatenate([rng.integers(0, 50, (prefix, 1)), np.tile(unit, (reps, 1))])
    s = pt.answer_cycles(seq[None], 1, [False], max_period=8)
    assert s["kinds"] == ["cycle"] and s["cycle_lengths"] == {str(period): 1}


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"at": "8"}, "at takes integers in 1..7"),
        ({"sigmas": "11"}, r"sigmas takes numbers in \[0, 10\)"),
        ({"cells": "0"}, "cells takes integers in 1..64"),
        ({"experiments": "noise,jitter"}, "experiments take names"),
        ({"depth": 1}, "depth must be an int 2.."),
        ({"n": 0}, "n must be an int 1..100000"),
        ({"models": "no_such_model"}, "neither a checkpoint path nor a shipped model"),
        ({"cycle_steps": 2}, "cycle_steps must be an int 4.."),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, monkeypatch, options, match):
    import trm.inference

    def no_work(*_a, **_k):
        raise AssertionError("a model was loaded before the options were checked")

    monkeypatch.setattr(trm.inference, "load_model", no_work)
    kwargs = {"models": "sudoku6", "depth": 8, **options}
    with pytest.raises(ConfigError, match=match):
        pt.run_perturb(out_dir=tmp_path / "new", **kwargs)
    assert not (tmp_path / "new").exists()


def test_a_non_empty_out_folder_is_refused(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        pt.run_perturb("sudoku6", tmp_path)
    with pytest.raises(ConfigError, match="is a file"):
        pt.run_perturb("sudoku6", tmp_path / "old.txt")


def test_the_command_writes_its_files_and_reproduces(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    assert pt.register(sub).prog.endswith("perturb")
    argv = "perturb --models sudoku6 --n 3 --depth 4 --at 2 --sigmas 1 --cells 1"
    argv += " --experiments noise,cells,cycles --cycle-n 2 --cycle-steps 6 --out"
    args = parser.parse_args([*argv.split(), str(tmp_path / "a")])
    assert args.func(args) == 0
    assert "| sudoku6 | noise sigma 1 after step 2 |" in capsys.readouterr().out
    files = {p.name: p for p in (tmp_path / "a").iterdir()}
    assert sorted(files) == ["perturb.csv", "perturb.json", "perturb.png"]
    assert files["perturb.png"].read_bytes()[:4] == b"\x89PNG"
    first = json.loads(files["perturb.json"].read_text())
    assert [r["experiment"] for r in first["rows"] if r["difficulty"] == "all"] == [
        "noise",
        "cells",
    ]
    assert first["cycles"][0]["n"] == 2 and first["cycles"][0]["updates"] == 12
    header = files["perturb.csv"].read_text().splitlines()[0].split(",")
    assert {"final_correct", "recovered", "local_fix", "difficulty"} <= set(header)
    again = pt.run_perturb(
        "sudoku6", tmp_path / "b", experiments="noise,cells,cycles", n=3, depth=4, at=[2],
        sigmas=[1.0], cells=[1], cycle_n=2, cycle_steps=6,
    )  # fmt: skip
    assert again["rows"] == first["rows"] and again["tasks"] == first["tasks"]


def test_the_bench_script_reports_a_bad_option_without_a_traceback(tmp_path, capsys):
    from neurosym.study.common import run_script

    code = run_script(pt.add_arguments, pt.main, "perturb", ["--at", "0", "--out", str(tmp_path)])
    assert code == 1 and "at takes integers" in capsys.readouterr().err
