"""``neurosym perturb``: does the TRM's recursion search? Knock its state off course at one
supervision step and see whether, how fast and how it gets back (issue 12, item 7).

Every run takes each task through ``depth`` supervision steps without halting (the loop of
:func:`trm.inference.predict`, one torch thread); a perturbation is applied to the carry after
supervision step ``s`` through ``run_batch``'s ``on_step`` hook, then the recursion goes on:

* ``noise``: Gaussian noise of std ``sigma`` added to the latent z (seeded per task);
* ``reset``: z set back to its initial value ``z_init`` (y kept);
* ``cells``: ``k`` cells of the answer made wrong. The answer y is an embedding here (the
  output head reads it cell by cell), so a cell's y vector is replaced by the y vector of
  another cell of the same puzzle whose current answer is the wrong value: the head then reads
  exactly that value there, and the state stays one the network produces. Sudoku: non-given
  cells get a digit that is neither the solution's nor the current one; maze: a cell of the
  marked path loses its mark (or, with none, a free cell gains one).
* ``cells_yz``: the same, with the cells' latent z vectors taken from the same donors too, so
  the whole state at those cells says the wrong value.
* ``cycles``: a long run read after every answer update (:func:`neurosym.study.tracing.
  cycle_trace`): the share of tasks whose answer reaches a fixed point (unchanged over the last
  quarter of the run), the step where it first settled, and the period of answers that cycle.

Each perturbed run is compared with the unperturbed run of the same tasks: the share still
correct at the end (``verify``), the steps after ``s`` until the answer is correct again, how
far the answer moves, and for ``cells`` whether the perturbed cells are restored and how many
*other* cells change on the way back (0 = a local fix; many = undo and retry), by difficulty
(backtracking guesses for Sudoku, shortest-path length for mazes).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosym.study.common import (
    add_subcommand,
    check_int,
    guarded_path,
    parse_float_list,
    parse_int_list,
    resolve_models,
    write_csv,
)
from neurosym.study.perturb_steps import (
    MAX_CELLS,
    Perturbation,
    References,
    StepRun,
    aggregate,
    answer_cycles,
    run_steps,
    task_codec,
    task_records,
    task_references,
)
from tasks.errors import ConfigError

__all__ = [
    "EXPERIMENTS",
    "Perturbation",
    "References",
    "StepRun",
    "task_references",
    "run_steps",
    "task_records",
    "aggregate",
    "answer_cycles",
    "run_perturb",
    "format_table",
    "plot_perturb",
    "add_arguments",
    "main",
    "register",
]

EXPERIMENTS = ("noise", "reset", "cells", "cells_yz", "cycles")
Echo = Callable[[str], Any]
Progress = Callable[[int, int], Any]


# ------------------------------------------------------------------ the experiment
def _cycles(
    loaded: Any, tasks: list[Any], steps: int, batch_size: int, tick: Callable[[int], Any]
) -> dict[str, Any]:
    from neurosym.study.tracing import cycle_trace
    from tasks.verify import verify
    from trm.rollout import decode_answer

    codec = task_codec(loaded, tasks)
    chunks = []
    for lo in range(0, len(tasks), batch_size):
        chunk = tasks[lo : lo + batch_size]
        chunks.append(cycle_trace(loaded, chunk, batch_size=batch_size, max_steps=steps)[0])
        tick(len(chunk) * steps)
    tokens = np.concatenate(chunks)
    correct = [verify(t, decode_answer(codec, tokens[i, -1], t)).ok for i, t in enumerate(tasks)]
    return answer_cycles(tokens, loaded.config.n_improve_steps, correct)


def _check_out(out_dir: str | os.PathLike[str]) -> Path:
    from neurosym.outputs import check_output_dir

    out = check_output_dir(out_dir, "--out")
    if out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"--out {os.fspath(out_dir)!r} is not empty; name a new or empty folder")
    return out


def _conditions(
    experiments: list[str], at: list[int], sigmas: list[float], cells: list[int]
) -> list[Perturbation]:
    out = []
    for s in at:
        out += [Perturbation("noise", s, sigma=v) for v in sigmas if "noise" in experiments]
        out += [Perturbation("reset", s)] if "reset" in experiments else []
        for kind in ("cells", "cells_yz"):
            out += [Perturbation(kind, s, cells=k) for k in cells if kind in experiments]
    return out


def run_perturb(
    models: str | Sequence[str] = ("sudoku_peers", "maze_conv"),
    out_dir: str | Path = "perturb-out",
    *,
    experiments: str | Sequence[str] = EXPERIMENTS,
    n: int = 100,
    n_maze: int | None = None,
    maze_size: int = 15,
    depth: int = 32,
    at: str | Sequence[int] = (4,),
    sigmas: str | Sequence[float] = (0.3, 1.0, 3.0),
    cells: str | Sequence[int] = (1, 3),
    cycle_n: int = 32,
    cycle_steps: int = 256,
    batch_size: int = 64,
    seed: int = 2026,
    echo: Echo | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Every experiment on every model; everything is checked before any work
    (:class:`ConfigError`), ``out_dir`` included (it must be new or empty).

    Writes ``perturb.csv`` (one row per model, condition and difficulty; ``all`` = every
    task), ``perturb.json`` (the rows, the cycle figures and the per-task records) and
    ``perturb.png`` into ``out_dir``; returns what the JSON holds. ``progress(done, total)``
    counts task-steps.
    """
    from trm.inference import MAX_TEST_STEPS, load_model

    chosen = resolve_models(models)
    items = experiments.split(",") if isinstance(experiments, str) else experiments
    wanted = [e.strip() for e in items if e.strip()]
    if not wanted or any(e not in EXPERIMENTS for e in wanted):
        raise ConfigError(f"experiments take names from {EXPERIMENTS}, got {experiments!r}")
    check_int(n, "n", 1, 100_000)
    n_maze = n if n_maze is None else check_int(n_maze, "n_maze", 1, 100_000)
    check_int(maze_size, "maze_size", 5, 200)
    check_int(depth, "depth", 2, MAX_TEST_STEPS)
    at_list = parse_int_list(at, "at", depth - 1)
    sigma_list = sorted(set(parse_float_list(sigmas, "sigmas", 0.0, 10.0, include_lo=True)))
    cell_list = parse_int_list(cells, "cells", MAX_CELLS)
    check_int(cycle_n, "cycle_n", 1, 100_000)
    check_int(cycle_steps, "cycle_steps", 4, MAX_TEST_STEPS)
    check_int(batch_size, "batch_size", 1, 4096)
    check_int(seed, "seed", 0)
    out = _check_out(out_dir)
    files = {k: guarded_path(out, f"perturb.{k}") for k in ("csv", "json", "png")}
    say = echo or (lambda _msg: None)
    conditions = _conditions(wanted, at_list, sigma_list, cell_list)

    from neurosym.study.halting import _model_tasks

    loaded_models, sets = {}, {}
    for name, path in chosen.items():
        loaded = loaded_models[name] = load_model(path)
        count = n_maze if loaded.kind == "maze" else n
        sets[name] = _model_tasks(loaded, count, maze_size, seed)
    total = sum(
        len(sets[m][0]) * depth * (1 + len(conditions))
        + ("cycles" in wanted) * min(cycle_n, len(sets[m][0])) * cycle_steps
        for m in chosen
    )
    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        if progress is not None:
            progress(done[0], total)

    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    cycles: list[dict[str, Any]] = []
    for name, loaded in loaded_models.items():
        tasks, what = sets[name]
        say(f"{name}: {len(tasks)} tasks ({what}, seed {seed}), {depth} steps")
        refs = task_references(loaded, tasks) if conditions else None
        base = run_steps(loaded, tasks, depth, seed=seed, batch_size=batch_size, progress=tick)
        for pert in conditions:
            run = run_steps(
                loaded,
                tasks,
                depth,
                pert,
                refs=refs,
                seed=seed,
                batch_size=batch_size,
                progress=tick,
            )
            recs = task_records(base, run, pert.step, refs)  # type: ignore[arg-type]
            label = _label(pert)
            head = {
                "model": name,
                "tasks": what,
                "experiment": pert.kind,
                "step": pert.step,
                "sigma": pert.sigma if pert.kind == "noise" else None,
                "cells": pert.cells if pert.kind.startswith("cells") else None,
            }
            records += [{**head, **r} for r in recs]
            groups = {"all": recs}
            for r in recs:
                groups.setdefault(r["difficulty"], []).append(r)
            for group, members in sorted(groups.items(), key=lambda g: (g[0] != "all", g[0])):
                rows.append({**head, "difficulty": group, **aggregate(members)})
            say(f"  {label}: {_line(rows[-len(groups)])}")
        if "cycles" in wanted:
            sub = tasks[:cycle_n]
            stats = _cycles(loaded, sub, cycle_steps, batch_size, tick)
            cycles.append({"model": name, "tasks": what, "steps": cycle_steps, **stats})
            say(
                f"  cycles over {cycle_steps} steps: fixed point {100 * stats['fixed_point']:.0f}%"
                f" (wrong {100 * stats['fixed_wrong']:.0f}%), cycle {100 * stats['cycle']:.0f}%,"
                f" wander {100 * stats['wander']:.0f}%"
            )
    result = {
        "config": {
            "models": list(chosen),
            "experiments": wanted,
            "n": n,
            "n_maze": n_maze,
            "maze_size": maze_size,
            "depth": depth,
            "at": at_list,
            "sigmas": sigma_list,
            "cells": cell_list,
            "cycle_n": cycle_n,
            "cycle_steps": cycle_steps,
            "seed": seed,
        },
        "rows": rows,
        "cycles": cycles,
        "tasks": records,
    }
    write_csv(rows, files["csv"])
    files["json"].write_text(json.dumps(result, indent=1), encoding="utf-8")
    plot_perturb(rows, cycles, files["png"])
    return result


def _label(pert: Perturbation) -> str:
    what = {
        "noise": f"noise sigma {pert.sigma:g}",
        "reset": "reset z",
        "cells": f"{pert.cells} wrong cell(s) in y",
    }.get(pert.kind, f"{pert.cells} wrong cell(s) in y and z")
    return f"{what} after step {pert.step}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _line(r: dict[str, Any]) -> str:
    text = (
        f"final correct {_pct(r['final_correct'])} "
        f"(unperturbed {_pct(r['baseline_final_correct'])})"
        f", recovered {_pct(r['recovered'])} of {r['n_correct_at_step']} right at the step in "
        f"{_num(r['steps_to_recover'])} steps (unperturbed {_num(r['baseline_steps_to_recover'])})"
    )
    if "local_fix" in r:
        text += (
            f", cells restored {_pct(r['restored'])}, other cells changed "
            f"{_num(r['other_changed'])}, local fixes {_pct(r['local_fix'])}"
        )
    return text


def format_table(result: dict[str, Any]) -> str:
    """The ``all`` rows and the cycle figures of :func:`run_perturb`'s result as markdown."""
    lines = [
        "| model | perturbation | final correct (unperturbed) | recovered (of right at s) | "
        "steps to recover (unperturbed) | cells restored | other cells changed "
        "(unperturbed) | local fixes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in (r for r in result["rows"] if r["difficulty"] == "all"):
        pert = Perturbation(r["experiment"], r["step"], r.get("sigma") or 0.0, r.get("cells") or 1)
        lines.append(
            f"| {r['model']} | {_label(pert)} | {_pct(r['final_correct'])} "
            f"({_pct(r['baseline_final_correct'])}) | {_pct(r['recovered'])} "
            f"(n={r['n_correct_at_step']}) | {_num(r['steps_to_recover'])} "
            f"({_num(r['baseline_steps_to_recover'])}) | {_pct(r.get('restored'))} | "
            f"{_num(r.get('other_changed'))} ({_num(r.get('baseline_other_changed'))}) | "
            f"{_pct(r.get('local_fix'))} |"
        )
    if result["cycles"]:
        lines += [
            "",
            "| model | tasks | steps | fixed point (right / wrong) | cycle (lengths) | wander | "
            "median first fixed step |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in result["cycles"]:
            lengths = ", ".join(f"{p}: {k}" for p, k in c["cycle_lengths"].items()) or "-"
            lines.append(
                f"| {c['model']} | {c['n']} | {c['steps']} | {_pct(c['fixed_point'])} "
                f"({_pct(c['fixed_correct'])} / {_pct(c['fixed_wrong'])}) | "
                f"{_pct(c['cycle'])} ({lengths}) | {_pct(c['wander'])} | "
                f"{_num(c['median_first_fixed_step'])} |"
            )
    return "\n".join(lines)


def plot_perturb(
    rows: Sequence[dict[str, Any]], cycles: Sequence[dict[str, Any]], path: str | Path
) -> Path:
    """Three panels at the first perturbation step: final-correct share against the noise std
    (reset and no perturbation as lines), recovered / local-fix shares against the number of
    wrong cells, and the fixed-point / cycle / wander shares of the long runs."""
    from neurosym.study.plots import mark_no_data, new_figure, save_figure

    fig = new_figure(14.0, 4.4)
    ax_noise, ax_cells, ax_cyc = (fig.add_subplot(1, 3, k) for k in (1, 2, 3))
    main_rows = [r for r in rows if r["difficulty"] == "all"]
    first = min((r["step"] for r in main_rows), default=None)
    models = list(dict.fromkeys([r["model"] for r in rows] + [c["model"] for c in cycles]))
    for k, model in enumerate(models):
        mine = [r for r in main_rows if r["model"] == model and r["step"] == first]
        noise = sorted((r for r in mine if r["experiment"] == "noise"), key=lambda r: r["sigma"])
        if noise:
            ax_noise.plot(
                [r["sigma"] for r in noise],
                [100 * r["final_correct"] for r in noise],
                marker="o",
                color=f"C{k}",
                label=f"{model}: noise on z",
            )
        for r in (r for r in mine if r["experiment"] == "reset"):
            ax_noise.axhline(
                100 * r["final_correct"], color=f"C{k}", ls="--", label=f"{model}: reset z"
            )
        if mine:
            ax_noise.axhline(
                100 * mine[0]["baseline_final_correct"],
                color=f"C{k}",
                ls=":",
                label=f"{model}: none",
            )
        for kind, ls in (("cells", "-"), ("cells_yz", "--")):
            cell = sorted((r for r in mine if r["experiment"] == kind), key=lambda r: r["cells"])
            if cell:
                ax_cells.plot(
                    [r["cells"] for r in cell],
                    [100 * (r["recovered"] or 0) for r in cell],
                    marker="o" if kind == "cells" else "s",
                    ls=ls,
                    color=f"C{k}",
                    label=f"{model}: recovered ({'y' if kind == 'cells' else 'y and z'})",
                )
    for ax, title, xlabel in (
        (ax_noise, f"latent perturbation after step {first}", "noise std on z"),
        (ax_cells, f"wrong answer cells after step {first}", "cells made wrong"),
    ):
        marked = [line for line in ax.get_lines() if line.get_marker() not in ("None", "")]
        xs = sorted({float(x) for line in marked for x in line.get_xdata()})
        if xs and xs[0] > 0 and xs[-1] >= 4 * xs[0]:
            ax.set_xscale("log")
            ax.set_xticks(xs, [f"{x:g}" for x in xs])
            ax.minorticks_off()
        if ax.get_legend_handles_labels()[0]:
            ax.set(title=title, xlabel=xlabel, ylabel="% of tasks", ylim=(-2, 102))
            ax.legend(fontsize=7)
        else:
            mark_no_data(ax)
    if cycles:
        parts = (
            ("fixed_correct", "fixed, right"),
            ("fixed_wrong", "fixed, wrong"),
            ("cycle", "cycle"),
            ("wander", "wanders"),
        )
        bottom = np.zeros(len(cycles))
        names = [c["model"] for c in cycles]
        for j, (key, text) in enumerate(parts):
            share = np.array([100 * c[key] for c in cycles])
            ax_cyc.bar(names, share, bottom=bottom, color=f"C{j + 4}", label=text)
            bottom += share
        ax_cyc.set(ylabel="% of tasks", title=f"answers after {cycles[0]['steps']} steps")
        ax_cyc.legend(fontsize=7)
    else:
        mark_no_data(ax_cyc)
    return save_figure(fig, path)


# ------------------------------------------------------------------ command line
#: (flag, type, default, help) of every ``perturb`` option.
_OPTIONS: tuple[tuple[str, Any, Any, str], ...] = (
    ("--models", str, "sudoku_peers,maze_conv",
     "comma-separated shipped model names or checkpoint paths (default sudoku_peers,maze_conv)"),
    ("--experiments", str, ",".join(EXPERIMENTS),
     f"which to run, comma-separated from {','.join(EXPERIMENTS)} (default all)"),
    ("--n", int, 100, "Sudoku tasks per model (default 100)"),
    ("--n-maze", int, None, "mazes per maze model (default --n)"),
    ("--maze-size", int, 15, "side of the perfect mazes of a size-agnostic maze model, 5..200"),
    ("--depth", int, 32, "supervision steps of every perturbation run, >= 2 (default 32)"),
    ("--at", str, "4", "perturb after these supervision steps, each in 1..depth-1 (default 4)"),
    ("--sigmas", str, "0.3,1,3", "noise stds on z, each in [0, 10) (default 0.3,1,3)"),
    ("--cells", str, "1,3", f"answer cells made wrong, each in 1..{MAX_CELLS} (default 1,3)"),
    ("--cycle-n", int, 32, "tasks (the first of the set) of the long cycles run (default 32)"),
    ("--cycle-steps", int, 256, "supervision steps of the cycles run, >= 4 (default 256)"),
    ("--batch-size", int, 64, "tasks per batch (default 64)"),
    ("--seed", int, 2026, "seed of the tasks, the noise and the cells (default 2026)"),
    ("--out", str, "perturb-out", "new or empty folder for perturb.csv/.json/.png"),
)  # fmt: skip


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``perturb`` (shared by ``neurosym perturb`` and bench/perturb.py)."""
    for flag, kind, default, text in _OPTIONS:
        p.add_argument(flag, type=kind, default=default, help=text)


def main(args: argparse.Namespace) -> int:
    """Run from parsed :func:`add_arguments` options with a progress bar on stderr; print the
    table."""
    from tqdm import tqdm

    with tqdm(total=0, unit="task-step", file=sys.stderr, dynamic_ncols=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = run_perturb(
            args.models,
            args.out,
            experiments=args.experiments,
            n=args.n,
            n_maze=args.n_maze,
            maze_size=args.maze_size,
            depth=args.depth,
            at=args.at,
            sigmas=args.sigmas,
            cells=args.cells,
            cycle_n=args.cycle_n,
            cycle_steps=args.cycle_steps,
            batch_size=args.batch_size,
            seed=args.seed,
            echo=bar.write,
            progress=progress,
        )
    print(format_table(result))
    print(f"wrote {Path(args.out) / 'perturb.csv'}, perturb.json and perturb.png")
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``perturb`` subcommand to ``subparsers`` (an argparse subparsers action)."""
    return add_subcommand(
        subparsers,
        "perturb",
        add_arguments,
        main,
        help="perturb the TRM's latent or answer mid-recursion and measure the recovery",
        description="Does the recursion search? At a supervision step, add noise to z, reset "
        "z, or make answer cells wrong, keep recursing, and compare with the unperturbed run: "
        "share still correct, steps to recover, cells restored, other cells changed on the way "
        "back (by difficulty); plus fixed points and cycles of the answer over a long run. "
        "Writes perturb.csv/.json/.png to --out (new or empty).",
    )
