"""The Examples sections of public docstrings run as doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "tasks.sudoku",
    "tasks.maze",
    "tasks.verify",
    "tasks.detect",
    "tasks.generators.sudoku",
    "tasks.generators.maze",
    "tasks.datasets",
    "tasks.encodings",
    "tasks.augment",
    "tasks.noise",
    "trm.config",
    "trm.model",
    "trm.mixers",
    "trm.losses",
    "trm.optim",
    "trm.checkpoint",
    "trm.state_tensors",
    "trm.data",
    "trm.train",
    "trm.train_config",
    "trm.slots",
    "trm.inference",
    "trm.rollout",
    "trm.step_cost",
    "solvers.sudoku_sat",
    "solvers.sudoku_cpsat",
    "solvers.sudoku_backtrack",
    "solvers.maze",
    "solvers.repair",
    "solvers.soft",
    "neurosym",
    "neurosym.api",
    "neurosym.loading",
    "neurosym.outputs",
    "neurosym.commands.common",
    "neurosym.study.analysis",
    "neurosym.study.ablate_grid",
    "neurosym.study.common",
    "neurosym.study.plots",
    "neurosym.hybrid",
    "neurosym.proposals",
    "neurosym.study.comparison_inputs",
    "neurosym.study.maze_marks",
    "neurosym.study.robust",
    "neurosym.study.tracing",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable Examples"
    assert result.failed == 0
