"""``neurosym bench many``: :func:`neurosym.solve_many` throughput with 1, 2, ... worker processes
on the same seeded puzzles, the speed-up of each over the first, and whether the answers agree.

Every run starts cold, as a fresh ``neurosym solve --many`` would: the in-process run (1 worker)
goes first, before this process has loaded torch or a model, and each pool starts new processes.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import solvers
from neurosym.api import METHODS
from neurosym.many import ManyResult, solve_many
from tasks.errors import ConfigError
from tasks.generators import generate_puzzles
from tasks.sudoku import SudokuTask

__all__ = ["make_sudoku_tasks", "run_many_benchmark"]

Echo = Callable[[str], Any]


def _is_unique(task: SudokuTask) -> bool:
    return solvers.count_sudoku_solutions(task, 2) == 1


def make_sudoku_tasks(n: int, box: tuple[int, int] = (3, 3), *, seed: int = 0) -> list[SudokuTask]:
    """``n`` seeded minimal unique Sudoku puzzles (no given removable) of box shape ``box``.

    Unique, so every correct answer is the same grid and runs can be compared cell for cell.
    """
    pairs = generate_puzzles(n, *box, seed=seed, minimal=True, is_unique=_is_unique)
    return [task for task, _solution in pairs]


def _outcome(item: ManyResult) -> tuple[Any, ...]:
    """What must agree between runs: the verified answer, or the error's class."""
    if item.result is None:
        return ("error", item.error)
    answer = item.result.answer
    return (item.result.verified, tuple(map(tuple, answer)))


def run_many_benchmark(
    *,
    n: int = 120,
    box: tuple[int, int] = (3, 3),
    method: str = "hybrid",
    workers: Sequence[int] = (1, 2),
    seed: int = 0,
    time_limit_s: float = 10.0,
    echo: Echo = lambda _line: None,
) -> dict[str, Any]:
    """Time ``solve_many`` on the same ``n`` generated puzzles once per entry of ``workers``.

    Returns the report (also streamed through ``echo``): per run its wall time end to end (pool
    start-up, imports and model loading included), puzzles/s, ``busy_s`` (the tasks' summed wall
    times, loading included) and counts; ``speedup`` of each run over the first; and
    ``answers_agree`` (every run gave every puzzle the same answer, or the same error).

    Raises
    ------
    ConfigError
        Before any work: ``n < 1``, an empty ``workers``, a worker count that is no int >= 1,
        or an unknown ``method``.

    Examples
    --------
    >>> report = run_many_benchmark(n=2, box=(2, 2), method="symbolic", workers=(1,))
    >>> report["runs"][0]["verified"], report["answers_agree"]
    (2, True)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be an int >= 1, got {n!r}")
    workers = list(workers)
    if not workers:
        raise ConfigError("workers must name at least one worker count, e.g. (1, 2)")
    for k in workers:  # before the puzzles are generated, not after the first run
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"workers must be an int >= 1, got {k!r}")
    if method not in METHODS:
        raise ConfigError(f"method must be one of {list(METHODS)}, got {method!r}")
    side = box[0] * box[1]
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        },
        "n": n,
        "size": f"{side}x{side}",
        "method": method,
        "seed": seed,
        "runs": [],
    }
    echo(
        f"neurosym bench many: {n} minimal {side}x{side} Sudoku, method {method}, workers "
        f"{workers}; {os.cpu_count()} CPUs, load average {report['machine']['load_avg_1min']}"
    )
    t0 = time.perf_counter()
    tasks = make_sudoku_tasks(n, box, seed=seed)
    report["generate_s"] = time.perf_counter() - t0
    echo(f"generated in {report['generate_s']:.1f} s")
    outcomes: list[list[tuple[Any, ...]]] = []
    for k in workers:
        start = time.perf_counter()
        results = solve_many(
            tasks, method=method, workers=k, progress=False, time_limit_s=time_limit_s
        )
        wall = time.perf_counter() - start
        outcomes.append([_outcome(r) for r in results])
        run = {
            "workers": k,
            "wall_s": wall,
            "puzzles_per_s": n / wall,
            "busy_s": sum(r.wall_s for r in results),
            "verified": sum(r.verified for r in results),
            "errors": sum(not r.ok for r in results),
        }
        report["runs"].append(run)
        echo(
            f"workers {k}: {wall:6.2f} s  {run['puzzles_per_s']:7.1f} puzzles/s  "
            f"(tasks busy {run['busy_s']:.1f} s; {run['verified']}/{n} verified, "
            f"{run['errors']} errors)"
        )
    base = report["runs"][0]["puzzles_per_s"]
    report["speedup"] = {str(r["workers"]): r["puzzles_per_s"] / base for r in report["runs"]}
    disagree = sorted(
        {
            i
            for run in outcomes[1:]
            for i, (a, b) in enumerate(zip(outcomes[0], run, strict=True))
            if a != b
        }
    )
    report["answers_agree"] = not disagree
    report["disagreeing_indices"] = disagree
    for r in report["runs"][1:]:
        echo(
            f"speed-up of {r['workers']} workers over {report['runs'][0]['workers']}: "
            f"{report['speedup'][str(r['workers'])]:.2f}x"
        )
    more = "..." if len(disagree) > 10 else ""
    verdict = f"NO (puzzles {disagree[:10]}{more})" if disagree else "yes"
    echo(f"answers agree across runs: {verdict}")
    return report
