"""The default Sudoku backend: a one-hot CNF solved by CaDiCaL (python-sat).

One persistent incremental solver per box shape holds the rules; each puzzle's givens are passed as
assumptions, so a solve costs no encoding work once the shape has been seen.
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations

from pysat.solvers import NoSuchSolverError, Solver

from solvers._sudoku_common import (
    check_count_args,
    check_givens,
    check_hints,
    check_time_limit,
)
from solvers.result import SolverOutput
from tasks.errors import NeurosymError, SolverTimeoutError, UnsolvableError
from tasks.sudoku import SudokuGrid, SudokuTask

__all__ = [
    "BACKEND_NAME",
    "SOLVER_NAMES",
    "solve",
    "count_solutions",
    "warm_up",
    "clear_cache",
]

BACKEND_NAME = "sat"

#: SAT solvers tried in order; the first that python-sat can build is used. CaDiCaL first: it is the
#: fastest here, and every name below supports assumptions, conflict budgets and ``accum_stats``.
SOLVER_NAMES: tuple[str, ...] = ("cadical153", "cadical195", "glucose4", "minisat22")

# The time limit is enforced between conflict-budgeted slices of search (see _search): the
# first slice allows _FIRST_SLICE_CONFLICTS (fewer on a large per-puzzle CNF, where one
# conflict costs far more: _first_slice); later ones last about max(_SLICE_SECONDS,
# _SLICE_GROWTH * time spent so far), converted to conflicts at the measured rate, and never
# more than _SLICE_SHARE_OF_REMAINING of the time left, so a slice that runs slower than its
# rate predicted still ends near the deadline.
_FIRST_SLICE_CONFLICTS = 2_000
_MIN_SLICE_CONFLICTS = 100
_SLICE_SECONDS = 0.05
_SLICE_GROWTH = 0.5
_SLICE_SHARE_OF_REMAINING = 0.5
_MAX_SLICE_CONFLICTS = 10_000_000
#: A per-puzzle CNF's first slice is about this many clause-conflicts (clauses x conflicts):
#: 2,000 conflicts up to 100k clauses, down to 100 on a blank 49x49 (11M clauses).
_FIRST_SLICE_WORK = 200_000_000
# Clauses are handed to the solver in chunks of this many, the clock checked between chunks,
# so building a huge CNF (a blank 49x49 has 11.3M clauses: ~12 s) stops at the deadline.
_APPEND_CHUNK = 20_000

_EFFORT_KEYS = ("decisions", "conflicts", "propagations", "restarts")

#: From this grid side on, each puzzle gets its own CNF reduced by propagating its givens
#: (:class:`_PuzzleCnf`); below it, the shared per-shape solver with givens as assumptions is
#: faster because it skips building clauses (0.2 ms per hard 9x9).
PER_PUZZLE_CNF_FROM_SIDE = 20

# Each count_solutions call spends one selector variable for good. The solver's per-variable
# work (and the model python-sat copies out on every solve) grows with them, so an encoding is
# rebuilt once its spent selectors outnumber its N**3 cell variables (or this floor).
_MIN_SELECTORS_BEFORE_REBUILD = 1_000


@dataclass(eq=False)
class _Encoding:
    """The Sudoku rules for one box shape, loaded into a live solver.

    The solver is reused for every puzzle of this shape. That is sound because everything it ever
    learns is a consequence of the clauses it holds, and those are the Sudoku rules alone (the
    givens only ever enter as assumptions, and the blocking clauses of ``count_solutions`` are
    switched off for good once counting ends). Learned clauses therefore stay true for every
    later puzzle, and they make later solves faster.
    """

    box_rows: int
    box_cols: int
    solver: Solver
    solver_name: str
    next_var: int  # first variable index free for counting selectors
    build_seconds: float
    lock: threading.Lock  # held for every use of the solver (it is not thread-safe)
    alive: bool = True  # False once retired: its solver is deleted, fetch a fresh encoding

    @property
    def size(self) -> int:
        return self.box_rows * self.box_cols

    def var(self, row: int, col: int, value: int) -> int:
        """The variable meaning "cell (row, col) holds value" (value in 1..N)."""
        n = self.size
        return (row * n + col) * n + value


_CACHE: dict[tuple[int, int], _Encoding] = {}
_CACHE_LOCK = threading.Lock()


def _rule_clauses(box_rows: int, box_cols: int) -> list[list[int]]:
    """The one-hot Sudoku rules as CNF over variables ``(r * N + c) * N + v`` (v in 1..N).

    Every cell holds exactly one value, and every row, column and box holds every value exactly
    once. Only half of these constraints are logically needed; the redundant half (the "extended
    encoding") lets unit propagation find hidden singles, which is much faster to solve.
    Each exactly-one is an at-least-one clause plus pairwise at-most-one clauses: on N <= 49 that
    stays small enough, and it propagates as strongly as any other at-most-one encoding.
    """
    n = box_rows * box_cols

    def var(r: int, c: int, v: int) -> int:
        return (r * n + c) * n + v

    groups: list[list[int]] = []
    values = range(1, n + 1)
    for r in range(n):
        for c in range(n):
            groups.append([var(r, c, v) for v in values])  # cell (r, c) holds one value
    for v in values:
        for i in range(n):
            groups.append([var(i, c, v) for c in range(n)])  # row i holds v once
            groups.append([var(r, i, v) for r in range(n)])  # column i holds v once
            r0, c0 = (i // box_rows) * box_rows, (i % box_rows) * box_cols
            groups.append(  # box i holds v once
                [var(r0 + a, c0 + b, v) for a in range(box_rows) for b in range(box_cols)]
            )
    clauses: list[list[int]] = []
    for lits in groups:
        clauses.append(lits)
        clauses.extend([-a, -b] for a, b in combinations(lits, 2))
    return clauses


def _new_solver() -> tuple[Solver, str]:
    last: Exception | None = None
    for name in SOLVER_NAMES:
        try:
            return Solver(name=name), name
        except (NoSuchSolverError, NotImplementedError, ImportError, OSError) as exc:
            last = exc  # this python-sat build lacks the solver; try the next name
    raise NeurosymError(f"python-sat has none of the SAT solvers {SOLVER_NAMES}: {last}")


def _encoding(box_rows: int, box_cols: int) -> _Encoding:
    """The cached encoding of a box shape, built on first use."""
    key = (box_rows, box_cols)
    with _CACHE_LOCK:
        enc = _CACHE.get(key)
        if enc is None:
            start = time.perf_counter()
            solver, name = _new_solver()
            try:
                solver.append_formula(_rule_clauses(box_rows, box_cols))
            except Exception as exc:
                solver.delete()
                raise NeurosymError(f"SAT solver {name} rejected the Sudoku rules: {exc}") from exc
            n = box_rows * box_cols
            enc = _Encoding(
                box_rows=box_rows,
                box_cols=box_cols,
                solver=solver,
                solver_name=name,
                next_var=n * n * n + 1,
                build_seconds=time.perf_counter() - start,
                lock=threading.Lock(),
            )
            _CACHE[key] = enc
        return enc


@contextmanager
def _held_encoding(box_rows: int, box_cols: int) -> Iterator[_Encoding]:
    """The shape's live encoding with its lock held.

    Another thread may retire the encoding while this one waits for its lock; then a fresh one
    is fetched instead of using a deleted solver.
    """
    while True:
        enc = _encoding(box_rows, box_cols)
        with enc.lock:
            if enc.alive:
                yield enc
                return


def _retire(enc: _Encoding) -> None:
    """Delete an encoding's solver and forget it; the caller holds ``enc.lock``.

    Used after an unexpected solver error (its state is unknown) and when counting selectors
    have piled up; the next solve of the shape builds a fresh encoding.
    """
    enc.alive = False
    with _CACHE_LOCK:
        if _CACHE.get((enc.box_rows, enc.box_cols)) is enc:
            del _CACHE[(enc.box_rows, enc.box_cols)]
    try:
        enc.solver.delete()
    except Exception:  # noqa: S110 - best effort: the solver is being discarded anyway
        pass


def warm_up(box_rows: int = 3, box_cols: int = 3) -> float:
    """Build (or fetch) the persistent solver of a box shape ahead of the first solve.

    Returns the seconds the encoding took to build (measured once, when it was first built).

    Examples
    --------
    >>> warm_up(2, 2) >= 0.0
    True
    """
    return _encoding(box_rows, box_cols).build_seconds


def clear_cache() -> None:
    """Delete every persistent solver (frees their memory; the next solve rebuilds)."""
    with _CACHE_LOCK:
        encodings = list(_CACHE.values())
        _CACHE.clear()
    for enc in encodings:
        with enc.lock:
            _retire(enc)


def _assumptions(enc: _Encoding, task: SudokuTask) -> list[int]:
    return [enc.var(r, c, v) for r, c, v in task.givens()]


def _stats(solver: Solver) -> dict[str, float]:
    stats = solver.accum_stats() or {}
    return {key: float(stats.get(key, 0)) for key in _EFFORT_KEYS}


def _first_slice(enc: _Encoding | _PuzzleCnf) -> int:
    """Conflicts allowed before the clock is first read: fewer on a big per-puzzle CNF, where a
    conflict costs milliseconds (on a blank 49x49, 2,000 conflicts took 2.4 s)."""
    if isinstance(enc, _PuzzleCnf):
        by_size = _FIRST_SLICE_WORK // max(enc.n_clauses, 1)
        return int(min(max(by_size, _MIN_SLICE_CONFLICTS), _FIRST_SLICE_CONFLICTS))
    return _FIRST_SLICE_CONFLICTS


def _search(enc: _Encoding | _PuzzleCnf, assumptions: list[int], deadline: float) -> bool:
    """Run the solver under assumptions until it answers or the deadline passes.

    CaDiCaL in python-sat has no ``interrupt()`` (it raises NotImplementedError, and the C call
    holds the GIL, so no other thread can stop it either), so the time limit is enforced by
    solving in conflict-budgeted slices and checking the clock between them. A slice resumes
    where the last stopped: learned clauses and phases are kept, only the trail restarts.

    Raises
    ------
    SolverTimeoutError
        When the deadline passes before the solver decides.
    """
    solver = enc.solver
    budget = _first_slice(enc)
    search_start = time.perf_counter()
    if deadline - search_start <= 0:
        raise _timeout(enc.solver_name, enc.size, "before the search started")
    while True:
        start = time.perf_counter()
        solver.conf_budget(budget)
        answer = solver.solve_limited(assumptions=assumptions)
        if answer is not None:
            return bool(answer)
        now = time.perf_counter()
        remaining = deadline - now
        if remaining <= 0:
            raise _timeout(enc.solver_name, enc.size, "before deciding it")
        # Every new slice restarts the search (learned clauses kept), which costs; so slices
        # grow with the time already spent (about 1.5x each), keeping their number
        # logarithmic, and never take more than a share of the time left (the conflict rate
        # drifts, so a slice may run slower than predicted). An unfinished slice used its
        # whole budget, which gives the conflict rate to convert seconds into conflicts.
        target = min(
            max(_SLICE_SECONDS, _SLICE_GROWTH * (now - search_start)),
            _SLICE_SHARE_OF_REMAINING * remaining,
        )
        rate = budget / max(now - start, 1e-6)
        budget = int(min(max(rate * target, _MIN_SLICE_CONFLICTS), _MAX_SLICE_CONFLICTS))


def _timeout(solver_name: str, size: int, when: str) -> SolverTimeoutError:
    return SolverTimeoutError(
        f"SAT ({solver_name}) hit the time limit on a {size}x{size} Sudoku {when}"
    )


@dataclass(eq=False)
class _PuzzleCnf:
    """One puzzle's own CNF: only the (cell, value) pairs left after propagating the givens.

    For large grids this beats the shared solver: the clauses ruled out by the givens are never
    built, and propagation in Python (naked and hidden singles to a fixpoint) fixes many cells
    before the SAT solver starts. On generated minimal 25x25 puzzles it solved 5-10x faster than
    the shared-solver encoding with givens as assumptions.
    """

    size: int
    solver: Solver
    solver_name: str
    var_of: dict[tuple[int, int, int], int]  # (row, col, value) -> variable
    fixed: dict[tuple[int, int], int]  # cells decided before search
    build_seconds: float
    n_clauses: int

    def read_grid(self, model: list[int]) -> SudokuGrid:
        n = self.size
        grid = [[0] * n for _ in range(n)]
        for (r, c), v in self.fixed.items():
            grid[r][c] = v
        true = {lit for lit in model if lit > 0}
        for (r, c, v), var in self.var_of.items():
            if var in true:
                grid[r][c] = v
        return tuple(tuple(row) for row in grid)


def _propagate(task: SudokuTask, deadline: float = math.inf) -> list[set[int]] | None:
    """Candidates per cell (row-major) after naked and hidden singles reach a fixpoint, or None
    when a cell or a unit runs out of options (no solution).

    Raises ``_Expired`` once ``deadline`` (a ``time.perf_counter()`` value) has passed."""
    n = task.size
    units = [[r * n + c for r, c in cells] for _, cells in task.units()]
    peers: list[set[int]] = [set() for _ in range(n * n)]
    for unit in units:
        for i in unit:
            peers[i].update(unit)
    for i in range(n * n):
        peers[i].discard(i)
    _check_deadline(deadline)
    cand = [set(range(1, n + 1)) for _ in range(n * n)]
    queue = [(r * n + c, v) for r, c, v in task.givens()]
    assigned: set[int] = set()
    while True:
        _check_deadline(deadline)
        while queue:
            i, v = queue.pop()
            if i in assigned:
                if cand[i] != {v}:
                    return None
                continue
            if v not in cand[i]:
                return None
            cand[i] = {v}
            assigned.add(i)
            for j in peers[i]:
                if v in cand[j]:
                    cand[j].discard(v)
                    if not cand[j]:
                        return None
                    if len(cand[j]) == 1:
                        queue.append((j, next(iter(cand[j]))))
        # hidden singles: a value with one place left in a unit goes there
        for unit in units:
            _check_deadline(deadline)  # one pass costs ~50 ms on a blank 25x25
            places: dict[int, list[int]] = {}
            for i in unit:
                for v in cand[i]:
                    places.setdefault(v, []).append(i)
            if len(places) < n:
                return None
            for v, where in places.items():
                if len(where) == 1 and where[0] not in assigned:
                    queue.append((where[0], v))
        if not queue:
            return cand


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a per-puzzle CNF is built.

    The build allocates ~10^5 small acyclic objects (candidate sets, clause lists) per 25x25,
    enough to trigger full collections; in a process holding torch and a loaded model one such
    collection took 0.2-0.28 s, which alone broke a 0.05 s time limit. Reference counting still
    frees everything the build drops; collection resumes (if it was on) when the build ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Expired(Exception):
    """The deadline passed while a per-puzzle CNF was being built (internal)."""


def _check_deadline(deadline: float) -> None:
    """Raise ``_Expired`` once ``deadline`` (a ``time.perf_counter()`` value) has passed."""
    if time.perf_counter() > deadline:
        raise _Expired


def _puzzle_cnf(task: SudokuTask, deadline: float = math.inf) -> _PuzzleCnf | None:
    """Build the reduced CNF of ``task``; None when propagation alone proves no solution.

    Propagation and the clauses are checked against ``deadline`` as they go (the clauses are
    added to the solver in chunks), so a CNF too big to build in time stops near the deadline.

    Raises
    ------
    SolverTimeoutError
        When ``deadline`` passes before the CNF is complete.
    """
    start = time.perf_counter()
    n = task.size
    solver, solver_name = _new_solver()
    try:
        with _gc_paused():
            cnf = _build_puzzle_cnf(task, solver, solver_name, deadline)
    except _Expired:
        solver.delete()
        raise _timeout(solver_name, n, "while building its CNF") from None
    except NeurosymError:
        solver.delete()
        raise
    except Exception as exc:
        solver.delete()
        raise NeurosymError(f"SAT solver {solver_name} rejected the Sudoku CNF: {exc}") from exc
    if cnf is None:
        solver.delete()
        return None
    var_of, fixed, n_clauses = cnf
    return _PuzzleCnf(
        size=n,
        solver=solver,
        solver_name=solver_name,
        var_of=var_of,
        fixed=fixed,
        build_seconds=time.perf_counter() - start,
        n_clauses=n_clauses,
    )


def _build_puzzle_cnf(
    task: SudokuTask, solver: Solver, solver_name: str, deadline: float
) -> tuple[dict[tuple[int, int, int], int], dict[tuple[int, int], int], int] | None:
    """Propagate, then add the reduced clauses to ``solver``: ``(var_of, fixed, n_clauses)``,
    or None when propagation proves no solution. Raises ``_Expired`` past ``deadline``."""
    n = task.size
    cand = _propagate(task, deadline)
    if cand is None:
        return None
    fixed = {divmod(i, n): next(iter(vs)) for i, vs in enumerate(cand) if len(vs) == 1}
    var_of: dict[tuple[int, int, int], int] = {}
    for i, vs in enumerate(cand):
        if i % n == 0:  # once per row: numbering a blank 36x36 takes ~90 ms
            _check_deadline(deadline)
        if len(vs) > 1:
            r, c = divmod(i, n)
            for v in sorted(vs):
                var_of[r, c, v] = len(var_of) + 1
    clauses: list[list[int]] = []
    added = 0

    def exactly_one(lits: list[int]) -> None:
        nonlocal added
        clauses.append(lits)
        clauses.extend([-a, -b] for a, b in combinations(lits, 2))
        if len(clauses) >= _APPEND_CHUNK:
            _check_deadline(deadline)
            solver.append_formula(clauses)
            added += len(clauses)
            clauses.clear()
            _check_deadline(deadline)

    _check_deadline(deadline)
    cell_vars: dict[tuple[int, int], list[int]] = {}
    for (r, c, _v), var in var_of.items():
        cell_vars.setdefault((r, c), []).append(var)
    for lits in cell_vars.values():
        exactly_one(lits)  # each open cell holds one of its candidates
    for _name, cells in task.units():
        _check_deadline(deadline)
        open_cells = [(r, c) for r, c in cells if (r, c) not in fixed]
        done = {fixed[cell] for cell in cells if cell in fixed}
        for v in range(1, n + 1):
            if v in done:
                continue
            # value v goes in exactly one open cell of this unit
            exactly_one([var_of[r, c, v] for r, c in open_cells if (r, c, v) in var_of])
    solver.append_formula(clauses)
    added += len(clauses)
    _check_deadline(deadline)
    return var_of, fixed, added


def _per_puzzle(task: SudokuTask) -> bool:
    return task.size >= PER_PUZZLE_CNF_FROM_SIDE


def _solve_own_cnf(task: SudokuTask, limit: float) -> SolverOutput:
    start = time.perf_counter()
    deadline = start + limit  # building the CNF counts: it is part of this puzzle's work
    cnf = _puzzle_cnf(task, deadline)
    if cnf is None:
        raise UnsolvableError("no solution (propagating the givens empties a cell or a unit)")
    try:
        found = _search(cnf, [], deadline)
        stats = _stats(cnf.solver)
        grid = cnf.read_grid(cnf.solver.get_model()) if found else None
    except NeurosymError:
        raise
    except Exception as exc:
        raise NeurosymError(f"SAT solver {cnf.solver_name} failed: {exc}") from exc
    finally:
        cnf.solver.delete()
    if grid is None:
        raise UnsolvableError("no solution")
    effort = dict(stats)
    effort["cnf_variables"] = float(len(cnf.var_of))
    effort["propagated_cells"] = float(len(cnf.fixed) - task.n_givens)
    effort["build_seconds"] = cnf.build_seconds
    effort["seconds"] = time.perf_counter() - start
    return SolverOutput(answer=grid, backend=BACKEND_NAME, effort=effort)


def _count_own_cnf(task: SudokuTask, limit: int, time_limit: float) -> int:
    deadline = time.perf_counter() + time_limit
    cnf = _puzzle_cnf(task, deadline)
    if cnf is None:
        return 0
    count = 0
    try:
        while count < limit and _search(cnf, [], deadline):
            count += 1
            if count == limit or not cnf.var_of:
                break
            true = {lit for lit in cnf.solver.get_model() if lit > 0}
            cnf.solver.add_clause([-var for var in cnf.var_of.values() if var in true])
    except NeurosymError:
        raise
    except Exception as exc:
        raise NeurosymError(f"SAT solver {cnf.solver_name} failed: {exc}") from exc
    finally:
        cnf.solver.delete()
    return count


def _read_grid(enc: _Encoding, model: list[int]) -> SudokuGrid:
    """Decode a model (a list of literals, true variables positive) into the answer grid."""
    n = enc.size
    n_cell_vars = n * n * n  # variables past this are counting selectors
    flat = [0] * (n * n)
    for lit in model:
        if 0 < lit <= n_cell_vars:
            cell, value = divmod(lit - 1, n)
            flat[cell] = value + 1
    if 0 in flat:  # pragma: no cover - the cell clauses force one true value per cell
        raise NeurosymError(f"SAT model leaves cell {divmod(flat.index(0), n)} empty")
    return tuple(tuple(flat[r * n : (r + 1) * n]) for r in range(n))


def solve(
    task: SudokuTask,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
    hints: SudokuGrid | None = None,
) -> SolverOutput:
    """Solve a Sudoku with the persistent SAT solver of its box shape.

    Parameters
    ----------
    task : SudokuTask
        Any box shape; the first puzzle of a shape builds its encoding (cached afterwards).
    time_limit_s : float
        Seconds allowed. On grids of side >= ``PER_PUZZLE_CNF_FROM_SIDE`` (a CNF per puzzle)
        building that CNF counts against it; below, the shape's shared encoding is built once
        (at most ~0.1 s, for 16x16) and only the search counts. The limit is checked between
        bounded conflict slices, so the call returns or raises within about 10% of it.
    seed, workers
        Accepted for a uniform backend interface and ignored: the search is sequential and
        deterministic for a given history of the shape's solver.
    hints : N x N grid, optional
        Validated and ignored (a SAT solver takes no value proposals here; use CP-SAT's hints).

    Returns
    -------
    SolverOutput
        ``effort`` holds this solve's ``decisions``, ``conflicts``, ``propagations``,
        ``restarts`` and ``seconds``.

    Raises
    ------
    UnsolvableError
        When givens conflict (named) or the puzzle has no solution.
    SolverTimeoutError
        When the time limit passes first.

    Examples
    --------
    >>> out = solve(SudokuTask.parse("..3." ".4.2" "21.." "..2."))
    >>> out.answer[0], out.backend
    ((1, 2, 3, 4), 'sat')
    """
    check_givens(task)
    limit = check_time_limit(time_limit_s)
    check_hints(task, hints)
    if _per_puzzle(task):
        return _solve_own_cnf(task, limit)
    with _held_encoding(task.box_rows, task.box_cols) as enc:
        start = time.perf_counter()
        try:
            before = _stats(enc.solver)
            found = _search(enc, _assumptions(enc, task), start + limit)
            after = _stats(enc.solver)
            grid = _read_grid(enc, enc.solver.get_model()) if found else None
        except NeurosymError:
            raise
        except Exception as exc:
            _retire(enc)
            raise NeurosymError(f"SAT solver {enc.solver_name} failed: {exc}") from exc
        seconds = time.perf_counter() - start
    if grid is None:
        raise UnsolvableError("no solution")
    effort = {key: after[key] - before[key] for key in _EFFORT_KEYS}
    effort["seconds"] = seconds
    return SolverOutput(answer=grid, backend=BACKEND_NAME, effort=effort)


def count_solutions(
    task: SudokuTask, limit: int = 2, *, time_limit_s: float = 10.0, seed: int = 0
) -> int:
    """Count the puzzle's solutions, stopping at ``limit``.

    Each solution found is excluded by a blocking clause over the blank cells, guarded by a fresh
    selector literal that is assumed true while counting; afterwards the unit clause ``-selector``
    is added, which switches those blocking clauses off for good and keeps the shared solver equal
    to the plain Sudoku rules. ``seed`` is accepted and ignored.

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
    time_limit = check_count_args(task, limit, time_limit_s)
    if time_limit is None:
        return 0
    if _per_puzzle(task):
        return _count_own_cnf(task, limit, time_limit)
    n = task.size
    blanks = [(r, c) for r in range(n) for c in range(n) if not task.grid[r][c]]
    with _held_encoding(task.box_rows, task.box_cols) as enc:
        deadline = time.perf_counter() + time_limit
        selector = enc.next_var
        enc.next_var += 1
        assumptions = [*_assumptions(enc, task), selector]
        count = 0
        try:
            while count < limit and _search(enc, assumptions, deadline):
                count += 1
                if count == limit or not blanks:
                    break
                grid = _read_grid(enc, enc.solver.get_model())
                # "not this solution": the givens are fixed, so the blanks alone tell it apart
                blocking = [-selector, *(-enc.var(r, c, grid[r][c]) for r, c in blanks)]
                enc.solver.add_clause(blocking)
        except NeurosymError:
            raise
        except Exception as exc:
            _retire(enc)
            raise NeurosymError(f"SAT solver {enc.solver_name} failed: {exc}") from exc
        finally:
            if enc.alive:
                try:
                    enc.solver.add_clause([-selector])  # switch this count's blocking clauses off
                except Exception:
                    _retire(enc)
            if enc.alive and enc.next_var - n**3 > max(n**3, _MIN_SELECTORS_BEFORE_REBUILD):
                _retire(enc)
    return count
