"""The files ``compare`` writes: the per-puzzle CSV, depth and trajectory CSVs, the summary JSON
and the plots (split out of :mod:`neurosym.study.comparison`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from neurosym.study.comparison import CompareReport

__all__ = ["COLUMNS", "DEPTH_COLUMNS", "TRAJECTORY_COLUMNS", "json_default", "write_report"]

#: The per-puzzle CSV's columns, in order.
COLUMNS = (
    "puzzle_id",
    "kind",
    "size",
    "givens",
    "difficulty",
    "method",
    "backend",
    "correct",
    "verified",
    "time_s",
    "stage",
    "cells_changed",
    "trm_steps",
    "steps_to_correct",
    "decisions",
    "backtracks",
    "cpsat_branches",
    "cpsat_conflicts",
)
#: ``depth.csv``'s columns: per difficulty bucket (``"all"`` first) and depth cap, the share of
#: puzzles whose answer verifies with halting (what ``solve(max_steps=depth)`` answers) and
#: after exactly ``depth`` steps, and the mean steps run with halting.
DEPTH_COLUMNS = ("difficulty", "depth", "n", "accuracy", "accuracy_all_steps", "mean_steps")
#: ``trajectories.csv``'s columns: per K and selection rule, the share of puzzles whose chosen
#: answer verifies (for ``verify``: any trajectory verifies), the chosen trajectory's mean
#: steps, and the wall time per puzzle of the K-trajectory run (one run serves every rule).
TRAJECTORY_COLUMNS = ("k", "rule", "n", "depth", "noise", "accuracy", "mean_steps", "s_per_puzzle")


def write_report(report: CompareReport, out_dir: Path) -> dict[str, str]:
    """Write ``compare.csv``, ``summary.json`` and the PNG plots; returns their paths by name."""
    from neurosym.study import plots

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    csv_path = out_dir / "compare.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in report.rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    files["csv"] = str(csv_path)
    files["accuracy_by_difficulty"] = str(
        plots.plot_accuracy_by_difficulty(report.rows, out_dir / "accuracy_by_difficulty.png")
    )
    files["time"] = str(plots.plot_time_distributions(report.rows, out_dir / "time.png"))
    if any(r["method"] == "neural" for r in report.rows):
        path, _ = plots.plot_steps_vs_effort(report.rows, out_dir / "steps_vs_effort.png")
        files["steps_vs_effort"] = str(path)
    curve = report.search.get("accuracy_vs_steps")
    if curve:
        files["accuracy_vs_steps"] = str(
            plots.plot_accuracy_vs_steps({"TRM": curve}, out_dir / "accuracy_vs_steps.png")
        )
    by_depth = report.search.get("accuracy_vs_depth")
    if by_depth:
        depth_path = out_dir / "depth.csv"
        with depth_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=DEPTH_COLUMNS)
            writer.writeheader()
            for bucket, entry in by_depth["buckets"].items():
                for (k, acc), (_, acc_all), (_, steps) in zip(
                    entry["accuracy"], entry["accuracy_all_steps"], entry["mean_steps"], strict=True
                ):
                    writer.writerow(
                        {
                            "difficulty": bucket,
                            "depth": k,
                            "n": entry["n"],
                            "accuracy": acc,
                            "accuracy_all_steps": acc_all,
                            "mean_steps": steps,
                        }
                    )
        files["depth_csv"] = str(depth_path)
        files["accuracy_vs_depth"] = str(
            plots.plot_accuracy_vs_depth(
                {b: e["accuracy"] for b, e in by_depth["buckets"].items()},
                out_dir / "accuracy_vs_depth.png",
                trained_depth=by_depth["trained_depth"],
                counts={b: e["n"] for b, e in by_depth["buckets"].items()},
                title=f"Accuracy vs test-time depth (halting at {by_depth['halt_threshold']})",
            )
        )
    by_k = report.search.get("accuracy_vs_trajectories")
    if by_k:
        k_path = out_dir / "trajectories.csv"
        with k_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=TRAJECTORY_COLUMNS)
            writer.writeheader()
            for point in by_k["points"]:
                for rule, r in point["rules"].items():
                    writer.writerow(
                        {
                            "k": point["k"],
                            "rule": rule,
                            "n": by_k["n"],
                            "depth": by_k["depth"],
                            "noise": by_k["noise"],
                            "accuracy": r["accuracy"],
                            "mean_steps": r["mean_steps"],
                            "s_per_puzzle": point["s_per_puzzle"],
                        }
                    )
        files["trajectories_csv"] = str(k_path)
        rules = list(by_k["points"][0]["rules"])
        files["accuracy_vs_trajectories"] = str(
            plots.plot_accuracy_vs_depth(
                {r: [(p["k"], p["rules"][r]["accuracy"]) for p in by_k["points"]] for r in rules},
                out_dir / "accuracy_vs_trajectories.png",
                title=f"Accuracy vs K noisy trajectories (depth {by_k['depth']}, "
                f"noise {by_k['noise']}, n={by_k['n']})",
                xlabel="trajectories K (log scale)",
                legend_title="selection rule",
            )
        )
    summary_path = out_dir / "summary.json"
    payload = {
        "source": report.source,
        "model_load_s": report.model_load_s,
        "summary": report.summary,
        "search": report.search,
        "files": files,
    }
    summary_path.write_text(json.dumps(payload, indent=2, default=json_default) + "\n")
    files["summary"] = str(summary_path)
    return files


def json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return str(value)
