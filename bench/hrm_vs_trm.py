"""HRM against TRM on 6x6 Sudoku at equal training compute (issue 12 item 3).

Trains ``sudoku6-tiny`` (TRM) and ``sudoku6-hrm-tiny`` (HRM, the same parameter count) on the
same seeded data for the same **process CPU time** (one torch thread, as ``neurosym bench
mixers`` does), then scores both EMA models on the same fresh sets:

* ``6x6 14-22 givens``: the training distribution (``make_eval_set``, seed ``--eval-seed``),
  exact and valid accuracy with halting and after all N_sup steps (``trm.inference.evaluate``);
* ``6x6 10-12 givens``: harder unique puzzles (``neurosym.benchmarks.neural.sudoku_cases``),
  valid answers checked by ``verify`` at the trained depth and 4x it (``depth_curve``).

Each run is kept in ``OUT/<arch>`` with a ``result.json``; a finished run is reused, so the two
trainings may run in parallel processes (``--only trm`` / ``--only hrm``) and a last call
without ``--only`` scores both::

    nice python bench/hrm_vs_trm.py --out runs/hrm_vs_trm --cpu-minutes 6 --only trm &
    nice python bench/hrm_vs_trm.py --out runs/hrm_vs_trm --cpu-minutes 6 --only hrm &
    wait; nice python bench/hrm_vs_trm.py --out runs/hrm_vs_trm --cpu-minutes 6
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

PRESETS = {"trm": "sudoku6-tiny", "hrm": "sudoku6-hrm-tiny"}


def train_one(arch: str, out: Path, cpu_minutes: float, batch_size: int, seed: int) -> dict:
    from neurosym.train_cli import PRESET_DATA
    from trm.inference import load_model
    from trm.model import count_parameters
    from trm.train import TrainConfig, train

    run_dir = out / arch
    done = run_dir / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    if run_dir.exists():
        shutil.rmtree(run_dir)  # an unfinished run restarts: its CPU clock is gone
    cfg = TrainConfig(
        preset=PRESETS[arch],
        data=PRESET_DATA["sudoku6-tiny"],  # the same data for both
        steps=10**7,  # the CPU budget ends the run
        batch_size=batch_size,
        eval_every=0,
        eval_size=0,
        ema_warmup=True,
        seed=seed,
        device="cpu",
        threads=1,
    )
    print(f"{arch}: training {cpu_minutes:g} CPU minutes ({PRESETS[arch]})", flush=True)
    result = train(cfg, run_dir, max_seconds=cpu_minutes * 60, clock="cpu")
    record = {
        "arch": arch,
        "preset": PRESETS[arch],
        "parameters": count_parameters(load_model(run_dir).model),
        "steps": result.step,
        "cpu_s": cpu_minutes * 60,
        "wall_s": round(result.wall_s, 1),
        "last_train": result.metrics,
    }
    done.write_text(json.dumps(record) + "\n")
    print(f"{arch}: {result.step} steps in {result.wall_s:.0f} s wall", flush=True)
    return record


def score(out: Path, runs: dict[str, Any], n: int, eval_seed: int) -> dict[str, Any]:
    from neurosym.benchmarks.neural import depth_curve, sudoku_cases
    from neurosym.train_cli import PRESET_DATA
    from trm.data import make_eval_set
    from trm.inference import evaluate, load_model

    same = make_eval_set(PRESET_DATA["sudoku6-tiny"], n, eval_seed)
    hard = sudoku_cases(n_minimal=0, n_hard=0, n_six=n, seed=eval_seed)[-1]
    results: dict[str, Any] = {}
    for arch in runs:
        loaded = load_model(out / arch)
        on_same = evaluate(loaded, same.tasks, same.solutions, codec=same.codec)
        trained = loaded.config.max_supervision_steps
        caps = [trained, 4 * trained]
        curve = depth_curve(loaded, hard.tasks, caps)
        results[arch] = {
            "6x6 14-22 givens": {
                k: on_same[k]
                for k in (
                    "exact_accuracy",
                    "valid_accuracy",
                    "cell_accuracy",
                    "mean_steps",
                    "exact_accuracy_all_steps",
                )
            },
            f"{hard.name} valid": {str(d): float(curve["valid"][d].mean()) for d in caps},
        }
        print(arch, json.dumps(results[arch]), flush=True)
    return {"sets": {"6x6 14-22 givens": n, hard.name: len(hard.tasks)}, "results": results}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cpu-minutes", type=float, default=6.0)
    p.add_argument("--only", choices=sorted(PRESETS), default=None)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=500, help="puzzles per evaluation set")
    p.add_argument("--eval-seed", type=int, default=2026)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    archs = [args.only] if args.only else list(PRESETS)
    runs = {a: train_one(a, args.out, args.cpu_minutes, args.batch_size, args.seed) for a in archs}
    if args.only:
        return 0
    report = {
        "cpu_minutes": args.cpu_minutes,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "eval_seed": args.eval_seed,
        "runs": runs,
        **score(args.out, runs, args.n, args.eval_seed),
    }
    (args.out / "hrm_vs_trm.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
