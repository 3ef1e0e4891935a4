"""Hard Sudoku data the project generates itself: minimal unique puzzles, each rated by the
instrumented backtracking solver's guesses, written to an ``.npz`` file that training
(:class:`trm.data.SudokuData` with ``pool_path``) and evaluation read.

Public collections (Norvig's, Gecode's) are for evaluation only; nothing here reads them.
This module lives in ``neurosym`` because it needs both the generator's uniqueness search
(``trm.data``) and the rating solver (``solvers``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from tasks.errors import ConfigError
from tasks.generators import generate_puzzle, generate_solution
from tasks.sudoku import SudokuTask

__all__ = ["guesses_needed", "make_hard_sudoku", "write_pool", "read_pool", "GUESS_BUCKETS"]

#: Difficulty buckets by the backtracking solver's decisions, as in ``neurosym compare``.
GUESS_BUCKETS = ((0, 0, "0"), (1, 1, "1"), (2, 5, "2-5"), (6, 10**9, ">5"))


def guesses_needed(task: SudokuTask) -> int:
    """Decisions (guesses, every try counted) the instrumented backtracking solver (propagation
    + MRV) makes on ``task``: 0 means propagation alone solves it.

    Examples
    --------
    >>> guesses_needed(SudokuTask.parse("1..." "...." "2..." "3..4"))
    1
    """
    from solvers import sudoku_backtrack

    return int(sudoku_backtrack.solve(task, time_limit_s=60.0).effort["decisions"])


def _one(args: tuple[int, int, int, int]) -> tuple[list[int], list[int], int]:
    from trm.data import other_solution

    box_rows, box_cols, seed, index = args
    rng = np.random.default_rng([seed, index])
    solution = generate_solution(box_rows, box_cols, rng=rng)
    task, _ = generate_puzzle(
        box_rows,
        box_cols,
        solution=solution,
        is_unique=lambda t: other_solution(t, solution) is None,
        minimal=True,
        rng=rng,
    )
    flat_task = [v for row in task.grid for v in row]
    flat_sol = [v for row in solution for v in row]
    return flat_task, flat_sol, guesses_needed(task)


def make_hard_sudoku(
    n: int,
    *,
    seed: int,
    box_rows: int = 3,
    box_cols: int = 3,
    start: int = 0,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """``n`` minimal unique puzzles (no given removable); puzzle ``i`` from ``[seed, start+i]``.

    Returns arrays ``puzzles`` and ``solutions`` (``[n, N*N]`` int8, 0 = blank), ``guesses``
    (``[n]`` int32, :func:`guesses_needed`) and ``givens`` (``[n]`` int16). About 30 ms per 9x9
    puzzle on one core.

    Examples
    --------
    >>> pool = make_hard_sudoku(2, seed=0, box_rows=2, box_cols=2)
    >>> pool["puzzles"].shape, bool((pool["givens"] >= 4).all())
    ((2, 16), True)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"n must be an int >= 0, got {n!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be an int >= 1, got {workers!r}")
    jobs = [(box_rows, box_cols, seed, start + i) for i in range(n)]
    results = []
    if workers == 1:
        for job in jobs:
            results.append(_one(job))
            if progress is not None:
                progress(1)
    else:
        with ProcessPoolExecutor(workers) as pool:
            for item in pool.map(_one, jobs, chunksize=16):
                results.append(item)
                if progress is not None:
                    progress(1)
    size = (box_rows * box_cols) ** 2
    puzzles = np.array([r[0] for r in results], dtype=np.int8).reshape(n, size)
    return {
        "puzzles": puzzles,
        "solutions": np.array([r[1] for r in results], dtype=np.int8).reshape(n, size),
        "guesses": np.array([r[2] for r in results], dtype=np.int32),
        "givens": (puzzles > 0).sum(axis=1).astype(np.int16),
        "box": np.array([box_rows, box_cols], dtype=np.int16),
    }


def write_pool(path: str | os.PathLike[str], pool: dict[str, np.ndarray]) -> Path:
    """Write ``pool`` to ``path`` (``.npz``, no pickled objects), atomically."""
    final = Path(path)
    tmp = final.with_name(final.name + ".tmp.npz")
    np.savez_compressed(tmp, **pool)
    os.replace(tmp, final)
    return final


def read_pool(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a pool written by :func:`write_pool` (never unpickles)."""
    from trm.data import read_sudoku_pool

    return read_sudoku_pool(path)
