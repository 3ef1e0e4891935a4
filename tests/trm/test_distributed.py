"""torchrun / DistributedDataParallel training: two CPU processes with Gloo on a tiny config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from trm.checkpoint import load_checkpoint, strip_prefix
from trm.inference import load_model

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="torch built without torch.distributed"
)

# Run under torchrun: trains, records which rank called save_checkpoint, and dumps each rank's
# final weights (raw and EMA) for the test to compare.
_SCRIPT = textwrap.dedent(
    """
    import importlib, json, os, sys
    import torch
    from trm.train import TrainConfig, train

    train_mod = importlib.import_module("trm.train")  # the module (trm.train is also a function)

    out, steps, resume, dump = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
    rank = int(os.environ["RANK"])
    real_save = train_mod.save_checkpoint

    def recording_save(*args, **kwargs):
        with open(os.path.join(dump, f"saves.rank{rank}"), "a") as fh:
            fh.write("save\\n")
        return real_save(*args, **kwargs)

    train_mod.save_checkpoint = recording_save
    built = []
    real_build = train_mod._build_model

    def keeping_build(*args, **kwargs):
        built.append(real_build(*args, **kwargs))
        return built[-1]

    train_mod._build_model = keeping_build
    cfg = TrainConfig(
        preset=None,
        model=dict(vocab_size=6, seq_len=16, hidden_size=32, num_heads=4, num_layers=1,
                   puzzle_prefix_len=1, n_latent_steps=2, n_improve_steps=1,
                   max_supervision_steps=2),
        data=dict(kind="sudoku", box_rows=2, box_cols=2, min_givens=6, max_givens=10),
        steps=steps, batch_size=8, warmup_steps=2, eval_size=4, eval_every=0,
        checkpoint_every=2, device="cpu", seed=3,
    )
    result = train(cfg, out, resume=resume)
    assert not torch.distributed.is_initialized(), "the process group was not destroyed"
    torch.save(built[0].state_dict(), os.path.join(dump, f"weights.rank{rank}.pt"))
    with open(os.path.join(dump, f"result.rank{rank}.json"), "w") as fh:
        json.dump({"step": result.step, "has_eval": result.eval_metrics is not None}, fh)
    """
)


def _torchrun(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(script),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)


def test_torchrun_two_cpu_processes_train_identically_and_resume(tmp_path: Path) -> None:
    script = tmp_path / "run_ddp.py"
    script.write_text(_SCRIPT, encoding="utf-8")
    out, dump = tmp_path / "run", tmp_path / "dump"
    dump.mkdir()

    proc = _torchrun(script, str(out), "4", "0", str(dump))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    # Gradients are averaged, so both ranks end with the same weights.
    w0 = torch.load(dump / "weights.rank0.pt")
    w1 = torch.load(dump / "weights.rank1.pt")
    assert w0.keys() == w1.keys()
    for name in w0:
        assert torch.equal(w0[name], w1[name]), name
    # Rank 0 alone evaluated and wrote the checkpoints (steps 2 and 4) and the metrics.
    assert (dump / "saves.rank0").read_text().split() == ["save", "save"]
    assert not (dump / "saves.rank1").exists()
    r0 = json.loads((dump / "result.rank0.json").read_text())
    r1 = json.loads((dump / "result.rank1.json").read_text())
    assert r0 == {"step": 4, "has_eval": True}
    assert r1 == {"step": 4, "has_eval": False}
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines if json.loads(x)["type"] == "train"] == [
        1,
        2,
        3,
        4,
    ]

    # The checkpoint loads, holds the trained weights and both ranks' slots (4 of the 8 each).
    tensors, meta = load_checkpoint(out)
    assert meta["world_size"] == 2 and meta["step"] == 4 and "1" in meta["rank_rng"]
    assert tensors["slots.inputs"].shape[0] == 4 and tensors["rank1.slots.inputs"].shape[0] == 4
    raw = strip_prefix(tensors, "model")
    assert all(torch.equal(raw[k], w0[k]) for k in raw)
    assert not torch.equal(tensors["slots.inputs"], tensors["rank1.slots.inputs"])
    loaded = load_model(out)
    assert loaded.kind == "sudoku"

    # It resumes under torchrun: two more steps, again identical on both ranks.
    proc = _torchrun(script, str(out), "6", "1", str(dump))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    w0 = torch.load(dump / "weights.rank0.pt")
    w1 = torch.load(dump / "weights.rank1.pt")
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    assert load_checkpoint(out)[1]["step"] == 6
