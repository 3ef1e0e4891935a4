"""Symbolic ARC solver: a search over compositions of grid transformations (see ``dsl``).

``solve(task, time_limit_s=...)`` returns up to two attempts per test input, each from a program
that reproduces every demonstration pair; no program found means no attempt, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solvers._sudoku_common import check_time_limit
from solvers.arc.dsl import Program, Step
from solvers.arc.search import ArcSearchOutput, Candidate, search
from tasks.arc import MAX_ATTEMPTS, ArcTask
from tasks.errors import ConfigError, UnsupportedTaskError

__all__ = [
    "ArcSearchOutput",
    "ArcSolverOutput",
    "Candidate",
    "DEFAULT_MAX_DEPTH",
    "Program",
    "Step",
    "search",
    "solve",
]

#: Deepest composition tried; the time limit usually stops the search first.
DEFAULT_MAX_DEPTH = 4

Grid = tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class ArcSolverOutput:
    """The attempts per test input, the program behind each, and the search effort.

    ``answer[i]`` holds up to two attempt grids for test input ``i`` (empty when no program
    fits the demonstrations); ``programs[k]`` printed the ``k``-th attempt of every test input.
    """

    answer: tuple[tuple[Grid, ...], ...]
    programs: tuple[str, ...]
    backend: str = "search"
    effort: dict[str, float] = field(default_factory=dict)


def solve(
    task: ArcTask, *, time_limit_s: float = 10.0, max_depth: int = DEFAULT_MAX_DEPTH
) -> ArcSolverOutput:
    """Search programs for ``task`` for at most ``time_limit_s`` seconds.

    Raises
    ------
    UnsupportedTaskError : ``task`` is not an :class:`ArcTask`.
    ConfigError : a bad time limit or depth.

    Examples
    --------
    >>> t = ArcTask.from_dict({"train": [{"input": [[1, 0]], "output": [[0, 1]]},
    ...                                  {"input": [[2, 3, 0]], "output": [[0, 3, 2]]}],
    ...                        "test": [{"input": [[4, 5]]}]})
    >>> out = solve(t, time_limit_s=2)
    >>> out.programs[0], out.answer[0][0]
    ('flip_h', ((5, 4),))
    """
    if not isinstance(task, ArcTask):
        raise UnsupportedTaskError(f"the ARC solver takes an ArcTask, got {type(task).__name__}")
    time_limit_s = check_time_limit(time_limit_s)
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ConfigError(f"max_depth must be a positive int, got {max_depth!r}")
    out = search(task, time_limit_s=time_limit_s, max_depth=max_depth, attempts=MAX_ATTEMPTS)
    answer = tuple(
        tuple(tuple(tuple(int(v) for v in row) for row in c.outputs[i]) for c in out.candidates)
        for i in range(task.n_test)
    )
    return ArcSolverOutput(
        answer=answer, programs=tuple(str(c.program) for c in out.candidates), effort=out.effort
    )
