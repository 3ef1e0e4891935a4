"""``neurosym ablate``: the paper's ablations (TRM_REFERENCE 7.2) one factor at a time around a
CPU-sized base preset, every variant x seed trained for the same compute and scored on the same
fresh seeded evaluation set, every answer checked by :func:`tasks.verify.verify`.

Factors (``--grid``): ``T`` (n_improve_steps, H_cycles), ``n`` (n_latent_steps, L_cycles),
``layers``, ``width`` (hidden_size), ``N_sup`` (max_supervision_steps), ``ema`` (on/off),
``grad`` (``recursion`` = the paper's TRM, backprop through the last n + 1 applications;
``one_step`` = HRM's 1-step gradient; ``all_cycles`` = through all T(n + 1)), ``mixer`` (mlp /
attention) and ``arch`` (trm / hrm; the HRM gets ``layers // 2`` blocks in each of its two
networks, so it has the TRM's parameter count, as the ``sudoku6-hrm-tiny`` preset does).

**Equal compute**, one of:

* ``cpu-minutes M``: each run trains until it has used ``M`` minutes of process CPU time on
  one torch thread (:func:`trm.train.train` with ``clock="cpu"``, as ``neurosym bench
  mixers``), so a cheaper variant takes more optimiser steps. On a shared machine the same
  budget buys fewer steps under load (measured on the 2-core VM: the sudoku6 base took 540-565
  steps in 2 CPU minutes with three jobs on the two cores and scored 77-83%, against 95% on a
  lightly loaded run), so compare runs of one grid, run under one load.
* ``forward-passes N``: each run takes ``N // cost`` optimiser steps, where ``cost`` is the
  block applications one training step runs per slot: ``T * (n + 1) * layers`` for a TRM (all
  T cycles run forward, with or without gradients), twice that for an HRM (its Q-learning
  target is one more supervision step without gradients: the paper's NFP = 2). ``N_sup`` does
  not enter: every optimiser step runs one supervision step for every slot (the slot scheme of
  :mod:`trm.train`), and N_sup only sets how long an example stays in flight. Width, the mixer
  and the backward pass (which ``grad`` changes) are not counted: this budget holds the
  recursion's depth fixed, the CPU budget holds the work fixed. This budget repeats exactly:
  the same grid gives the same steps, scores and weights on any load.

Each run keeps ``OUT/<variant>/<seed>/result.json`` beside its checkpoint; a grid started
again with the same ``--out`` and the same settings reuses the finished runs and restarts the
unfinished ones (their CPU clock is gone). Writes ``ablate.csv`` (one row per run),
``summary.csv``, ``ablate.json`` and ``ablate.png`` into ``--out`` only.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from neurosym.study.ablate_grid import (
    BUDGET_KINDS,
    FACTORS,
    Budget,
    Variant,
    forward_passes_per_step,
    parse_grid,
)
from neurosym.study.ablate_summary import format_summary, grid_title, plot_ablation, summarize
from neurosym.study.common import add_subcommand, guarded_path
from tasks.errors import ConfigError

__all__ = [
    "TASKS",
    "FACTORS",
    "BUDGET_KINDS",
    "Budget",
    "Variant",
    "forward_passes_per_step",
    "parse_grid",
    "summarize",
    "run_ablation",
    "format_summary",
    "plot_ablation",
    "add_arguments",
    "main",
    "register",
]

log = logging.getLogger(__name__)

#: ``--task``: the base preset of each (its data from :data:`neurosym.train_cli.PRESET_DATA`).
TASKS: dict[str, str] = {
    "sudoku6": "sudoku6-tiny",
    "sudoku9": "sudoku9-tiny",
    "maze9": "maze9-tiny",
}
#: The factors, in the order of the output.
_EMA_DECAY = 0.999  # with the EMA warm-up, as bench mixers (early runs are short)
_CSV_FIELDS = (
    "variant",
    "factor",
    "value",
    "seed",
    "budget_kind",
    "budget",
    "budget_used",
    "cpu_s",
    "train_cpu_s",
    "forward_passes",
    "steps",
    "parameters",
    "depth",
    "exact_accuracy",
    "valid_accuracy",
    "exact_accuracy_halt",
    "valid_accuracy_halt",
    "mean_steps_halt",
    "eval_n",
)
Progress = Callable[[int, int, str], Any]


# ------------------------------------------------------------------ runs
def _train_config(
    preset_name: str,
    base_model: Mapping[str, Any],
    data: Mapping[str, Any],
    variant: Variant,
    seed: int,
    steps: int,
    batch_size: int,
) -> Any:
    from trm.train import TrainConfig

    return TrainConfig(
        preset=preset_name,
        model={**base_model, **variant.model},
        data=dict(data),
        steps=steps,
        batch_size=batch_size,
        eval_every=0,
        eval_size=0,
        ema_decay=_EMA_DECAY if variant.ema else None,
        ema_warmup=True,
        seed=seed,
        device="cpu",
        threads=1,
    )


class _StepClock:
    """Process CPU time at the end of the last optimiser step (a train() callback)."""

    def __init__(self) -> None:
        self.last: float | None = None

    def on_step(self, state: Any) -> None:
        self.last = time.process_time()


def _run_training(
    config: Any, run_dir: Path, max_cpu_seconds: float | None, callbacks: Sequence[Any] = ()
) -> Any:
    """One training run (the seam tests replace): with a CPU limit, or to ``config.steps``."""
    from trm.train import train

    if max_cpu_seconds is None:
        return train(config, run_dir, callbacks=callbacks)
    return train(config, run_dir, callbacks=callbacks, max_seconds=max_cpu_seconds, clock="cpu")


def _score(run_dir: Path, eval_set: Any) -> tuple[dict[str, Any], int]:
    """The run's scores on ``eval_set`` (all N_sup steps and with halting), and its parameters."""
    import torch

    from trm.inference import evaluate, load_model
    from trm.model import count_parameters

    loaded = load_model(run_dir)  # the EMA weights where the run kept them
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        scores = evaluate(loaded, eval_set.tasks, eval_set.solutions, codec=eval_set.codec)
    finally:
        torch.set_num_threads(old)
    return scores, count_parameters(loaded.model)


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)  # a killed grid never leaves half a result


def _one_run(
    spec: Mapping[str, Any],
    variant: Variant,
    config: Any,
    seed: int,
    run_dir: Path,
    budget: Budget,
    eval_set: Any,
) -> dict[str, Any]:
    if run_dir.exists():
        shutil.rmtree(run_dir)  # an unfinished run restarts: its CPU clock is gone
    run_dir.mkdir(parents=True)
    model_cfg = config.trm_config()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    seconds = budget.amount * 60 if budget.kind == "cpu-minutes" else None
    clock = _StepClock()
    result = _run_training(config, run_dir, seconds, callbacks=[clock])
    cpu_s = time.process_time() - cpu0
    # The budget is spent by the optimiser steps; the run's build, final checkpoint and
    # training plot come on top (cpu_s counts them too).
    train_cpu_s = (clock.last if clock.last is not None else cpu0 + cpu_s) - cpu0
    wall_s = time.perf_counter() - wall0
    scores, parameters = _score(run_dir, eval_set)
    per_step = forward_passes_per_step(model_cfg)
    record = {
        "variant": variant.name,
        "factor": variant.factor,
        "value": variant.value,
        "seed": seed,
        "budget_kind": budget.kind,
        "budget": budget.amount,
        "budget_used": train_cpu_s / 60 if budget.kind == "cpu-minutes" else result.step * per_step,
        "cpu_s": cpu_s,
        "train_cpu_s": train_cpu_s,
        "wall_s": wall_s,
        "forward_passes": result.step * per_step,
        "steps": result.step,
        "parameters": parameters,
        "depth": model_cfg.effective_depth,
        "exact_accuracy": scores["exact_accuracy_all_steps"],
        "valid_accuracy": scores["valid_accuracy_all_steps"],
        "exact_accuracy_halt": scores["exact_accuracy"],
        "valid_accuracy_halt": scores["valid_accuracy"],
        "mean_steps_halt": scores["mean_steps"],
        "eval_n": scores["n"],
        "grid": spec["id"],
    }
    _write_json(run_dir / "result.json", record)
    return record


def _check_out(out: Path, spec: Mapping[str, Any]) -> bool:
    """Whether ``out`` resumes this grid (False: new or empty); ConfigError for anything else."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a file, not a folder")
    if not out.exists() or not any(out.iterdir()):
        return False
    grid_file = out / "grid.json"
    try:
        saved = json.loads(grid_file.read_text())
    except (OSError, ValueError):
        raise ConfigError(
            f"--out {str(out)!r} is not empty and holds no ablation grid; use a new folder"
        ) from None
    if saved != spec:
        differ = sorted(k for k in set(saved) | set(spec) if saved.get(k) != spec.get(k))
        raise ConfigError(
            f"--out {str(out)!r} holds another grid (differs in {', '.join(differ)}); use a new "
            "folder, or the same settings to resume it"
        )
    return True


def run_ablation(
    out_dir: str | os.PathLike[str],
    *,
    task: str = "sudoku6",
    grid: str | Sequence[str] | None = None,
    seeds: int = 3,
    budget: Budget | None = None,
    batch_size: int = 32,
    n_eval: int = 200,
    eval_seed: int = 2026,
    model: Mapping[str, Any] | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train every variant x seed for the same compute, score all on one evaluation set.

    Parameters
    ----------
    out_dir : the grid's folder: new, empty, or one this grid started (resumed).
    task : a key of :data:`TASKS` (the base preset and its training data).
    grid : see :func:`parse_grid` (default: every factor at its default levels).
    seeds : runs per variant (seeds ``0 .. seeds-1``: model init and data stream).
    budget : default ``Budget("cpu-minutes", 1.0)``.
    batch_size : training slots of every run.
    n_eval, eval_seed : the evaluation set (:func:`trm.data.make_eval_set` on the task's data:
        fresh puzzles from another seed than any training stream), the same for every run.
    model : TRMConfig overrides of the base preset shared by every variant (e.g. a smaller
        ``hidden_size``).
    jobs : runs trained at once, each in its own process on one torch thread (the CPU budget
        is per process, so runs in parallel still get equal compute).
    progress : ``progress(done, total, label)`` once the reused runs are counted, then after
        each run (``label`` names it).

    Returns
    -------
    dict
        ``spec`` (the grid), ``rows`` (one per run, as in ``ablate.csv``) and ``summary`` (one
        per variant, :func:`summarize`).

    Raises
    ------
    ConfigError
        Before any training: an unknown task, factor or value, a variant the model rejects,
        a budget <= 0 (or fewer forward passes than one step of a variant), seeds < 1, or an
        ``out_dir`` that is neither new, empty, nor this grid's.
    """
    from neurosym.train_cli import PRESET_DATA
    from trm.config import preset

    if task not in TASKS:
        raise ConfigError(f"task must be one of {sorted(TASKS)}, got {task!r}")
    budget = Budget("cpu-minutes", 1.0) if budget is None else budget
    if not isinstance(budget, Budget):
        raise ConfigError(f"budget must be a Budget, got {type(budget).__name__}")
    for name, value, low in (
        ("seeds", seeds, 1),
        ("batch_size", batch_size, 1),
        ("n_eval", n_eval, 1),
        ("jobs", jobs, 1),
        ("eval_seed", eval_seed, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be an int >= {low}, got {value!r}")
    preset_name = TASKS[task]
    base_model = dict(model or {})
    base = preset(preset_name, **base_model)
    variants = parse_grid(grid, base)
    data = PRESET_DATA[preset_name]
    configs: dict[tuple[str, int], Any] = {}
    for variant in variants:
        try:
            variant_cfg = preset(preset_name, **{**base_model, **variant.model})
        except ConfigError as exc:
            raise ConfigError(f"variant {variant.name}: {exc}") from None
        steps = 10**7  # the CPU budget ends the run
        if budget.kind == "forward-passes":
            cost = forward_passes_per_step(variant_cfg)
            steps = int(budget.amount) // cost
            if steps < 1:
                raise ConfigError(
                    f"{variant.name}: one training step costs {cost} forward passes, more than "
                    f"the budget of {int(budget.amount)}"
                )
        for seed in range(seeds):
            try:
                configs[variant.name, seed] = _train_config(
                    preset_name, base_model, data, variant, seed, steps, batch_size
                )
            except ConfigError as exc:
                raise ConfigError(f"variant {variant.name}: {exc}") from None
    spec = {
        "task": task,
        "preset": preset_name,
        "model": base_model,
        "variants": [
            {"name": v.name, "factor": v.factor, "value": v.value, "model": v.model, "ema": v.ema}
            for v in variants
        ],
        "seeds": seeds,
        "budget": {"kind": budget.kind, "amount": budget.amount},
        "batch_size": batch_size,
        "n_eval": n_eval,
        "eval_seed": eval_seed,
    }
    spec = {"id": _spec_id(spec), **spec}
    out = Path(out_dir)
    resuming = _check_out(out, spec)
    run_dirs = {key: guarded_path(out, f"{key[0]}/{key[1]}") for key in configs}

    out.mkdir(parents=True, exist_ok=True)
    if not resuming:
        _write_json(out / "grid.json", spec)
    from trm.data import make_eval_set

    records: dict[tuple[str, int], dict[str, Any]] = {}
    for key in configs:
        record = _finished(run_dirs[key] / "result.json", spec["id"])
        if record is not None:
            log.info("%s seed %d: reusing the finished run", key[0], key[1])
            records[key] = record
    todo = [key for key in configs if key not in records]
    total = len(configs)
    if progress is not None:
        progress(len(records), total, f"{len(records)} reused" if records else "training")
    if todo:
        eval_set = make_eval_set(data, n_eval, eval_seed)
        by_name = {v.name: v for v in variants}
        calls = [
            (spec, by_name[key[0]], configs[key], key[1], run_dirs[key], budget, eval_set)
            for key in todo
        ]
        if jobs == 1:
            for key, args in zip(todo, calls, strict=True):
                log.info("%s seed %d: training (%s)", key[0], key[1], budget.describe())
                records[key] = _one_run(*args)
                if progress is not None:
                    progress(len(records), total, f"{key[0]} seed {key[1]}")
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            # spawn: a fresh interpreter per worker, nothing of this process's torch state
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                futures = {
                    pool.submit(_one_run, *args): key for key, args in zip(todo, calls, strict=True)
                }
                for future in as_completed(futures):
                    key = futures[future]
                    records[key] = future.result()
                    if progress is not None:
                        progress(len(records), total, f"{key[0]} seed {key[1]}")
    rows = [records[key] for key in configs]
    summary = summarize(rows)
    write_csv(out / "ablate.csv", rows, _CSV_FIELDS)
    write_csv(out / "summary.csv", summary, tuple(summary[0]) if summary else ())
    _write_json(out / "ablate.json", {"spec": spec, "summary": summary, "rows": rows})
    plot_ablation(summary, rows, out / "ablate.png", title=grid_title(spec, budget))
    return {"spec": spec, "rows": rows, "summary": summary}


def _finished(path: Path, grid_id: str) -> dict[str, Any] | None:
    """The record of a run this grid finished, or None (missing, torn, or another grid's)."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get("grid") == grid_id else None


def _spec_id(spec: Mapping[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


# ------------------------------------------------------------------ command line
def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ablate`` (shared by ``neurosym ablate`` and bench/ablate.py)."""
    p.add_argument(
        "--task",
        default="sudoku6",
        choices=sorted(TASKS),
        help="base preset: " + ", ".join(f"{k} = {v}" for k, v in TASKS.items()),
    )
    p.add_argument(
        "--grid",
        nargs="+",
        default=None,
        metavar="FACTOR[=V1,V2]",
        help=f"factors to vary one at a time ({', '.join(FACTORS)}); a bare name takes its "
        "default levels (default: all)",
    )
    p.add_argument("--seeds", type=int, default=3, help="runs per variant (default 3)")
    p.add_argument(
        "--budget",
        nargs=2,
        default=None,
        metavar=("KIND", "AMOUNT"),
        help="equal compute per run: 'cpu-minutes M' or 'forward-passes N' (default cpu-minutes 1)",
    )
    p.add_argument(
        "--cpu-minutes", type=float, default=None, help="short for --budget cpu-minutes M"
    )
    p.add_argument(
        "--jobs", type=int, default=1, help="runs trained at once, one process each (default 1)"
    )
    p.add_argument("--batch-size", type=int, default=32, help="training slots (default 32)")
    p.add_argument("--n-eval", type=int, default=200, help="evaluation puzzles (default 200)")
    p.add_argument("--eval-seed", type=int, default=2026, help="seed of the evaluation set")
    p.add_argument(
        "--model", default=None, help="JSON overrides of the base preset, shared by all variants"
    )
    p.add_argument(
        "--out",
        default="ablate-out",
        help="folder for every file written (new, empty, or this grid's to resume)",
    )


def _budget_from(args: argparse.Namespace) -> Budget:
    if args.budget is not None and args.cpu_minutes is not None:
        raise ConfigError("give --budget or --cpu-minutes, not both")
    if args.budget is None:
        return Budget("cpu-minutes", 1.0 if args.cpu_minutes is None else args.cpu_minutes)
    kind, amount = args.budget
    try:
        value = float(amount)
    except ValueError:
        raise ConfigError(f"--budget {kind} takes a number, got {amount!r}") from None
    return Budget(kind, int(value) if kind == "forward-passes" and value.is_integer() else value)


def main(args: argparse.Namespace) -> int:
    """Run from parsed :func:`add_arguments` options; a tqdm bar over runs on stderr, the
    summary on stdout."""
    from tqdm import tqdm

    try:
        model = json.loads(args.model) if args.model else None
    except ValueError as exc:
        raise ConfigError(f"--model must be JSON, got {args.model!r}: {exc}") from None
    if model is not None and not isinstance(model, dict):
        raise ConfigError(f"--model must be a JSON object, got {args.model!r}")
    budget = _budget_from(args)
    bar: Any = None

    def progress(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="run", desc="ablate")
        bar.set_postfix_str(label)
        bar.update(done - bar.n)

    try:
        report = run_ablation(
            args.out,
            task=args.task,
            grid=args.grid,
            seeds=args.seeds,
            budget=budget,
            batch_size=args.batch_size,
            n_eval=args.n_eval,
            eval_seed=args.eval_seed,
            model=model,
            jobs=args.jobs,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    print(format_summary(report))
    print(f"wrote {Path(args.out) / 'ablate.csv'}, summary.csv, ablate.json and ablate.png")
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``ablate`` subcommand to ``subparsers`` (an argparse subparsers action)."""
    return add_subcommand(
        subparsers,
        "ablate",
        add_arguments,
        main,
        help="the paper's ablations at equal compute, one factor at a time",
        description="Vary T, n, layers, width, N_sup, EMA, the gradient, the mixer and the "
        "architecture one at a time around a CPU-sized preset; train every variant x seed for "
        "the same CPU time or forward passes; score all on one fresh seeded evaluation set "
        "(verify); write ablate.csv, summary.csv, ablate.json and ablate.png to --out "
        "(resumable).",
    )
