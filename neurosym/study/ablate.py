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
  mixers``), so a cheaper variant takes more optimiser steps.
* ``forward-passes N``: each run takes ``N // cost`` optimiser steps, where ``cost`` is the
  block applications one training step runs per slot: ``T * (n + 1) * layers`` for a TRM (all
  T cycles run forward, with or without gradients), twice that for an HRM (its Q-learning
  target is one more supervision step without gradients: the paper's NFP = 2). ``N_sup`` does
  not enter: every optimiser step runs one supervision step for every slot (the slot scheme of
  :mod:`trm.train`), and N_sup only sets how long an example stays in flight. Width, the mixer
  and the backward pass (which ``grad`` changes) are not counted: this budget holds the
  recursion's depth fixed, the CPU budget holds the work fixed.

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
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurosym.study.compression import add_subcommand, guarded_path
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
FACTORS = ("T", "n", "layers", "width", "N_sup", "ema", "grad", "mixer", "arch")
BUDGET_KINDS = ("cpu-minutes", "forward-passes")
_INT_FIELDS = {
    "T": "n_improve_steps",
    "n": "n_latent_steps",
    "layers": "num_layers",
    "width": "hidden_size",
    "N_sup": "max_supervision_steps",
}
_CHOICES = {
    "ema": ("on", "off"),
    "grad": ("recursion", "one_step", "all_cycles"),
    "mixer": ("mlp", "attention"),
    "arch": ("trm", "hrm"),
}
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


@dataclass(frozen=True, slots=True)
class Budget:
    """Training compute of every run: ``amount`` CPU minutes or forward passes (see module)."""

    kind: str
    amount: float

    def __post_init__(self) -> None:
        if self.kind not in BUDGET_KINDS:
            raise ConfigError(f"budget kind must be one of {list(BUDGET_KINDS)}, got {self.kind!r}")
        amount = self.amount
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ConfigError(f"budget must be a number, got {amount!r}")
        if not (0 < amount < math.inf):
            raise ConfigError(f"budget must be a positive number, got {amount!r}")
        if self.kind == "forward-passes" and amount != int(amount):
            raise ConfigError(f"a forward-pass budget must be a whole number, got {amount!r}")

    def describe(self) -> str:
        """``"1 CPU minute(s) per run"`` or ``"N forward passes per run"``."""
        if self.kind == "cpu-minutes":
            return f"{self.amount:g} CPU minute(s) per run (one torch thread)"
        return f"{int(self.amount):,} forward passes (block applications per slot) per run"


@dataclass(frozen=True, slots=True)
class Variant:
    """One point of the grid: the base, or the base with one factor changed."""

    name: str  # "base", "T=3", "ema=off", ...
    factor: str  # "base" or one of FACTORS
    value: str
    model: dict[str, Any] = field(default_factory=dict)  # TRMConfig overrides over the base
    ema: bool = True


def forward_passes_per_step(config: Any) -> int:
    """Block applications one training step runs per slot: ``T * (n + 1) * layers``, doubled for
    an HRM (its continue target is a second supervision step without gradients).

    Examples
    --------
    >>> from trm.config import preset
    >>> forward_passes_per_step(preset("sudoku6-tiny")), forward_passes_per_step(
    ...     preset("sudoku6-hrm-tiny"))
    (12, 12)
    """
    per_step = config.n_improve_steps * (config.n_latent_steps + 1) * config.num_layers
    return per_step * (2 if config.arch == "hrm" else 1)


# ------------------------------------------------------------------ the grid
def _base_value(factor: str, base: Any, ema: bool) -> str:
    if factor in _INT_FIELDS:
        return str(getattr(base, _INT_FIELDS[factor]))
    if factor == "ema":
        return "on" if ema else "off"
    if factor == "grad":
        return base.gradient or ("one_step" if base.arch == "hrm" else "recursion")
    return str(getattr(base, factor))


def _default_levels(factor: str, base: Any, ema: bool) -> list[str]:
    here = _base_value(factor, base, ema)
    if factor in ("T", "n"):
        value = int(here)
        return [str(v) for v in (value - 1, value + 1) if v >= 1]
    if factor in _INT_FIELDS:
        value = int(here)
        return [str(v) for v in dict.fromkeys((value // 2, value * 2)) if v >= 1 and v != value]
    return [c for c in _CHOICES[factor] if c != here]


def _overrides(factor: str, value: str, base: Any) -> tuple[dict[str, Any], bool | None]:
    """TRMConfig overrides for ``factor=value``, and the EMA switch (None: the base's)."""
    if factor in _INT_FIELDS:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{factor} takes whole numbers >= 1, got {value!r}") from None
        if number < 1:
            raise ConfigError(f"{factor} takes whole numbers >= 1, got {value!r}")
        return {_INT_FIELDS[factor]: number}, None
    if value not in _CHOICES[factor]:
        raise ConfigError(f"{factor} takes one of {list(_CHOICES[factor])}, got {value!r}")
    if factor == "ema":
        return {}, value == "on"
    if factor == "grad":
        if base.arch == "hrm" and value != "one_step":
            raise ConfigError(f"grad={value} needs arch trm; the base is an HRM")
        return {"gradient": value}, None
    if factor == "mixer":
        return {"mixer": value}, None
    if value == "hrm":
        # Two networks of half the blocks: the TRM's parameter count, and HRM's own gradient.
        return {"arch": "hrm", "num_layers": max(1, base.num_layers // 2), "gradient": None}, None
    return {"arch": "trm", "gradient": None}, None


def parse_grid(items: str | Sequence[str] | None, base: Any, *, ema: bool = True) -> list[Variant]:
    """The variants of a grid: the base first, then each factor's levels.

    Parameters
    ----------
    items : ``"T n=1,4 ema"`` (or a list of such items); a bare factor takes its default
        levels (one below and one above the base for T and n; half and double for layers,
        width and N_sup; the other choices for ema, grad, mixer, arch); ``None``: every factor
        at its default levels.
    base : the base :class:`~trm.config.TRMConfig`.

    Raises
    ------
    ConfigError
        On an unknown factor, a malformed or unknown value, a value equal to the base's (the
        base runs anyway) or a factor named twice.

    Examples
    --------
    >>> from trm.config import preset
    >>> [v.name for v in parse_grid("T ema mixer=attention", preset("sudoku6-tiny"))]
    ['base', 'T=1', 'T=3', 'ema=off', 'mixer=attention']
    >>> parse_grid("depth=3", preset("sudoku6-tiny"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: unknown factor 'depth'; known: T, n, layers, ...
    """
    if items is None:
        items = list(FACTORS)
    elif isinstance(items, str):
        items = items.split()
    variants = [Variant("base", "base", "base", {}, ema)]
    seen: set[str] = set()
    for item in items:
        factor, _, values = str(item).partition("=")
        factor = factor.strip()
        if factor not in FACTORS:
            raise ConfigError(f"unknown factor {factor!r}; known: {', '.join(FACTORS)}")
        if factor in seen:
            raise ConfigError(f"factor {factor!r} is named twice")
        seen.add(factor)
        here = _base_value(factor, base, ema)
        if values:
            levels = [v.strip() for v in values.split(",")]
            if any(not v for v in levels) or len(set(levels)) != len(levels):
                raise ConfigError(f"{factor} takes distinct comma-separated values, got {values!r}")
        else:
            levels = _default_levels(factor, base, ema)
        for value in levels:
            overrides, switch = _overrides(factor, value, base)
            if value == here:
                raise ConfigError(f"{factor}={value} is the base's value (the base runs anyway)")
            variants.append(
                Variant(
                    f"{factor}={value}", factor, value, overrides, ema if switch is None else switch
                )
            )
    return variants


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
    _write_csv(out / "ablate.csv", rows, _CSV_FIELDS)
    _write_csv(out / "summary.csv", summary, tuple(summary[0]) if summary else ())
    _write_json(out / "ablate.json", {"spec": spec, "summary": summary, "rows": rows})
    plot_ablation(summary, rows, out / "ablate.png", title=_title(spec, budget))
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


def _write_csv(path: Path, rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


# ------------------------------------------------------------------ summary, table, plot
def _stats(values: Sequence[float]) -> dict[str, float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "min": min(values), "max": max(values)}


def summarize(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per variant (in the rows' order): seeds, and the mean, sample standard
    deviation (n - 1; 0 for one seed), min and max of exact and valid accuracy, plus the mean
    steps, CPU seconds and forward passes, and the valid-accuracy change against the base.

    Examples
    --------
    >>> rows = [{"variant": "base", "factor": "base", "value": "base", "exact_accuracy": a,
    ...          "valid_accuracy": a, "steps": 10, "cpu_s": 1.0, "forward_passes": 120,
    ...          "parameters": 5, "depth": 12} for a in (0.2, 0.4)]
    >>> s = summarize(rows)[0]
    >>> s["seeds"], round(s["valid_mean"], 3), round(s["valid_std"], 4), s["valid_min"]
    (2, 0.3, 0.1414, 0.2)
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["variant"], []).append(row)
    out = []
    for name, members in groups.items():
        entry: dict[str, Any] = {
            "variant": name,
            "factor": members[0]["factor"],
            "value": members[0]["value"],
            "seeds": len(members),
            "parameters": members[0]["parameters"],
            "depth": members[0]["depth"],
        }
        for metric, key in (("exact", "exact_accuracy"), ("valid", "valid_accuracy")):
            for stat, value in _stats([float(m[key]) for m in members]).items():
                entry[f"{metric}_{stat}"] = value
        for key in ("steps", "cpu_s", "forward_passes"):
            entry[f"mean_{key}"] = sum(float(m[key]) for m in members) / len(members)
        out.append(entry)
    base = next((e for e in out if e["variant"] == "base"), None)
    for entry in out:
        entry["valid_vs_base"] = None if base is None else entry["valid_mean"] - base["valid_mean"]
    return out


def _title(spec: Mapping[str, Any], budget: Budget) -> str:
    return (
        f"{spec['task']} ablation around {spec['preset']}: each run {budget.describe()}, "
        f"batch {spec['batch_size']}, {spec['seeds']} seed(s); scored on {spec['n_eval']} fresh "
        f"puzzles (seed {spec['eval_seed']}) after all N_sup steps, checked by verify"
    )


def format_summary(report: Mapping[str, Any]) -> str:
    """The summary as a plain-text table: one row per variant, accuracy as mean +- std
    [min-max] over seeds."""
    spec = report["spec"]
    budget = Budget(spec["budget"]["kind"], spec["budget"]["amount"])
    header = ["variant", "params", "depth", "steps", "CPU s", "exact", "valid", "valid vs base"]
    lines = []
    for s in report["summary"]:
        delta = s["valid_vs_base"]
        lines.append(
            [
                s["variant"],
                f"{s['parameters']:,}",
                str(s["depth"]),
                f"{s['mean_steps']:.0f}",
                f"{s['mean_cpu_s']:.0f}",
                f"{s['exact_mean']:.1%} +- {s['exact_std']:.1%}",
                f"{s['valid_mean']:.1%} +- {s['valid_std']:.1%} "
                f"[{s['valid_min']:.1%}-{s['valid_max']:.1%}]",
                "-" if delta is None or s["variant"] == "base" else f"{100 * delta:+.1f} pts",
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(header)]
    table = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    table += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    return "\n".join([_title(spec, budget), *table])


def plot_ablation(
    summary: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """Valid accuracy per variant (bars: mean, error bars: std, dots: seeds), grouped by
    factor, with the base's mean as a dashed line (matplotlib's Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6.0, 0.7 * len(summary) + 2), 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    order = ["base", *FACTORS]
    factors = [f for f in order if any(s["factor"] == f for s in summary)]
    colors = {f: f"C{i}" for i, f in enumerate(factors)}
    x, ticks, labels = 0.0, [], []
    for factor in factors:
        for s in (s for s in summary if s["factor"] == factor):
            ax.bar(x, s["valid_mean"], yerr=s["valid_std"], color=colors[factor], capsize=3)
            seeds = [float(r["valid_accuracy"]) for r in rows if r["variant"] == s["variant"]]
            ax.scatter([x] * len(seeds), seeds, color="black", s=8, zorder=3)
            ticks.append(x)
            labels.append(s["variant"])
            x += 1.0
        x += 0.6  # a gap between factors
    base = next((s for s in summary if s["variant"] == "base"), None)
    if base is not None:
        ax.axhline(base["valid_mean"], color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(ticks, labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("valid accuracy (verify)")
    ax.set_ylim(0, 1)
    if title:
        ax.set_title(title, fontsize=7, wrap=True)
    fig.tight_layout()
    target = Path(path)
    fig.savefig(target, dpi=120)
    return target


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
