"""``neurosym compute``: what one solve costs, per method: network FLOPs, wall and CPU time, energy.

Neural, symbolic and hybrid run on the same seeded puzzles, each puzzle alone (a batch of one,
as :func:`neurosym.solve` runs it; the network on one torch thread), after an untimed warm-up.

* **FLOPs** (network only): :class:`torch.utils.flop_counter.FlopCounterMode` counts one
  supervision step of the task (matrix products, convolutions, attention; 2 FLOPs per
  multiply-add; norms, activations and softmax are not counted). A solve costs that times the
  supervision steps every trajectory actually ran (halting included: K trajectories that halt
  at s_1..s_K steps cost ``sum(s_k)`` steps). The peers mixer computes dense attention under a
  mask, so its count is what is executed, not the ~3x27 peers a cell attends to. Symbolic
  search has no FLOPs: its rows carry the solver's effort counters instead.
* **Time**: wall time and process CPU time (:func:`time.process_time`) of the call producing
  the answer and its :func:`tasks.verify.verify` check (the hybrid: the network's run plus the
  repair / fallback). Model loading is excluded.
* **Energy**: the Intel RAPL package counters (``/sys/class/powercap/intel-rapl:N/energy_uj``)
  when readable, which count the whole package, other processes included; else CPU time x a
  stated power per core (``costs.DEFAULT_WATTS_PER_CORE``). Every figure carries its method.

The measuring itself (:class:`~neurosym.study.costs.Meter`, the FLOPs counts) lives in
:mod:`neurosym.study.costs`.

Difficulty: a Sudoku's backtracking guesses (the instrumented solver's decisions, bucketed as
in ``neurosym compare``) and its givens; a maze's construction (perfect or with loops).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosym.study.common import add_subcommand, check_int, guarded_path, write_csv
from neurosym.study.costs import (
    DEFAULT_WATTS_PER_CORE,
    Measure,
    Meter,
    check_watts,
    counted_flops,
    step_flops,
    steps_run,
)
from tasks.errors import ConfigError, NeurosymError

__all__ = [
    "COLUMNS",
    "DEFAULT_SETS",
    "METHODS",
    "SET_HELP",
    "parse_sets",
    "make_sets",
    "run_compute",
    "summarize_compute",
    "format_table",
    "plot_compute",
    "register",
    "add_arguments",
    "main",
]
log = logging.getLogger(__name__)

METHODS = ("neural", "symbolic", "hybrid")
DEFAULT_SETS = ("sudoku9", "maze15", "maze30")
#: Puzzle sets by name; ``mazeN`` is any side N in ``MAZE_SIDES``.
SET_HELP = {
    "sudoku9": "generated minimal unique 9x9 puzzles (neurosym.hard_data), guess-rated",
    "sudoku6": "generated unique 6x6 puzzles with 10-12 givens",
    "mazeN": "generated NxN mazes, half perfect, half with loops (the Maze-Hard construction)",
}
MAZE_SIDES = (5, 60)
#: The per-puzzle CSV's columns (the JSON rows add ``effort`` as a dict).
COLUMNS = (
    "set",
    "puzzle_id",
    "kind",
    "size",
    "givens",
    "guesses",
    "difficulty",
    "method",
    "backend",
    "stage",
    "solved",
    "wall_s",
    "cpu_s",
    "energy_j",
    "energy_method",
    "trajectories",
    "trm_steps",
    "steps_run",
    "step_flops",
    "solve_flops",
    "effort",
)
Progress = Callable[[str, int, int], None]


# ------------------------------------------------------------------ puzzles
def parse_sets(text: str | Sequence[str]) -> list[str]:
    """Set names from ``"sudoku9,maze15"`` (or a sequence), checked (see :data:`SET_HELP`).

    Examples
    --------
    >>> parse_sets("sudoku9, maze30")
    ['sudoku9', 'maze30']
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip() for s in items if s.strip()]
    lo, hi = MAZE_SIDES
    for name in names:
        side = re.fullmatch(r"maze(\d+)", name)
        if name in SET_HELP or (side and lo <= int(side.group(1)) <= hi):
            continue
        raise ConfigError(
            f"unknown puzzle set {name!r}: allowed are sudoku9, sudoku6 and mazeN with N in "
            f"{lo}..{hi} (e.g. maze15)"
        )
    if len(set(names)) != len(names):
        raise ConfigError(f"a puzzle set is named twice in {text!r}")
    return names


def make_sets(
    names: Sequence[str], n: int, seed: int, data: str | os.PathLike[str] | None = None
) -> list[Any]:
    """The named sets (:class:`neurosym.benchmarks.neural.EvalCase`, ``n`` puzzles each) and,
    with ``data``, the first ``n`` Sudoku puzzles of that file or folder (its CSV loader).
    Mazes are labelled ``perfect`` / ``loops``; Sudoku labels come later (guesses)."""
    from neurosym.benchmarks.neural import EvalCase, maze_cases, sudoku_cases
    from neurosym.study.comparison import make_puzzles

    sets = []
    for name in names:
        if name == "sudoku9":
            case = sudoku_cases(n_minimal=n, n_hard=0, n_six=0, seed=seed)[0]
            sets.append(EvalCase(name, case.tasks))
        elif name == "sudoku6":
            case = sudoku_cases(n_minimal=0, n_hard=0, n_six=n, seed=seed)[-1]
            sets.append(EvalCase(name, case.tasks))
        else:
            side = int(name[len("maze") :])
            perfect, loops = maze_cases(sizes=(side,), n=math.ceil(n / 2), seed=seed)
            tasks = perfect.tasks + loops.tasks[: n // 2]
            labels = ["perfect"] * len(perfect.tasks) + ["loops"] * (n // 2)
            sets.append(EvalCase(name, tasks, labels))
    if data is not None:
        puzzles = make_puzzles(data=data, n=n)
        path = Path(data)
        sets.append(EvalCase(path.name if path.is_dir() else path.parent.name, puzzles.tasks))
    return sets


# ------------------------------------------------------------------ the measurement
def _options(
    *,
    sets: Any,
    n: int,
    methods: Any,
    trajectories: int,
    max_steps: Any,
    time_limit_s: float,
    watts: float,
    seed: int,
    data: Any,
    out_dir: Any,
) -> dict[str, Any]:
    """Every argument checked (:class:`ConfigError` naming the allowed range), before work."""
    import solvers
    from neurosym.neural import check_max_steps, sampling
    from neurosym.outputs import check_output_dir

    chosen = tuple(m.strip() for m in methods.split(",")) if isinstance(methods, str) else methods
    if not chosen or any(m not in METHODS for m in chosen):
        raise ConfigError(f"methods must be a non-empty subset of {list(METHODS)}, got {methods!r}")
    names = parse_sets(sets)
    if not names and data is None:
        raise ConfigError("name at least one puzzle set or a --data file")
    if data is not None and not Path(data).exists():
        raise ConfigError(f"--data {os.fspath(data)!r} does not exist")
    k, noise, _ = sampling(trajectories)
    out = check_output_dir(out_dir, "--out")
    if out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"--out {os.fspath(out_dir)!r} is not empty; name a new or empty folder")
    return {
        "sets": names,
        "n": check_int(n, "n", 1, 10_000),
        "methods": tuple(m for m in METHODS if m in chosen),
        "trajectories": k,
        "noise": noise,
        "max_steps": check_max_steps(max_steps),
        "time_limit_s": solvers.check_time_limit(time_limit_s),
        "watts_per_core": check_watts(watts),
        "seed": check_int(seed, "seed", 0),
        "out": out,
    }


def _difficulty(task: Any, label: str | None, time_limit_s: float, seed: int) -> dict[str, Any]:
    """Givens and guesses (the instrumented backtracking solver's decisions) of a Sudoku and
    its guess bucket; a maze keeps ``label``."""
    from neurosym.study.comparison import _symbolic_effort

    if task.kind != "sudoku":
        return {"size": f"{task.height}x{task.width}", "difficulty": label}
    effort, bucket = _symbolic_effort(task, time_limit_s, seed)
    return {
        "size": f"{task.size}x{task.size}",
        "givens": task.n_givens,
        "guesses": None if effort.get("decisions") is None else int(effort["decisions"]),
        "difficulty": bucket,
    }


def _measure_row(measure: Measure) -> dict[str, Any]:
    return {
        "wall_s": measure.wall_s,
        "cpu_s": measure.cpu_s,
        "energy_j": measure.energy_j,
        "energy_method": measure.method,
    }


def _solve_puzzle(
    task: Any, loaded: Any, meter: Meter, opts: dict[str, Any], flops_per_step: int | None
) -> list[dict[str, Any]]:
    """One row per method for ``task`` (neural and hybrid share the network's run)."""
    from neurosym.api import solve
    from neurosym.hybrid import neural_choice, propose, run_hybrid
    from tasks.verify import verify

    rows: list[dict[str, Any]] = []
    methods = opts["methods"]
    if "neural" in methods or "hybrid" in methods:
        token = meter.start()
        [proposal], _, _ = propose([task], loaded, **_knobs(opts))
        chosen = neural_choice(task, proposal)
        solved = verify(task, chosen.answer).ok
        neural = meter.stop(token)
        net = {
            "trajectories": opts["trajectories"],
            "trm_steps": chosen.steps,
            "steps_run": steps_run(proposal),
            "step_flops": flops_per_step,
            "solve_flops": flops_per_step * steps_run(proposal),
        }
        if "neural" in methods:
            rows.append(
                {"method": "neural", "backend": "trm", "solved": solved, **net, "effort": {}}
                | _measure_row(neural)
            )
        if "hybrid" in methods:
            token = meter.start()
            row: dict[str, Any] = {"method": "hybrid", **net}
            try:
                out = run_hybrid(
                    task,
                    proposal,
                    loaded=loaded,
                    time_limit_s=opts["time_limit_s"],
                    seed=opts["seed"],
                )
                row.update(backend=out.backend, stage=out.stage)
                row["effort"] = {
                    k: v for k, v in out.effort.items() if k.startswith(("repair_", "fallback_"))
                }
                answer = out.answer
            except NeurosymError as exc:
                row.update(backend=type(exc).__name__, effort={})
                answer = None
            own = meter.stop(token)
            row["solved"] = answer is not None and verify(task, answer).ok
            rows.append(row | _measure_row(neural + own))
    if "symbolic" in methods:
        token = meter.start()
        row = {"method": "symbolic"}
        try:
            result = solve(
                task,
                "symbolic",
                time_limit_s=opts["time_limit_s"],
                seed=opts["seed"],
                check_unique=False,
            )
            row.update(backend=result.backend, solved=result.verified)
            row["effort"] = {k: v for k, v in result.effort.items() if k != "seconds"}
        except NeurosymError as exc:
            row.update(backend=type(exc).__name__, solved=False, effort={})
        rows.append(row | _measure_row(meter.stop(token)))
    return rows


def _knobs(opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "max_steps": opts["max_steps"],
        "trajectories": opts["trajectories"],
        "noise": opts["noise"] if opts["trajectories"] > 1 else None,
        "seed": opts["seed"],
        "threads": 1,
        "batch_size": 1,
    }


def _flops_check(loaded: Any, task: Any, opts: dict[str, Any], per_step: int) -> dict[str, Any]:
    """FLOPs counted over a whole network run on ``task`` (as the timed runs make it) against
    ``per_step`` x the supervision steps that run's trajectories ran."""
    from neurosym.neural import HALT_THRESHOLD, default_max_steps

    counted, prediction = counted_flops(
        loaded,
        task,
        max_steps=opts["max_steps"] or default_max_steps(loaded, task),
        halt_threshold=HALT_THRESHOLD,
        trajectories=opts["trajectories"],
        noise=opts["noise"],
        seed=opts["seed"],
    )
    formula = per_step * steps_run(prediction)
    return {"counted": counted, "step_flops_x_steps_run": formula, "equal": counted == formula}


def run_compute(
    out_dir: str | Path = "compute-out",
    *,
    sets: str | Sequence[str] = DEFAULT_SETS,
    n: int = 50,
    data: str | os.PathLike[str] | None = None,
    methods: str | Sequence[str] = METHODS,
    trajectories: int = 1,
    max_steps: int | None = None,
    time_limit_s: float = 10.0,
    watts_per_core: float = DEFAULT_WATTS_PER_CORE,
    use_rapl: bool = True,
    seed: int = 2026,
    progress: Progress | None = None,
    echo: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Measure every method on every puzzle of every set; see the module docstring.

    Everything is checked before any work (:class:`ConfigError`); ``out_dir`` must be new or
    empty. Writes ``compute.csv`` (one row per puzzle and method), ``summary.csv`` (per set,
    method and difficulty), ``compute.json`` (both, and how they were measured) and
    ``compute.png``. Returns ``{"meta", "summary", "rows"}``.
    """
    from neurosym.hybrid import propose
    from neurosym.neural import resolve_model

    opts = _options(
        sets=sets,
        n=n,
        methods=methods,
        trajectories=trajectories,
        max_steps=max_steps,
        time_limit_s=time_limit_s,
        watts=watts_per_core,
        seed=seed,
        data=data,
        out_dir=out_dir,
    )
    out = opts["out"]
    files = {k: guarded_path(out, k) for k in ("compute.csv", "summary.csv", "compute.json")}
    png = guarded_path(out, "compute.png")
    out.mkdir(parents=True, exist_ok=True)
    say = echo or log.info
    tick = progress or (lambda stage, done, total: None)
    meter = Meter(opts["watts_per_core"], use_rapl=use_rapl)
    say(f"energy: {meter.description}")
    meta: dict[str, Any] = {
        "energy_method": meter.method,
        "energy_description": meter.description,
        "watts_per_core": opts["watts_per_core"],
        "torch_threads": 1,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "n": opts["n"],
        "data": None if data is None else os.fspath(data),
        "seed": opts["seed"],
        "trajectories": opts["trajectories"],
        "max_steps": opts["max_steps"],
        "time_limit_s": opts["time_limit_s"],
        "methods": list(opts["methods"]),
        "sets": {},
    }
    rows: list[dict[str, Any]] = []
    needs_net = "neural" in opts["methods"] or "hybrid" in opts["methods"]
    for case in make_sets(opts["sets"], opts["n"], opts["seed"], data):
        tick(case.name, 0, len(case.tasks))
        info: dict[str, Any] = {"n": len(case.tasks)}
        loaded, per_step = None, {}
        if needs_net:
            loaded, info["model_load_s"] = resolve_model(case.tasks[0], None)
            info["model"] = _model_name(loaded)
            propose(case.tasks[:1], loaded, **_knobs(opts))  # warm-up, untimed
        if "symbolic" in opts["methods"]:
            _solve_puzzle(case.tasks[0], None, meter, {**opts, "methods": ("symbolic",)}, None)
        for i, task in enumerate(case.tasks):
            label = case.labels[i] if case.labels else None
            base = {"set": case.name, "puzzle_id": f"{case.name}/{i}", "kind": task.kind}
            base |= _difficulty(task, label, opts["time_limit_s"], opts["seed"])
            if loaded is not None and base["size"] not in per_step:
                per_step[base["size"]] = step_flops(loaded, task)
                if "flops_check" not in info:
                    info["flops_check"] = _flops_check(loaded, task, opts, per_step[base["size"]])
            flops = per_step.get(base["size"])
            for row in _solve_puzzle(task, loaded, meter, opts, flops):
                rows.append(dict.fromkeys(COLUMNS) | base | row)
            tick(case.name, i + 1, len(case.tasks))
        info["step_flops"] = per_step
        meta["sets"][case.name] = info
        say(f"{case.name}: {len(case.tasks)} puzzles, step FLOPs {per_step or '-'}")
    summary = summarize_compute(rows)
    write_csv([{**r, "effort": _effort_text(r["effort"])} for r in rows], files["compute.csv"])
    write_csv(
        [{k: v for k, v in s.items() if k != "effort_mean"} for s in summary], files["summary.csv"]
    )
    report = {"meta": meta, "summary": summary, "rows": rows}
    files["compute.json"].write_text(json.dumps(report, indent=1, default=_plain), encoding="utf-8")
    plot_compute(summary, png, energy=meter.description)
    return report


def _model_name(loaded: Any) -> str:
    """The shipped folder name of ``loaded`` (the cached model :func:`resolve_model` picked)."""
    from neurosym.neural import _load_path, default_models

    for name, path in default_models().items():
        if _load_path(path) is loaded:
            return name
    return f"{loaded.config.mixer} mixer ({loaded.kind})"


def _effort_text(effort: dict[str, Any] | None) -> str:
    return ";".join(f"{k}={v:g}" for k, v in (effort or {}).items())


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else str(value)


# ------------------------------------------------------------------ aggregation and output
def _givens_band(givens: int | None) -> str | None:
    if givens is None:
        return None
    lo = givens // 3 * 3
    return f"{lo}-{lo + 2}"


def summarize_compute(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per set, method and group (``by="difficulty"``: ``all`` and each bucket; ``by="givens"``:
    bands of 3 givens, Sudoku only): counts, means per puzzle and costs per **solved** puzzle
    (the group's total over its solved count: failed attempts are paid for too; None when none
    solved), and the mean of every effort counter.

    Examples
    --------
    >>> rows = [dict(set="s", method="neural", difficulty="0", givens=None, solved=ok,
    ...              wall_s=1.0, cpu_s=1.0, energy_j=2.0, energy_method="x", solve_flops=10,
    ...              steps_run=1, effort={}) for ok in (True, False)]
    >>> [s["energy_j_per_solved"] for s in summarize_compute(rows)]
    [4.0, 4.0]
    """
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        keys = [("difficulty", "all"), ("difficulty", str(r["difficulty"]))]
        if r.get("givens") is not None:
            keys.append(("givens", _givens_band(r["givens"])))
        for by, bucket in keys:
            groups.setdefault((r["set"], r["method"], by, bucket), []).append(r)
    summary = []
    for (name, method, by, bucket), members in sorted(groups.items(), key=_order(groups)):
        solved = sum(bool(r["solved"]) for r in members)
        entry: dict[str, Any] = {
            "set": name,
            "method": method,
            "by": by,
            "group": bucket,
            "n": len(members),
            "solved": solved,
            "solve_rate": solved / len(members),
            "energy_method": members[0]["energy_method"],
        }
        for key in ("wall_s", "cpu_s", "energy_j", "solve_flops", "steps_run"):
            values = [r[key] for r in members if r.get(key) is not None]
            entry[f"{key}_mean"] = float(np.mean(values)) if values else None
            if key in ("wall_s", "cpu_s", "energy_j", "solve_flops"):
                entry[f"{key}_per_solved"] = (
                    float(np.sum(values)) / solved if values and solved else None
                )
        entry["wall_s_median"] = float(np.median([r["wall_s"] for r in members]))
        counters: dict[str, list[float]] = {}
        for r in members:
            for k, v in (r.get("effort") or {}).items():
                counters.setdefault(k, []).append(float(v))
        entry["effort_mean"] = {k: float(np.mean(v)) for k, v in counters.items()}
        summary.append(entry)
    return summary


def _order(groups: dict[tuple[str, str, str, str], Any]) -> Callable[[Any], tuple[int, ...]]:
    """Sort key of summary groups: set as first seen, ``by``, ``all`` first then the set's
    buckets in their order (guesses ascending, givens bands ascending), then the method."""
    from neurosym.study.analysis import _key_order

    sets = list(dict.fromkeys(k[0] for k in groups))
    buckets: dict[tuple[str, str], list[str]] = {}
    for name, _, by, bucket in groups:
        if bucket != "all" and bucket not in buckets.setdefault((name, by), []):
            buckets[name, by].append(bucket)
    for (_, by), values in buckets.items():
        if by == "givens":
            values.sort(key=lambda band: int(band.split("-")[0]))
        else:
            values[:] = _key_order(values)

    def key(item: Any) -> tuple[int, ...]:
        name, method, by, bucket = item[0]
        rank = 0 if bucket == "all" else 1 + buckets[name, by].index(bucket)
        return sets.index(name), by != "difficulty", rank, METHODS.index(method)

    return key


def _si(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {prefix}{unit}"
    return f"{value:.3g} {unit}".strip()


def _main_effort(entry: dict[str, Any]) -> str:
    effort = entry["effort_mean"]
    keys = [k for k in ("decisions", "conflicts", "nodes_reached") if k in effort]
    keys += [k for k in effort if k.startswith(("repair_", "fallback_")) and "time" not in k][:2]
    return ", ".join(f"{k} {effort[k]:.3g}" for k in keys) or "-"


def format_table(summary: Sequence[dict[str, Any]], by: str = "difficulty") -> str:
    """The summary rows grouped ``by`` (``"difficulty"`` or ``"givens"``) as a markdown table."""
    label = ", ".join(dict.fromkeys(s["energy_method"] for s in summary)) or "-"
    lines = [
        f"| set | {by} | method | n | solved | wall ms/puzzle (median) | CPU ms/puzzle | "
        f"energy J/solved ({label}) | network FLOPs/solve | steps run | search effort (mean) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in (s for s in summary if s["by"] == by):
        cpu = 1000 * s["cpu_s_mean"]
        energy = s["energy_j_per_solved"]
        steps = "-" if s["steps_run_mean"] is None else f"{s['steps_run_mean']:.1f}"
        lines.append(
            f"| {s['set']} | {s['group']} | {s['method']} | {s['n']} | {s['solved']} | "
            f"{1000 * s['wall_s_mean']:.1f} ({1000 * s['wall_s_median']:.1f}) | {cpu:.1f} | "
            f"{'-' if energy is None else f'{energy:.3g}'} | {_si(s['solve_flops_mean'])} | "
            f"{steps} | {_main_effort(s)} |"
        )
    return "\n".join(lines)


def plot_compute(summary: Sequence[dict[str, Any]], path: str | Path, *, energy: str = "") -> Path:
    """Energy per solved puzzle (log scale) by difficulty, one bar per method, a panel per set."""
    from neurosym.study.plots import mark_no_data, new_figure, save_figure

    entries = [s for s in summary if s["by"] == "difficulty"]
    names = list(dict.fromkeys(s["set"] for s in entries)) or ["(none)"]
    fig = new_figure(max(5.0, 4.2 * len(names)), 4.4)
    for p, name in enumerate(names, start=1):
        ax = fig.add_subplot(1, len(names), p)
        mine = [s for s in entries if s["set"] == name and s["energy_j_per_solved"]]
        if not mine:
            mark_no_data(ax, "nothing solved")
            continue
        groups = list(dict.fromkeys(s["group"] for s in mine))
        methods = [m for m in METHODS if any(s["method"] == m for s in mine)]
        width = 0.8 / len(methods)
        for j, method in enumerate(methods):
            by_group = {s["group"]: s for s in mine if s["method"] == method}
            xs = [g for g in range(len(groups)) if groups[g] in by_group]
            ax.bar(
                [x + (j - (len(methods) - 1) / 2) * width for x in xs],
                [by_group[groups[x]]["energy_j_per_solved"] for x in xs],
                width,
                color=f"C{j}",
                label=method,
            )
        ax.set_xticks(range(len(groups)), [f"{g}\n(n={_n_of(mine, g)})" for g in groups])
        ax.set_yscale("log")
        ax.set(title=name, xlabel="difficulty (Sudoku: backtracking guesses)")
        ax.set_ylabel("energy per solved puzzle (J, log)")
        ax.legend(fontsize=7)
    if energy:
        fig.suptitle(f"Energy per solved puzzle; {energy}", fontsize=9)
    return save_figure(fig, path)


def _n_of(entries: Sequence[dict[str, Any]], group: str) -> int:
    return max(s["n"] for s in entries if s["group"] == group)


# ------------------------------------------------------------------ command line
def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``compute`` (shared by ``neurosym compute`` and bench/compute.py)."""
    p.add_argument(
        "--sets",
        default=",".join(DEFAULT_SETS),
        help="puzzle sets, comma-separated: "
        + "; ".join(f"{k}: {v}" for k, v in SET_HELP.items())
        + f" (N in {MAZE_SIDES[0]}..{MAZE_SIDES[1]}; default {','.join(DEFAULT_SETS)}; '' for "
        "--data alone)",
    )
    p.add_argument("--n", type=int, default=50, help="puzzles per set, 1..10000 (default 50)")
    p.add_argument(
        "--data",
        default=None,
        help="also a Sudoku file (.csv/.txt) or folder holding one, e.g. "
        "../shared/data/sudoku-norvig-hardest (its first --n puzzles)",
    )
    p.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="subset of neural,symbolic,hybrid (default all)",
    )
    p.add_argument(
        "--trajectories", type=int, default=1, help="K noisy trajectories per puzzle (default 1)"
    )
    p.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="supervision steps cap, with halting (default: each shipped model's default depth)",
    )
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per search (default 10)")
    p.add_argument(
        "--watts",
        type=float,
        default=DEFAULT_WATTS_PER_CORE,
        help="watts per busy core for the energy estimate when RAPL is not readable, in "
        f"(0, 1000] (default {DEFAULT_WATTS_PER_CORE:g})",
    )
    p.add_argument(
        "--no-rapl", action="store_true", help="use the CPU-time estimate even where RAPL reads"
    )
    p.add_argument("--seed", type=int, default=2026, help="seed of the puzzles (and the noise)")
    p.add_argument(
        "--out",
        default="compute-out",
        help="new or empty folder for compute.csv, summary.csv, compute.json and compute.png "
        "(default compute-out)",
    )


def main(args: argparse.Namespace) -> int:
    """Run from parsed :func:`add_arguments` options; print the tables."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage) or bars.setdefault(
            stage, tqdm(total=total, desc=stage, unit="puzzle", leave=False)
        )
        bar.update(done - bar.n)
        if done == total:
            bar.close()

    report = run_compute(
        args.out,
        sets=args.sets,
        n=args.n,
        data=args.data,
        methods=args.methods,
        trajectories=args.trajectories,
        max_steps=args.max_steps,
        time_limit_s=args.time_limit,
        watts_per_core=args.watts,
        use_rapl=not args.no_rapl,
        seed=args.seed,
        progress=progress,
        echo=lambda line: print(line, file=sys.stderr),
    )
    meta = report["meta"]
    print(f"energy: {meta['energy_description']}; one torch thread, each puzzle alone\n")
    print(format_table(report["summary"], "difficulty"))
    if any(s["by"] == "givens" for s in report["summary"]):
        print("\nby givens:\n")
        print(format_table(report["summary"], "givens"))
    for name, info in meta["sets"].items():
        check = info.get("flops_check")
        if check:
            print(
                f"{name}: FLOPs counted over a whole solve {check['counted']:,} vs step FLOPs x "
                f"steps run {check['step_flops_x_steps_run']:,}: "
                f"{'equal' if check['equal'] else 'DIFFERENT'}"
            )
    print(f"wrote {Path(args.out) / 'compute.csv'}, summary.csv, compute.json and compute.png")
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``compute`` subcommand to ``subparsers`` (an argparse subparsers action)."""
    return add_subcommand(
        subparsers,
        "compute",
        add_arguments,
        main,
        help="network FLOPs, wall / CPU time and energy per solve, per method",
        description="Run neural, symbolic and hybrid on the same seeded puzzles, each alone, and "
        "print per set, method and difficulty: the network's counted FLOPs per solve (per "
        "step x steps run, halting included), wall and CPU time per puzzle and energy per "
        "solved puzzle (RAPL when readable, else CPU time x --watts per core; the method is "
        "printed); symbolic rows carry the solvers' effort counters. Writes CSVs, JSON and a "
        "plot to --out.",
    )
