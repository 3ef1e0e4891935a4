"""``neurosym halting``: how stable and how calibrated a TRM's halting head is.

One run per noise level takes every task through ``max(depths)`` supervision steps without
stopping, reading at each step the halt probability and whether the decoded answer verifies
(:func:`tasks.verify.verify`, strict decoding). A depth cap ``d`` is a prefix of that run, so
every cap comes from the same run. Per (noise, depth):

* the **halting step**: the first step whose halt probability exceeds the threshold (0.9,
  ``neurosym.neural.HALT_THRESHOLD``, by default), and its distribution;
* **halted wrong** (it halted on an answer that does not verify), **halted right**, and
  **never halted** within ``d`` steps (split by whether the answer at ``d`` verifies);
* **calibration** of the halt probability as a prediction of "the answer now is correct" (the
  halt head's training target): every (task, step <= d) pair is one prediction; a reliability
  diagram over equal-width bins and the expected calibration error
  ``ECE = sum_b n_b / N * |accuracy_b - mean_prob_b|``.

Noise is Gaussian of std ``noise`` added to z after every latent recursion (the model's own
``latent_noise``), seeded.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosym.study.common import (
    add_common_options,
    add_subcommand,
    check_int,
    guarded_path,
    parse_float_list,
    parse_int_list,
)
from tasks.errors import ConfigError

__all__ = [
    "expected_calibration_error",
    "step_outcomes",
    "halting_stats",
    "run_halting",
    "format_table",
    "plot_halting",
    "register",
    "add_arguments",
    "main",
]

Echo = Callable[[str], Any]


def expected_calibration_error(
    probs: Sequence[float] | np.ndarray, outcomes: Sequence[bool] | np.ndarray, n_bins: int = 10
) -> tuple[float, list[dict[str, Any]]]:
    """ECE of ``probs`` as predictions of the 0/1 ``outcomes``, over ``n_bins`` equal-width
    bins of [0, 1] (a probability of exactly 1 falls in the last bin), and the bins
    (``lo``, ``hi``, ``count``, ``mean_prob``, ``accuracy``; the last two None when empty).

    Examples
    --------
    >>> ece, bins = expected_calibration_error([0.1, 0.1, 0.9, 0.9], [0, 0, 1, 0], n_bins=2)
    >>> round(ece, 3), [b["count"] for b in bins]
    (0.25, [2, 2])
    """
    check_int(n_bins, "n_bins", 1)
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(outcomes, dtype=np.float64).ravel()
    if p.shape != y.shape:
        raise ConfigError(f"{p.size} probabilities but {y.size} outcomes")
    if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
        raise ConfigError("probabilities must lie in [0, 1]")
    index = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        inside = index == b
        count = int(inside.sum())
        mean_prob = float(p[inside].mean()) if count else None
        accuracy = float(y[inside].mean()) if count else None
        if count:
            ece += count / p.size * abs(accuracy - mean_prob)  # type: ignore[operator]
        bins.append(
            {
                "lo": b / n_bins,
                "hi": (b + 1) / n_bins,
                "count": count,
                "mean_prob": mean_prob,
                "accuracy": accuracy,
            }
        )
    return float(ece), bins


def step_outcomes(
    loaded: Any,
    tasks: Sequence[Any],
    max_steps: int,
    *,
    noise: float = 0.0,
    seed: int = 0,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Halt probability and verified answer after every step of a no-halting run.

    Returns ``(halt_prob, correct)``, each ``[len(tasks), max_steps]`` (float64 / bool).
    Runs through :func:`trm.rollout.run_batch`, the loop :func:`trm.inference.predict`
    uses, on one torch thread; ``noise`` > 0 perturbs every task's z (seeded by ``seed``).
    """
    import torch

    from neurosym.neural import torch_threads
    from tasks.verify import verify
    from trm.rollout import (
        check_steps,
        decode_answer,
        encode_tasks,
        geometry_of,
        group_by_codec,
        run_batch,
    )

    net = loaded.model
    steps = check_steps(net, max_steps)
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 10:
        raise ConfigError(f"noise must be a number in [0, 10], got {noise!r}")
    check_int(batch_size, "batch_size", 1)
    n = len(tasks)
    halt_prob = np.zeros((n, steps), dtype=np.float64)
    correct = np.zeros((n, steps), dtype=bool)
    fixed = None if net.config.size_agnostic else loaded.codec
    generator = torch.Generator().manual_seed(seed) if noise > 0 else None
    with torch_threads(1):
        for codec, members in group_by_codec(net, fixed, list(tasks)):
            geometry = geometry_of(codec) if net.config.size_agnostic else None
            inputs_np = encode_tasks(codec, [tasks[i] for i in members])
            for lo in range(0, len(members), batch_size):
                chunk = members[lo : lo + batch_size]
                inputs = torch.from_numpy(inputs_np[lo : lo + batch_size])
                scale = torch.full((len(chunk),), float(noise)) if generator else None
                for step, (rows, tokens, _, probs) in enumerate(
                    run_batch(
                        net,
                        inputs,
                        steps,
                        False,
                        geometry=geometry,
                        vocab=codec.vocab_size,
                        noise=scale,
                        generator=generator,
                    )
                ):
                    tok, p = tokens.cpu().numpy(), probs.cpu().numpy()
                    for j, row in enumerate(rows.tolist()):
                        i = chunk[row]
                        halt_prob[i, step] = p[j]
                        correct[i, step] = verify(
                            tasks[i], decode_answer(codec, tok[j], tasks[i])
                        ).ok
    return halt_prob, correct


def halting_stats(
    halt_prob: np.ndarray, correct: np.ndarray, depth: int, threshold: float, n_bins: int = 10
) -> dict[str, Any]:
    """Halting and calibration figures of a run capped at ``depth`` steps (see the module
    docstring). Rates are fractions of the tasks; ``halt_steps`` lists each halted task's step.

    Examples
    --------
    >>> p = np.array([[0.1, 0.95], [0.2, 0.3], [0.99, 0.99]])
    >>> c = np.array([[False, True], [False, True], [False, False]])
    >>> s = halting_stats(p, c, 2, 0.9)
    >>> s["halted_right"], s["halted_wrong"], s["never_halted"], s["accuracy"]
    (0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.6666666666666666)
    """
    check_int(depth, "depth", 1, halt_prob.shape[1])
    p, c = halt_prob[:, :depth], correct[:, :depth]
    n = p.shape[0]
    over = p > threshold
    halted = over.any(axis=1)
    first = np.where(halted, over.argmax(axis=1), depth - 1)  # 0-based step of the answer
    answer_ok = c[np.arange(n), first]
    ece, bins = expected_calibration_error(p, c, n_bins)
    final_ece, _ = expected_calibration_error(p[np.arange(n), first], answer_ok, n_bins)
    frac = (lambda mask: float(mask.mean())) if n else (lambda mask: 0.0)
    return {
        "depth": depth,
        "n": n,
        "accuracy": frac(answer_ok),
        "halted_right": frac(halted & answer_ok),
        "halted_wrong": frac(halted & ~answer_ok),
        "never_halted": frac(~halted),
        "never_halted_right": frac(~halted & answer_ok),
        "correct_at_some_step": frac(c.any(axis=1)),
        "mean_halt_step": float((first[halted] + 1).mean()) if halted.any() else None,
        "halt_steps": (first[halted] + 1).tolist(),
        "ece": ece,
        "ece_at_answer": final_ece,
        "bins": bins,
    }


def _model_tasks(loaded: Any, n: int, size: int, seed: int) -> tuple[list[Any], str]:
    """``size`` x ``size`` perfect mazes for a maze model (a ``neurosym bench neural`` set),
    :func:`neurosym.study.common.eval_tasks` for a Sudoku model (minimal 9x9 puzzles for a
    size-agnostic 9x9 model)."""
    from neurosym.benchmarks.neural import maze_cases
    from neurosym.study.compression import eval_tasks

    if loaded.kind == "maze" and loaded.config.size_agnostic:
        case = maze_cases(sizes=(size,), n=n, seed=seed)[0]
        return case.tasks, case.name
    return eval_tasks(loaded, n, seed)


def run_halting(
    models: str | Sequence[str] = ("sudoku_peers", "maze_conv"),
    out_dir: str | Path = "halting-out",
    *,
    n: int = 100,
    maze_size: int = 15,
    depths: str | Sequence[int] = (8, 16, 32, 64),
    noises: str | Sequence[float] = (0.0, 0.1, 0.3),
    halt_threshold: float = 0.9,
    n_bins: int = 10,
    batch_size: int = 64,
    seed: int = 2026,
    echo: Echo = print,
) -> list[dict[str, Any]]:
    """Halting figures of each model at every (noise, depth); everything is checked before
    any work (:class:`ConfigError`). Writes ``halting.csv`` (one row per model, noise and
    depth), ``reliability.csv`` (the bins), ``halting.json`` and ``halting_<model>.png`` into
    ``out_dir`` (created). Returns the rows (with their bins and halting steps)."""
    from neurosym.outputs import check_output_dir
    from neurosym.study.compression import resolve_models
    from trm.inference import MAX_TEST_STEPS, check_halt_threshold, load_model

    chosen = resolve_models(models)
    depth_list = parse_int_list(depths, "depths", MAX_TEST_STEPS)
    noise_list = _noise_list(noises)
    threshold = check_halt_threshold(halt_threshold)
    check_int(n, "n", 1)
    check_int(maze_size, "maze_size", 2, 200)
    check_int(n_bins, "n_bins", 1, 1000)
    check_int(batch_size, "batch_size", 1)
    check_int(seed, "seed", 0)
    out = check_output_dir(out_dir, "--out")
    files = {k: guarded_path(out, k) for k in ("halting.csv", "reliability.csv", "halting.json")}
    pngs = {name: guarded_path(out, f"halting_{Path(name).name}.png") for name in chosen}
    out.mkdir(parents=True, exist_ok=True)

    rows: list[dict[str, Any]] = []
    for name, path in chosen.items():
        loaded = load_model(path)
        tasks, what = _model_tasks(loaded, n, maze_size, seed)
        echo(f"{name}: {len(tasks)} tasks ({what}, seed {seed}), halting at {threshold}")
        for noise in noise_list:
            t0 = time.perf_counter()
            probs, correct = step_outcomes(
                loaded, tasks, max(depth_list), noise=noise, seed=seed, batch_size=batch_size
            )
            seconds = time.perf_counter() - t0
            for depth in depth_list:
                stats = halting_stats(probs, correct, depth, threshold, n_bins)
                rows.append({"model": name, "tasks": what, "noise": noise, **stats})
                echo(f"  {_line(rows[-1])}")
            echo(f"  (noise {noise}: {seconds:.0f} s for {max(depth_list)} steps)")
        plot_halting([r for r in rows if r["model"] == name], pngs[name], title=f"{name}: {what}")
    _write(rows, files)
    return rows


def _noise_list(text: str | Sequence[float]) -> list[float]:
    return sorted(set(parse_float_list(text, "noises", 0.0, 10.0, include_lo=True)))


def _line(r: dict[str, Any]) -> str:
    mean = "-" if r["mean_halt_step"] is None else f"{r['mean_halt_step']:.1f}"
    return (
        f"noise {r['noise']:<4g} depth {r['depth']:>4}: acc {100 * r['accuracy']:5.1f}%  "
        f"halted right {100 * r['halted_right']:5.1f}%  wrong {100 * r['halted_wrong']:5.1f}%  "
        f"never {100 * r['never_halted']:5.1f}%  mean halt step {mean:>5}  "
        f"ECE {r['ece']:.3f} (at answer {r['ece_at_answer']:.3f})"
    )


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a markdown table."""
    lines = [
        "| model | noise | depth | n | accuracy | halted right | halted wrong | never halted "
        "(of which right) | mean halt step | ECE (all steps) | ECE (at answer) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mean = "-" if r["mean_halt_step"] is None else f"{r['mean_halt_step']:.2f}"
        lines.append(
            f"| {r['model']} | {r['noise']:g} | {r['depth']} | {r['n']} | "
            f"{100 * r['accuracy']:.1f}% | {100 * r['halted_right']:.1f}% | "
            f"{100 * r['halted_wrong']:.1f}% | {100 * r['never_halted']:.1f}% "
            f"({100 * r['never_halted_right']:.1f}%) | {mean} | {r['ece']:.3f} | "
            f"{r['ece_at_answer']:.3f} |"
        )
    return "\n".join(lines)


def _write(rows: list[dict[str, Any]], files: dict[str, Path]) -> None:
    flat = [{k: v for k, v in r.items() if k not in ("bins", "halt_steps")} for r in rows]
    with open(files["halting.csv"], "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(flat[0]) if flat else ["model"])
        writer.writeheader()
        writer.writerows(flat)
    with open(files["reliability.csv"], "w", newline="", encoding="utf-8") as fh:
        fields = ["model", "noise", "depth", "lo", "hi", "count", "mean_prob", "accuracy"]
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            for b in r["bins"]:
                writer.writerow(
                    {"model": r["model"], "noise": r["noise"], "depth": r["depth"], **b}
                )
    files["halting.json"].write_text(json.dumps(rows, indent=1), encoding="utf-8")


def plot_halting(rows: Sequence[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Three panels for one model: the reliability diagram at the deepest depth (one line per
    noise), the halting-step histogram there, and halted-wrong / never-halted vs depth."""
    from neurosym.study.plots import mark_no_data, new_figure, save_figure

    fig = new_figure(14.0, 4.4)
    ax_rel, ax_hist, ax_depth = (fig.add_subplot(1, 3, k) for k in (1, 2, 3))
    if not rows:
        for ax in (ax_rel, ax_hist, ax_depth):
            mark_no_data(ax)
        return save_figure(fig, path)
    deepest = max(r["depth"] for r in rows)
    noises = list(dict.fromkeys(r["noise"] for r in rows))
    ax_rel.plot([0, 1], [0, 1], color="0.6", ls="--", lw=0.8)
    for k, noise in enumerate(noises):
        r = next(r for r in rows if r["noise"] == noise and r["depth"] == deepest)
        used = [b for b in r["bins"] if b["count"]]
        ax_rel.plot(
            [b["mean_prob"] for b in used],
            [b["accuracy"] for b in used],
            marker="o",
            color=f"C{k}",
            label=f"noise {noise:g} (ECE {r['ece']:.3f})",
        )
        if r["halt_steps"]:
            ax_hist.hist(
                r["halt_steps"],
                bins=np.arange(1, deepest + 2) - 0.5,
                histtype="step",
                color=f"C{k}",
                label=f"noise {noise:g}: {100 * r['never_halted']:.0f}% never",
            )
        series = sorted((x for x in rows if x["noise"] == noise), key=lambda x: x["depth"])
        depths = [x["depth"] for x in series]
        ax_depth.plot(
            depths, [100 * x["halted_wrong"] for x in series], marker="o", color=f"C{k}",
            label=f"halted wrong, noise {noise:g}",
        )  # fmt: skip
        ax_depth.plot(
            depths, [100 * x["never_halted"] for x in series], marker="s", ls=":",
            color=f"C{k}", label=f"never halted, noise {noise:g}",
        )  # fmt: skip
    ax_rel.set(
        xlabel="predicted halt probability (bin mean)",
        ylabel="fraction of answers correct",
        title=f"reliability, every step <= {deepest}",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax_rel.legend(fontsize=7)
    ax_hist.set(xlabel="halting step", ylabel="tasks", title=f"halting steps (cap {deepest})")
    if ax_hist.get_legend_handles_labels()[0]:
        ax_hist.legend(fontsize=7)
    else:
        mark_no_data(ax_hist, "no task halted")
    ax_depth.set_xscale("log", base=2)
    ax_depth.set(xlabel="test-time depth cap", ylabel="% of tasks", title="failures vs depth")
    ax_depth.legend(fontsize=6)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


# ------------------------------------------------------------------ command line
def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``halting`` (shared by ``neurosym halting`` and bench/halting.py)."""
    p.add_argument(
        "--models",
        default="sudoku_peers,maze_conv",
        help="comma-separated shipped model names or checkpoint paths (default "
        "sudoku_peers,maze_conv)",
    )
    p.add_argument("--n", type=int, default=100, help="tasks per model (default 100)")
    p.add_argument(
        "--maze-size",
        type=int,
        default=15,
        help="side of the generated mazes for a size-agnostic maze model (default 15)",
    )
    p.add_argument(
        "--depths", default="8,16,32,64", help="test-time depth caps (default 8,16,32,64)"
    )
    p.add_argument(
        "--noises", default="0,0.1,0.3", help="latent noise stds on z (default 0,0.1,0.3)"
    )
    p.add_argument("--bins", type=int, default=10, help="reliability-diagram bins (default 10)")
    add_common_options(
        p, out="halting-out", writes="halting.csv, reliability.csv, halting.json and the PNGs"
    )


def main(args: argparse.Namespace) -> int:
    """Run from parsed :func:`add_arguments` options; print the table."""
    rows = run_halting(
        args.models,
        args.out,
        n=args.n,
        maze_size=args.maze_size,
        depths=args.depths,
        noises=args.noises,
        halt_threshold=args.halt_threshold,
        n_bins=args.bins,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    print()
    print(format_table(rows))
    print(f"wrote {Path(args.out) / 'halting.csv'}, reliability.csv and the PNGs")
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``halting`` subcommand to ``subparsers`` (an argparse subparsers action)."""
    return add_subcommand(
        subparsers,
        "halting",
        add_arguments,
        main,
        help="halting-head stability and calibration vs test-time depth and noise",
        description="Run each model through every step up to the deepest cap, with latent "
        "noise on z, and print per noise and depth: accuracy with halting, halted right / "
        "wrong, never halted, mean halting step and the ECE of the halt probability; write "
        "CSVs, JSON and a reliability / halting-step / failure plot per model to --out.",
    )
