"""``neurosym bench mixers``: the size-agnostic mixers against the paper's TRM-MLP and TRM-Att
at equal training compute, on this machine.

Each mixer trains the same recursion (the ``sudoku-peers`` or ``maze-conv`` preset with only
``mixer`` changed) on the same seeded data for the same **process CPU time** (one torch thread,
so the budget is the compute a run received even when other jobs share the cores); then every
model's EMA weights run on the same fresh evaluation sets at the trained depth and deeper, and
every answer is checked by :func:`tasks.verify.verify`. The fixed-size mixers (``mlp``,
``attention``) run only on their training canvas; the others also run larger grids.

Finished runs are kept in ``out_dir`` (``result.json`` beside each checkpoint), so a killed
benchmark continues with the mixers it had not finished.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["MIXER_SETUPS", "run_mixer_benchmark"]

Echo = Callable[[str], Any]

#: Per task kind: the preset whose recursion every mixer shares, and the mixers compared.
MIXER_SETUPS: dict[str, dict[str, Any]] = {
    "sudoku": {"preset": "sudoku-peers", "mixers": ("peers", "mlp", "attention")},
    "sudoku6": {"preset": "sudoku6-peers", "mixers": ("peers", "mlp", "attention")},
    "maze": {"preset": "maze-conv", "mixers": ("conv", "mlp", "attention")},
}


def run_mixer_benchmark(
    kind: str,
    out_dir: str | Path,
    *,
    cpu_minutes: float = 10.0,
    mixers: Sequence[str] | None = None,
    data: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    n: int = 100,
    n_hard: int = 50,
    sizes: Sequence[int] = (15, 30),
    depths: Sequence[int] | None = None,
    batch_size: int = 32,
    seed: int = 0,
    eval_seed: int = 2026,
    data_dir: str | Path | None = None,
    echo: Echo | None = None,
) -> dict[str, Any]:
    """Train each mixer for ``cpu_minutes`` of CPU time, then score all on the same sets.

    Parameters
    ----------
    kind : ``"sudoku"`` (9x9), ``"sudoku6"`` (6x6, minimal puzzles; scored on 10-12 givens) or
        ``"maze"`` (15x15 canvas).
    out_dir : run folders (one per mixer) and ``mixers.json``.
    cpu_minutes : training budget of each mixer, in process CPU minutes.
    mixers : a subset of the kind's :data:`MIXER_SETUPS` mixers (default all).
    data : overrides of the preset's data config (e.g. ``{"pool_path": ...}``).
    model : overrides of the preset's model config shared by every mixer (e.g. a smaller
        ``hidden_size``); ``mixer`` is set per run.
    n, n_hard, sizes : evaluation sets (see :func:`neurosym.benchmarks.neural.sudoku_cases`
        and :func:`~neurosym.benchmarks.neural.maze_cases`), generated from ``eval_seed``.
    depths : test-time depth caps (default: the trained N_sup and 4x it).

    Returns
    -------
    dict
        ``kind``, ``cpu_minutes``, ``runs`` (per mixer: parameters, steps, CPU and wall
        seconds) and ``results`` (per mixer, per evaluation set, per depth: valid accuracy,
        or None where a fixed-size mixer cannot run the set).

    Raises
    ------
    ConfigError
        On an unknown kind or mixer, or a budget that is not positive.
    """
    from neurosym.benchmarks.neural import depth_curve, maze_cases, sudoku_cases
    from neurosym.train_cli import PRESET_DATA
    from tasks.errors import ConfigError
    from trm.inference import load_model
    from trm.model import count_parameters
    from trm.train import TrainConfig, train

    if kind not in MIXER_SETUPS:
        raise ConfigError(f"kind must be one of {sorted(MIXER_SETUPS)}, got {kind!r}")
    setup = MIXER_SETUPS[kind]
    mixers = tuple(setup["mixers"] if mixers is None else mixers)
    bad = [m for m in mixers if m not in setup["mixers"]]
    if bad or not mixers:
        raise ConfigError(f"mixers for {kind} must be a subset of {list(setup['mixers'])}")
    if not (isinstance(cpu_minutes, int | float) and 0 < cpu_minutes < float("inf")):
        raise ConfigError(f"cpu_minutes must be a positive number, got {cpu_minutes!r}")
    say = echo or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data_cfg = {**PRESET_DATA[setup["preset"]], **(data or {})}

    runs: dict[str, Any] = {}
    for mixer in mixers:
        run_dir = out / mixer
        done = run_dir / "result.json"
        if done.is_file():
            runs[mixer] = json.loads(done.read_text())
            say(f"{mixer}: reusing the finished run in {run_dir}")
            continue
        if run_dir.exists():
            shutil.rmtree(run_dir)  # an unfinished run restarts: its CPU clock is gone
        cfg = TrainConfig(
            preset=setup["preset"],
            model={**(model or {}), "mixer": mixer},
            data=data_cfg,
            steps=10**7,  # the CPU budget ends the run
            batch_size=batch_size,
            eval_every=0,
            eval_size=0,
            ema_warmup=True,
            seed=seed,
            device="cpu",
            threads=1,
        )
        say(f"{mixer}: training {cpu_minutes:g} CPU minutes ({setup['preset']}, mixer={mixer})")
        result = train(cfg, run_dir, max_seconds=cpu_minutes * 60, clock="cpu")
        record = {
            "mixer": mixer,
            "parameters": count_parameters(load_model(run_dir).model),
            "steps": result.step,
            "cpu_s": cpu_minutes * 60,
            "wall_s": result.wall_s,
        }
        done.write_text(json.dumps(record) + "\n")
        runs[mixer] = record
        say(f"{mixer}: {result.step} steps in {result.wall_s:.0f} s wall")

    if kind == "sudoku":
        say("building the Sudoku evaluation sets")
        cases = sudoku_cases(n_minimal=n, n_hard=n_hard, n_six=0, seed=eval_seed, data_dir=data_dir)
        cases = [c for c in cases if c.tasks]
    elif kind == "sudoku6":
        cases = sudoku_cases(n_minimal=0, n_hard=0, n_six=n, seed=eval_seed)[-1:]
    else:
        cases = maze_cases(sizes=sizes, n=n, seed=eval_seed)
    results: dict[str, Any] = {}
    for mixer in mixers:
        loaded = load_model(out / mixer)
        trained = loaded.config.max_supervision_steps
        caps = sorted(set(depths or (trained, 4 * trained)))
        per_case: dict[str, Any] = {}
        for case in cases:
            fits = loaded.config.size_agnostic or all(
                _fits(loaded.codec, task) for task in case.tasks
            )
            if not fits:
                per_case[case.name] = None
                continue
            curve = depth_curve(loaded, case.tasks, caps)
            per_case[case.name] = {
                str(d): float(curve["valid"][d].mean()) if len(case.tasks) else 0.0 for d in caps
            }
            say(f"{mixer} on {case.name}: {per_case[case.name]}")
        results[mixer] = per_case
    report = {
        "kind": kind,
        "preset": setup["preset"],
        "cpu_minutes": cpu_minutes,
        "batch_size": batch_size,
        "seed": seed,
        "eval_seed": eval_seed,
        "sets": {case.name: len(case.tasks) for case in cases},
        "runs": runs,
        "results": results,
    }
    (out / "mixers.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _fits(codec: Any, task: Any) -> bool:
    """Whether a fixed-size model's codec holds ``task`` (its own grid size)."""
    if hasattr(codec, "box_rows"):
        return (task.box_rows, task.box_cols) == (codec.box_rows, codec.box_cols)
    return (task.height, task.width) == (codec.height, codec.width)


def format_mixer_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table: one row per mixer, one column per set and depth."""
    sets = list(report["sets"])
    header = ["mixer", "params", "steps"]
    columns: list[tuple[str, str]] = []
    for name in sets:
        depths = next((list(r[name]) for r in report["results"].values() if r.get(name)), [])
        columns += [(name, d) for d in depths]
        header += [f"{name} @{d}" for d in depths]
    rows = []
    for mixer, per_case in report["results"].items():
        run = report["runs"][mixer]
        row = [mixer, f"{run['parameters']:,}", str(run["steps"])]
        for name, d in columns:
            value = (per_case.get(name) or {}).get(d)
            row.append("-" if value is None else f"{value:.1%}")
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    title = (
        f"{report['kind']}: each mixer trained {report['cpu_minutes']:g} CPU minutes "
        f"(preset {report['preset']}, batch {report['batch_size']}, seed {report['seed']}); "
        "valid answers (checked by verify) at each depth; '-': cannot run that size"
    )
    return "\n".join([title, *lines])
