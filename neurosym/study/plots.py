"""Figures for ``neurosym compare``: each function writes one PNG and returns its path.

The inputs are the compare table's rows (see :func:`neurosym.study.analysis.summarize`) or small
derived structures. matplotlib is imported inside each function and drives the Agg canvas
directly (no pyplot, no global backend switch, no open-figure bookkeeping), so
``import neurosym.study.plots`` costs nothing and the functions are safe in scripts, tests and
threads.

Every function creates the parent folder, writes at 120 dpi, and draws a "no data" figure
rather than raising when there is nothing to plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosym.study.analysis import (
    Correlation,
    _group_by_method,
    _key_order,
    _missing,
    _num,
    _text,
    accuracy_by,
    spearman_ci,
)
from tasks.errors import InvalidTaskError

__all__ = [
    "METHOD_COLORS",
    "method_color",
    "new_figure",
    "save_figure",
    "mark_no_data",
    "plot_accuracy_by_difficulty",
    "plot_accuracy_vs_depth",
    "plot_accuracy_vs_steps",
    "plot_robustness",
    "plot_steps_vs_effort",
    "plot_time_distributions",
    "plot_trace",
]

DPI = 120

#: A fixed colour per method, so a method looks the same in every figure.
METHOD_COLORS = {
    "neural": "#1f77b4",
    "symbolic": "#2ca02c",
    "hybrid": "#d62728",
    "guided": "#9467bd",
}
_EXTRA_COLORS = ("#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

#: The effort panels of :func:`plot_steps_vs_effort`: (row column, axis label).
EFFORT_COLUMNS = (
    ("decisions", "backtracking decisions"),
    ("cpsat_branches", "CP-SAT branches"),
)


def method_color(method: str, order: Sequence[str]) -> str:
    """The colour of ``method`` in every plot: its own for the three methods, else the next
    spare colour by its place in ``order``."""
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    extras = [m for m in order if m not in METHOD_COLORS]
    i = extras.index(method) if method in extras else len(extras)
    return _EXTRA_COLORS[i % len(_EXTRA_COLORS)]


def new_figure(width: float = 7.0, height: float = 4.5) -> Any:
    """A matplotlib figure on the Agg canvas (no display, no pyplot state).

    >>> new_figure(4, 3).get_size_inches().tolist()
    [4.0, 3.0]
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (its folder made), laid out tight; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=DPI, format="png")
    return out


def mark_no_data(ax: Any, what: str = "no data") -> None:
    """Write ``what`` across an empty axes instead of drawing nothing."""
    ax.text(0.5, 0.5, what, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _methods(rows: list[Mapping[str, Any]], methods: Sequence[str] | None) -> list[str]:
    seen = list(_group_by_method(rows))
    if methods is None:
        return seen
    return list(methods) + [m for m in seen if m not in methods]


# --------------------------------------------------------------------------- accuracy


def plot_accuracy_by_difficulty(
    rows: Iterable[Mapping[str, Any]],
    path: str | Path,
    key: str = "difficulty",
    *,
    methods: Sequence[str] | None = None,
) -> Path:
    """Grouped bars: accuracy per value of ``key`` (x), one bar per method, ``n`` above each bar.

    Parameters
    ----------
    rows : compare rows (``method``, ``correct`` and ``key`` are used).
    path : the PNG to write.
    key : the column to group by (``'difficulty'``, ``'givens'``, ``'size'``...); values are
        ordered as in :func:`neurosym.study.analysis.accuracy_by`.
    methods : the methods to show, in this order (a method without rows keeps its place in the
        legend with no bars); default: the methods in the rows, in first-seen order.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rows = [{"method": "neural", "difficulty": "easy", "correct": True},
    ...         {"method": "symbolic", "difficulty": "easy", "correct": True}]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = plot_accuracy_by_difficulty(rows, pathlib.Path(d) / "acc.png")
    ...     p.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    rows = list(rows)
    table = accuracy_by(rows, key)
    order = _methods(rows, methods)
    values: list[Any] = []
    for per in table.values():
        for v in per:
            if v not in values:
                values.append(v)
    values = _key_order(values)  # one order shared by every method

    fig = new_figure(max(6.0, 1.2 * len(values) + 3.0), 4.5)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(f"Accuracy by {key}")
    ax.set_xlabel(key)
    ax.set_ylabel("accuracy")
    if not values or not order:
        mark_no_data(ax)
        return save_figure(fig, path)
    x = np.arange(len(values), dtype=float)
    width = 0.8 / len(order)
    for i, method in enumerate(order):
        per = table.get(method, {})
        xs = [x[j] + (i - (len(order) - 1) / 2) * width for j, v in enumerate(values) if v in per]
        accs = [per[v][1] for v in values if v in per]
        ns = [per[v][0] for v in values if v in per]
        bars = ax.bar(xs, accs, width=width, label=method, color=method_color(method, order))
        for bar, n in zip(bars, ns, strict=True):
            ax.annotate(
                f"n={n}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(x)
    ax.set_xticklabels(["n/a" if v is None else str(v) for v in values])
    ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_ylim(0, 1.12)
    if len(order) > 1:
        # Explicit patches: a method without rows has no bars to take a colour from.
        from matplotlib.patches import Patch

        handles = [Patch(color=method_color(m, order), label=m) for m in order]
        ax.legend(handles=handles, loc="lower left", fontsize=8)
    return save_figure(fig, path)


# --------------------------------------------------------------------------- time


def plot_time_distributions(
    rows: Iterable[Mapping[str, Any]],
    path: str | Path,
    *,
    methods: Sequence[str] | None = None,
) -> Path:
    """Per-method box plot of ``time_s`` on a log scale, with the individual runs as dots.

    Times of 0 (or below) cannot sit on a log axis; they are drawn at a floor one decade below
    the smallest positive time (the caption says so when it happens). Methods with no times
    keep an empty slot.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rows = [{"method": "symbolic", "time_s": t} for t in (0.001, 0.002, 0.01)]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     plot_time_distributions(rows, pathlib.Path(d) / "t.png").stat().st_size > 1000
    True
    """
    rows = list(rows)
    order = _methods(rows, methods)
    groups = _group_by_method(rows)
    data = {
        m: [t for t in (_num(r, "time_s") for r in groups.get(m, [])) if t is not None]
        for m in order
    }
    positive = [t for ts in data.values() for t in ts if t > 0]
    fig = new_figure(max(5.0, 1.3 * len(order) + 2.5), 4.5)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title("Time per puzzle")
    ax.set_ylabel("time (s, log scale)")
    ax.set_xlabel("method")
    if not positive:
        mark_no_data(ax, "no positive times")
        return save_figure(fig, path)
    floor = min(positive) / 10.0
    clipped = any(t <= 0 for ts in data.values() for t in ts)
    rng = np.random.default_rng(0)
    ax.set_yscale("log")
    for i, method in enumerate(order, start=1):
        ts = np.maximum(np.asarray(data[method], dtype=float), floor)
        if ts.size == 0:
            continue
        ax.boxplot(
            [ts], positions=[i], widths=0.5, showfliers=False, medianprops={"color": "black"}
        )
        jitter = rng.uniform(-0.15, 0.15, size=ts.size)
        ax.scatter(i + jitter, ts, s=8, alpha=0.5, color=method_color(method, order), zorder=3)
    ax.set_xticks(range(1, len(order) + 1))
    ax.set_xticklabels(order)
    ax.set_xlim(0.4, len(order) + 0.6)
    if clipped:
        ax.text(
            0.01,
            0.01,
            f"times <= 0 drawn at {floor:.1e} s",
            transform=ax.transAxes,
            fontsize=7,
            color="0.4",
        )
    return save_figure(fig, path)


# --------------------------------------------------------------------------- steps vs effort


def plot_steps_vs_effort(
    rows: Iterable[Mapping[str, Any]],
    path: str | Path,
    *,
    neural_method: str = "neural",
    include_never: bool = False,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[Path, dict[str, Correlation]]:
    """Does the network need more supervision steps where a solver needs more search?

    One point per puzzle: x = the solver's effort, y = the ``steps_to_correct`` of the
    ``neural_method`` row for that puzzle (jittered vertically, as steps are small integers).
    Two panels, backtracking ``decisions`` and ``cpsat_branches``; each puzzle's effort is the
    first non-missing value of that column among all rows with its ``puzzle_id`` (whichever
    method carries it). Puzzles the network never got right are drawn in grey at
    ``max(steps) + 1``, on a tick labelled "never". The x axis is symlog (linear below 1), as
    zero effort is common.

    Each panel's title carries :func:`neurosym.study.analysis.spearman_ci` between effort and steps.
    By default it uses the puzzles the network solved; with ``include_never=True`` the
    never-correct puzzles enter at rank ``max(steps) + 1`` (censored as "later than any").

    Returns
    -------
    tuple[Path, dict[str, Correlation]]
        The PNG path and ``{'decisions': ..., 'cpsat_branches': ...}``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rows = [{"puzzle_id": str(i), "method": "neural", "steps_to_correct": s}
    ...         for i, s in enumerate([1, 2, 3, None])]
    >>> rows += [{"puzzle_id": str(i), "method": "symbolic", "decisions": d, "cpsat_branches": d}
    ...          for i, d in enumerate([0, 3, 9, 20])]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p, corr = plot_steps_vs_effort(rows, pathlib.Path(d) / "s.png", n_boot=50)
    >>> corr["decisions"].rho, corr["decisions"].n
    (1.0, 3)
    """
    rows = list(rows)
    effort: dict[str, dict[str, float]] = {col: {} for col, _ in EFFORT_COLUMNS}
    steps: dict[str, float | None] = {}
    for row in rows:
        pid = _text(row, "puzzle_id")
        if pid is None:
            continue
        for col, _ in EFFORT_COLUMNS:
            value = _num(row, col)
            if value is not None and pid not in effort[col]:
                effort[col][pid] = value
        if _text(row, "method") == neural_method and pid not in steps:
            steps[pid] = _num(row, "steps_to_correct")

    solved = [s for s in steps.values() if s is not None]
    never_y = (max(solved) if solved else 0.0) + 1.0
    rng = np.random.default_rng(seed)

    fig = new_figure(11.0, 4.5)
    correlations: dict[str, Correlation] = {}
    for k, (col, label) in enumerate(EFFORT_COLUMNS):
        ax = fig.add_subplot(1, len(EFFORT_COLUMNS), k + 1)
        pids = [p for p in steps if p in effort[col]]
        xs = np.array([effort[col][p] for p in pids], dtype=float)
        ys = np.array([never_y if steps[p] is None else steps[p] for p in pids], dtype=float)
        is_never = np.array([steps[p] is None for p in pids], dtype=bool)
        if include_never:
            corr = spearman_ci(list(xs), list(ys), n_boot=n_boot, seed=seed)
        else:
            corr = spearman_ci(list(xs[~is_never]), list(ys[~is_never]), n_boot=n_boot, seed=seed)
        correlations[col] = corr
        scope = "never = last rank" if include_never else "solved only"
        ax.set_title(f"{label}\nSpearman {corr} ({scope})", fontsize=9)
        ax.set_xlabel(f"{label} (symlog)")
        ax.set_ylabel("supervision steps to correct")
        if not pids:
            mark_no_data(ax, f"no puzzle has both {col} and a {neural_method} row")
            continue
        jitter = rng.uniform(-0.15, 0.15, size=len(pids))
        if (~is_never).any():
            ax.scatter(
                xs[~is_never],
                ys[~is_never] + jitter[~is_never],
                s=10,
                alpha=0.6,
                color=method_color(neural_method, [neural_method]),
                label="solved",
            )
        if is_never.any():
            ax.scatter(
                xs[is_never],
                ys[is_never] + jitter[is_never],
                s=10,
                alpha=0.6,
                color="0.55",
                marker="x",
                label="never correct",
            )
            ax.legend(fontsize=8, loc="upper left")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_ylim(0.5, never_y + 0.5)
        top = int(never_y)
        ticks = list(range(1, top + 1)) if top <= 20 else None
        if ticks is not None:
            ax.set_yticks(ticks)
            ax.set_yticklabels(
                [str(t) if t < never_y or not is_never.any() else "never" for t in ticks]
            )
    return save_figure(fig, path), correlations


# --------------------------------------------------------------------------- steps curve


def plot_accuracy_vs_steps(
    curve: Mapping[str, Sequence[tuple[int, float]]],
    path: str | Path,
    *,
    title: str = "Accuracy after k supervision steps",
) -> Path:
    """What more thinking buys: accuracy after ``k`` supervision steps, one line per label.

    Parameters
    ----------
    curve : ``{label: [(k, accuracy), ...]}``; points are sorted by ``k`` before drawing.
    path : the PNG to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = plot_accuracy_vs_steps({"9x9": [(1, 0.2), (2, 0.5), (4, 0.7)]},
    ...                                pathlib.Path(d) / "c.png")
    ...     p.stat().st_size > 1000
    True
    """
    fig = new_figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title)
    ax.set_xlabel("supervision steps k")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("accuracy")
    drawn = 0
    for label, points in curve.items():
        pts = sorted((float(k), float(a)) for k, a in points if not _missing(a))
        if not pts:
            continue
        ks, accs = zip(*pts, strict=True)
        ax.plot(ks, accs, marker="o", markersize=4, label=str(label))
        drawn += 1
    if drawn == 0:
        mark_no_data(ax)
        return save_figure(fig, path)
    ax.set_ylim(-0.02, 1.02)
    if drawn > 1:
        ax.legend(fontsize=8)
    return save_figure(fig, path)


# --------------------------------------------------------------------------- depth curve


def plot_accuracy_vs_depth(
    curves: Mapping[str, Sequence[tuple[int, float]]],
    path: str | Path,
    *,
    trained_depth: int | None = None,
    counts: Mapping[str, int] | None = None,
    title: str = "Accuracy vs test-time depth",
    xlabel: str = "max supervision steps (log scale)",
    legend_title: str = "difficulty",
) -> Path:
    """Accuracy against the cap on supervision steps (log2 axis), one line per label.

    Meant for ``search['accuracy_vs_depth']`` of ``compare``: one line per difficulty bucket,
    ``"all"`` drawn black and thicker. A dotted vertical line marks ``trained_depth`` (the
    ``N_sup`` the model was trained with), so what lies right of it is extra test-time depth.

    Parameters
    ----------
    curves : ``{label: [(depth, accuracy), ...]}``; depths >= 1, sorted before drawing.
    path : the PNG to write.
    trained_depth : the model's trained depth, or None for no marker.
    counts : puzzles per label, shown in the legend as ``label (n=...)``.
    xlabel, legend_title : the same plot serves other log2 axes (accuracy vs K trajectories,
        one line per selection rule).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> curves = {"all": [(1, 0.2), (4, 0.6), (64, 0.8)], ">5": [(1, 0.0), (4, 0.2), (64, 0.5)]}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = plot_accuracy_vs_depth(curves, pathlib.Path(d) / "d.png", trained_depth=4)
    ...     p.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    fig = new_figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    series = {
        str(label): sorted((int(k), float(a)) for k, a in points if not _missing(a) and k >= 1)
        for label, points in curves.items()
    }
    series = {label: pts for label, pts in series.items() if pts}
    if not series:
        mark_no_data(ax)
        return save_figure(fig, path)
    ax.set_xscale("log", base=2)
    ks = sorted({k for pts in series.values() for k, _ in pts})
    order = [label for label in series if label != "all"]
    for label, pts in series.items():
        xs, ys = zip(*pts, strict=True)
        if label == "all":
            style = {"color": "black", "linewidth": 2.2, "zorder": 4}
        else:
            style = {"color": _EXTRA_COLORS[order.index(label) % len(_EXTRA_COLORS)]}
        shown = label if counts is None or label not in counts else f"{label} (n={counts[label]})"
        ax.plot(xs, ys, marker="o", markersize=4, label=shown, **style)
    if trained_depth is not None and trained_depth >= 1:
        ax.axvline(trained_depth, color="0.5", linestyle=":", linewidth=1)
        ax.text(
            trained_depth,
            0.02,
            f" trained N_sup={trained_depth}",
            fontsize=7,
            color="0.4",
            transform=ax.get_xaxis_transform(),
        )
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_ylim(-0.02, 1.02)
    if len(series) > 1:
        ax.legend(fontsize=8, title=legend_title, title_fontsize=8)
    return save_figure(fig, path)


# --------------------------------------------------------------------------- one trace


def plot_trace(
    changes_per_step: Sequence[int],
    halt_probs: Sequence[float] | None,
    correct_step: int | None,
    path: str | Path,
    *,
    title: str = "One puzzle, step by step",
    xlabel: str = "supervision step",
) -> Path:
    """One puzzle's trajectory: cells changed per step (bars), halt probability (line, right
    axis), and a star at the first step whose answer was correct.

    ``xlabel`` names what one step of the x axis is (``neurosym trace --cycles`` plots every
    answer update, T per supervision step).

    Parameters
    ----------
    changes_per_step : cells changed at steps 1..K (e.g. ``FillOrder.changes_per_step``).
    halt_probs : the halting head's probability at each step (None or empty: no line).
    correct_step : the 1-based step that first decoded a correct answer, or None.
    path : the PNG to write.

    Raises
    ------
    InvalidTaskError
        If ``correct_step`` is not between 1 and the number of steps.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = plot_trace([40, 6, 1, 0], [0.1, 0.3, 0.8, 0.97], 3, pathlib.Path(d) / "tr.png")
    ...     p.stat().st_size > 1000
    True
    """
    changes = [int(c) for c in changes_per_step]
    probs = [] if halt_probs is None else [float(p) for p in halt_probs]
    n_steps = max(len(changes), len(probs))
    if correct_step is not None and not 1 <= int(correct_step) <= max(n_steps, 1):
        raise InvalidTaskError(
            f"correct_step must be None or between 1 and {n_steps} (the number of steps), "
            f"got {correct_step!r}"
        )
    fig = new_figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cells changed")
    if n_steps == 0:
        mark_no_data(ax)
        return save_figure(fig, path)
    handles = []
    if changes:
        handles.append(
            ax.bar(range(1, len(changes) + 1), changes, color="#9ecae1", label="cells changed")
        )
    ax2 = ax.twinx()
    ax2.set_ylabel("halt probability")
    ax2.set_ylim(0, 1.05)
    if probs:
        (line,) = ax2.plot(
            range(1, len(probs) + 1), probs, color="#d62728", marker="o", label="halt probability"
        )
        handles.append(line)
    if correct_step is not None:
        k = int(correct_step)
        y = probs[k - 1] if k <= len(probs) and not math.isnan(probs[k - 1]) else 1.0
        star = ax2.scatter(
            [k],
            [y],
            marker="*",
            s=220,
            color="#2ca02c",
            zorder=5,
            label=f"correct at {xlabel.split(' (')[0]} {k}",
        )
        ax.axvline(k, color="#2ca02c", linestyle=":", linewidth=1)
        handles.append(star)
    ax.set_xlim(0.4, n_steps + 0.6)
    if n_steps <= 20:
        ax.set_xticks(range(1, n_steps + 1))
    if correct_step is None:
        ax.text(
            0.99,
            0.97,
            "never correct",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            color="0.4",
        )
    if len(handles) > 1:
        ax.legend(
            handles=handles, labels=[h.get_label() for h in handles], fontsize=8, loc="center right"
        )
    return save_figure(fig, path)


# --------------------------------------------------------------------------- robustness


def plot_robustness(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Accuracy against the number of injected errors, one line per method x givens mode.

    Parameters
    ----------
    rows : dicts with ``method``, ``givens_mode`` (``'hard'`` or ``'soft'``), ``errors``
        (int) and ``accuracy`` (float); rows with a missing ``errors`` or ``accuracy`` are
        skipped. Colour is the method, line style the mode (solid hard, dashed soft).
    path : the PNG to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rows = [{"method": "hybrid", "givens_mode": "soft", "errors": e, "accuracy": a}
    ...         for e, a in [(0, 1.0), (1, 0.9), (2, 0.7)]]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     plot_robustness(rows, pathlib.Path(d) / "r.png").stat().st_size > 1000
    True
    """
    rows = list(rows)
    series: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row in rows:
        errors, acc = _num(row, "errors"), _num(row, "accuracy")
        if errors is None or acc is None:
            continue
        key = (_text(row, "method") or "?", _text(row, "givens_mode") or "")
        series.setdefault(key, []).append((errors, acc))
    fig = new_figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title("Robustness to wrong givens")
    ax.set_xlabel("injected errors in the givens")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("accuracy")
    if not series:
        mark_no_data(ax)
        return save_figure(fig, path)
    order = list(dict.fromkeys(m for m, _ in series))
    styles = {"hard": "-", "soft": "--"}
    for (method, mode), points in series.items():
        pts = sorted(points)
        xs, ys = zip(*pts, strict=True)
        ax.plot(
            xs,
            ys,
            marker="o",
            markersize=4,
            linestyle=styles.get(mode, ":"),
            color=method_color(method, order),
            label=f"{method} ({mode})" if mode else method,
        )
    ax.set_ylim(-0.02, 1.02)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return save_figure(fig, path)
