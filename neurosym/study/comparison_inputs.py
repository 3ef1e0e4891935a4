"""The puzzles ``compare`` runs on: size, depth and count options, generated or read puzzle sets
(split out of :mod:`neurosym.study.comparison`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.errors import ConfigError, InvalidTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = [
    "PuzzleSet",
    "givens_range",
    "make_puzzles",
    "parse_counts",
    "parse_depths",
    "parse_size",
]


@dataclass
class PuzzleSet:
    """Puzzles to compare on, with their known solutions (None where unknown) and ids."""

    tasks: list[SudokuTask | MazeTask]
    solutions: list[Any]
    ids: list[str]
    source: str


def parse_size(kind: str, size: str) -> tuple[int, int]:
    """``"9x9"`` -> Sudoku box ``(3, 3)`` (``"6x6"`` -> ``(2, 3)``); for a maze ``(rows, cols)``.

    Examples
    --------
    >>> parse_size("sudoku", "6x6"), parse_size("maze", "11x11")
    ((2, 3), (11, 11))
    """
    try:
        a, b = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"size must look like 9x9, got {size!r}") from None
    if kind == "maze":
        if a < 2 or b < 2:
            raise ConfigError(f"maze size must be at least 2x2, got {size!r}")
        return a, b
    if a != b or a < 4:
        raise ConfigError(f"a Sudoku size is NxN with N >= 4, got {size!r}")
    rows = int(a**0.5)
    while rows > 1 and a % rows:
        rows -= 1
    return rows, a // rows


def parse_depths(text: str | Sequence[int] | None) -> tuple[int, ...] | None:
    """Depth caps from ``"1,2,4,..."`` (or a sequence), sorted and distinct; ``"none"`` or an
    empty text: no depth curve (``()``); None stays None (the default).

    Raises
    ------
    ConfigError
        On a value that is not an int in ``1..trm.inference.MAX_TEST_STEPS``.

    Examples
    --------
    >>> parse_depths("8,1,2,8"), parse_depths("none")
    ((1, 2, 8), ())
    """
    from neurosym.neural import check_max_steps

    if text is None:
        return None
    if isinstance(text, str):
        if text.strip().lower() in ("", "none"):
            return ()
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            raise ConfigError(f"depths must look like 1,2,4,8, got {text!r}") from None
    else:
        values = list(text)
    for v in values:
        try:
            check_max_steps(v)
        except ConfigError as exc:
            raise ConfigError(f"depths: {exc}") from None
    return tuple(sorted(set(values)))


def parse_counts(text: str | Sequence[int] | None) -> tuple[int, ...]:
    """K values of the trajectory curve from ``"1,2,4,8"`` (or a sequence), sorted, distinct."""
    from neurosym.neural import sampling

    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "none")):
        return ()
    try:
        values = [int(v) for v in text.split(",")] if isinstance(text, str) else list(text)
    except ValueError:
        raise ConfigError(f"trajectory_counts must look like 1,2,4,8, got {text!r}") from None
    for v in values:
        try:
            sampling(v)  # an int in 1..MAX_TRAJECTORIES
        except ConfigError as exc:
            raise ConfigError(f"trajectory_counts: {exc}") from None
    return tuple(sorted(set(values)))


def givens_range(text: str | None, n: int) -> tuple[int, int]:
    if text is None:
        default = {4: (5, 10), 6: (9, 22), 9: (22, 35)}
        return default.get(n, (int(0.45 * n * n), int(0.6 * n * n)))
    try:
        parts = [int(v) for v in str(text).split("-")]
    except ValueError:
        raise ConfigError(f"givens must be K or LO-HI, got {text!r}") from None
    lo, hi = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[-1])
    if not 0 <= lo <= hi <= n * n:
        raise ConfigError(f"givens {text!r} must lie in 0..{n * n} with LO <= HI")
    return lo, hi


def make_puzzles(
    kind: str = "sudoku",
    size: str = "9x9",
    n: int = 100,
    *,
    givens: str | None = None,
    data: str | Path | None = None,
    seed: int = 0,
) -> PuzzleSet:
    """The puzzles to compare on: read from ``data`` or generated (seeded, unique Sudoku).

    ``givens`` is ``"LO-HI"``: each generated Sudoku draws its target clue count uniformly from
    that range and is carved to a unique puzzle (never below its minimal count). ``data`` is a
    Sudoku file (``.csv`` or one puzzle per line) or a folder holding one; the first ``n``
    puzzles are used.

    Examples
    --------
    >>> ps = make_puzzles("sudoku", "6x6", 3, seed=1)
    >>> len(ps.tasks), ps.tasks[0].size
    (3, 6)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive int, got {n!r}")
    if data is not None:
        return _read_puzzles(Path(data), n)
    if kind == "sudoku":
        return _generate_sudoku(parse_size(kind, size), n, givens, seed)
    if kind == "maze":
        from tasks.generators import generate_mazes

        h, w = parse_size(kind, size)
        pairs = generate_mazes(n, size=(h, w), seed=seed)
        tasks = [p[0] if isinstance(p, tuple) else p for p in pairs]
        return PuzzleSet(tasks, [None] * n, [f"maze{i}" for i in range(n)], f"generated {size}")
    raise ConfigError(f"kind must be 'sudoku' or 'maze', got {kind!r}")


def _generate_sudoku(box: tuple[int, int], n: int, givens: str | None, seed: int) -> PuzzleSet:
    import solvers
    from tasks.generators import generate_puzzle

    side = box[0] * box[1]
    lo, hi = givens_range(givens, side)
    rng = np.random.default_rng(seed)

    def is_unique(task: SudokuTask) -> bool:
        return solvers.count_sudoku_solutions(task, 2) == 1

    tasks, sols = [], []
    for _ in range(n):
        target = int(rng.integers(lo, hi + 1))
        task, sol = generate_puzzle(*box, n_givens=target, is_unique=is_unique, rng=rng)
        tasks.append(task)
        sols.append(sol)
    label = f"generated {side}x{side}, {lo}-{hi} givens, unique, seed {seed}"
    return PuzzleSet(tasks, sols, [f"s{i}" for i in range(n)], label)


def _read_puzzles(path: Path, n: int) -> PuzzleSet:
    from tasks.datasets import load_sudoku_csv, load_sudoku_txt

    if path.is_dir():
        found = sorted(path.glob("*.csv")) + sorted(path.glob("*.txt"))
        if not found:
            raise InvalidTaskError(f"{path} holds no .csv or .txt puzzle file")
        path = found[0]
    if not path.is_file():
        raise InvalidTaskError(f"no such file: {path}")
    loader = load_sudoku_csv if path.suffix == ".csv" else load_sudoku_txt
    records = loader(path, limit=n)
    if not records:
        raise InvalidTaskError(f"{path} holds no puzzles")
    return PuzzleSet(
        [r.task for r in records],
        [r.solution for r in records],
        [str(r.id) for r in records],
        str(path),
    )
