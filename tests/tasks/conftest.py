"""Shared helpers for the tasks tests: an independent SAT solution counter (pysat, not solvers/)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache

import pytest
from pysat.solvers import Solver

from tasks.sudoku import SudokuTask


@cache
def _base_clauses(box_rows: int, box_cols: int) -> tuple[tuple[int, ...], ...]:
    """Exactly one value per cell and every value once per row, column and box."""
    n = box_rows * box_cols

    def var(r: int, c: int, v: int) -> int:
        return (r * n + c) * n + v  # v in 1..n

    clauses: list[tuple[int, ...]] = []

    def exactly_one(lits: list[int]) -> None:
        clauses.append(tuple(lits))
        clauses.extend((-a, -b) for a, b in itertools.combinations(lits, 2))

    cells = [(r, c) for r in range(n) for c in range(n)]
    for r, c in cells:
        exactly_one([var(r, c, v) for v in range(1, n + 1)])
    units = [[(r, c) for c in range(n)] for r in range(n)]
    units += [[(r, c) for r in range(n)] for c in range(n)]
    units += [
        [(r0 + i, c0 + j) for i in range(box_rows) for j in range(box_cols)]
        for r0 in range(0, n, box_rows)
        for c0 in range(0, n, box_cols)
    ]
    for unit in units:
        for v in range(1, n + 1):
            exactly_one([var(r, c, v) for r, c in unit])
    return tuple(clauses)


def count_solutions(task: SudokuTask, limit: int = 2) -> int:
    """Number of solutions of ``task``, counting at most ``limit`` (CaDiCaL + blocking clauses)."""
    n = task.size
    with Solver(name="cadical153", bootstrap_with=_base_clauses(task.box_rows, task.box_cols)) as s:
        assumptions = [(r * n + c) * n + v for r, c, v in task.givens()]
        found = 0
        while found < limit and s.solve(assumptions=assumptions):
            found += 1
            s.add_clause([-lit for lit in s.get_model() if lit > 0])
        return found


def is_unique(task: SudokuTask) -> bool:
    return count_solutions(task, 2) == 1


@pytest.fixture(scope="session")
def sat_is_unique() -> Callable[[SudokuTask], bool]:
    return is_unique


@pytest.fixture(scope="session")
def sat_count() -> Callable[..., int]:
    return count_solutions
