"""Seeded Sudoku generators for any box shape: complete solution grids and puzzles carved from them.

Uniqueness is checked by a callable the caller passes in; this package never imports a solver.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from tasks.errors import InvalidTaskError
from tasks.generators._common import as_rng, check_int
from tasks.sudoku import MAX_SUDOKU_SIDE, SudokuGrid, SudokuTask
from tasks.verify import verify

__all__ = ["RngLike", "generate_solution", "generate_puzzle", "generate_puzzles"]

#: What the ``rng`` arguments accept: a numpy Generator (used as is), a non-negative int seed or a
#: SeedSequence (reproducible), or None (fresh OS entropy, not reproducible).
RngLike = np.random.Generator | np.random.SeedSequence | int | None

# Grids up to this side are filled by randomized backtracking, which reaches every grid (not only
# the relabelled/permuted orbit of one pattern); bigger ones use the pattern, which is instant.
_BACKTRACK_MAX_SIDE = 12
# Backtracking steps allowed per attempt before restarting with a fresh random order.
_BACKTRACK_NODE_LIMIT = 20_000
_BACKTRACK_ATTEMPTS = 3


def _check_box(box_rows: object, box_cols: object) -> tuple[int, int]:
    rows = check_int("box_rows", box_rows, 1)
    cols = check_int("box_cols", box_cols, 1)
    if rows * cols > MAX_SUDOKU_SIDE:
        raise InvalidTaskError(
            f"a {rows}x{cols} box gives a {rows * cols}x{rows * cols} grid, above the supported "
            f"maximum side {MAX_SUDOKU_SIDE}"
        )
    return rows, cols


def _pattern(box_rows: int, box_cols: int) -> np.ndarray:
    """The textbook valid grid: ``v(r, c) = (bc * (r % br) + r // br + c) % N + 1``."""
    n = box_rows * box_cols
    r = np.arange(n)[:, None]
    c = np.arange(n)[None, :]
    return (box_cols * (r % box_rows) + r // box_rows + c) % n + 1


def _shuffle(
    grid: np.ndarray,
    box_rows: int,
    box_cols: int,
    *,
    digits: Sequence[int],
    bands: Sequence[int],
    band_rows: Sequence[Sequence[int]],
    stacks: Sequence[int],
    stack_cols: Sequence[Sequence[int]],
    transpose: bool,
) -> np.ndarray:
    """Apply validity-preserving symmetries to a complete grid.

    ``digits`` relabels value ``v`` to ``digits[v-1] + 1``; ``bands`` (``box_cols`` of them) and
    ``band_rows[b]`` (each ``box_rows`` long) order the rows; ``stacks`` (``box_rows``) and
    ``stack_cols[s]`` (each ``box_cols`` long) order the columns; ``transpose`` needs a square box.
    """
    relabel = np.asarray(digits, dtype=np.int64) + 1
    out = relabel[np.asarray(grid) - 1]
    rows = [b * box_rows + i for b in bands for i in band_rows[b]]
    cols = [s * box_cols + j for s in stacks for j in stack_cols[s]]
    out = out[np.ix_(rows, cols)]
    if transpose:
        out = out.T
    return out


def _random_shuffle(
    grid: np.ndarray, box_rows: int, box_cols: int, rng: np.random.Generator
) -> np.ndarray:
    n = box_rows * box_cols
    return _shuffle(
        grid,
        box_rows,
        box_cols,
        digits=rng.permutation(n).tolist(),
        bands=rng.permutation(box_cols).tolist(),
        band_rows=[rng.permutation(box_rows).tolist() for _ in range(box_cols)],
        stacks=rng.permutation(box_rows).tolist(),
        stack_cols=[rng.permutation(box_cols).tolist() for _ in range(box_rows)],
        transpose=box_rows == box_cols and bool(rng.integers(2)),
    )


def _backtrack_fill(box_rows: int, box_cols: int, rng: np.random.Generator) -> np.ndarray | None:
    """A random complete grid by backtracking (most-constrained cell first, random value order).

    Returns None when the node budget runs out, so a rare heavy-tailed search cannot stall.
    """
    n = box_rows * box_cols
    full = (1 << n) - 1
    cells = [int(i) for i in rng.permutation(n * n)]  # random tie-breaking between equal cells
    box_of = [(i // n // box_rows) * box_rows + (i % n) // box_cols for i in range(n * n)]
    grid = [0] * (n * n)
    row_used = [0] * n
    col_used = [0] * n
    box_used = [0] * n
    budget = [_BACKTRACK_NODE_LIMIT]

    def solve(remaining: int) -> bool:
        if remaining == 0:
            return True
        budget[0] -= 1
        if budget[0] < 0:
            return False
        best, best_free, best_count = -1, 0, n + 1
        for i in cells:
            if grid[i]:
                continue
            free = full & ~(row_used[i // n] | col_used[i % n] | box_used[box_of[i]])
            count = free.bit_count()
            if count < best_count:
                best, best_free, best_count = i, free, count
                if count <= 1:
                    break
        if best_count == 0:
            return False
        r, c, b = best // n, best % n, box_of[best]
        for v in rng.permutation(n).tolist():
            bit = 1 << v
            if not best_free & bit:
                continue
            grid[best] = v + 1
            row_used[r] |= bit
            col_used[c] |= bit
            box_used[b] |= bit
            if solve(remaining - 1):
                return True
            grid[best] = 0
            row_used[r] &= ~bit
            col_used[c] &= ~bit
            box_used[b] &= ~bit
            if budget[0] < 0:
                return False
        return False

    if not solve(n * n):
        return None
    return np.array(grid, dtype=np.int64).reshape(n, n)


def _to_grid(array: np.ndarray) -> SudokuGrid:
    return tuple(tuple(int(v) for v in row) for row in array)


def generate_solution(box_rows: int, box_cols: int, *, rng: RngLike = None) -> SudokuGrid:
    """A random complete, valid Sudoku grid with ``box_rows x box_cols`` boxes.

    Grids up to 12x12 are filled by randomized backtracking and then shuffled; bigger grids start
    from the pattern grid ``(box_cols*(r % box_rows) + r // box_rows + c) % N + 1`` and apply
    random validity-preserving symmetries (relabel digits, permute bands, rows within bands,
    stacks, columns within stacks, transpose when the box is square). A 25x25 grid takes well
    under a millisecond. The same seed always gives the same grid.

    Parameters
    ----------
    box_rows, box_cols : int
        Box shape; the grid side is ``N = box_rows * box_cols`` (at most 49).
    rng : numpy Generator, SeedSequence, int or None
        Randomness source; an int seed makes the result reproducible.

    Returns
    -------
    SudokuGrid
        ``N`` rows of ``N`` ints in ``1..N``.

    Raises
    ------
    InvalidTaskError
        On a box dimension that is not a positive int, a side above 49, or a bad ``rng``.

    Examples
    --------
    >>> g = generate_solution(2, 3, rng=7)
    >>> len(g), sorted(g[0])
    (6, [1, 2, 3, 4, 5, 6])
    >>> g == generate_solution(2, 3, rng=7)
    True
    """
    box_rows, box_cols = _check_box(box_rows, box_cols)
    gen = as_rng(rng)
    base = None
    if box_rows * box_cols <= _BACKTRACK_MAX_SIDE:
        for _ in range(_BACKTRACK_ATTEMPTS):
            base = _backtrack_fill(box_rows, box_cols, gen)
            if base is not None:
                break
    if base is None:
        base = _pattern(box_rows, box_cols)
    return _to_grid(_random_shuffle(base, box_rows, box_cols, gen))


def _check_solution(solution: object, box_rows: int, box_cols: int) -> SudokuGrid:
    task = SudokuTask.from_grid(solution, box=(box_rows, box_cols))  # shape/range checks
    empty = SudokuTask.from_grid([[0] * task.size] * task.size, box=(box_rows, box_cols))
    verdict = verify(empty, task.grid)
    if not verdict.ok:
        raise InvalidTaskError(
            f"solution is not a complete valid {task.size}x{task.size} grid: "
            f"{verdict.violations[0].message}"
        )
    return task.grid


def generate_puzzle(
    box_rows: int,
    box_cols: int,
    *,
    n_givens: int | None = None,
    is_unique: Callable[[SudokuTask], bool] | None = None,
    minimal: bool = False,
    rng: RngLike = None,
    solution: SudokuGrid | Sequence[Sequence[int]] | None = None,
) -> tuple[SudokuTask, SudokuGrid]:
    """A puzzle carved from a complete grid by blanking cells in a seeded random order.

    Each cell is visited once in a random order and blanked. With ``is_unique``, a blank is kept
    only if ``is_unique(puzzle)`` still holds, so the puzzle always has exactly one solution
    (the returned one). Carving stops as soon as ``n_givens`` givens remain.

    * ``is_unique`` and ``n_givens``: stops at ``n_givens``. If no more given can be removed
      before that, the sparsest unique puzzle reached is returned (it is then minimal): the target
      is a request, not a guarantee; read the achieved count from ``puzzle.n_givens``.
    * ``is_unique`` alone (or ``minimal=True``): every cell is tried, so the result is *minimal*:
      no given can be removed without losing uniqueness. (A blank that broke uniqueness earlier
      still breaks it later, since later blanks only add solutions, so one pass suffices.)
    * ``n_givens`` alone: exactly ``n_givens`` random givens of the solution remain; the puzzle
      is solvable (the solution fits) but may have several solutions.

    Parameters
    ----------
    box_rows, box_cols : int
        Box shape; grid side ``N = box_rows * box_cols``.
    n_givens : int, optional
        Target number of givens, ``0..N*N``.
    is_unique : callable, optional
        ``is_unique(task) -> bool``: True when ``task`` has exactly one solution (for example a
        solver's uniqueness check). Called up to ``N*N`` times.
    minimal : bool
        Try every given (needs ``is_unique``; cannot be combined with ``n_givens``).
    rng : numpy Generator, SeedSequence, int or None
        Randomness for the solution (when not given) and the removal order.
    solution : grid, optional
        A complete valid grid to carve from; drawn with :func:`generate_solution` by default.

    Returns
    -------
    (SudokuTask, SudokuGrid)
        The puzzle and the solution it was carved from.

    Raises
    ------
    InvalidTaskError
        On a bad box, ``n_givens`` outside ``0..N*N``, neither ``n_givens`` nor ``is_unique``
        (nothing says where to stop), ``minimal=True`` without ``is_unique`` or with
        ``n_givens``, a non-callable ``is_unique``, or a ``solution`` that is not a complete
        valid grid of that shape.

    Examples
    --------
    >>> puzzle, solution = generate_puzzle(3, 3, n_givens=30, rng=1)
    >>> puzzle.n_givens, verify(puzzle, solution).ok
    (30, True)

    With a uniqueness check (here a tiny brute force, fine for 4x4 grids):

    >>> from itertools import product
    >>> def is_unique(task):
    ...     rows = [[p for p in product(range(1, 5), repeat=4) if len(set(p)) == 4
    ...              and all(g in (0, v) for g, v in zip(row, p))] for row in task.grid]
    ...     return sum(verify(task, grid).ok for grid in product(*rows)) == 1
    >>> puzzle, solution = generate_puzzle(2, 2, is_unique=is_unique, rng=3)
    >>> is_unique(puzzle), puzzle.n_givens < 16
    (True, True)
    """
    box_rows, box_cols = _check_box(box_rows, box_cols)
    n = box_rows * box_cols
    if n_givens is not None:
        n_givens = check_int("n_givens", n_givens, 0, n * n)
    if is_unique is not None and not callable(is_unique):
        raise InvalidTaskError(f"is_unique must be callable (task -> bool), got {is_unique!r}")
    if minimal and is_unique is None:
        raise InvalidTaskError("minimal=True needs is_unique: minimality is about uniqueness")
    if minimal and n_givens is not None:
        raise InvalidTaskError(
            f"minimal=True removes every removable given, so it cannot also stop at "
            f"n_givens={n_givens}; pass one of them"
        )
    if n_givens is None and is_unique is None:
        raise InvalidTaskError(
            "pass n_givens (how many givens to keep) or is_unique (carve while unique)"
        )
    gen = as_rng(rng)
    if solution is None:
        solution = generate_solution(box_rows, box_cols, rng=gen)
    else:
        solution = _check_solution(solution, box_rows, box_cols)

    grid = [list(row) for row in solution]
    count = n * n
    target = 0 if n_givens is None else n_givens

    def as_task() -> SudokuTask:
        return SudokuTask(box_rows=box_rows, box_cols=box_cols, grid=tuple(map(tuple, grid)))

    for index in gen.permutation(n * n).tolist():
        if count <= target:
            break
        r, c = divmod(index, n)
        value, grid[r][c] = grid[r][c], 0
        if is_unique is not None and not is_unique(as_task()):
            grid[r][c] = value
            continue
        count -= 1
    return as_task(), solution


def generate_puzzles(
    n: int,
    box_rows: int,
    box_cols: int,
    *,
    seed: int | np.random.SeedSequence,
    **kwargs: object,
) -> list[tuple[SudokuTask, SudokuGrid]]:
    """``n`` independent puzzles from one seed; puzzle ``i`` does not depend on ``n``.

    Each puzzle gets its own child of ``SeedSequence(seed)``, so a longer list extends a shorter
    one. ``kwargs`` go to :func:`generate_puzzle` (``n_givens``, ``is_unique``, ``minimal``).

    Raises
    ------
    InvalidTaskError
        On a negative ``n``, a bad seed, or any argument :func:`generate_puzzle` rejects.

    Examples
    --------
    >>> pairs = generate_puzzles(3, 2, 3, seed=0, n_givens=20)
    >>> [p.n_givens for p, _ in pairs]
    [20, 20, 20]
    >>> generate_puzzles(2, 2, 3, seed=0, n_givens=20) == pairs[:2]
    True
    """
    n = check_int("n", n, 0)
    if "rng" in kwargs:
        raise InvalidTaskError("generate_puzzles takes seed=..., not rng=...")
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        root = np.random.SeedSequence(int(seed))
    else:
        raise InvalidTaskError(f"seed must be a non-negative int or a SeedSequence, got {seed!r}")
    _check_box(box_rows, box_cols)
    return [
        generate_puzzle(box_rows, box_cols, rng=np.random.default_rng(child), **kwargs)  # type: ignore[arg-type]
        for child in root.spawn(n)
    ]
