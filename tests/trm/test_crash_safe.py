"""Crash safety of training: the SIGKILL harness (bench/crash_safe.py) and what it found.

The harness test is slow (about 90 s on a CPU): ``pytest -m slow tests/trm/test_crash_safe.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "bench" / "crash_safe.py"


def _harness():
    spec = importlib.util.spec_from_file_location("crash_safe", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_twenty_sigkills_leave_a_bit_identical_run(tmp_path):
    harness = _harness()
    args = harness.parse_args(["--kills", "20", "--seed", "0", "--work", str(tmp_path)])
    report = harness.run(args)
    print(harness.summary(report, args))
    assert not report.failures, report.failures
    assert len(report.kills) == 20
    # every kill left a complete checkpoint or, before the first commit, none
    assert all(k.step_after is None or k.step_after >= 0 for k in report.kills)
    assert report.resumes + report.fresh_starts == 20
    assert report.final_step == report.reference_step == args.steps
    assert report.tensors_compared > 0 and report.differing_tensors == []
    assert report.bit_identical and report.metrics_match and report.ok


def test_fresh_runs_save_the_same_torch_rng_state_and_leave_the_callers(tmp_path):
    # Torch seeds its global generator at random per process; train seeds it from `seed`, so
    # a run restarted from scratch (killed before its first checkpoint) saves the same bytes.
    import torch

    from trm.checkpoint import load_checkpoint
    from trm.train import TrainConfig, train

    cfg = TrainConfig(
        preset=None,
        model=dict(
            vocab_size=6,
            seq_len=16,
            hidden_size=16,
            num_heads=2,
            num_layers=1,
            puzzle_prefix_len=1,
            n_latent_steps=1,
            n_improve_steps=1,
            max_supervision_steps=2,
        ),
        data=dict(kind="sudoku", box_rows=2, box_cols=2, min_givens=6, max_givens=10),
        steps=2,
        batch_size=4,
        eval_size=0,
        device="cpu",
        threads=1,
    )
    states = []
    for i, caller_seed in enumerate((1, 2)):
        torch.manual_seed(caller_seed)  # stands in for another process's random seed
        before = torch.get_rng_state()
        train(cfg, tmp_path / str(i))
        assert torch.equal(torch.get_rng_state(), before)  # the caller's stream is untouched
        states.append(load_checkpoint(tmp_path / str(i))[0]["rng.torch_cpu"])
    assert torch.equal(states[0], states[1])
