"""The search analyses of ``compare``: accuracy against steps, depth and trajectories, guidance
ratios, Sudoku fill order and maze path growth (split out of :mod:`neurosym.study.comparison`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tasks.errors import NeurosymError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify

__all__ = [
    "accuracy_vs_depth",
    "accuracy_vs_trajectories",
    "search_analyses",
]


def search_analyses(
    tasks: list[SudokuTask | MazeTask],
    rows: list[dict[str, Any]],
    extras: list[dict[str, Any]],
    traces: list[Any],
    loaded: Any,
) -> dict[str, Any]:
    from neurosym.study import analysis

    search: dict[str, Any] = {"accuracy_by_difficulty": analysis.accuracy_by(rows, "difficulty")}
    steps = [e.get("steps_to_correct") for e in extras]
    for key, name in (("decisions", "decisions"), ("cpsat_branches", "cpsat_branches")):
        effort = [e.get(key) for e in extras]
        if any(v is not None for v in effort) and any(v is not None for v in steps):
            corr = analysis.spearman_ci(
                [np.nan if s is None else s for s in steps],
                [np.nan if v is None else v for v in effort],
            )
            search[f"steps_vs_{name}"] = _corr_dict(corr)
    search["never_correct"] = sum(
        1 for e in extras if "trm_steps" in e and e.get("steps_to_correct") is None
    )
    if any(t is not None for t in traces):
        search["accuracy_vs_steps"] = _accuracy_vs_steps(tasks, traces)
    traced = any(t is not None for t in traces)
    depth = max((len(t) for t in traces if t), default=0)
    cycles = _cycle_snapshots(tasks, loaded, depth) if traced else []
    if tasks and isinstance(tasks[0], SudokuTask):
        search["guidance"] = _guidance_table(extras)
        if traced:
            search["fill_order"] = _fill_order(tasks, traces)
            search["fill_order_cycles"] = _fill_order(tasks, cycles)
    elif traced:
        search["maze_growth"] = _maze_growth(tasks, traces, loaded)
        search["maze_growth_cycles"] = _maze_growth(tasks, cycles, loaded)
    return search


def _cycle_snapshots(tasks: list[Any], loaded: Any, max_steps: int) -> list[list[Any]]:
    """Per task, the decoded answer (and tokens) after every answer update, T per step."""
    from types import SimpleNamespace

    from neurosym.study.tracing import cycle_tokens
    from trm.inference import codec_for

    out = []
    seqs = cycle_tokens(loaded, tasks, max_steps=max_steps or None)
    for task, seq in zip(tasks, seqs, strict=True):
        codec = codec_for(loaded, task)
        snaps = []
        for tok in seq:
            if isinstance(task, SudokuTask):
                answer = codec.decode(tok)
            else:
                answer = codec.decode_path(tok, task, strict=True)
            snaps.append(SimpleNamespace(answer=answer, tokens=tok))
        out.append(snaps)
    return out


def _corr_dict(corr: Any) -> dict[str, float]:
    return {
        "rho": float(corr.rho),
        "low": float(corr.low),
        "high": float(corr.high),
        "n": int(corr.n),
        "p_value": float(corr.p_value),
    }


def _accuracy_vs_steps(tasks: list[Any], traces: list[Any]) -> list[tuple[int, float]]:
    """Share of puzzles whose answer after k supervision steps verifies, k = 1..max."""
    depth = max(len(t) for t in traces if t)
    curve = []
    for k in range(1, depth + 1):
        ok = sum(
            1
            for task, trace in zip(tasks, traces, strict=True)
            if trace and verify(task, trace[min(k, len(trace)) - 1].answer).ok
        )
        curve.append((k, ok / len(tasks)))
    return curve


def accuracy_vs_depth(
    tasks: list[Any],
    traces: list[Any],
    difficulties: list[str],
    depths: Sequence[int],
    threshold: float,
    trained_depth: int,
) -> dict[str, Any]:
    """Accuracy against the depth cap k, overall and per difficulty bucket.

    ``traces[i]`` holds task i's answer and halt probability after every step (no halting).
    With halting, the answer at cap k is the one of the first step whose halt probability
    exceeds ``threshold`` (the step :func:`trm.inference.predict` stops at), else of step k;
    ``accuracy_all_steps`` takes step k's answer whatever the halt head said.
    """
    from neurosym.study.analysis import _key_order

    ok_cache: dict[tuple[int, int], bool] = {}

    def ok(i: int, step: int) -> bool:
        if (i, step) not in ok_cache:
            ok_cache[i, step] = verify(tasks[i], traces[i][step - 1].answer).ok
        return ok_cache[i, step]

    per_task = []  # per task: [(halting ok, all-steps ok, steps run)] per depth
    for i, trace in enumerate(traces):
        halts = [s for s, snap in enumerate(trace, start=1) if snap.halt_prob > threshold]
        points = []
        for k in depths:
            last = min(k, len(trace))
            stop = next((s for s in halts if s <= last), last)
            points.append((ok(i, stop), ok(i, last), stop))
        per_task.append(points)
    buckets: dict[str, Any] = {}
    for bucket in ["all", *_key_order(list(difficulties))]:
        members = [i for i, d in enumerate(difficulties) if bucket == "all" or d == bucket]
        if not members:
            continue
        n = len(members)
        buckets[str(bucket)] = {
            "n": n,
            "accuracy": [
                (k, sum(per_task[i][j][0] for i in members) / n) for j, k in enumerate(depths)
            ],
            "accuracy_all_steps": [
                (k, sum(per_task[i][j][1] for i in members) / n) for j, k in enumerate(depths)
            ],
            "mean_steps": [
                (k, sum(per_task[i][j][2] for i in members) / n) for j, k in enumerate(depths)
            ],
        }
    return {
        "halt_threshold": threshold,
        "trained_depth": trained_depth,
        "depths": list(depths),
        "buckets": buckets,
    }


def accuracy_vs_trajectories(
    loaded: Any,
    tasks: list[Any],
    ks: Sequence[int],
    depth: int,
    noise: float,
    seed: int,
) -> dict[str, Any]:
    """Verified accuracy of every selection rule against K, one timed batched run per K."""
    from neurosym.neural import HALT_THRESHOLD, evaluate_trajectories

    # Labels only matter for exact accuracy, which this curve does not report.
    labels = [None] * len(tasks)
    points = []
    for k in ks:
        run = evaluate_trajectories(
            loaded,
            tasks,
            labels,
            max_steps=depth,
            trajectories=k,
            noise=noise if k > 1 else None,  # one trajectory runs noise-free
            halt_threshold=HALT_THRESHOLD,
            seed=seed,
        )
        points.append(
            {
                "k": k,
                "s_per_puzzle": run["wall_s_per_puzzle"],
                "rules": {
                    rule: {"accuracy": r["valid_accuracy"], "mean_steps": r["mean_steps"]}
                    for rule, r in run["rules"].items()
                },
            }
        )
    return {
        "n": len(tasks),
        "depth": depth,
        "noise": noise,
        "halt_threshold": HALT_THRESHOLD,
        "points": points,
    }


def _guidance_table(extras: list[dict[str, Any]]) -> dict[str, Any]:
    """Backtracking decisions without / with the network's guidance, by difficulty.

    Ratios are total unguided decisions over total guided decisions in each group (puzzles
    where any run timed out are left out); ``accurate`` keeps puzzles where the network's
    per-cell accuracy on the blanks is at least 90%. ``oracle`` is the bound for any guide:
    MRV branching that always tries the true digit first.
    """
    from neurosym.study.analysis import GUESS_BUCKETS

    table: dict[str, Any] = {}
    for subset in ("all", "accurate"):
        for bucket in (*GUESS_BUCKETS, "total"):
            group = [
                e
                for e in extras
                if (bucket == "total" or e.get("difficulty") == bucket)
                and (subset == "all" or e.get("cell_accuracy", 0.0) >= 0.9)
                and all(
                    e.get(k) is not None
                    for k in ("decisions", "guided_most_decisions", "guided_mrv_decisions")
                )
            ]
            if not group:
                continue
            plain = sum(e["decisions"] for e in group)
            entry: dict[str, Any] = {"n": len(group), "unguided": plain}
            if all(e.get("oracle_decisions") is not None for e in group):
                oracle = sum(e["oracle_decisions"] for e in group)
                entry["oracle"] = oracle
                entry["ratio_oracle"] = plain / oracle if oracle else None
            for policy in ("most", "mrv"):
                guided = sum(e[f"guided_{policy}_decisions"] for e in group)
                entry[f"guided_{policy}"] = guided
                # 0 / 0 (no search either way) is no evidence: left as None.
                entry[f"ratio_{policy}"] = plain / guided if guided else None
            table[f"{subset}/{bucket}"] = entry
    return table


def _fill_order(tasks: list[Any], traces: list[Any]) -> dict[str, Any]:
    """Does TRM fix cells in the order propagation does, and does it change cells back?

    ``traces[i]`` is task i's sequence of snapshots (anything with ``.answer``): supervision
    steps, or answer updates within them (:func:`_cycle_snapshots`).
    """
    from neurosym.study import analysis
    from solvers.sudoku_backtrack import propagation_order

    rhos, flips, lost, n_traced = [], [], [], 0
    for task, trace in zip(tasks, traces, strict=True):
        if not trace:
            continue
        solution = trace[-1].answer if verify(task, trace[-1].answer).ok else None
        if solution is None:
            continue
        n_traced += 1
        mask = [[bool(v) for v in row] for row in task.grid]
        fo = analysis.fill_order([s.answer for s in trace], solution, mask)
        flips.append(fo.changed_more_than_once)
        lost.append(fo.lost_after_correct)
        try:
            order = propagation_order(task)
        except NeurosymError:
            continue
        corr = analysis.order_correlation(fo.fixed_step, order)
        if np.isfinite(corr.rho):
            rhos.append(float(corr.rho))
    return {
        "puzzles": n_traced,
        "with_correlation": len(rhos),
        "median_rho": float(np.median(rhos)) if rhos else float("nan"),
        "mean_rho": float(np.mean(rhos)) if rhos else float("nan"),
        "mean_cells_changed_more_than_once": float(np.mean(flips)) if flips else float("nan"),
        "mean_cells_lost_after_correct": float(np.mean(lost)) if lost else float("nan"),
    }


def _maze_growth(tasks: list[Any], traces: list[Any], loaded: Any) -> dict[str, Any]:
    """How the marked path evolves over the snapshots (:func:`analysis.maze_growth`)."""
    from neurosym.hybrid import proposal_cells
    from neurosym.study import analysis

    labels: dict[str, int] = {}
    for task, trace in zip(tasks, traces, strict=True):
        if not trace:
            continue
        steps = [proposal_cells(task, s, loaded) for s in trace]
        label = analysis.maze_growth(steps, task.start, task.goals)["label"]
        labels[label] = labels.get(label, 0) + 1
    return {"labels": labels}
