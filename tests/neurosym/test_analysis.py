"""neurosym.study.analysis: hand-computed small examples for the compare statistics."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from neurosym.study import analysis
from neurosym.study.analysis import (
    GUESS_BUCKETS,
    MAZE_LABELS,
    Correlation,
    FillOrder,
    accuracy_by,
    fill_order,
    guess_bucket,
    maze_growth,
    order_correlation,
    spearman_ci,
    summarize,
)
from tasks.errors import ConfigError, InvalidTaskError

SEARCH, FILLING, ONE_SHOT, MIXED = MAZE_LABELS


# --------------------------------------------------------------------------- spearman_ci


def test_spearman_known_example_matches_scipy():
    c = spearman_ci([1, 2, 3, 4, 5], [5, 6, 7, 8, 7], n_boot=500)
    # Ranks x = 1..5, y = 1, 2, 3.5, 5, 3.5 (tie). Pearson on the ranks: sum dx*dy = 8,
    # sum dx^2 = 10, sum dy^2 = 9.5, rho = 8 / sqrt(95) = 0.8207826816681233 (scipy agrees).
    assert c.rho == pytest.approx(8 / math.sqrt(95), abs=1e-12)
    assert c.rho == pytest.approx(0.8207826816681233, abs=1e-12)
    assert c.p_value == pytest.approx(0.08858700531354384, rel=1e-9)
    assert c.n == 5
    assert -1.0 <= c.low <= c.high <= 1.0


def test_spearman_perfect_monotone_has_degenerate_ci():
    x = list(range(20))
    up = spearman_ci(x, [v**3 for v in x], n_boot=300)
    assert (up.rho, up.low, up.high) == (1.0, 1.0, 1.0)
    down = spearman_ci(x, [-v for v in x], n_boot=300)
    assert (down.rho, down.low, down.high) == (-1.0, -1.0, -1.0)


def test_spearman_reproducible_under_seed_and_chunking(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = x + rng.normal(size=60)
    a = spearman_ci(x, y, n_boot=400, seed=7)
    b = spearman_ci(list(x), list(y), n_boot=400, seed=7)
    assert a == b
    assert spearman_ci(x, y, n_boot=400, seed=8) != a
    monkeypatch.setattr(analysis, "_BOOT_CHUNK_VALUES", 100)  # many small chunks
    assert spearman_ci(x, y, n_boot=400, seed=7) == a
    assert a.low < a.rho < a.high


def test_spearman_bootstrap_matches_a_naive_loop():
    from scipy.stats import spearmanr

    x = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], dtype=float)
    y = np.array([2, 7, 1, 8, 2, 8, 1, 8, 2, 8], dtype=float)
    got = analysis._bootstrap_rhos(x, y, n_boot=200, seed=1)
    idx = np.random.default_rng(1).integers(0, x.size, size=(200, x.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.array([spearmanr(x[i], y[i]).statistic for i in idx], dtype=float)
    np.testing.assert_allclose(got, want, atol=1e-12, equal_nan=True)


def test_spearman_drops_missing_pairs():
    c = spearman_ci([1, None, 3, float("nan"), 5, ""], [1, 2, None, 4, 3, 9], n_boot=50)
    assert c.n == 2 and math.isnan(c.rho)
    c = spearman_ci([1, None, 2, 3, 4], [1, 5, 2, 3, 5], n_boot=50)
    assert c.n == 4 and c.rho == 1.0


@pytest.mark.parametrize(
    ("x", "y"),
    [([], []), ([1, 2], [2, 1]), ([1, 1, 1, 1], [1, 2, 3, 4]), ([1, 2, 3], [5, 5, 5])],
)
def test_spearman_undefined_is_nan_without_warnings(x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = spearman_ci(x, y, n_boot=50)
    assert math.isnan(c.rho) and math.isnan(c.low) and math.isnan(c.high)
    assert math.isnan(c.p_value) and not c.defined
    assert c.n == len([v for v in x if v is not None])


def test_spearman_errors():
    with pytest.raises(InvalidTaskError, match="same length"):
        spearman_ci([1, 2, 3], [1, 2])
    with pytest.raises(InvalidTaskError, match="numbers"):
        spearman_ci([1, "a", 3], [1, 2, 3])
    with pytest.raises(ConfigError, match="n_boot"):
        spearman_ci([1, 2, 3], [1, 2, 3], n_boot=0)
    with pytest.raises(ConfigError, match="confidence"):
        spearman_ci([1, 2, 3], [1, 2, 3], confidence=1.0)


def test_correlation_str():
    c = Correlation(rho=0.4213, low=0.3149, high=0.5249, n=200, p_value=0.0)
    assert str(c) == "rho=0.42 [0.31, 0.52] (n=200)"
    nan = float("nan")
    assert str(Correlation(nan, nan, nan, 2, nan)) == "rho=nan [nan, nan] (n=2)"


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("decisions", "bucket"),
    [
        (0, "0"),
        (0.0, "0"),
        ("0", "0"),
        (0.5, "1"),
        (1, "1"),
        (1.01, "2-5"),
        (2, "2-5"),
        (5, "2-5"),
        (5.5, ">5"),
        (6, ">5"),
        (10_000, ">5"),
    ],
)
def test_guess_bucket_boundaries(decisions, bucket):
    assert guess_bucket(decisions) == bucket
    assert bucket in GUESS_BUCKETS


@pytest.mark.parametrize("bad", [None, float("nan"), "", -1, "many", True])
def test_guess_bucket_rejects(bad):
    with pytest.raises(InvalidTaskError, match="decisions"):
        guess_bucket(bad)


def _rows():
    return [
        {"method": "neural", "correct": True, "time_s": 0.1, "trm_steps": 4, "steps_to_correct": 2},
        {
            "method": "neural",
            "correct": False,
            "time_s": 0.3,
            "trm_steps": 8,
            "steps_to_correct": None,
        },
        {
            "method": "symbolic",
            "correct": True,
            "time_s": 1.0,
            "decisions": 0,
            "cpsat_branches": 10,
            "backtracks": 0,
        },
        {
            "method": "symbolic",
            "correct": True,
            "time_s": 2.0,
            "decisions": 3,
            "cpsat_branches": 20,
            "backtracks": 1,
        },
        {
            "method": "symbolic",
            "correct": True,
            "time_s": 4.0,
            "decisions": 9,
            "cpsat_branches": None,
            "backtracks": 5,
        },
        {"method": "hybrid", "correct": True, "time_s": 0.5, "stage": "neural"},
        {"method": "hybrid", "correct": True, "time_s": 0.5, "stage": "repair"},
        {"method": "hybrid", "correct": True, "time_s": 0.5, "stage": "repair"},
        {"method": "hybrid", "correct": False, "time_s": 0.5, "stage": "fallback"},
    ]


def test_summarize_numbers():
    neural, symbolic, hybrid = summarize(_rows())
    assert [neural["method"], symbolic["method"], hybrid["method"]] == [
        "neural",
        "symbolic",
        "hybrid",
    ]
    assert neural["n"] == 2 and neural["accuracy"] == 0.5
    assert neural["median_time_s"] == pytest.approx(0.2)
    assert neural["p90_time_s"] == pytest.approx(0.28)  # 0.1 + 0.9 * 0.2
    assert neural["mean_trm_steps"] == 6.0 and neural["mean_steps_to_correct"] == 2.0
    assert neural["median_decisions"] is None and neural["stage_repair"] is None
    assert symbolic["accuracy"] == 1.0 and symbolic["median_time_s"] == 2.0
    assert symbolic["p90_time_s"] == pytest.approx(3.6)  # 2 + 0.8 * 2
    assert symbolic["median_decisions"] == 3.0
    assert symbolic["median_cpsat_branches"] == 15.0  # the missing third is skipped
    assert symbolic["median_backtracks"] == 1.0
    assert symbolic["mean_trm_steps"] is None
    assert hybrid["accuracy"] == 0.75
    assert (hybrid["stage_neural"], hybrid["stage_repair"], hybrid["stage_fallback"]) == (
        0.25,
        0.5,
        0.25,
    )
    assert list(neural) == list(symbolic) == list(hybrid)  # same keys: ready for DictWriter


def test_summarize_reads_csv_strings():
    rows = [
        {
            "method": "neural",
            "correct": "True",
            "time_s": "0.5",
            "trm_steps": "16",
            "decisions": "",
        },
        {"method": "neural", "correct": "False", "time_s": "1.5", "trm_steps": "", "decisions": ""},
    ]
    (s,) = summarize(rows)
    assert s["accuracy"] == 0.5 and s["median_time_s"] == 1.0 and s["mean_trm_steps"] == 16.0
    assert s["median_decisions"] is None
    assert "stage_neural" not in s  # no stage anywhere in the rows
    assert summarize([]) == []
    with pytest.raises(InvalidTaskError, match="method"):
        summarize([{"correct": True}])


def test_accuracy_by_orders_and_counts():
    rows = [
        {"method": "neural", "difficulty": "hard", "correct": False},
        {"method": "neural", "difficulty": "easy", "correct": True},
        {"method": "neural", "difficulty": "easy", "correct": False},
        {"method": "symbolic", "difficulty": "easy", "correct": True},
        {"method": "symbolic", "difficulty": "", "correct": True},
    ]
    got = accuracy_by(rows, "difficulty")
    assert got == {
        "neural": {"hard": (1, 0.0), "easy": (2, 0.5)},
        "symbolic": {"easy": (1, 1.0), None: (1, 1.0)},
    }
    assert list(got["neural"]) == ["hard", "easy"]  # first-seen order for labels
    numeric = accuracy_by(
        [{"method": "m", "givens": g, "correct": "1"} for g in ("30", "17", "25")], "givens"
    )
    assert list(numeric["m"]) == ["17", "25", "30"]  # numeric strings sort as numbers


# --------------------------------------------------------------------------- fill_order

SOLUTION = ((1, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 2, 1))
MASK = (
    (True, True, True, True),
    (True, False, False, False),
    (False, False, False, False),
    (False, False, False, False),
)


def _with(grid, **cells):
    rows = [list(r) for r in grid]
    for name, value in cells.items():
        r, c = int(name[1]), int(name[2])
        rows[r][c] = value
    return tuple(tuple(r) for r in rows)


def test_fill_order_on_a_three_step_trace_with_a_flip():
    step1 = _with(SOLUTION, c11=2, c22=1)  # (1,1) and (2,2) wrong
    step2 = _with(SOLUTION, c22=3, c33=2)  # (1,1) fixed; (2,2) still wrong; (3,3) lost
    step3 = SOLUTION
    fo = fill_order([step1, step2, step3], SOLUTION, MASK)
    assert isinstance(fo, FillOrder)
    assert len(fo.fixed_step) == 11  # blanks only
    assert fo.fixed_step[(1, 1)] == 2
    assert fo.fixed_step[(2, 2)] == 3
    assert fo.fixed_step[(3, 3)] == 3  # correct at step 1, but only for good from step 3
    assert all(s == 1 for cell, s in fo.fixed_step.items() if cell not in {(1, 1), (2, 2), (3, 3)})
    assert fo.changed_more_than_once == 2  # (2,2): 1 -> 3 -> 4 and (3,3): 1 -> 2 -> 1
    assert fo.lost_after_correct == 1  # (3,3)
    assert fo.changes_per_step == [11, 3, 2]


def test_fill_order_never_correct_and_givens_ignored():
    bad_given = _with(SOLUTION, c00=9)  # a given overwritten: not analysed
    last_wrong = _with(SOLUTION, c23=1)
    fo = fill_order([bad_given, SOLUTION, last_wrong], SOLUTION, np.array(MASK))
    assert fo.fixed_step[(2, 3)] is None
    assert fo.lost_after_correct == 1 and fo.changed_more_than_once == 0
    assert fo.changes_per_step == [11, 0, 1]
    single = fill_order([SOLUTION], SOLUTION, MASK)
    assert set(single.fixed_step.values()) == {1} and single.changes_per_step == [11]


def test_fill_order_errors():
    with pytest.raises(InvalidTaskError, match="at least one"):
        fill_order([], SOLUTION, MASK)
    with pytest.raises(InvalidTaskError, match="step 2"):
        fill_order([SOLUTION, ((1, 2), (3, 4))], SOLUTION, MASK)
    with pytest.raises(InvalidTaskError, match="givens_mask"):
        fill_order([SOLUTION], SOLUTION, ((True,),))


def test_order_correlation():
    fixed = {(0, 0): 1, (0, 1): 1, (1, 0): 2, (1, 1): 3, (2, 2): None, (3, 3): 2}
    order = [(0, 1), (0, 0), (1, 0), (1, 1), (2, 2)]  # (3,3) is not in the order
    c = order_correlation(fixed, order, n_boot=200)
    assert c.n == 4
    # steps 1, 1, 2, 3 against positions 1, 0, 2, 3: ranks (1.5, 1.5, 3, 4) vs (2, 1, 3, 4).
    assert c.rho == pytest.approx(0.9486832980505139)
    with pytest.raises(InvalidTaskError, match="more than once"):
        order_correlation(fixed, [(0, 0), (0, 0)])


# --------------------------------------------------------------------------- maze_growth


def test_maze_growth_search_like_counts_runs_from_the_ends():
    steps = [
        {(0, 0)},
        {(0, 0), (0, 1), (0, 2), (0, 3)},  # a run of 3 from the start: all 3 count
        {(0, 0), (0, 1), (0, 2), (0, 3), (1, 5), (0, 5)},  # from the goal (0, 5)
    ]
    g = maze_growth(steps, start=(0, 0), goals=(0, 5))
    assert g["label"] == SEARCH
    assert g["added"] == [1, 3, 2] and g["removed"] == [0, 0, 0]
    assert g["marked"] == [1, 4, 6] and g["steps"] == 3
    assert g["grows_from_ends"] == 1.0 and g["prunes"] == 0.0


def test_maze_growth_filling_like():
    room = {(r, c) for r in range(3) for c in range(3)}
    path = {(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)}
    steps = [room, room - {(2, 0)}, path]
    g = maze_growth(steps, start=(0, 0), goals=[(2, 2)])
    assert g["label"] == FILLING
    assert g["removed"] == [0, 1, 3] and g["added"] == [9, 0, 0]
    assert g["prunes"] == 1.0 and math.isnan(g["grows_from_ends"])


def test_maze_growth_one_shot():
    path = [(0, 0), (0, 1), (1, 1)]
    g = maze_growth([path, path, list(path)], start=(0, 0), goals=[(1, 1)])
    assert g["label"] == ONE_SHOT and math.isnan(g["prunes"])
    assert maze_growth([path], start=(0, 0), goals=[(1, 1)])["label"] == ONE_SHOT


def test_maze_growth_mixed():
    # Cells appear far from both ends: neither growth from the ends nor pruning.
    steps = [{(0, 0)}, {(0, 0), (5, 5), (5, 6)}, {(0, 0), (5, 5), (5, 6), (9, 9)}]
    g = maze_growth(steps, start=(0, 0), goals=[(9, 0), (0, 9)])
    assert g["label"] == MIXED
    assert g["grows_from_ends"] == 0.0 and g["prunes"] == 0.0
    # Half growth, half pruning.
    half = [{(0, 0), (3, 3)}, {(0, 0), (0, 1)}]
    h = maze_growth(half, start=(0, 0), goals=[(0, 4)])
    assert h["label"] == MIXED and h["prunes"] == 0.5 and h["grows_from_ends"] == 1.0


def test_maze_growth_anchor_needs_connection():
    # (2, 2) is marked at step 1 but not connected to an end: growing next to it does not count.
    steps = [{(0, 0), (2, 2)}, {(0, 0), (2, 2), (2, 3), (0, 1)}]
    g = maze_growth(steps, start=(0, 0), goals=[(4, 4)])
    assert g["grows_from_ends"] == 0.5


def test_maze_growth_errors():
    with pytest.raises(InvalidTaskError, match="at least one"):
        maze_growth([], start=(0, 0), goals=[(1, 1)])
    with pytest.raises(InvalidTaskError, match="row, col"):
        maze_growth([{(0, 0, 0)}], start=(0, 0), goals=[(1, 1)])


def test_import_is_light():
    code = (
        "import sys; import neurosym.study.analysis, neurosym.study.plots; "
        "print(sorted({'matplotlib', 'scipy'} & set(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
