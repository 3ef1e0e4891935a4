"""An instrumented, readable Sudoku backtracking solver in pure Python.

Candidate bitmasks per cell, propagation of naked and hidden singles to a fixpoint,
minimum-remaining-values branching, and counters for every kind of search step. The cell and
value orders are pluggable (``cell_order`` / ``value_order``) so a learned heuristic can steer it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from solvers._sudoku_common import check_givens, check_hints, check_limit, check_time_limit
from solvers.result import SolverOutput
from tasks.errors import ConfigError, SolverTimeoutError, UnsolvableError
from tasks.sudoku import SudokuGrid, SudokuTask

__all__ = [
    "BACKEND_NAME",
    "SearchState",
    "CellOrder",
    "ValueOrder",
    "solve",
    "count_solutions",
    "propagation_order",
]

BACKEND_NAME = "backtrack"

Cell = tuple[int, int]


class SearchState:
    """A read-only view of the search at one node, handed to the ordering hooks.

    Cells are ``(row, col)``; values are 1..N. The view is only valid during the hook call.
    """

    __slots__ = ("size", "_values", "_cands")

    def __init__(self, size: int, values: list[int], cands: list[int]) -> None:
        self.size = size
        self._values = values
        self._cands = cands

    def value(self, row: int, col: int) -> int:
        """The cell's value, 0 while it is unassigned."""
        return self._values[row * self.size + col]

    def candidates(self, row: int, col: int) -> tuple[int, ...]:
        """The values the cell may still take, ascending."""
        return _bits_to_values(self._cands[row * self.size + col])

    def unassigned(self) -> list[Cell]:
        """Every unassigned cell, row-major (each has two candidates or more)."""
        n = self.size
        return [divmod(i, n) for i, v in enumerate(self._values) if not v]

    def grid(self) -> SudokuGrid:
        """The partial assignment as a grid (0 = unassigned)."""
        n = self.size
        return tuple(tuple(self._values[r * n : (r + 1) * n]) for r in range(n))


#: ``cell_order(state) -> (row, col)``: which unassigned cell to branch on.
CellOrder = Callable[[SearchState], Cell]
#: ``value_order((row, col), values) -> values``: the order to try the cell's candidates in; it
#: must return a permutation of ``values`` (dropping one would make the search incomplete).
ValueOrder = Callable[[Cell, tuple[int, ...]], Sequence[int]]


@dataclass(frozen=True)
class _Geometry:
    """Cell indices (``row * N + col``) of every unit and every cell's peers for one box shape."""

    size: int
    full: int  # bitmask with all N values
    units: tuple[tuple[int, ...], ...]
    peers: tuple[tuple[int, ...], ...]


@lru_cache(maxsize=16)
def _geometry(box_rows: int, box_cols: int) -> _Geometry:
    n = box_rows * box_cols
    units = []
    for i in range(n):
        units.append(tuple(i * n + c for c in range(n)))  # row i
        units.append(tuple(r * n + i for r in range(n)))  # column i
        r0, c0 = (i // box_rows) * box_rows, (i % box_rows) * box_cols
        units.append(
            tuple((r0 + a) * n + c0 + b for a in range(box_rows) for b in range(box_cols))
        )  # box i
    peer_sets: list[set[int]] = [set() for _ in range(n * n)]
    for unit in units:
        for cell in unit:
            peer_sets[cell].update(unit)
    peers = tuple(tuple(sorted(s - {cell})) for cell, s in enumerate(peer_sets))
    return _Geometry(size=n, full=(1 << n) - 1, units=tuple(units), peers=peers)


def _bits_to_values(mask: int) -> tuple[int, ...]:
    values = []
    while mask:
        low = mask & -mask
        values.append(low.bit_length())
        mask ^= low
    return tuple(values)


def _propagate(
    geo: _Geometry,
    values: list[int],
    cands: list[int],
    queue: deque[tuple[int, int]],
    trail: list[int] | None = None,
) -> int:
    """Assign the queued ``(cell, value)`` pairs, then naked and hidden singles to a fixpoint.

    ``values`` and ``cands`` are updated in place (an assigned cell keeps its own bit as its
    candidates). Returns the number of cells assigned, or -1 on a contradiction (then the state
    is garbage and must be dropped). Cells are appended to ``trail`` in assignment order.
    """
    peers, units, full = geo.peers, geo.units, geo.full
    assigned = 0
    while True:
        while queue:
            cell, value = queue.popleft()
            if values[cell]:
                if values[cell] != value:
                    return -1  # two singles demand different values of one cell
                continue
            bit = 1 << (value - 1)
            if not cands[cell] & bit:
                return -1  # the single's value was removed meanwhile
            values[cell] = value
            cands[cell] = bit
            assigned += 1
            if trail is not None:
                trail.append(cell)
            for peer in peers[cell]:
                mask = cands[peer]
                if mask & bit:
                    if values[peer]:
                        return -1  # a peer already holds this value
                    mask ^= bit
                    cands[peer] = mask
                    if not mask:
                        return -1  # the peer has no value left
                    if not mask & (mask - 1):
                        queue.append((peer, mask.bit_length()))  # naked single
        # Hidden singles: a value with exactly one possible cell in a unit goes there.
        for unit in units:
            once = twice = 0
            for cell in unit:
                mask = cands[cell]
                twice |= once & mask
                once |= mask
            if once != full:
                return -1  # some value has no cell left in this unit
            single = once & ~twice
            if not single:
                continue
            for cell in unit:
                if not values[cell]:
                    mask = cands[cell] & single
                    if mask:
                        if mask & (mask - 1):
                            return -1  # one cell is the only home of two values
                        queue.append((cell, mask.bit_length()))
        if not queue:
            return assigned


def _mrv_cell(values: list[int], cands: list[int]) -> int:
    """The unassigned cell with the fewest candidates, first in row-major order on ties; -1 when
    every cell is assigned."""
    best, best_count = -1, 1 << 30
    for cell, value in enumerate(values):
        if not value:
            count = cands[cell].bit_count()
            if count < best_count:
                best, best_count = cell, count
                if count == 2:  # after propagation no unassigned cell has fewer
                    break
    return best


@dataclass
class _Stats:
    decisions: int = 0
    propagations: int = 0
    nodes: int = 0

    def effort(self, backtracks: int, seconds: float) -> dict[str, float]:
        return {
            "decisions": float(self.decisions),
            "backtracks": float(backtracks),
            "propagations": float(self.propagations),
            "nodes": float(self.nodes),
            "seconds": seconds,
        }


def _root(task: SudokuTask, trail: list[int] | None = None) -> tuple[list[int], list[int], int]:
    """The state after placing the givens and propagating; raises when that alone fails."""
    check_givens(task)
    geo = _geometry(task.box_rows, task.box_cols)
    n = task.size
    values = [0] * (n * n)
    cands = [geo.full] * (n * n)
    queue = deque((r * n + c, v) for r, c, v in task.givens())
    assigned = _propagate(geo, values, cands, queue, trail)
    if assigned < 0:
        raise UnsolvableError("no solution (propagating the givens reaches a contradiction)")
    return values, cands, assigned - task.n_givens


def _search(
    task: SudokuTask,
    limit: int,
    time_limit_s: float,
    cell_order: CellOrder | None = None,
    value_order: ValueOrder | None = None,
    hints: SudokuGrid | None = None,
) -> tuple[list[list[int]], _Stats, int]:
    """Depth-first search for up to ``limit`` solutions.

    Returns the solutions found (flat value lists), the counters and the number of backtracks.
    Raises UnsolvableError only when the root propagation fails; an exhausted search returns no
    solutions.
    """
    start = time.perf_counter()
    deadline = math.inf if math.isinf(time_limit_s) else start + time_limit_s
    geo = _geometry(task.box_rows, task.box_cols)
    n = geo.size
    stats = _Stats()
    values, cands, stats.propagations = _root(task)
    solutions: list[list[int]] = []
    # One frame per open branch point: (values, cands, cell, values to try, index of next try).
    stack: list[list] = []
    node: tuple[list[int], list[int]] | None = (values, cands)
    while True:
        if node is not None:
            stats.nodes += 1
            if time.perf_counter() > deadline:
                raise SolverTimeoutError(
                    f"backtracking hit the time limit on a {n}x{n} Sudoku after {stats.nodes} nodes"
                )
            values, cands = node
            node = None
            cell = _choose_cell(values, cands, n, cell_order)
            if cell < 0:  # every cell assigned: a solution
                solutions.append(values)
                if len(solutions) >= limit:
                    break
            else:
                order = _value_order(cell, cands[cell], n, value_order, hints)
                stack.append([values, cands, cell, order, 0])
        if not stack:
            break
        # Try the next value of the innermost open branch point; close it when none is left.
        frame = stack[-1]
        parent_values, parent_cands, cell, order, index = frame
        if index == len(order):
            stack.pop()
            continue
        frame[4] = index + 1
        stats.decisions += 1
        child_values, child_cands = parent_values[:], parent_cands[:]
        assigned = _propagate(geo, child_values, child_cands, deque([(cell, order[index])]))
        if assigned > 0:
            stats.propagations += assigned - 1  # the guessed cell itself is not propagation
            node = (child_values, child_cands)
    # Every guess is undone except those on the path to the last solution when the search stops
    # there (one per open branch point).
    backtracks = stats.decisions - len(stack)
    return solutions, stats, backtracks


def _choose_cell(values: list[int], cands: list[int], n: int, cell_order: CellOrder | None) -> int:
    if cell_order is None or 0 not in values:
        return _mrv_cell(values, cands)
    choice = cell_order(SearchState(n, values, cands))
    try:
        r, c = choice
        cell = int(r) * n + int(c)
        valid = 0 <= int(r) < n and 0 <= int(c) < n and not values[cell]
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ConfigError(f"cell_order must return an unassigned (row, col), got {choice!r}")
    return cell


def _value_order(
    cell: int,
    mask: int,
    n: int,
    value_order: ValueOrder | None,
    hints: SudokuGrid | None,
) -> tuple[int, ...]:
    values = _bits_to_values(mask)
    r, c = divmod(cell, n)
    if value_order is not None:
        ordered = tuple(value_order((r, c), values))
        if sorted(ordered) != list(values):
            raise ConfigError(
                f"value_order must return a permutation of {values} for cell {(r, c)}, "
                f"got {ordered!r}"
            )
        return ordered
    if hints is not None and hints[r][c] in values:
        hint = hints[r][c]
        return (hint, *(v for v in values if v != hint))
    return values


def solve(
    task: SudokuTask,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
    hints: SudokuGrid | None = None,
    cell_order: CellOrder | None = None,
    value_order: ValueOrder | None = None,
) -> SolverOutput:
    """Solve a Sudoku by propagation and depth-first search.

    Parameters
    ----------
    task : SudokuTask
    time_limit_s : float
        Seconds allowed; the clock is read at every search node.
    seed, workers
        Accepted for a uniform backend interface and ignored: the search is sequential and
        deterministic (ties go to the first cell in row-major order, values ascend).
    hints : N x N grid, optional
        Proposed values (``0`` = none): at a branch point the hinted value is tried first.
        Ignored when ``value_order`` is given.
    cell_order : callable, optional
        ``cell_order(state) -> (row, col)`` picks the branching cell from a :class:`SearchState`;
        default: minimum remaining values.
    value_order : callable, optional
        ``value_order((row, col), values) -> values`` orders the cell's candidates; it must
        return a permutation of them. Default: ascending.

    Returns
    -------
    SolverOutput
        ``effort`` counts ``decisions`` (values guessed for a cell with two or more candidates,
        every try counted), ``backtracks`` (guesses undone), ``propagations`` (cells fixed by
        propagation, givens and guesses excluded), ``nodes`` (consistent search states expanded,
        the root included) and ``seconds``.

    Raises
    ------
    UnsolvableError
        When givens conflict (named) or the search space is exhausted.
    SolverTimeoutError
        When the time limit passes first.

    Examples
    --------
    >>> out = solve(SudokuTask.parse("1..." "...." "2..." "3..4"))
    >>> out.answer[0], out.effort["decisions"]
    ((1, 2, 4, 3), 1.0)
    """
    start = time.perf_counter()
    check_givens(task)
    limit = check_time_limit(time_limit_s)
    hint_grid = check_hints(task, hints)
    solutions, stats, backtracks = _search(
        task, 1, limit, cell_order=cell_order, value_order=value_order, hints=hint_grid
    )
    if not solutions:
        raise UnsolvableError("no solution")
    n = task.size
    flat = solutions[0]
    grid = tuple(tuple(flat[r * n : (r + 1) * n]) for r in range(n))
    effort = stats.effort(backtracks, time.perf_counter() - start)
    return SolverOutput(answer=grid, backend=BACKEND_NAME, effort=effort)


def count_solutions(
    task: SudokuTask, limit: int = 2, *, time_limit_s: float = 10.0, seed: int = 0
) -> int:
    """Count the puzzle's solutions by exhaustive search, stopping at ``limit``.

    ``seed`` is accepted and ignored (the search is deterministic).

    Returns
    -------
    int
        The number of solutions, capped at ``limit``; 0 when there is none (conflicting givens
        included).

    Raises
    ------
    InvalidTaskError
        When ``limit < 1``.
    SolverTimeoutError
        When the time limit passes before the count is settled.

    Examples
    --------
    >>> count_solutions(SudokuTask.parse("1..." "...." "2..." "3..4"), limit=10)
    3
    """
    check_limit(limit)
    time_limit = check_time_limit(time_limit_s)
    try:
        solutions, _, _ = _search(task, limit, time_limit)
    except UnsolvableError:
        return 0
    return len(solutions)


def propagation_order(task: SudokuTask) -> list[Cell]:
    """The blank cells that propagation alone fixes, in the order it fixes them.

    Propagation places the givens, then repeatedly assigns naked singles (first in, first out)
    and, when none is left, hidden singles (units scanned rows, columns, boxes by index). Cells
    it cannot fix are absent; a puzzle solved by singles alone lists every blank.

    Raises
    ------
    UnsolvableError
        When the givens conflict or propagation reaches a contradiction.

    Examples
    --------
    >>> propagation_order(SudokuTask.parse("..3." ".4.2" "21.." "..2."))[:3]
    [(1, 2), (0, 0), (0, 1)]
    """
    trail: list[int] = []
    _root(task, trail)
    n = task.size
    return [divmod(cell, n) for cell in trail if not task.grid[cell // n][cell % n]]
