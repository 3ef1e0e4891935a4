"""Hypothesis strategies for ARC: valid grids and tasks, and malformed grids the reader rejects.

Values are built directly (no filtering): a drawn height and width, then one colour per cell.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tasks.arc import MAX_ARC_SIDE, ArcTask, Grid
from tasks.errors import InvalidTaskError

__all__ = ["arc_grids", "arc_tasks", "malformed_arc_grids"]


def _side_arg(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ARC_SIDE:
        raise InvalidTaskError(f"{name} must be an int in 1..{MAX_ARC_SIDE}, got {value!r}")
    return value


def arc_grids(
    *, min_side: int = 1, max_side: int = MAX_ARC_SIDE, max_colour: int = 9
) -> st.SearchStrategy[Grid]:
    """Valid ARC grids: ``min_side..max_side`` rows and columns of colours ``0..max_colour``
    (tuples of row tuples, as :class:`~tasks.arc.ArcTask` stores them)."""
    low, high = _side_arg("min_side", min_side), _side_arg("max_side", max_side)
    if low > high:
        raise InvalidTaskError(f"min_side {low} exceeds max_side {high}")
    if isinstance(max_colour, bool) or not isinstance(max_colour, int) or not 0 <= max_colour <= 9:
        raise InvalidTaskError(f"max_colour must be an int in 0..9, got {max_colour!r}")
    return _grids(low, high, max_colour)


@st.composite
def _grids(draw: st.DrawFn, low: int, high: int, max_colour: int) -> Grid:
    h = draw(st.integers(low, high))
    w = draw(st.integers(low, high))
    cells = draw(st.lists(st.integers(0, max_colour), min_size=h * w, max_size=h * w))
    return tuple(tuple(cells[r * w : (r + 1) * w]) for r in range(h))


def arc_tasks(
    *, max_pairs: int = 4, max_tests: int = 2, max_side: int = 8, with_outputs: bool | None = True
) -> st.SearchStrategy[ArcTask]:
    """Valid ARC tasks of random grids (no rule relates inputs and outputs).

    ``with_outputs``: True gives every test an output, False none, None a mix.
    """
    if isinstance(max_pairs, bool) or not isinstance(max_pairs, int) or max_pairs < 1:
        raise InvalidTaskError(f"max_pairs must be a positive int, got {max_pairs!r}")
    if isinstance(max_tests, bool) or not isinstance(max_tests, int) or max_tests < 1:
        raise InvalidTaskError(f"max_tests must be a positive int, got {max_tests!r}")
    return _tasks(max_pairs, max_tests, arc_grids(max_side=max_side), with_outputs)


@st.composite
def _tasks(
    draw: st.DrawFn,
    max_pairs: int,
    max_tests: int,
    grids: st.SearchStrategy[Grid],
    with_outputs: bool | None,
) -> ArcTask:
    n_train = draw(st.integers(1, max_pairs))
    n_test = draw(st.integers(1, max_tests))
    train = [{"input": draw(grids), "output": draw(grids)} for _ in range(n_train)]
    test = []
    for _ in range(n_test):
        known = draw(st.booleans()) if with_outputs is None else with_outputs
        test.append({"input": draw(grids), "output": draw(grids) if known else None})
    task_id = draw(st.text("0123456789abcdef", min_size=8, max_size=8))
    return ArcTask(task_id=task_id, train=train, test=test)


def malformed_arc_grids() -> st.SearchStrategy[tuple[Any, str]]:
    """``(value, problem)``: a value that is no ARC grid and a word its error message holds."""
    small = arc_grids(min_side=2, max_side=5)
    return st.one_of(
        small.map(lambda g: ([list(g[0]), list(g[1])[:-1], *map(list, g[2:])], "row 1")),
        st.tuples(small, st.integers(10, 99) | st.integers(-99, -1)).map(
            lambda gv: ([[gv[1], *gv[0][0][1:]], *map(list, gv[0][1:])], "colour")
        ),
        small.map(lambda g: ([[float(g[0][0]) + 0.5, *g[0][1:]], *map(list, g[1:])], "integer")),
        small.map(lambda g: ([[str(g[0][0]), *g[0][1:]], *map(list, g[1:])], "integer")),
        st.just(([], "empty")),
        st.just(([[]], "empty")),
        st.integers(MAX_ARC_SIDE + 1, 40).map(lambda n: ([[0] * n] * n, "at most 30")),
        st.just(("0123", "list of rows")),
    )
