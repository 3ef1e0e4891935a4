"""Hypothesis strategies for neurosym tasks, re-exported from :mod:`tasks.strategies`.

Use them in your own property tests::

    from hypothesis import given
    from neurosym.strategies import sudoku_tasks

    @given(sudoku_tasks(max_side=6))
    def test_solve_always_verifies(task):
        assert solve(task).verified
"""

from tasks.strategies import *  # noqa: F403
from tasks.strategies import __all__  # noqa: F401
