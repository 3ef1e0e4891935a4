"""``solve()`` and ``count_solutions()``: the public entry points, by task kind and method.

The only place that joins tasks, solvers and (later) trm. Every answer goes through
``tasks.verify`` before it is returned; ``verified`` is that verdict, never a solver's claim.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

import solvers
from neurosym.loading import load_task
from tasks.arc import ArcTask
from tasks.errors import ConfigError, InvalidTaskError, SolverTimeoutError, UnsupportedTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import Verification, verify

__all__ = ["METHODS", "Attempt", "SolveResult", "count_solutions", "load_task", "solve"]

METHODS = ("symbolic", "neural", "hybrid")
#: Mazes with more free cells than this skip the shortest-path count behind ``unique``.
_MAZE_UNIQUE_MAX_CELLS = 300_000
#: Time a maze's verification is expected to take, as a multiple of its search's.
_MAZE_VERIFY_COST = 2.0


class Attempt(BaseModel):
    """How one ARC attempt was made: the stage that produced it (``"symbolic"``: a program
    search; ``"neural"``: the network; ``"both"``: a program and the network gave the same grid;
    ``"mixed"``: in ``SolveResult.attempts`` only, test inputs whose ``k``-th attempts came from
    different sources) and, for a program, the program (``str`` of it, e.g.
    ``"flip_h | crop_bbox(colour=3)"``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    program: str | None = None


class SolveResult(BaseModel):
    """What :func:`solve` returns.

    Attributes
    ----------
    task : the task that was solved.
    answer : Sudoku: a tuple of row tuples; maze: a list of ``(row, col)`` from start to goal;
        ARC: per test input, a tuple of up to two attempt grids (empty when no program fits
        the demonstrations: no guess is made).
    verified : True only when :func:`tasks.verify.verify` accepted ``answer`` (ARC: every test
        output is known and one of its two attempts matches it; a task without test outputs is
        never verified, its ``verification`` says ``unverified``).
    verification : the oracle's full verdict (violations, if any).
    method, backend : how the answer was found.
    time_s : wall time of the search itself (parsing, importing the engine, verification and the
        uniqueness check excluded; those are in ``verify_time_s`` and
        ``effort['unique_check_s']``). The SAT backend's first puzzle of a box shape includes
        building that shape's encoding (about 10 ms for 9x9, 0.6 s for 25x25).
    effort : the backend's search counters (decisions, conflicts, branches, nodes...).
    unique : True/False when established (Sudoku: a second solution was looked for; maze: the
        number of shortest paths was counted), None when not checked.
    stage : ``method="hybrid"`` only: ``"neural"`` (the network's answer verified as is),
        ``"repair"`` (the fewest cells changed) or ``"fallback"`` (a full symbolic search).
    cells_changed : hybrid: cells of the network's proposal the final answer changes.
    stage_times : hybrid: seconds per stage (``neural`` is the task's share of batched inference,
        model loading excluded: that is ``effort['model_load_s']``).
    overridden_givens : ``givens="soft"``: ``(row, col, given, answer value)`` for every given
        the answer overrides; ``verified`` then means the answer is a valid grid agreeing with
        every other given.
    attempts : ARC: how attempt ``k`` of every test input (``answer[i][k]``) was made.
    test_attempts : ARC: per test input ``i``, how each of its attempts was made
        (``test_attempts[i][k]`` for ``answer[i][k]``); neural and hybrid rank each test input
        on its own, so on a task with several test inputs their sources can differ.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: SudokuTask | MazeTask | ArcTask
    answer: Any
    verified: bool
    verification: Verification
    method: str
    backend: str
    time_s: float
    verify_time_s: float
    effort: dict[str, float]
    unique: bool | None = None
    stage: str | None = None
    cells_changed: int | None = None
    stage_times: dict[str, float] = {}
    overridden_givens: tuple[tuple[int, int, int, int], ...] = ()
    attempts: tuple[Attempt, ...] = ()
    test_attempts: tuple[tuple[Attempt, ...], ...] = ()

    def summary(self) -> dict[str, Any]:
        """The result as plain JSON-ready data, without the task."""
        data = self.model_dump(mode="json", exclude={"task"})
        data["kind"] = self.task.kind
        return data


def solve(
    task: SudokuTask | MazeTask | ArcTask | str | os.PathLike[str],
    method: Literal["symbolic", "neural", "hybrid"] = "symbolic",
    backend: str | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    *,
    workers: int = 1,
    box: tuple[int, int] | None = None,
    check_unique: bool = True,
    model: Any = None,
    givens: Literal["hard", "soft"] = "hard",
    max_steps: int | None = None,
    trajectories: int = 1,
    noise: float | None = None,
    select: Literal["halt", "first", "vote", "verify"] | None = None,
) -> SolveResult:
    """Solve a task and return a verified answer with how it was found.

    Parameters
    ----------
    task : SudokuTask, MazeTask, ArcTask, puzzle text (an 81-character line, a grid, an ASCII
        maze, JSON, ARC's ``{"train": ..., "test": ...}``) or the path of a file holding one.
    method : ``"symbolic"`` (exact solvers), ``"neural"`` (the TRM alone; its answer is
        verified, and a wrong one comes back with ``verified=False``) or ``"hybrid"`` (the TRM
        proposes; a wrong proposal is repaired by changing the fewest cells, else a full search
        runs; ``stage`` says which produced the answer). ARC (with ``model=``, see
        :mod:`neurosym.arc_hybrid`): ``"neural"`` fits the task's puzzle embedding on its
        demonstrations and votes over augmented views (up to two attempts per test input,
        stage ``"neural"``); ``"hybrid"`` puts grids of programs that reproduce every
        demonstration first and fills the two attempts with the network's (``attempts`` and
        ``test_attempts`` say ``"symbolic"``, ``"neural"`` or ``"both"`` per attempt).
    backend : Sudoku: ``"sat"`` (default, fastest), ``"cpsat"``, ``"constraint"``,
        ``"backtrack"`` (instrumented search-effort counters). Maze: ``"bfs"`` (default) or
        ``"networkx"``. ARC: ``"search"`` (the only one: a program search that returns within
        ``time_limit_s`` plus a little; ``effort`` has ``programs_tried`` and
        ``depth_reached``; the hybrid's search gets at most half the limit).
    time_limit_s : time limit in seconds for the search and (symbolic Sudoku) the uniqueness
        check together: the check gets what the search left, and when it cannot finish in
        that, the answer still comes back with ``unique=None`` and
        ``effort['unique_check_timed_out'] = 1``. Neural and hybrid: one deadline for every
        stage (loading the model excluded, as importing an engine is). The network stops
        between supervision steps, never starting one it does not expect to finish in time;
        ``"neural"`` returns the answer of its last step (verified or not, with
        ``effort['trm_timed_out'] = 1``); ``"hybrid"`` gives its network at most half the
        limit and verifies, repairs or searches in the rest (see :mod:`neurosym.hybrid`).
        ARC: the embedding fit (at most :data:`neurosym.arc_hybrid.ARC_FIT_STEPS` steps) stops
        at 80% of the network's time, the vote over views takes the rest; the hybrid's program
        search runs first with at most half the limit.
    seed, workers : passed to backends that use them (CP-SAT); ``seed`` also seeds the
        trajectories' noise (ARC: the views and the embedding fit).
    box : ``(box_rows, box_cols)`` when a Sudoku's box can't be inferred from its size.
    check_unique : also establish whether the answer is the only one (``unique``); costs about
        one more search (symbolic only).
    model : for ``method="neural"`` / ``"hybrid"``: a checkpoint path or a loaded model
        (:func:`trm.inference.load_model`); None picks a shipped default covering the task.
        ARC: a checkpoint of :func:`trm.arc.save_arc_model` or what
        :func:`trm.arc.load_arc_model` returns; no ARC model ships, so None is refused.
    givens : Sudoku: ``"hard"`` (default; contradictory givens raise ``UnsolvableError``) or
        ``"soft"`` (some givens may be wrong: the answer overrides the fewest, listed in
        ``overridden_givens``; the hybrid weighs each by the network's confidence in it).
    max_steps : neural / hybrid: the cap on the TRM's supervision steps, 1 to
        ``trm.inference.MAX_TEST_STEPS`` (far past the trained depth; halting still stops a
        confident answer earlier). None: :func:`neurosym.neural.default_max_steps`. ARC: the
        supervision steps every view runs (None: the model's N_sup).
    trajectories : neural / hybrid: run the network K times on the task in one batch
        (trajectory 0 without noise, the others with latent noise ``noise``, default 0.1).
    select : how one of the K answers is chosen: ``"halt"`` (highest halt probability),
        ``"first"`` (first to halt), ``"vote"`` (most frequent) or ``"verify"`` (the first that
        verifies, else ``"halt"``). Default ``"halt"`` for neural; the hybrid's default is
        ``"verify"`` (a verified trajectory is kept before any repair). ``effort`` reports
        ``trm_steps``, ``trajectories``, ``selected_trajectory`` and ``max_steps``. Not for
        ARC, whose network votes over augmented views instead (``ConfigError``).

    Returns
    -------
    SolveResult

    Raises
    ------
    InvalidTaskError : malformed task text or arguments.
    UnsolvableError : the task has no solution (names a conflict between givens if there is one).
    SolverTimeoutError : the time limit passed without an answer (neural: before the
        network's first supervision step; hybrid: before any stage gave a verified answer).
    UnsupportedTaskError : a method or backend that does not exist for this task, or no TRM
        model covering it (``method="neural"``; ARC: ``model=None``, or a grid larger than
        the model's canvas).
    ConfigError : a bad method, depth or trajectory option, or one given to ``"symbolic"``.
    CheckpointError : a ``model`` checkpoint that is missing or invalid.

    Examples
    --------
    >>> r = solve("4.....8.5.3..........7......2.....6.....8.4......1."
    ...           "......6.3.7.5..2.....1.4......")
    >>> r.verified, r.unique, r.answer[0]
    (True, True, (4, 1, 7, 3, 6, 9, 8, 2, 5))
    >>> r = solve("S.#\\n..#\\n#.G")
    >>> r.verified, len(r.answer) - 1, r.unique  # two shortest paths of 4 moves
    (True, 4, False)
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {list(METHODS)}, got {method!r}")
    if givens not in ("hard", "soft"):
        raise ConfigError(f"givens must be 'hard' or 'soft', got {givens!r}")
    knobs = _network_options(method, max_steps, trajectories, noise, select, seed)
    task = load_task(task, box=box)
    if givens == "soft" and not isinstance(task, SudokuTask):
        raise UnsupportedTaskError(
            f"givens='soft' applies to Sudoku only (a {task.kind} task has no givens)"
        )
    if isinstance(task, ArcTask):
        return _solve_arc(
            task,
            method,
            backend,
            time_limit_s,
            model=model,
            seed=seed,
            max_steps=knobs.get("max_steps"),
            sampled=(trajectories, noise, select) != (1, None, None),
        )
    if method == "hybrid":
        return _solve_hybrid(task, model, backend, time_limit_s, seed, workers, givens, knobs)
    if method == "neural":
        answer, backend_name, elapsed, effort = _solve_neural(task, model, time_limit_s, knobs)
        overridden = _disagreeing_givens(task, answer) if givens == "soft" else ()
        return _finish(task, answer, "neural", backend_name, elapsed, effort, None, overridden)
    if givens == "soft":
        return _solve_soft(task, time_limit_s, seed, workers)
    if isinstance(task, SudokuTask):
        return _solve_sudoku(task, backend, time_limit_s, seed, workers, check_unique)
    return _solve_maze(task, backend, time_limit_s, check_unique)


def _network_options(
    method: str,
    max_steps: int | None,
    trajectories: int,
    noise: float | None,
    select: str | None,
    seed: int,
) -> dict[str, Any]:
    """The checked test-time options for the network (rejected for ``"symbolic"``)."""
    if method == "symbolic":
        given = [
            name
            for name, value, default in (
                ("max_steps", max_steps, None),
                ("trajectories", trajectories, 1),
                ("noise", noise, None),
                ("select", select, None),
            )
            if value != default
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to method "
                "'neural' or 'hybrid', not 'symbolic'"
            )
        return {}
    from neurosym.neural import check_max_steps, sampling

    k, noise, select = sampling(trajectories, noise, select)
    return {
        "max_steps": check_max_steps(max_steps),
        "trajectories": k,
        "noise": noise,
        "select": select,
        "seed": seed,
    }


def _solve_sudoku(
    task: SudokuTask,
    backend: str | None,
    time_limit_s: float,
    seed: int,
    workers: int,
    check_unique: bool,
) -> SolveResult:
    backend = backend or solvers.DEFAULT_SUDOKU_BACKEND
    solvers.sudoku_backend(backend)  # import the engine before the clock starts
    start = time.perf_counter()
    out = solvers.solve_sudoku(
        task, backend=backend, time_limit_s=time_limit_s, seed=seed, workers=workers
    )
    elapsed = time.perf_counter() - start
    effort = dict(out.effort)
    unique = out.unique
    if check_unique and unique is None:
        # The default SAT counter is the cheapest way to look for a second solution. It gets
        # what is left of the time limit; an answer found in time is kept (``unique`` stays
        # None, "not checked") when the check cannot finish in the rest.
        t0 = time.perf_counter()
        left = time_limit_s - (t0 - start)
        if left > 0:
            try:
                unique = solvers.count_sudoku_solutions(task, 2, time_limit_s=left) == 1
            except SolverTimeoutError:
                effort["unique_check_timed_out"] = 1.0
        else:
            effort["unique_check_timed_out"] = 1.0
        effort["unique_check_s"] = time.perf_counter() - t0
    return _finish(task, out.answer, "symbolic", out.backend, elapsed, effort, unique)


def _solve_maze(
    task: MazeTask, backend: str | None, time_limit_s: float, check_unique: bool
) -> SolveResult:
    backend = backend or solvers.DEFAULT_MAZE_BACKEND
    importlib.import_module("solvers.maze")  # import scipy/networkx before the clock starts
    start = time.perf_counter()
    out = solvers.solve_maze(task, backend=backend, time_limit_s=time_limit_s)
    elapsed = time.perf_counter() - start
    # Verifying the path (an independent BFS plus a check of every step) costs 1.5-2.6x the
    # search on 301x301 and 1001x1001 mazes; the uniqueness check (two BFS) about as much as
    # the search. Both count against the limit, so the answer is only returned when they fit.
    left = time_limit_s - elapsed
    if left < _MAZE_VERIFY_COST * elapsed:
        raise SolverTimeoutError(
            f"maze search took {elapsed:.3f} s of the {time_limit_s:g} s limit; verifying its "
            f"path takes about {_MAZE_VERIFY_COST:g}x that again, past the limit (raise "
            f"time_limit_s)"
        )
    effort = dict(out.effort)
    unique = out.unique
    if check_unique and unique is None and task.height * task.width <= _MAZE_UNIQUE_MAX_CELLS:
        if left >= (_MAZE_VERIFY_COST + 1) * elapsed:
            t0 = time.perf_counter()
            unique = solvers.count_maze_shortest_paths(task, limit=2) == 1
            effort["unique_check_s"] = time.perf_counter() - t0
        else:
            effort["unique_check_skipped"] = 1.0  # no time left for it: unique stays None
    return _finish(task, out.answer, "symbolic", out.backend, elapsed, effort, unique)


def _solve_arc(
    task: ArcTask,
    method: str,
    backend: str | None,
    time_limit_s: float,
    *,
    model: Any,
    seed: int,
    max_steps: int | None,
    sampled: bool,
) -> SolveResult:
    if backend not in (None, "search"):
        raise UnsupportedTaskError(f"unknown ARC backend {backend!r}; the ARC backend is 'search'")
    if method != "symbolic":
        from neurosym.arc_hybrid import NO_ARC_MODEL, solve_arc_hybrid, solve_arc_neural

        if model is None:
            raise UnsupportedTaskError(f"method={method!r} on an ARC task: {NO_ARC_MODEL}")
        if sampled:
            raise ConfigError(
                "trajectories, noise and select apply to Sudoku and mazes; on ARC the network "
                "votes over augmented views of the task instead"
            )
        run = solve_arc_neural if method == "neural" else solve_arc_hybrid
        out = run(task, model, time_limit_s=time_limit_s, max_steps=max_steps, seed=seed)
        return _finish(
            task,
            out.answer,
            method,
            out.backend,
            out.time_s,
            out.effort,
            None,
            stage_times=out.stage_times,
            attempts=out.attempts,
            test_attempts=out.test_attempts,
        )
    arc = importlib.import_module("solvers.arc")  # import scipy before the clock starts
    start = time.perf_counter()
    out = arc.solve(task, time_limit_s=time_limit_s)
    elapsed = time.perf_counter() - start
    attempts = tuple(Attempt(stage="symbolic", program=p) for p in out.programs)
    return _finish(
        task,
        out.answer,
        "symbolic",
        out.backend,
        elapsed,
        dict(out.effort),
        None,
        attempts=attempts,
        test_attempts=tuple(attempts[: len(a)] for a in out.answer),
    )


def _solve_neural(
    task: SudokuTask | MazeTask, model: Any, time_limit_s: float, knobs: dict[str, Any]
) -> tuple[Any, str, float, dict[str, float]]:
    """The network alone under ``time_limit_s`` (its model loaded before the clock starts)."""
    from neurosym.neural import prepare, resolve_model, solve_neural

    limit = solvers.check_time_limit(time_limit_s)
    loaded, load_s = resolve_model(task, model)
    prepare(loaded, task)
    deadline = time.perf_counter() + limit
    try:
        answer, backend_name, elapsed, effort = solve_neural(
            task, loaded, deadline=deadline, **knobs
        )
    except SolverTimeoutError as exc:
        raise SolverTimeoutError(
            f"the time limit of {limit:g} s ran out before the network's first supervision "
            f"step ({exc})"
        ) from None
    effort["model_load_s"] = load_s
    return answer, backend_name, elapsed, effort


def _solve_hybrid(
    task: SudokuTask | MazeTask,
    model: Any,
    backend: str | None,
    time_limit_s: float,
    seed: int,
    workers: int,
    givens: str,
    knobs: dict[str, Any],
) -> SolveResult:
    from neurosym.hybrid import NETWORK_SHARE, empty_proposal, propose, run_hybrid
    from neurosym.neural import prepare, resolve_model

    limit = solvers.check_time_limit(time_limit_s)
    # The model (and its step timing), the repair and the fallback's engine are loaded before
    # the clock starts, as symbolic solve imports its engine first.
    loaded, load_s = resolve_model(task, model)
    prepare(loaded, task)
    importlib.import_module("solvers.repair")
    if isinstance(task, SudokuTask):
        solvers.sudoku_backend(backend or solvers.DEFAULT_SUDOKU_BACKEND)
    else:
        importlib.import_module("solvers.maze")
    start = time.perf_counter()
    try:
        [proposal], _, loaded = propose(
            [task], loaded, deadline=start + NETWORK_SHARE * limit, **knobs
        )
    except SolverTimeoutError:  # no step fitted the network's share: the search goes unhinted
        proposal = empty_proposal(task, time.perf_counter() - start, knobs["max_steps"] or 0)
    out = run_hybrid(
        task,
        proposal,
        load_s=load_s,
        loaded=loaded,
        time_limit_s=limit,
        seed=seed,
        workers=workers,
        givens=givens,  # type: ignore[arg-type]
        backend=backend,
        deadline=start + limit,
    )
    return hybrid_result(task, out)


def hybrid_result(task: SudokuTask | MazeTask, out: Any) -> SolveResult:
    """The :class:`SolveResult` of a :class:`neurosym.hybrid.HybridOutcome` (verified again
    unless it carries ``verify``'s verdict on its answer)."""
    return _finish(
        task,
        out.answer,
        "hybrid",
        out.backend,
        sum(out.stage_times.values()),
        out.effort,
        out.unique,
        out.overridden,
        stage=out.stage,
        cells_changed=out.cells_changed,
        stage_times=out.stage_times,
        extra_verify_s=out.verify_time_s,
        verdict=out.verification,
    )


def _solve_soft(task: SudokuTask, time_limit_s: float, seed: int, workers: int) -> SolveResult:
    from solvers.soft import solve_soft_givens

    start = time.perf_counter()
    out = solve_soft_givens(task, time_limit_s=time_limit_s, seed=seed, workers=workers)
    elapsed = time.perf_counter() - start
    effort = {k: float(v) for k, v in out.effort.items()}
    return _finish(
        task, out.answer, "symbolic", "cpsat-soft", elapsed, effort, None, out.overridden
    )


def _disagreeing_givens(task: SudokuTask | MazeTask, answer: Any) -> tuple:
    """The givens a Sudoku answer contradicts, as ``(row, col, given, answer value)``."""
    if not isinstance(task, SudokuTask):
        return ()
    out = []
    for r, c, v in task.givens():
        try:
            got = int(answer[r][c])
        except (TypeError, ValueError, IndexError):
            continue
        if got != v:
            out.append((r, c, v, got))
    return tuple(out)


def relaxed_task(
    task: SudokuTask | MazeTask, overridden: tuple[tuple[int, int, int, int], ...]
) -> SudokuTask | MazeTask:
    """``task`` without the ``overridden`` givens: what a soft-givens answer is verified against.

    Examples
    --------
    >>> t = SudokuTask.parse("1..." "...." "...." "...1")
    >>> relaxed_task(t, ((0, 0, 1, 2),)).n_givens
    1
    """
    if not overridden or not isinstance(task, SudokuTask):
        return task
    grid = [list(row) for row in task.grid]
    for r, c, _given, _value in overridden:
        grid[r][c] = 0
    return SudokuTask(
        box_rows=task.box_rows, box_cols=task.box_cols, grid=tuple(tuple(row) for row in grid)
    )


def _finish(
    task: SudokuTask | MazeTask | ArcTask,
    answer: Any,
    method: str,
    backend: str,
    elapsed: float,
    effort: dict[str, float],
    unique: bool | None,
    overridden: tuple[tuple[int, int, int, int], ...] = (),
    *,
    stage: str | None = None,
    cells_changed: int | None = None,
    stage_times: dict[str, float] | None = None,
    extra_verify_s: float = 0.0,
    attempts: tuple[Attempt, ...] = (),
    test_attempts: tuple[tuple[Attempt, ...], ...] = (),
    verdict: Verification | None = None,
) -> SolveResult:
    """The result, its ``verified`` from ``verdict`` (``verify``'s on this very answer, from
    the caller) or from :func:`tasks.verify.verify` run here."""
    t0 = time.perf_counter()
    if verdict is None:
        verdict = verify(relaxed_task(task, overridden), answer)
    verify_time = time.perf_counter() - t0 + extra_verify_s
    return SolveResult(
        task=task,
        answer=answer,
        verified=verdict.ok,
        verification=verdict,
        method=method,
        backend=backend,
        time_s=elapsed,
        verify_time_s=verify_time,
        effort=effort,
        unique=unique,
        stage=stage,
        cells_changed=cells_changed,
        stage_times=stage_times or {},
        overridden_givens=tuple(overridden),
        attempts=attempts,
        test_attempts=test_attempts,
    )


def count_solutions(
    task: SudokuTask | MazeTask | str | os.PathLike[str],
    limit: int = 2,
    *,
    backend: str | None = None,
    time_limit_s: float = 10.0,
    box: tuple[int, int] | None = None,
) -> int:
    """How many solutions ``task`` has, counted up to ``limit`` (0 when there is none).

    For a maze, the number of distinct shortest paths.

    Examples
    --------
    >>> count_solutions("1..." "...." "2..." "3..4", limit=10)
    3
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidTaskError(f"limit must be a positive int, got {limit!r}")
    task = load_task(task, box=box)
    if isinstance(task, ArcTask):
        raise UnsupportedTaskError("count_solutions() covers Sudoku and mazes, not ARC tasks")
    if isinstance(task, SudokuTask):
        return solvers.count_sudoku_solutions(
            task,
            limit,
            backend=backend or solvers.DEFAULT_SUDOKU_BACKEND,
            time_limit_s=time_limit_s,
        )
    return solvers.count_maze_shortest_paths(task, limit=limit)
