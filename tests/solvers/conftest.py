"""Shared fixtures for the solver tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ortools.sat.python import cp_model


@pytest.fixture
def cpsat_reports(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, object], None]:
    """``cpsat_reports(module, status)``: make every CP-SAT solver ``module`` creates report
    ``status`` (after really solving, so FEASIBLE still has values to read)."""

    def patch(module: object, status: object) -> None:
        real = module._new_solver  # type: ignore[attr-defined]

        def fake(*args: object, **kwargs: object) -> cp_model.CpSolver:
            solver = real(*args, **kwargs)
            solve = solver.solve

            def patched(*a: object, **k: object) -> object:
                solve(*a, **k)
                return status

            solver.solve = patched  # type: ignore[method-assign]
            return solver

        monkeypatch.setattr(module, "_new_solver", fake)

    return patch
