"""The summary of an ablation grid: mean, spread and range per variant, the text table and the
bar chart (:mod:`neurosym.study.ablate` writes them)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurosym.study.ablate_grid import FACTORS, Budget

__all__ = ["format_summary", "grid_title", "plot_ablation", "summarize"]


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


def grid_title(spec: Mapping[str, Any], budget: Budget) -> str:
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
    return "\n".join([grid_title(spec, budget), *table])


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
