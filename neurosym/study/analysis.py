"""Statistics behind ``neurosym compare``: pure functions over plain rows and traces.

Nothing here runs a model or a solver. The inputs are the compare table's rows (one ``dict`` per
puzzle x method, see :func:`summarize`) and the per-step decodings a Tiny Recursive Model
produced, and the outputs are plain numbers, dicts and small frozen dataclasses, so the same
functions serve the CLI, the plots (:mod:`neurosym.study.plots`) and a notebook.

Rows may come straight from :func:`csv.DictReader`: a missing value may be ``None``, ``''`` or
NaN, numbers may be strings, and ``correct`` may be ``'True'``/``'False'``.

scipy is imported inside the functions that need it, so ``import neurosym.study.analysis``
stays light.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tasks.errors import ConfigError, InvalidTaskError

__all__ = [
    "GUESS_BUCKETS",
    "MAZE_LABELS",
    "Correlation",
    "FillOrder",
    "accuracy_by",
    "fill_order",
    "guess_bucket",
    "maze_growth",
    "order_correlation",
    "spearman_ci",
    "summarize",
]

#: The labels :func:`guess_bucket` returns, from no guessing to a lot.
GUESS_BUCKETS = ("0", "1", "2-5", ">5")

#: The labels :func:`maze_growth` returns.
MAZE_LABELS = (
    "search-like (grows from the ends)",
    "filling-like (removes dead ends)",
    "one-shot (final path at step 1)",
    "mixed",
)

#: Hybrid stages in display order (others seen in the rows follow, in first-seen order).
STAGES = ("neural", "repair", "fallback")

Cell = tuple[int, int]

# Bootstrap resamples are ranked in chunks of at most this many values (memory stays ~50 MB).
_BOOT_CHUNK_VALUES = 2_000_000


# --------------------------------------------------------------------------- correlation


@dataclass(frozen=True)
class Correlation:
    """A Spearman rank correlation with a percentile-bootstrap confidence interval.

    Attributes
    ----------
    rho : Spearman's rho over the ``n`` complete pairs (NaN when undefined: fewer than 3 pairs or
        a constant input).
    low, high : the bootstrap confidence interval (NaN when undefined).
    n : the number of complete pairs used.
    p_value : scipy's two-sided p-value for rho (NaN when undefined).

    Examples
    --------
    >>> print(Correlation(rho=0.4213, low=0.31, high=0.5249, n=200, p_value=1e-9))
    rho=0.42 [0.31, 0.52] (n=200)
    """

    rho: float
    low: float
    high: float
    n: int
    p_value: float

    def __str__(self) -> str:
        return f"rho={self.rho:.2f} [{self.low:.2f}, {self.high:.2f}] (n={self.n})"

    @property
    def defined(self) -> bool:
        """True when rho is a number (enough pairs, neither input constant)."""
        return not math.isnan(self.rho)


def spearman_ci(
    x: Sequence[float | None],
    y: Sequence[float | None],
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Correlation:
    """Spearman's rho between ``x`` and ``y`` with a percentile-bootstrap confidence interval.

    Pairs where either value is missing (None, ``''`` or NaN) are dropped. The point estimate
    and its p-value come from :func:`scipy.stats.spearmanr`; the interval resamples the pairs
    with replacement ``n_boot`` times (a seeded :class:`numpy.random.Generator`), re-ranks each
    resample (ties get average ranks) and takes the central ``confidence`` share of the
    resampled rhos. Resamples in which one side is constant have no rho and are skipped.

    Parameters
    ----------
    x, y : paired values of equal length.
    n_boot : number of bootstrap resamples (at least 1).
    confidence : the interval's coverage, strictly between 0 and 1.
    seed : seed of the resampling; the same inputs and seed give the same interval.

    Returns
    -------
    Correlation
        With rho, low, high and p_value NaN (and no warning) when fewer than 3 complete pairs
        remain or either side is constant.

    Raises
    ------
    InvalidTaskError
        If ``x`` and ``y`` differ in length or hold a value that is not a number.
    ConfigError
        If ``n_boot`` or ``confidence`` is out of range.

    Examples
    --------
    >>> c = spearman_ci([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    >>> round(c.rho, 4), c.n
    (0.8208, 5)
    >>> print(spearman_ci([1, 2, 3, 4], [10, 20, 30, None]))
    rho=1.00 [1.00, 1.00] (n=3)
    >>> spearman_ci([1, 2], [3, 4]).defined
    False
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ConfigError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    if not isinstance(confidence, int | float) or not 0.0 < float(confidence) < 1.0:
        raise ConfigError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    xs, ys = list(x), list(y)
    if len(xs) != len(ys):
        raise InvalidTaskError(
            f"x and y must have the same length, got {len(xs)} and {len(ys)} values"
        )
    xa = np.array([_as_float(v, "x") for v in xs], dtype=float)
    ya = np.array([_as_float(v, "y") for v in ys], dtype=float)
    keep = ~(np.isnan(xa) | np.isnan(ya))
    xa, ya = xa[keep], ya[keep]
    n = int(xa.size)
    nan = float("nan")
    if n < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return Correlation(rho=nan, low=nan, high=nan, n=n, p_value=nan)

    from scipy.stats import spearmanr

    result = spearmanr(xa, ya)
    rho = _snap(float(result.statistic))
    p_value = float(result.pvalue)

    boot = _bootstrap_rhos(xa, ya, n_boot=int(n_boot), seed=seed)
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        low = high = nan
    else:
        tail = (1.0 - float(confidence)) / 2.0 * 100.0
        low, high = (float(v) for v in np.percentile(boot, [tail, 100.0 - tail]))
    return Correlation(rho=rho, low=low, high=high, n=n, p_value=p_value)


def _bootstrap_rhos(xa: np.ndarray, ya: np.ndarray, *, n_boot: int, seed: int) -> np.ndarray:
    """Spearman's rho of ``n_boot`` paired resamples, ranked row-wise (NaN where undefined)."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    n = xa.size
    per_chunk = max(1, _BOOT_CHUNK_VALUES // n)
    out = np.empty(n_boot, dtype=float)
    for start in range(0, n_boot, per_chunk):
        # Row-by-row draws from one stream: the result does not depend on the chunk size.
        rows = rng.integers(0, n, size=(min(per_chunk, n_boot - start), n))
        rx = rankdata(xa[rows], axis=1)
        ry = rankdata(ya[rows], axis=1)
        rx -= rx.mean(axis=1, keepdims=True)
        ry -= ry.mean(axis=1, keepdims=True)
        num = (rx * ry).sum(axis=1)
        den = np.sqrt((rx * rx).sum(axis=1)) * np.sqrt((ry * ry).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        out[start : start + rows.shape[0]] = _snap_array(r)
    return out


def _snap(r: float) -> float:
    """Clip rounding noise: a rho within 1e-12 of +-1 is +-1."""
    if math.isnan(r):
        return r
    if abs(r) > 1.0 - 1e-12:
        return math.copysign(1.0, r)
    return r


def _snap_array(r: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(r) > 1.0 - 1e-12, np.sign(r), r)


# --------------------------------------------------------------------------- row helpers


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == "" or value.strip().lower() in {"none", "nan", "null"}
    if isinstance(value, float | np.floating):
        return math.isnan(float(value))
    return False


def _as_float(value: object, name: str) -> float:
    """A number, or NaN when missing; anything else is an InvalidTaskError naming ``name``."""
    if _missing(value):
        return float("nan")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidTaskError(f"{name} must hold numbers or None, got {value!r}") from None


def _num(row: Mapping[str, Any], key: str) -> float | None:
    """``row[key]`` as a float, None when absent or missing."""
    value = row.get(key)
    if _missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidTaskError(
            f"row column {key!r} must be a number or empty, got {value!r}"
        ) from None


def _flag(row: Mapping[str, Any], key: str) -> bool:
    """``row[key]`` as a bool; missing counts as False, strings like 'True'/'0' are parsed."""
    value = row.get(key)
    if _missing(value):
        return False
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"true", "1", "yes", "y", "t"}:
            return True
        if text in {"false", "0", "no", "n", "f"}:
            return False
        raise InvalidTaskError(f"row column {key!r} must be a boolean, got {value!r}")
    return bool(value)


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    return None if _missing(value) else str(value)


def _method(row: Mapping[str, Any]) -> str:
    method = _text(row, "method")
    if method is None:
        raise InvalidTaskError(f"every row needs a 'method', got a row without one: {dict(row)!r}")
    return method


def _group_by_method(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(_method(row), []).append(row)
    return groups


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _p90(values: list[float]) -> float | None:
    return float(np.percentile(values, 90)) if values else None


# --------------------------------------------------------------------------- tables


def guess_bucket(decisions: float) -> str:
    """The guessing bucket of a backtracking solver's decision count.

    ``'0'``: propagation alone solved it; ``'1'``: one decision (at most 1); ``'2-5'``: more
    than 1 and at most 5; ``'>5'``: more than 5. Fractional counts (means over runs) fall in
    the bucket whose range holds them: 0.5 is ``'1'``, 5.5 is ``'>5'``.

    Raises
    ------
    InvalidTaskError
        If ``decisions`` is missing (None, NaN, ``''``), not a number, or negative.

    Examples
    --------
    >>> [guess_bucket(d) for d in (0, 1, 2, 5, 6, 250.0)]
    ['0', '1', '2-5', '2-5', '>5', '>5']
    >>> GUESS_BUCKETS
    ('0', '1', '2-5', '>5')
    """
    if isinstance(decisions, bool) or _missing(decisions):
        raise InvalidTaskError(f"decisions must be a number >= 0, got {decisions!r}")
    try:
        d = float(decisions)
    except (TypeError, ValueError):
        raise InvalidTaskError(f"decisions must be a number >= 0, got {decisions!r}") from None
    if d < 0:
        raise InvalidTaskError(f"decisions must be a number >= 0, got {decisions!r}")
    if d == 0:
        return GUESS_BUCKETS[0]
    if d <= 1:
        return GUESS_BUCKETS[1]
    if d <= 5:
        return GUESS_BUCKETS[2]
    return GUESS_BUCKETS[3]


def summarize(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One summary dict per method, in the order methods first appear in ``rows``.

    Every dict has the same keys, so the list can go straight to :class:`csv.DictWriter`:

    - ``method``, ``n`` (rows), ``accuracy`` (share of rows with ``correct`` true; a missing
      ``correct`` counts as wrong);
    - ``median_time_s``, ``p90_time_s`` (linear-interpolated percentiles of ``time_s``);
    - ``median_decisions``, ``median_backtracks``, ``median_cpsat_branches``,
      ``median_cpsat_conflicts``, ``mean_trm_steps``, ``mean_steps_to_correct``: over the
      method's rows that carry the column, None when none does;
    - ``stage_<name>`` for every hybrid stage seen in any row (``neural``, ``repair``,
      ``fallback`` first): the share of the method's rows with a stage that are in that stage,
      None for a method whose rows carry no stage.

    Examples
    --------
    >>> rows = [
    ...     {"method": "symbolic", "correct": True, "time_s": 0.01, "decisions": 0},
    ...     {"method": "symbolic", "correct": True, "time_s": 0.03, "decisions": 4},
    ...     {"method": "hybrid", "correct": True, "time_s": 0.2, "stage": "neural"},
    ...     {"method": "hybrid", "correct": False, "time_s": 0.4, "stage": "repair"},
    ... ]
    >>> sym, hyb = summarize(rows)
    >>> sym["method"], sym["n"], sym["accuracy"], sym["median_decisions"], sym["stage_neural"]
    ('symbolic', 2, 1.0, 2.0, None)
    >>> hyb["accuracy"], hyb["median_time_s"], hyb["stage_neural"], hyb["stage_repair"]
    (0.5, 0.30000000000000004, 0.5, 0.5)
    """
    rows = list(rows)
    groups = _group_by_method(rows)
    seen_stages: list[str] = []
    for row in rows:
        stage = _text(row, "stage")
        if stage is not None and stage not in seen_stages:
            seen_stages.append(stage)
    stages = [s for s in STAGES if s in seen_stages] + [s for s in seen_stages if s not in STAGES]

    out: list[dict[str, Any]] = []
    for method, group in groups.items():
        times = _present(group, "time_s")
        summary: dict[str, Any] = {
            "method": method,
            "n": len(group),
            "accuracy": sum(_flag(r, "correct") for r in group) / len(group),
            "median_time_s": _median(times),
            "p90_time_s": _p90(times),
            "median_decisions": _median(_present(group, "decisions")),
            "median_backtracks": _median(_present(group, "backtracks")),
            "median_cpsat_branches": _median(_present(group, "cpsat_branches")),
            "median_cpsat_conflicts": _median(_present(group, "cpsat_conflicts")),
            "mean_trm_steps": _mean(_present(group, "trm_steps")),
            "mean_steps_to_correct": _mean(_present(group, "steps_to_correct")),
        }
        staged = [s for s in (_text(r, "stage") for r in group) if s is not None]
        for stage in stages:
            summary[f"stage_{stage}"] = (
                sum(s == stage for s in staged) / len(staged) if staged else None
            )
        out.append(summary)
    return out


def _present(group: list[Mapping[str, Any]], key: str) -> list[float]:
    return [v for v in (_num(r, key) for r in group) if v is not None]


def accuracy_by(
    rows: Iterable[Mapping[str, Any]], key: str
) -> dict[str, dict[Any, tuple[int, float]]]:
    """Accuracy per method and per value of ``key``: ``{method: {value: (n, accuracy)}}``.

    Methods keep their first-seen order. The values of ``key`` are sorted numerically when every
    one of them is a number (or a numeric string, as read from a CSV), else they keep their
    first-seen order (so difficulty labels stay in the order the table lists them). A missing
    value (None, ``''``, NaN) is grouped under None, last. Every method's inner dict lists the
    values that method has rows for, in that shared order.

    Raises
    ------
    InvalidTaskError
        If a row has no ``method``.

    Examples
    --------
    >>> rows = [
    ...     {"method": "neural", "givens": 30, "correct": True},
    ...     {"method": "neural", "givens": 25, "correct": False},
    ...     {"method": "neural", "givens": 30, "correct": False},
    ...     {"method": "symbolic", "givens": 25, "correct": True},
    ... ]
    >>> accuracy_by(rows, "givens")
    {'neural': {25: (1, 0.0), 30: (2, 0.5)}, 'symbolic': {25: (1, 1.0)}}
    """
    rows = list(rows)
    order = _key_order([None if _missing(r.get(key)) else r.get(key) for r in rows])
    out: dict[str, dict[Any, tuple[int, float]]] = {}
    for method, group in _group_by_method(rows).items():
        tally: dict[Any, list[int]] = {}
        for row in group:
            value = row.get(key)
            value = None if _missing(value) else value
            counts = tally.setdefault(value, [0, 0])
            counts[0] += 1
            counts[1] += int(_flag(row, "correct"))
        out[method] = {v: (tally[v][0], tally[v][1] / tally[v][0]) for v in order if v in tally}
    return out


def _key_order(values: list[Any]) -> list[Any]:
    """Distinct values: guess buckets in their order, numeric sort when all are numbers, else
    first-seen; None last."""
    distinct: list[Any] = []
    for v in values:
        if v is not None and v not in distinct:
            distinct.append(v)

    def as_number(v: Any) -> float | None:
        if isinstance(v, bool):
            return None
        try:
            return float(v)
        except (TypeError, ValueError):
            return None

    if distinct and all(v in GUESS_BUCKETS for v in distinct):
        distinct.sort(key=GUESS_BUCKETS.index)
    elif distinct and all(as_number(v) is not None for v in distinct):
        distinct.sort(key=lambda v: as_number(v))  # type: ignore[arg-type, return-value]
    if any(v is None for v in values):
        distinct.append(None)
    return distinct


# --------------------------------------------------------------------------- sudoku traces


@dataclass(frozen=True)
class FillOrder:
    """How a Sudoku answer settled over a model's supervision steps (see :func:`fill_order`).

    Attributes
    ----------
    fixed_step : per blank cell ``(row, col)``, the 1-based step from which the cell equals the
        solution at every later step, None if it is wrong at the last step.
    changed_more_than_once : blank cells whose value changed between consecutive steps more
        than once (step 1 -> 2, 2 -> 3, ...; the initial fill is not a change).
    lost_after_correct : blank cells that were correct at some step and wrong at a later one.
    changes_per_step : one entry per step: entry 0 counts the blank cells step 1 filled
        (value other than 0), entry k the blank cells whose value differs from step k's.
    """

    fixed_step: dict[Cell, int | None]
    changed_more_than_once: int
    lost_after_correct: int
    changes_per_step: list[int] = field(default_factory=list)


def fill_order(
    trace: Sequence[Sequence[Sequence[int]]],
    solution: Sequence[Sequence[int]],
    givens_mask: Sequence[Sequence[bool]],
) -> FillOrder:
    """When each blank cell of a Sudoku settles on its solution value across supervision steps.

    Parameters
    ----------
    trace : the decoded grid after each supervision step (step 1 first), each a sequence of
        row sequences (a tuple of row tuples, a list of lists or a 2-D array).
    solution : the solved grid, same shape.
    givens_mask : True where the cell is a given; only the other (blank) cells are analysed.

    Returns
    -------
    FillOrder

    Raises
    ------
    InvalidTaskError
        If ``trace`` is empty or a grid's shape differs from ``solution``'s.

    Examples
    --------
    >>> solution = ((1, 2), (2, 1))
    >>> mask = ((True, False), (False, False))
    >>> trace = [((1, 1), (2, 2)), ((1, 2), (2, 2)), ((1, 2), (2, 1))]
    >>> fo = fill_order(trace, solution, mask)
    >>> fo.fixed_step
    {(0, 1): 2, (1, 0): 1, (1, 1): 3}
    >>> fo.changed_more_than_once, fo.lost_after_correct, fo.changes_per_step
    (0, 0, [3, 1, 1])
    """
    if len(trace) == 0:
        raise InvalidTaskError("trace must hold at least one grid, got an empty trace")
    sol = np.asarray(solution)
    if sol.ndim != 2:
        raise InvalidTaskError(f"solution must be a 2-D grid, got shape {sol.shape}")
    mask = np.asarray(givens_mask, dtype=bool)
    if mask.shape != sol.shape:
        raise InvalidTaskError(
            f"givens_mask must have the solution's shape {sol.shape}, got {mask.shape}"
        )
    grids = []
    for k, grid in enumerate(trace, start=1):
        arr = np.asarray(grid)
        if arr.shape != sol.shape:
            raise InvalidTaskError(
                f"trace step {k} must have the solution's shape {sol.shape}, got {arr.shape}"
            )
        grids.append(arr)
    steps = np.stack(grids)  # (K, R, C)
    blank = ~mask
    correct = steps == sol[None]  # (K, R, C)
    n_steps = steps.shape[0]

    # Step from which the cell stays correct: one past the last wrong step.
    wrong = ~correct
    any_wrong = wrong.any(axis=0)
    last_wrong = n_steps - 1 - np.argmax(wrong[::-1], axis=0)  # 0-based index of last wrong
    fixed_step: dict[Cell, int | None] = {}
    for r, c in zip(*np.nonzero(blank), strict=True):
        cell = (int(r), int(c))
        if wrong[-1, r, c]:
            fixed_step[cell] = None
        elif not any_wrong[r, c]:
            fixed_step[cell] = 1
        else:
            fixed_step[cell] = int(last_wrong[r, c]) + 2

    changed = steps[1:] != steps[:-1]  # (K-1, R, C)
    n_changes = changed.sum(axis=0)
    changed_more_than_once = int((n_changes[blank] > 1).sum())

    # Correct at step i, wrong at a later step j > i.
    ever_correct_before = np.logical_or.accumulate(correct, axis=0)
    lost = (wrong[1:] & ever_correct_before[:-1]).any(axis=0)
    lost_after_correct = int(lost[blank].sum())

    changes_per_step = [int(((steps[0] != 0) & blank).sum())]
    changes_per_step += [int((changed[k] & blank).sum()) for k in range(n_steps - 1)]
    return FillOrder(
        fixed_step=fixed_step,
        changed_more_than_once=changed_more_than_once,
        lost_after_correct=lost_after_correct,
        changes_per_step=changes_per_step,
    )


def order_correlation(
    fixed_step: Mapping[Cell, int | None],
    propagation_order: Sequence[Cell],
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Correlation:
    """Spearman's rho between the step a model fixes each cell and the cell's propagation rank.

    Uses the cells present in both inputs whose ``fixed_step`` is not None (cells the model
    never got right are dropped); a cell's rank is its 0-based position in
    ``propagation_order`` (the order a propagating solver assigned the cells). With few
    supervision steps most fixed steps tie; Spearman gives ties their average rank. A positive
    rho means the model settles cells roughly in the order propagation deduces them. The
    interval is :func:`spearman_ci`'s, with the same keyword arguments.

    Raises
    ------
    InvalidTaskError
        If ``propagation_order`` lists a cell twice.

    Examples
    --------
    >>> fixed = {(0, 0): 1, (0, 1): 1, (1, 0): 2, (1, 1): None, (2, 2): 3}
    >>> order = [(0, 1), (0, 0), (1, 0), (2, 2), (1, 1)]
    >>> c = order_correlation(fixed, order)
    >>> round(c.rho, 3), c.n
    (0.949, 4)
    """
    position: dict[Cell, int] = {}
    for i, cell in enumerate(propagation_order):
        key = (int(cell[0]), int(cell[1]))
        if key in position:
            raise InvalidTaskError(f"propagation_order lists cell {key} more than once")
        position[key] = i
    xs: list[float] = []
    ys: list[float] = []
    for cell, step in fixed_step.items():
        key = (int(cell[0]), int(cell[1]))
        if step is None or key not in position:
            continue
        xs.append(float(step))
        ys.append(float(position[key]))
    return spearman_ci(xs, ys, n_boot=n_boot, confidence=confidence, seed=seed)


# --------------------------------------------------------------------------- maze dynamics

#: ``maze_growth`` labels a trace search-like when at least this share of added cells grows from
#: the ends and at most ``_SEARCH_MAX_PRUNE`` of the changes are removals.
_SEARCH_MIN_ENDS = 2 / 3
_SEARCH_MAX_PRUNE = 1 / 3
#: ... and filling-like when at least this share of the changes are removals.
_FILL_MIN_PRUNE = 2 / 3


def maze_growth(
    step_cells: Sequence[Iterable[Cell]],
    start: Cell,
    goals: Cell | Iterable[Cell],
) -> dict[str, Any]:
    """Classify how a model's marked maze path evolves over its supervision steps.

    ``step_cells[k]`` is the set of cells marked as path after step ``k + 1``. Step 1 is
    compared with nothing marked; the shares below use only the transitions between
    consecutive steps (1 -> 2, 2 -> 3, ...), which is where the dynamics show.

    The rule, per transition from marked set ``P`` to ``S``:

    - added = ``S - P``, removed = ``P - S``;
    - the *anchored region* is the union of the 4-connected components of
      ``P | {start} | goals`` that contain the start or a goal;
    - an added cell *grows from the ends* when its 4-connected component within the added cells
      has a cell 4-adjacent to (or in) the anchored region, i.e. the step extends a branch that
      reaches the start or a goal (a run of several new cells in one step counts as a whole).

    ``grows_from_ends`` = added cells that grow from the ends / all added cells, and ``prunes``
    = removed / (added + removed), both summed over the transitions (NaN when there are none).
    The label is the first that applies:

    1. ``'one-shot (final path at step 1)'``: nothing changes after step 1 (or one step only);
    2. ``'filling-like (removes dead ends)'``: ``prunes >= 2/3``;
    3. ``'search-like (grows from the ends)'``: ``grows_from_ends >= 2/3`` and
       ``prunes <= 1/3``;
    4. ``'mixed'``.

    Parameters
    ----------
    step_cells : marked cells per step, each an iterable of ``(row, col)``.
    start : the start cell.
    goals : one goal cell ``(row, col)`` or an iterable of goal cells.

    Returns
    -------
    dict
        ``steps``, ``added`` and ``removed`` (per step; step 1's added is its marked count),
        ``marked`` (marked count per step), ``grows_from_ends``, ``prunes``, ``label``.

    Raises
    ------
    InvalidTaskError
        If ``step_cells`` is empty or a cell is not a ``(row, col)`` pair.

    Examples
    --------
    >>> steps = [{(0, 0)}, {(0, 0), (0, 1)}, {(0, 0), (0, 1), (0, 2)}]
    >>> g = maze_growth(steps, start=(0, 0), goals=[(0, 3)])
    >>> g["label"], g["added"], g["grows_from_ends"], g["prunes"]
    ('search-like (grows from the ends)', [1, 1, 1], 1.0, 0.0)
    """
    if len(step_cells) == 0:
        raise InvalidTaskError("step_cells must hold at least one step, got none")
    sets = [{_cell(c, f"step_cells[{k}]") for c in cells} for k, cells in enumerate(step_cells)]
    start_cell = _cell(start, "start")
    goal_cells = _goal_cells(goals)
    ends = {start_cell, *goal_cells}

    added = [len(sets[0])]
    removed = [0]
    n_added = n_removed = n_from_ends = 0
    for prev, cur in zip(sets[:-1], sets[1:], strict=True):
        plus, minus = cur - prev, prev - cur
        added.append(len(plus))
        removed.append(len(minus))
        n_added += len(plus)
        n_removed += len(minus)
        if plus:
            anchored = _components_touching(prev | ends, ends)
            for comp in _components(plus):
                if any(c in anchored or _neighbours(c) & anchored for c in comp):
                    n_from_ends += len(comp)

    nan = float("nan")
    grows = n_from_ends / n_added if n_added else nan
    prunes = n_removed / (n_added + n_removed) if (n_added + n_removed) else nan
    if n_added + n_removed == 0:
        label = MAZE_LABELS[2]
    elif prunes >= _FILL_MIN_PRUNE:
        label = MAZE_LABELS[1]
    elif n_added and grows >= _SEARCH_MIN_ENDS and prunes <= _SEARCH_MAX_PRUNE:
        label = MAZE_LABELS[0]
    else:
        label = MAZE_LABELS[3]
    return {
        "steps": len(sets),
        "added": added,
        "removed": removed,
        "marked": [len(s) for s in sets],
        "grows_from_ends": grows,
        "prunes": prunes,
        "label": label,
    }


def _cell(value: object, name: str) -> Cell:
    try:
        r, c = value  # type: ignore[misc]
        return (int(r), int(c))
    except (TypeError, ValueError):
        raise InvalidTaskError(f"{name} must hold (row, col) pairs, got {value!r}") from None


def _goal_cells(goals: object) -> list[Cell]:
    seq = list(goals)  # type: ignore[call-overload]
    if len(seq) == 2 and all(isinstance(v, int | np.integer) for v in seq):
        return [(int(seq[0]), int(seq[1]))]
    return [_cell(g, "goals") for g in seq]


def _neighbours(cell: Cell) -> set[Cell]:
    r, c = cell
    return {(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)}


def _components(cells: set[Cell]) -> list[set[Cell]]:
    """4-connected components of ``cells``."""
    left = set(cells)
    comps: list[set[Cell]] = []
    while left:
        seed = left.pop()
        comp, stack = {seed}, [seed]
        while stack:
            for nb in _neighbours(stack.pop()):
                if nb in left:
                    left.remove(nb)
                    comp.add(nb)
                    stack.append(nb)
        comps.append(comp)
    return comps


def _components_touching(cells: set[Cell], anchors: set[Cell]) -> set[Cell]:
    """Union of the 4-connected components of ``cells`` that contain an anchor."""
    out: set[Cell] = set()
    for comp in _components(cells):
        if comp & anchors:
            out |= comp
    return out
