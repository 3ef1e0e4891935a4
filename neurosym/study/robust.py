"""``neurosym robustness``: accuracy as wrong givens are injected, per method and givens mode.

For each number of errors ``k`` in ``0..max_errors``, every puzzle gets ``k`` givens changed to
wrong digits (:func:`tasks.noise.corrupt_givens`, seeded). Each method then answers the noisy
puzzle; an answer is **correct** when it equals the clean puzzle's solution (what the user meant),
and **verified** when the verifier accepted it for the puzzle as posed (with ``givens="soft"``,
the puzzle without the givens the answer overrides). Hard givens take the noisy puzzle at its
word: a contradiction raises ``UnsolvableError``, counted as a miss. The network does not
distinguish the modes, so ``neural`` appears once, under ``hard``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.errors import ConfigError, NeurosymError
from tasks.sudoku import SudokuTask

__all__ = ["RobustnessReport", "robustness"]

Progress = Callable[[str, int, int], None]


@dataclass
class RobustnessReport:
    """Per ``(method, givens_mode, errors)``: n, accuracy (== clean solution), verified share,
    and the mean and largest number of overridden givens (soft modes)."""

    rows: list[dict[str, Any]]
    files: dict[str, str] = field(default_factory=dict)


def robustness(
    size: str = "9x9",
    n: int = 50,
    *,
    max_errors: int = 3,
    givens: str | None = "30-35",
    methods: Sequence[str] = ("neural", "symbolic", "hybrid"),
    time_limit_s: float = 10.0,
    model: Any = None,
    seed: int = 0,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> RobustnessReport:
    """Measure accuracy against ``0..max_errors`` injected wrong givens.

    ``time_limit_s`` (seconds > 0) and ``out_dir`` (a folder, created if missing) are checked
    before any work: :class:`ConfigError` otherwise.

    Examples
    --------
    >>> rep = robustness("6x6", 3, max_errors=1, givens="16-20", methods=("symbolic",))
    >>> {(r["givens_mode"], r["errors"]): round(r["accuracy"], 2) for r in rep.rows}
    {('hard', 0): 1.0, ('soft', 0): 1.0, ('hard', 1): 0.0, ('soft', 1): 0.67}
    """
    import solvers
    from neurosym.outputs import check_output_dir
    from neurosym.study.comparison import make_puzzles

    time_limit_s = solvers.check_time_limit(time_limit_s)
    if out_dir is not None:
        check_output_dir(out_dir, "out_dir")
    if isinstance(max_errors, bool) or not isinstance(max_errors, int) or max_errors < 0:
        raise ConfigError(f"max_errors must be an int >= 0, got {max_errors!r}")
    bad = [m for m in methods if m not in ("neural", "symbolic", "hybrid")]
    if bad or not methods:
        raise ConfigError(f"methods must be among neural, symbolic, hybrid; got {list(methods)}")
    clean = make_puzzles("sudoku", size, n, givens=givens, seed=seed)
    tick = progress or (lambda stage, done, total: None)
    rows = []
    for k in range(max_errors + 1):
        noisy = _noisy(clean.tasks, k, seed)
        rows.extend(_measure(noisy, clean.solutions, k, methods, time_limit_s, model, seed))
        tick("errors", k + 1, max_errors + 1)
    report = RobustnessReport(rows)
    if out_dir is not None:
        report.files = _write(report, Path(out_dir))
    return report


def _noisy(tasks: list[Any], k: int, seed: int) -> list[SudokuTask]:
    from tasks.noise import corrupt_givens

    return [
        corrupt_givens(t, k, rng=seed * 1_000_003 + 7919 * k + i).task for i, t in enumerate(tasks)
    ]


def _measure(
    tasks: list[SudokuTask],
    solutions: list[Any],
    k: int,
    methods: Sequence[str],
    time_limit_s: float,
    model: Any,
    seed: int,
) -> list[dict[str, Any]]:
    from neurosym.api import hybrid_result, solve

    results: dict[tuple[str, str], list[tuple[bool, bool, int]]] = {}
    proposals: list[Any] = []
    loaded = None
    if "neural" in methods or "hybrid" in methods:
        from neurosym.hybrid import propose

        proposals, _, loaded = propose(tasks, model)
    for i, task in enumerate(tasks):
        for method in methods:
            modes = ("hard",) if method == "neural" else ("hard", "soft")
            for mode in modes:
                try:
                    if method == "symbolic":
                        res = solve(
                            task, time_limit_s=time_limit_s, check_unique=False, givens=mode
                        )  # type: ignore[arg-type]
                    elif method == "neural":
                        from neurosym.api import _finish

                        p = proposals[i]
                        res = _finish(task, p.answer, "neural", "trm", p.time_s, {}, None)
                    else:
                        from neurosym.hybrid import run_hybrid

                        out = run_hybrid(
                            task,
                            proposals[i],
                            loaded=loaded,
                            time_limit_s=time_limit_s,
                            seed=seed,
                            givens=mode,  # type: ignore[arg-type]
                        )
                        res = hybrid_result(task, out)
                    outcome = (
                        res.answer == solutions[i],
                        res.verified,
                        len(res.overridden_givens),
                    )
                except NeurosymError:
                    outcome = (False, False, 0)
                results.setdefault((method, mode), []).append(outcome)
    rows = []
    for (method, mode), outs in results.items():
        rows.append(
            {
                "method": method,
                "givens_mode": mode,
                "errors": k,
                "n": len(outs),
                "accuracy": sum(o[0] for o in outs) / len(outs),
                "verified": sum(o[1] for o in outs) / len(outs),
                "mean_overridden": sum(o[2] for o in outs) / len(outs),
                "max_overridden": max(o[2] for o in outs),
            }
        )
    return rows


def _write(report: RobustnessReport, out_dir: Path) -> dict[str, str]:
    from neurosym.study.plots import plot_robustness

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "robustness.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(report.rows[0]))
        writer.writeheader()
        writer.writerows(report.rows)
    png = plot_robustness(report.rows, out_dir / "robustness.png")
    return {"csv": str(path), "png": str(png)}
