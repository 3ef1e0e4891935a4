"""Property-based robustness tests of your own, with neurosym's Hypothesis strategies.

Run with ``pytest examples/property_test.py``.
"""

from hypothesis import given, settings

from neurosym import NeurosymError, solve, verify
from neurosym.strategies import any_task_inputs, maze_tasks, sudoku_tasks


@settings(max_examples=25, deadline=None)
@given(sudoku_tasks(max_side=9))
def test_symbolic_answers_always_verify(task):
    result = solve(task, check_unique=False)
    assert result.verified and verify(task, result.answer).ok


@settings(max_examples=25, deadline=None)
@given(maze_tasks(max_side=12))
def test_maze_paths_are_shortest(task):
    assert solve(task).verified  # verify() checks the length against its own BFS


@settings(max_examples=50, deadline=None)
@given(any_task_inputs())
def test_anything_gives_a_result_or_a_neurosym_error(source):
    try:
        solve(source, time_limit_s=5)
    except NeurosymError:
        pass
