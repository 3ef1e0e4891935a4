"""neurosym.study.compression: quantisation, pruning, weight files, the --out guard, the CLI."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
import torch

from neurosym.study import common
from neurosym.study import compression as comp
from tasks.errors import ConfigError


@pytest.fixture(scope="module")
def six():
    """The shipped 6x6 model and a few of its evaluation puzzles."""
    from neurosym.neural import default_models
    from tasks.generators import generate_puzzle
    from trm.inference import load_model

    loaded = load_model(default_models()["sudoku6_peers"])
    tasks = [generate_puzzle(2, 3, n_givens=n, rng=n)[0] for n in (10, 12, 14, 16, 18, 20)]
    return loaded, tasks


def _tokens(loaded, net, tasks):
    from neurosym.neural import torch_threads
    from trm.inference import predict

    with torch_threads(1):
        preds = predict(dataclasses.replace(loaded, model=net), None, tasks, halt=False)
    return np.stack([p.tokens for p in preds])


def _tiny():
    from trm.config import preset
    from trm.model import TRM

    torch.manual_seed(0)
    return TRM(preset("sudoku6-tiny", hidden_size=16)).eval()


def test_guard_refuses_paths_outside(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert common.guarded_path(out, "weights/a.safetensors").parent.name == "weights"
    for name in ("../escape.csv", str(tmp_path / "abs.csv"), "weights/../../x.png"):
        with pytest.raises(ConfigError, match="outside the output folder"):
            common.guarded_path(out, name)
    (out / "link").symlink_to(tmp_path)
    with pytest.raises(ConfigError, match="outside"):
        common.guarded_path(out, "link/table.csv")


def test_bad_arguments_fail_before_work(tmp_path, monkeypatch):
    taken = tmp_path / "file"
    taken.write_text("x")

    def boom(*_a, **_k):
        raise AssertionError("work started")

    monkeypatch.setattr("trm.inference.load_model", boom)
    for kwargs, match in (
        ({"out_dir": taken}, "is a file"),
        ({"sparsities": "0.5,1.5"}, "sparsities"),
        ({"sparsities": "half"}, "sparsities"),
        ({"n": 0}, "n must be"),
        ({"max_steps": 0}, "max_steps"),
        ({"halt_threshold": 1.0}, "halt_threshold"),
        ({"models": "no_such_model"}, "neither a checkpoint"),
    ):
        kwargs.setdefault("out_dir", tmp_path / "o")
        with pytest.raises(ConfigError, match=match):
            comp.run_compression(kwargs.pop("models", "sudoku6_peers"), **kwargs)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("sparsity", [0.25, 0.5, 0.9])
def test_pruning_reaches_the_requested_sparsity(sparsity):
    model = _tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruned = comp.prune_magnitude(model, sparsity)
    assert comp.sparsity_of(pruned) == pytest.approx(sparsity, abs=1e-3)
    # The original is untouched (its only zeros: the halt head's zero-initialised weight).
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    # Magnitude: every surviving weight is at least as large as every pruned one.
    weights = torch.cat([m.weight.flatten() for m, _ in comp._prunable(model)])
    kept = torch.cat([m.weight.flatten() for m, _ in comp._prunable(pruned)]) != 0
    assert weights[kept].abs().min() >= weights[~kept].abs().max()


def test_bad_sparsity_is_a_config_error():
    for bad in (0, 1, -0.1, True, "0.5"):
        with pytest.raises(ConfigError):
            comp.prune_magnitude(_tiny(), bad)


def test_quantised_outputs_agree_with_fp32(six):
    loaded, tasks = six
    reference = _tokens(loaded, loaded.model, tasks)
    dynamic = comp.quantize_dynamic_int8(loaded.model)
    assert (_tokens(loaded, dynamic, tasks) == reference).mean() >= 0.95
    calibrate = comp._calibrator(loaded, tasks[:3], 4)
    static = comp.quantize_static_int8(loaded.model, calibrate)
    assert (_tokens(loaded, static, tasks) == reference).mean() >= 0.9
    assert isinstance(loaded.model.q_head, torch.nn.Linear)  # the original stays fp32


def test_int8_and_sparse_files_round_trip(six, tmp_path):
    loaded, tasks = six
    fp32 = comp.save_fp32(loaded.model, tmp_path / "fp32.safetensors")
    dynamic = comp.quantize_dynamic_int8(loaded.model)
    size = comp.save_int8(dynamic, tmp_path / "int8.safetensors", "dynamic")
    assert fp32 / size >= 2.0
    back = comp.load_int8(tmp_path / "int8.safetensors", loaded.model)
    assert np.array_equal(_tokens(loaded, back, tasks), _tokens(loaded, dynamic, tasks))
    pruned = comp.prune_magnitude(loaded.model, 0.75)
    sparse = comp.save_sparse(pruned, tmp_path / "sparse.safetensors")
    assert sparse < fp32 / 2
    state = comp.load_sparse(tmp_path / "sparse.safetensors")
    assert all(torch.equal(state[k], v) for k, v in pruned.state_dict().items())
    with pytest.raises(ConfigError, match="not an int8 file"):
        comp.load_int8(tmp_path / "fp32.safetensors", loaded.model)


def test_register_adds_a_working_subcommand(tiny_checkpoint, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    comp.register(sub)
    out = tmp_path / "c"
    args = parser.parse_args(
        ["compress", "--models", str(tiny_checkpoint), "--n", "4", "--n-calibration", "2",
         "--sparsities", "0.5", "--out", str(out)]
    )  # fmt: skip
    assert args.func(args) == 0
    rows = (out / "compression.csv").read_text().splitlines()
    assert len(rows) == 1 + 4  # fp32, int8-dynamic, int8-static, prune-0.5
    assert (out / "compression.png").stat().st_size > 0
    assert "| int8-dynamic |" in capsys.readouterr().out
    bad = parser.parse_args(["compress", "--out", str(out / "compression.csv")])
    with pytest.raises(ConfigError, match="is a file"):
        bad.func(bad)


def test_losing_exactly_one_point_meets_the_target():
    from neurosym.study.compression import meets_target

    assert meets_target(100 * (0.965 - 0.975), 3.86)  # 2 of 200 tasks: -1.0000000000000009
    assert not meets_target(100 * (0.96 - 0.975), 3.86)  # 3 of 200
    assert not meets_target(0.5, 1.78)  # accurate but not 2x smaller
    assert meets_target(0.0, 2.0)
