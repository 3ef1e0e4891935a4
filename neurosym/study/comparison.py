"""``neurosym.compare``: neural, symbolic and hybrid on the same puzzles, side by side.

One call answers "how do the three methods compare, and does TRM's recursion relate to search
effort?" with a per-puzzle CSV, a summary table, PNG plots and the search analyses of
:mod:`neurosym.study.analysis`. Every answer counted as correct passed :func:`tasks.verify.verify`.

Timing: the network runs once over all puzzles in batches; each puzzle's neural time is its share
of that batch (model loading is excluded and reported as ``model_load_s``). Symbolic time is the
default backend's search alone. The hybrid's time is the neural share plus its repair/fallback.

Test-time depth: one more (untimed) run records every supervision step up to ``max(depths)``,
far past the trained depth, and gives accuracy against the depth cap per difficulty bucket
(``depth.csv``, ``search['accuracy_vs_depth']``, ``accuracy_vs_depth.png``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from neurosym.study.comparison_files import COLUMNS, DEPTH_COLUMNS, write_report
from neurosym.study.comparison_inputs import (
    PuzzleSet,
    make_puzzles,
    parse_counts,
    parse_depths,
    parse_size,
)
from neurosym.study.comparison_search import (
    accuracy_vs_depth,
    accuracy_vs_trajectories,
    search_analyses,
)
from tasks.errors import ConfigError, NeurosymError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify

__all__ = [
    "COLUMNS",
    "DEFAULT_DEPTHS",
    "DEPTH_COLUMNS",
    "CompareReport",
    "PuzzleSet",
    "compare",
    "make_puzzles",
    "parse_depths",
    "parse_size",
]

METHODS = ("neural", "symbolic", "hybrid")
#: The depth caps (supervision steps) of the accuracy-vs-depth curve when a model runs.
DEFAULT_DEPTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
Progress = Callable[[str, int, int], None]


@dataclass
class CompareReport:
    """What :func:`compare` measured.

    Attributes
    ----------
    rows : one dict per puzzle and method (keys :data:`COLUMNS`). ``verified``: the verifier
        accepted the answer; ``correct``: verified and, when the puzzles come with a known
        solution, equal to it (the two differ only on puzzles with several solutions).
    summary : per method: n, accuracy, median / p90 time, effort (:func:`analysis.summarize`).
    search : the search-question analyses (correlations, guidance ratios, fill order...).
    files : what was written (``csv``, ``summary``, plots) by name.
    model_load_s : seconds spent loading the TRM (not in any per-puzzle time).
    source : where the puzzles came from.
    """

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    search: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    model_load_s: float = 0.0
    source: str = ""


def _steps_to_correct(task: Any, trace: list[Any] | None) -> int | None:
    for k, step in enumerate(trace or (), start=1):
        if verify(task, step.answer).ok:
            return k
    return None


def compare(
    puzzles: PuzzleSet | None = None,
    *,
    kind: str = "sudoku",
    size: str = "9x9",
    n: int = 100,
    givens: str | None = None,
    data: str | Path | None = None,
    methods: Sequence[str] = METHODS,
    time_limit_s: float = 10.0,
    model: Any = None,
    seed: int = 0,
    guided: bool | None = None,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    max_steps: int | None = None,
    trajectories: int = 1,
    noise: float | None = None,
    select: str | None = None,
    depths: Sequence[int] | str | None = None,
    trajectory_counts: Sequence[int] | str | None = None,
) -> CompareReport:
    """Run ``methods`` on the same puzzles and measure accuracy, time and search effort.

    Parameters
    ----------
    puzzles : a :class:`PuzzleSet`; else one is made by :func:`make_puzzles` from ``kind``,
        ``size``, ``n``, ``givens``, ``data`` and ``seed``.
    methods : any of ``"neural"``, ``"symbolic"``, ``"hybrid"``.
    time_limit_s : the same limit for every search (repair, fallback, symbolic): seconds > 0,
        checked before any work (:class:`ConfigError` otherwise, as for :func:`neurosym.solve`).
    model : TRM checkpoint path or loaded model; None picks the shipped default.
    guided : also run the backtracking solver unguided and steered by the network (Sudoku), the
        measure of how much search the network saves. None (default): when the methods already
        need the network, or a model covers the puzzles; True insists (an error without one).
    out_dir : where to write ``compare.csv``, ``summary.json`` and the PNG plots (a folder,
        created if missing; checked before any work); None writes nothing.
    progress : ``progress(stage, done, total)`` callback.
    max_steps, trajectories, noise, select : the network's test-time options, as for
        :func:`neurosym.solve` (``seed`` seeds the noise); the neural rows use ``select``
        (default ``"halt"``), the hybrid rows keep a verified trajectory first unless another
        rule is given.
    depths : depth caps for ``search['accuracy_vs_depth']`` (per difficulty bucket, with
        halting and after every step; deterministic, one trajectory): default
        :data:`DEFAULT_DEPTHS` when the network runs, ``()`` for none.
    trajectory_counts : K values for ``search['accuracy_vs_trajectories']``: per K, one batched
        run of K noisy trajectories (trajectory 0 noise-free, ``noise`` on z, seeded by
        ``seed``) and the verified accuracy of every selection rule on it, with its wall time;
        the depth is ``max_steps`` or, without one, the deepest default depth of the
        proposals. None or ``()`` (default): skipped, since K trajectories cost K times the
        network's time.

    Examples
    --------
    >>> report = compare(kind="sudoku", size="6x6", n=4, seed=3)
    >>> [s["method"] for s in report.summary][:3]
    ['neural', 'symbolic', 'hybrid']
    >>> all(r["correct"] for r in report.rows if r["method"] in ("symbolic", "hybrid"))
    True
    """
    import solvers
    from neurosym.neural import check_max_steps, sampling
    from neurosym.outputs import check_output_dir

    methods = tuple(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ConfigError(f"methods must be a non-empty subset of {list(METHODS)}, got {methods}")
    time_limit_s = solvers.check_time_limit(time_limit_s)  # as solve() does, before any work
    if out_dir is not None:
        check_output_dir(out_dir, "out_dir")
    k, noise, select = sampling(trajectories, noise, select)
    knobs = {
        "max_steps": check_max_steps(max_steps),
        "trajectories": k,
        "noise": noise,
        "select": select,
        "seed": seed,
    }
    depths = parse_depths(depths)
    ks = parse_counts(trajectory_counts)
    if puzzles is None:
        puzzles = make_puzzles(kind, size, n, givens=givens, data=data, seed=seed)
    tick = progress or (lambda stage, done, total: None)
    tasks = puzzles.tasks
    if guided is None:
        guided = "neural" in methods or "hybrid" in methods or _covered(tasks[0], model)
    needs_net = "neural" in methods or "hybrid" in methods or guided
    proposals: list[Any] = [None] * len(tasks)
    traces: list[Any] = [None] * len(tasks)
    deep: list[Any] = []
    load_s, loaded = 0.0, None
    if needs_net:
        from neurosym.hybrid import propose

        depths = DEFAULT_DEPTHS if depths is None else depths
        tick("neural", 0, len(tasks))
        # Load, and warm torch up (not timed).
        _, load_s, loaded = propose(tasks[:1], model, **knobs)
        proposals, _, _ = propose(tasks, loaded, **knobs)
        # A second pass running every step records what more recursion buys (not timed). It
        # runs to the deepest cap asked for; the step-by-step analyses read each task's steps up
        # to the depth its proposal ran under (the same states: no halting, no noise).
        cap = max([*depths, *(p.max_steps for p in proposals)])
        full, _, _ = propose(tasks, loaded, halt=False, trace=True, max_steps=cap)
        deep = [p.trace for p in full]
        traces = [t[: p.max_steps] for t, p in zip(deep, proposals, strict=True)]
        tick("neural", len(tasks), len(tasks))
    rows: list[dict[str, Any]] = []
    extras: list[dict[str, Any]] = []
    for i, task in enumerate(tasks):
        rows_i, extra = _one_puzzle(
            task,
            puzzles.ids[i],
            methods,
            proposals[i],
            traces[i],
            loaded,
            time_limit_s,
            seed,
            guided and needs_net,
            puzzles.solutions[i],
        )
        rows.extend(rows_i)
        extras.append(extra)
        tick("solve", i + 1, len(tasks))
    from neurosym.study import analysis

    search = search_analyses(tasks, rows, extras, traces, loaded)
    if deep and depths:
        from neurosym.neural import HALT_THRESHOLD

        search["accuracy_vs_depth"] = accuracy_vs_depth(
            tasks,
            deep,
            [e["difficulty"] for e in extras],
            depths,
            HALT_THRESHOLD,
            loaded.config.max_supervision_steps,
        )
    if ks and loaded is not None:
        tick("trajectories", 0, len(ks))
        from neurosym.neural import DEFAULT_NOISE

        depth = knobs["max_steps"] or max(p.max_steps for p in proposals)
        search["accuracy_vs_trajectories"] = accuracy_vs_trajectories(
            loaded, tasks, ks, depth, noise or DEFAULT_NOISE, seed
        )
        tick("trajectories", len(ks), len(ks))
    report = CompareReport(
        rows=rows,
        summary=analysis.summarize(rows),
        search=search,
        model_load_s=load_s,
        source=puzzles.source,
    )
    if out_dir is not None:
        report.files = write_report(report, Path(out_dir))
    return report


def _covered(task: SudokuTask | MazeTask, model: Any) -> bool:
    """Whether a TRM model (``model`` or a shipped default) covers ``task``."""
    from neurosym.neural import resolve_model
    from tasks.errors import UnsupportedTaskError

    try:
        resolve_model(task, model)
    except UnsupportedTaskError:
        return False
    return True


def _base_row(task: SudokuTask | MazeTask, puzzle_id: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["puzzle_id"] = puzzle_id
    row["kind"] = task.kind
    if isinstance(task, SudokuTask):
        row["size"] = f"{task.size}x{task.size}"
        row["givens"] = task.n_givens
    else:
        row["size"] = f"{task.height}x{task.width}"
    return row


def _symbolic_effort(
    task: SudokuTask | MazeTask, time_limit_s: float, seed: int
) -> tuple[dict[str, Any], str]:
    """Search-effort columns from the instrumented solvers, and the puzzle's difficulty label."""
    import solvers
    from neurosym.study.analysis import guess_bucket

    effort: dict[str, Any] = {}
    if isinstance(task, SudokuTask):
        try:
            out = solvers.solve_sudoku(task, backend="backtrack", time_limit_s=time_limit_s)
            effort["decisions"] = out.effort.get("decisions")
            effort["backtracks"] = out.effort.get("backtracks")
        except NeurosymError:
            pass
        try:
            from solvers import sudoku_cpsat

            # Presolve off: with it CP-SAT solves most 9x9 puzzles before branching at all.
            out = sudoku_cpsat.solve(task, time_limit_s=time_limit_s, seed=seed, presolve=False)
            effort["cpsat_branches"] = out.effort.get("num_branches")
            effort["cpsat_conflicts"] = out.effort.get("num_conflicts")
        except NeurosymError:
            pass
        decisions = effort.get("decisions")
        label = "timeout" if decisions is None else guess_bucket(decisions)
        return effort, label
    from solvers.maze import solve as maze_solve

    try:
        out = maze_solve(task)
        moves = len(out.answer) - 1
    except NeurosymError:
        return effort, "no path"
    span = task.height + task.width
    label = "short" if moves < span else ("medium" if moves < 2 * span else "long")
    return effort, f"path {label}"


def _one_puzzle(
    task: SudokuTask | MazeTask,
    puzzle_id: str,
    methods: tuple[str, ...],
    proposal: Any,
    trace: Any,
    loaded: Any,
    time_limit_s: float,
    seed: int,
    guided: bool,
    solution: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from neurosym.api import hybrid_result, solve

    effort, difficulty = _symbolic_effort(task, time_limit_s, seed)
    base = _base_row(task, puzzle_id)
    base["difficulty"] = difficulty
    rows = []
    extra: dict[str, Any] = {"difficulty": difficulty, **effort}
    known = solution

    def verdict(answer: Any, verified: bool) -> dict[str, bool]:
        # correct: verified, and equal to the source's solution when it gives one.
        same = known is None or not isinstance(task, SudokuTask) or answer == known
        return {"verified": verified, "correct": bool(verified and same)}

    failed = {"correct": False, "verified": False, "time_s": time_limit_s}
    for method in methods:
        row = dict(base, method=method)
        if method == "symbolic":
            row.update(effort)
            try:
                result = solve(task, "symbolic", time_limit_s=time_limit_s, check_unique=False)
                row.update(backend=result.backend, time_s=result.time_s)
                row.update(verdict(result.answer, result.verified))
                solution = solution if solution is not None else result.answer
            except NeurosymError as exc:
                row.update(failed, backend=type(exc).__name__)
        elif method == "neural":
            from neurosym.hybrid import neural_choice

            t0 = time.perf_counter()
            chosen = neural_choice(task, proposal)  # "verify": the first verified trajectory
            row.update(
                backend="trm",
                time_s=proposal.time_s + time.perf_counter() - t0,
                trm_steps=chosen.steps,
                steps_to_correct=_steps_to_correct(task, trace),
            )
            row.update(verdict(chosen.answer, verify(task, chosen.answer).ok))
        else:
            from neurosym.hybrid import run_hybrid

            try:
                out = run_hybrid(
                    task, proposal, loaded=loaded, time_limit_s=time_limit_s, seed=seed
                )
                result = hybrid_result(task, out)
                row.update(
                    backend=result.backend,
                    time_s=result.time_s,
                    stage=result.stage,
                    cells_changed=result.cells_changed,
                    trm_steps=proposal.steps,
                )
                row.update(verdict(result.answer, result.verified))
            except NeurosymError as exc:
                row.update(failed, backend=type(exc).__name__)
        rows.append(row)
    if proposal is not None:
        extra["trm_steps"] = proposal.steps
        extra["steps_to_correct"] = _steps_to_correct(task, trace)
    if isinstance(task, SudokuTask) and proposal is not None:
        extra.update(_guidance(task, proposal, solution, time_limit_s, guided))
    return rows, extra


def _guidance(
    task: SudokuTask, proposal: Any, solution: Any, time_limit_s: float, guided: bool
) -> dict[str, Any]:
    """Cell accuracy of the proposal and backtracking decisions with the network's guidance."""
    from neurosym.hybrid import solve_guided

    out: dict[str, Any] = {}
    if solution is not None:
        blanks = [(r, c) for r in range(task.size) for c in range(task.size) if not task.grid[r][c]]
        right = sum(1 for r, c in blanks if proposal.answer[r][c] == solution[r][c])
        out["cell_accuracy"] = right / len(blanks) if blanks else 1.0
    if guided:
        for policy in ("most", "mrv"):
            try:
                res = solve_guided(task, proposal, cell_policy=policy, time_limit_s=time_limit_s)
                out[f"guided_{policy}_decisions"] = res.effort.get("decisions")
            except NeurosymError:
                out[f"guided_{policy}_decisions"] = None
        if solution is not None:
            # The bound: MRV branching told the true digit every time.
            oracle = replace(
                proposal, answer=solution, confidence=np.ones_like(proposal.confidence)
            )
            try:
                res = solve_guided(task, oracle, cell_policy="mrv", time_limit_s=time_limit_s)
                out["oracle_decisions"] = res.effort.get("decisions")
            except NeurosymError:
                out["oracle_decisions"] = None
    return out
