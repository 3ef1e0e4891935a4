"""neurosym.study.plots: every figure writes a valid PNG, degenerate inputs included."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from neurosym.study.analysis import Correlation
from neurosym.study.plots import (
    plot_accuracy_by_difficulty,
    plot_accuracy_vs_depth,
    plot_accuracy_vs_steps,
    plot_robustness,
    plot_steps_vs_effort,
    plot_time_distributions,
    plot_trace,
)
from tasks.errors import InvalidTaskError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> None:
    from matplotlib.image import imread

    assert isinstance(path, Path) and path.is_file()
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 1024
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.shape[2] in (3, 4)


def _rows():
    rows = []
    for i in range(12):
        diff = ("easy", "medium", "hard")[i % 3]
        decisions = [0, 0, 1, 2, 4, 8, 16, 30, 60, 100, 200, 400][i]
        steps = None if i in (5, 11) else 1 + i // 3
        rows.append(
            {
                "puzzle_id": f"p{i}",
                "method": "neural",
                "difficulty": diff,
                "givens": 30 - i,
                "correct": steps is not None,
                "time_s": 0.02 + i / 1e3,
                "trm_steps": 16,
                "steps_to_correct": steps,
            }
        )
        rows.append(
            {
                "puzzle_id": f"p{i}",
                "method": "symbolic",
                "difficulty": diff,
                "givens": 30 - i,
                "correct": True,
                "time_s": 1e-3 * (1 + decisions),
                "decisions": decisions,
                "cpsat_branches": 2 * decisions + 1,
            }
        )
        rows.append(
            {
                "puzzle_id": f"p{i}",
                "method": "hybrid",
                "difficulty": diff,
                "givens": 30 - i,
                "correct": True,
                "time_s": 0.05,
                "stage": ("neural", "repair", "fallback")[i % 3],
            }
        )
    return rows


# --------------------------------------------------------------------------- accuracy


def test_accuracy_by_difficulty(tmp_path):
    assert_png(plot_accuracy_by_difficulty(_rows(), tmp_path / "a" / "b" / "acc.png"))
    assert_png(plot_accuracy_by_difficulty(_rows(), tmp_path / "givens.png", key="givens"))


def test_accuracy_by_difficulty_degenerate(tmp_path):
    only_neural = [r for r in _rows() if r["method"] == "neural"]
    p = plot_accuracy_by_difficulty(
        only_neural, tmp_path / "missing.png", methods=["neural", "symbolic", "hybrid"]
    )
    assert_png(p)
    assert_png(plot_accuracy_by_difficulty([], tmp_path / "empty.png"))
    no_key = [{"method": "neural", "correct": True}]
    assert_png(plot_accuracy_by_difficulty(no_key, tmp_path / "nokey.png"))


# --------------------------------------------------------------------------- time


def test_time_distributions(tmp_path):
    assert_png(plot_time_distributions(_rows(), tmp_path / "time.png"))


def test_time_distributions_degenerate(tmp_path):
    rows = [
        {"method": "symbolic", "time_s": 0.0},
        {"method": "symbolic", "time_s": 0.01},
        {"method": "neural", "time_s": None},
    ]
    assert_png(plot_time_distributions(rows, tmp_path / "zero.png", methods=["hybrid"]))
    assert_png(plot_time_distributions([], tmp_path / "empty.png"))
    assert_png(plot_time_distributions([{"method": "x", "time_s": 0}], tmp_path / "z.png"))


# --------------------------------------------------------------------------- steps vs effort


def test_steps_vs_effort(tmp_path):
    path, corr = plot_steps_vs_effort(_rows(), tmp_path / "steps.png", n_boot=100)
    assert_png(path)
    assert set(corr) == {"decisions", "cpsat_branches"}
    assert all(isinstance(c, Correlation) for c in corr.values())
    # Solved puzzles: steps 1 + i // 3 grows with decisions (monotone in i): rho > 0.9.
    assert corr["decisions"].n == 10 and corr["decisions"].rho > 0.9
    assert corr["cpsat_branches"].rho == corr["decisions"].rho  # branches monotone in decisions
    _, with_never = plot_steps_vs_effort(
        _rows(), tmp_path / "never.png", include_never=True, n_boot=100
    )
    assert with_never["decisions"].n == 12


def test_steps_vs_effort_degenerate(tmp_path):
    rows = [r for r in _rows() if r["method"] != "symbolic"]  # no effort anywhere
    rows += [
        {"puzzle_id": "p0", "method": "symbolic", "decisions": float("nan"), "cpsat_branches": ""}
    ]
    path, corr = plot_steps_vs_effort(rows, tmp_path / "nan.png", n_boot=20)
    assert_png(path)
    assert all(c.n == 0 and math.isnan(c.rho) for c in corr.values())
    no_neural = [r for r in _rows() if r["method"] != "neural"]
    path, corr = plot_steps_vs_effort(no_neural, tmp_path / "noneural.png", n_boot=20)
    assert_png(path)
    never = [dict(r, steps_to_correct=None) for r in _rows()]
    path, corr = plot_steps_vs_effort(never, tmp_path / "allnever.png", n_boot=20)
    assert_png(path)
    assert corr["decisions"].n == 0
    assert_png(plot_steps_vs_effort([], tmp_path / "empty.png", n_boot=20)[0])


# --------------------------------------------------------------------------- curves, traces


def test_accuracy_vs_steps(tmp_path):
    curve = {"9x9": [(4, 0.7), (1, 0.2), (2, 0.5)], "6x6": [(1, 0.6), (2, 0.9)]}
    assert_png(plot_accuracy_vs_steps(curve, tmp_path / "curve.png"))
    assert_png(plot_accuracy_vs_steps({}, tmp_path / "empty.png"))
    assert_png(plot_accuracy_vs_steps({"x": [(1, None)]}, tmp_path / "none.png"))


def test_trace(tmp_path):
    p = plot_trace([40, 6, 1, 0], [0.1, 0.3, 0.8, 0.97], 3, tmp_path / "t.png", title="p0")
    assert_png(p)
    assert_png(plot_trace([40, 6, 1], None, None, tmp_path / "nohalt.png"))
    assert_png(plot_trace([], [0.2, 0.9], 2, tmp_path / "onlyhalt.png"))
    assert_png(plot_trace([], None, None, tmp_path / "empty.png"))
    with pytest.raises(InvalidTaskError, match="correct_step"):
        plot_trace([1, 2], [0.1, 0.2], 3, tmp_path / "bad.png")


def test_robustness(tmp_path):
    rows = [
        {"method": m, "givens_mode": mode, "errors": e, "accuracy": max(0.0, 1 - e * drop)}
        for m in ("neural", "symbolic", "hybrid")
        for mode, drop in (("hard", 0.4), ("soft", 0.1))
        for e in (0, 1, 2, 4)
    ]
    assert_png(plot_robustness(rows, tmp_path / "rob.png"))
    assert_png(plot_robustness([], tmp_path / "empty.png"))
    partial = [{"method": "neural", "givens_mode": "hard", "errors": 1, "accuracy": None}]
    assert_png(plot_robustness(partial, tmp_path / "partial.png"))


def test_accuracy_vs_depth(tmp_path):
    curves = {
        "all": [(256, 0.9), (1, 0.1), (4, 0.6)],
        "0": [(1, 0.2), (4, 0.9), (256, 1.0)],
        ">5": [(1, 0.0), (4, float("nan")), (256, 0.5)],
    }
    path = plot_accuracy_vs_depth(
        curves, tmp_path / "d" / "depth.png", trained_depth=4, counts={"all": 3, "0": 2}
    )
    assert_png(path)
    assert_png(plot_accuracy_vs_depth({}, tmp_path / "empty.png"))
    assert_png(plot_accuracy_vs_depth({"all": [(0, 0.5)]}, tmp_path / "zero.png"))
