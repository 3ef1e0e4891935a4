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

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tasks.errors import ConfigError, InvalidTaskError, NeurosymError
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

#: The per-puzzle CSV's columns, in order.
COLUMNS = (
    "puzzle_id",
    "kind",
    "size",
    "givens",
    "difficulty",
    "method",
    "backend",
    "correct",
    "verified",
    "time_s",
    "stage",
    "cells_changed",
    "trm_steps",
    "steps_to_correct",
    "decisions",
    "backtracks",
    "cpsat_branches",
    "cpsat_conflicts",
)
METHODS = ("neural", "symbolic", "hybrid")
#: The depth caps (supervision steps) of the accuracy-vs-depth curve when a model runs.
DEFAULT_DEPTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
#: ``depth.csv``'s columns: per difficulty bucket (``"all"`` first) and depth cap, the share of
#: puzzles whose answer verifies with halting (what ``solve(max_steps=depth)`` answers) and
#: after exactly ``depth`` steps, and the mean steps run with halting.
DEPTH_COLUMNS = ("difficulty", "depth", "n", "accuracy", "accuracy_all_steps", "mean_steps")
#: ``trajectories.csv``'s columns: per K and selection rule, the share of puzzles whose chosen
#: answer verifies (for ``verify``: any trajectory verifies), the chosen trajectory's mean
#: steps, and the wall time per puzzle of the K-trajectory run (one run serves every rule).
TRAJECTORY_COLUMNS = ("k", "rule", "n", "depth", "noise", "accuracy", "mean_steps", "s_per_puzzle")
Progress = Callable[[str, int, int], None]


@dataclass
class PuzzleSet:
    """Puzzles to compare on, with their known solutions (None where unknown) and ids."""

    tasks: list[SudokuTask | MazeTask]
    solutions: list[Any]
    ids: list[str]
    source: str


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


def parse_size(kind: str, size: str) -> tuple[int, int]:
    """``"9x9"`` -> Sudoku box ``(3, 3)`` (``"6x6"`` -> ``(2, 3)``); for a maze ``(rows, cols)``.

    Examples
    --------
    >>> parse_size("sudoku", "6x6"), parse_size("maze", "11x11")
    ((2, 3), (11, 11))
    """
    try:
        a, b = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"size must look like 9x9, got {size!r}") from None
    if kind == "maze":
        if a < 2 or b < 2:
            raise ConfigError(f"maze size must be at least 2x2, got {size!r}")
        return a, b
    if a != b or a < 4:
        raise ConfigError(f"a Sudoku size is NxN with N >= 4, got {size!r}")
    rows = int(a**0.5)
    while rows > 1 and a % rows:
        rows -= 1
    return rows, a // rows


def parse_depths(text: str | Sequence[int] | None) -> tuple[int, ...] | None:
    """Depth caps from ``"1,2,4,..."`` (or a sequence), sorted and distinct; ``"none"`` or an
    empty text: no depth curve (``()``); None stays None (the default).

    Raises
    ------
    ConfigError
        On a value that is not an int in ``1..trm.inference.MAX_TEST_STEPS``.

    Examples
    --------
    >>> parse_depths("8,1,2,8"), parse_depths("none")
    ((1, 2, 8), ())
    """
    from neurosym.neural import check_max_steps

    if text is None:
        return None
    if isinstance(text, str):
        if text.strip().lower() in ("", "none"):
            return ()
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            raise ConfigError(f"depths must look like 1,2,4,8, got {text!r}") from None
    else:
        values = list(text)
    for v in values:
        try:
            check_max_steps(v)
        except ConfigError as exc:
            raise ConfigError(f"depths: {exc}") from None
    return tuple(sorted(set(values)))


def _parse_counts(text: str | Sequence[int] | None) -> tuple[int, ...]:
    """K values of the trajectory curve from ``"1,2,4,8"`` (or a sequence), sorted, distinct."""
    from neurosym.neural import sampling

    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "none")):
        return ()
    try:
        values = [int(v) for v in text.split(",")] if isinstance(text, str) else list(text)
    except ValueError:
        raise ConfigError(f"trajectory_counts must look like 1,2,4,8, got {text!r}") from None
    for v in values:
        try:
            sampling(v)  # an int in 1..MAX_TRAJECTORIES
        except ConfigError as exc:
            raise ConfigError(f"trajectory_counts: {exc}") from None
    return tuple(sorted(set(values)))


def _givens_range(text: str | None, n: int) -> tuple[int, int]:
    if text is None:
        default = {4: (5, 10), 6: (9, 22), 9: (22, 35)}
        return default.get(n, (int(0.45 * n * n), int(0.6 * n * n)))
    try:
        parts = [int(v) for v in str(text).split("-")]
    except ValueError:
        raise ConfigError(f"givens must be K or LO-HI, got {text!r}") from None
    lo, hi = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[-1])
    if not 0 <= lo <= hi <= n * n:
        raise ConfigError(f"givens {text!r} must lie in 0..{n * n} with LO <= HI")
    return lo, hi


def make_puzzles(
    kind: str = "sudoku",
    size: str = "9x9",
    n: int = 100,
    *,
    givens: str | None = None,
    data: str | Path | None = None,
    seed: int = 0,
) -> PuzzleSet:
    """The puzzles to compare on: read from ``data`` or generated (seeded, unique Sudoku).

    ``givens`` is ``"LO-HI"``: each generated Sudoku draws its target clue count uniformly from
    that range and is carved to a unique puzzle (never below its minimal count). ``data`` is a
    Sudoku file (``.csv`` or one puzzle per line) or a folder holding one; the first ``n``
    puzzles are used.

    Examples
    --------
    >>> ps = make_puzzles("sudoku", "6x6", 3, seed=1)
    >>> len(ps.tasks), ps.tasks[0].size
    (3, 6)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive int, got {n!r}")
    if data is not None:
        return _read_puzzles(Path(data), n)
    if kind == "sudoku":
        return _generate_sudoku(parse_size(kind, size), n, givens, seed)
    if kind == "maze":
        from tasks.generators import generate_mazes

        h, w = parse_size(kind, size)
        pairs = generate_mazes(n, size=(h, w), seed=seed)
        tasks = [p[0] if isinstance(p, tuple) else p for p in pairs]
        return PuzzleSet(tasks, [None] * n, [f"maze{i}" for i in range(n)], f"generated {size}")
    raise ConfigError(f"kind must be 'sudoku' or 'maze', got {kind!r}")


def _generate_sudoku(box: tuple[int, int], n: int, givens: str | None, seed: int) -> PuzzleSet:
    import solvers
    from tasks.generators import generate_puzzle

    side = box[0] * box[1]
    lo, hi = _givens_range(givens, side)
    rng = np.random.default_rng(seed)

    def is_unique(task: SudokuTask) -> bool:
        return solvers.count_sudoku_solutions(task, 2) == 1

    tasks, sols = [], []
    for _ in range(n):
        target = int(rng.integers(lo, hi + 1))
        task, sol = generate_puzzle(*box, n_givens=target, is_unique=is_unique, rng=rng)
        tasks.append(task)
        sols.append(sol)
    label = f"generated {side}x{side}, {lo}-{hi} givens, unique, seed {seed}"
    return PuzzleSet(tasks, sols, [f"s{i}" for i in range(n)], label)


def _read_puzzles(path: Path, n: int) -> PuzzleSet:
    from tasks.datasets import load_sudoku_csv, load_sudoku_txt

    if path.is_dir():
        found = sorted(path.glob("*.csv")) + sorted(path.glob("*.txt"))
        if not found:
            raise InvalidTaskError(f"{path} holds no .csv or .txt puzzle file")
        path = found[0]
    if not path.is_file():
        raise InvalidTaskError(f"no such file: {path}")
    loader = load_sudoku_csv if path.suffix == ".csv" else load_sudoku_txt
    records = loader(path, limit=n)
    if not records:
        raise InvalidTaskError(f"{path} holds no puzzles")
    return PuzzleSet(
        [r.task for r in records],
        [r.solution for r in records],
        [str(r.id) for r in records],
        str(path),
    )


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
    ks = _parse_counts(trajectory_counts)
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

    search = _search_analyses(tasks, rows, extras, traces, loaded)
    if deep and depths:
        from neurosym.neural import HALT_THRESHOLD

        search["accuracy_vs_depth"] = _accuracy_vs_depth(
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
        search["accuracy_vs_trajectories"] = _accuracy_vs_trajectories(
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


def _search_analyses(
    tasks: list[SudokuTask | MazeTask],
    rows: list[dict[str, Any]],
    extras: list[dict[str, Any]],
    traces: list[Any],
    loaded: Any,
) -> dict[str, Any]:
    from neurosym.study import analysis

    search: dict[str, Any] = {"accuracy_by_difficulty": analysis.accuracy_by(rows, "difficulty")}
    steps = [e.get("steps_to_correct") for e in extras]
    for key, name in (("decisions", "decisions"), ("cpsat_branches", "cpsat_branches")):
        effort = [e.get(key) for e in extras]
        if any(v is not None for v in effort) and any(v is not None for v in steps):
            corr = analysis.spearman_ci(
                [np.nan if s is None else s for s in steps],
                [np.nan if v is None else v for v in effort],
            )
            search[f"steps_vs_{name}"] = _corr_dict(corr)
    search["never_correct"] = sum(
        1 for e in extras if "trm_steps" in e and e.get("steps_to_correct") is None
    )
    if any(t is not None for t in traces):
        search["accuracy_vs_steps"] = _accuracy_vs_steps(tasks, traces)
    traced = any(t is not None for t in traces)
    depth = max((len(t) for t in traces if t), default=0)
    cycles = _cycle_snapshots(tasks, loaded, depth) if traced else []
    if tasks and isinstance(tasks[0], SudokuTask):
        search["guidance"] = _guidance_table(extras)
        if traced:
            search["fill_order"] = _fill_order(tasks, traces)
            search["fill_order_cycles"] = _fill_order(tasks, cycles)
    elif traced:
        search["maze_growth"] = _maze_growth(tasks, traces, loaded)
        search["maze_growth_cycles"] = _maze_growth(tasks, cycles, loaded)
    return search


def _cycle_snapshots(tasks: list[Any], loaded: Any, max_steps: int) -> list[list[Any]]:
    """Per task, the decoded answer (and tokens) after every answer update, T per step."""
    from types import SimpleNamespace

    from neurosym.study.tracing import cycle_tokens
    from trm.inference import codec_for

    out = []
    seqs = cycle_tokens(loaded, tasks, max_steps=max_steps or None)
    for task, seq in zip(tasks, seqs, strict=True):
        codec = codec_for(loaded, task)
        snaps = []
        for tok in seq:
            if isinstance(task, SudokuTask):
                answer = codec.decode(tok)
            else:
                answer = codec.decode_path(tok, task, strict=True)
            snaps.append(SimpleNamespace(answer=answer, tokens=tok))
        out.append(snaps)
    return out


def _corr_dict(corr: Any) -> dict[str, float]:
    return {
        "rho": float(corr.rho),
        "low": float(corr.low),
        "high": float(corr.high),
        "n": int(corr.n),
        "p_value": float(corr.p_value),
    }


def _accuracy_vs_steps(tasks: list[Any], traces: list[Any]) -> list[tuple[int, float]]:
    """Share of puzzles whose answer after k supervision steps verifies, k = 1..max."""
    depth = max(len(t) for t in traces if t)
    curve = []
    for k in range(1, depth + 1):
        ok = sum(
            1
            for task, trace in zip(tasks, traces, strict=True)
            if trace and verify(task, trace[min(k, len(trace)) - 1].answer).ok
        )
        curve.append((k, ok / len(tasks)))
    return curve


def _accuracy_vs_depth(
    tasks: list[Any],
    traces: list[Any],
    difficulties: list[str],
    depths: Sequence[int],
    threshold: float,
    trained_depth: int,
) -> dict[str, Any]:
    """Accuracy against the depth cap k, overall and per difficulty bucket.

    ``traces[i]`` holds task i's answer and halt probability after every step (no halting).
    With halting, the answer at cap k is the one of the first step whose halt probability
    exceeds ``threshold`` (the step :func:`trm.inference.predict` stops at), else of step k;
    ``accuracy_all_steps`` takes step k's answer whatever the halt head said.
    """
    from neurosym.study.analysis import _key_order

    ok_cache: dict[tuple[int, int], bool] = {}

    def ok(i: int, step: int) -> bool:
        if (i, step) not in ok_cache:
            ok_cache[i, step] = verify(tasks[i], traces[i][step - 1].answer).ok
        return ok_cache[i, step]

    per_task = []  # per task: [(halting ok, all-steps ok, steps run)] per depth
    for i, trace in enumerate(traces):
        halts = [s for s, snap in enumerate(trace, start=1) if snap.halt_prob > threshold]
        points = []
        for k in depths:
            last = min(k, len(trace))
            stop = next((s for s in halts if s <= last), last)
            points.append((ok(i, stop), ok(i, last), stop))
        per_task.append(points)
    buckets: dict[str, Any] = {}
    for bucket in ["all", *_key_order(list(difficulties))]:
        members = [i for i, d in enumerate(difficulties) if bucket == "all" or d == bucket]
        if not members:
            continue
        n = len(members)
        buckets[str(bucket)] = {
            "n": n,
            "accuracy": [
                (k, sum(per_task[i][j][0] for i in members) / n) for j, k in enumerate(depths)
            ],
            "accuracy_all_steps": [
                (k, sum(per_task[i][j][1] for i in members) / n) for j, k in enumerate(depths)
            ],
            "mean_steps": [
                (k, sum(per_task[i][j][2] for i in members) / n) for j, k in enumerate(depths)
            ],
        }
    return {
        "halt_threshold": threshold,
        "trained_depth": trained_depth,
        "depths": list(depths),
        "buckets": buckets,
    }


def _accuracy_vs_trajectories(
    loaded: Any,
    tasks: list[Any],
    ks: Sequence[int],
    depth: int,
    noise: float,
    seed: int,
) -> dict[str, Any]:
    """Verified accuracy of every selection rule against K, one timed batched run per K."""
    from neurosym.neural import HALT_THRESHOLD, evaluate_trajectories

    # Labels only matter for exact accuracy, which this curve does not report.
    labels = [None] * len(tasks)
    points = []
    for k in ks:
        run = evaluate_trajectories(
            loaded,
            tasks,
            labels,
            max_steps=depth,
            trajectories=k,
            noise=noise if k > 1 else None,  # one trajectory runs noise-free
            halt_threshold=HALT_THRESHOLD,
            seed=seed,
        )
        points.append(
            {
                "k": k,
                "s_per_puzzle": run["wall_s_per_puzzle"],
                "rules": {
                    rule: {"accuracy": r["valid_accuracy"], "mean_steps": r["mean_steps"]}
                    for rule, r in run["rules"].items()
                },
            }
        )
    return {
        "n": len(tasks),
        "depth": depth,
        "noise": noise,
        "halt_threshold": HALT_THRESHOLD,
        "points": points,
    }


def _guidance_table(extras: list[dict[str, Any]]) -> dict[str, Any]:
    """Backtracking decisions without / with the network's guidance, by difficulty.

    Ratios are total unguided decisions over total guided decisions in each group (puzzles
    where any run timed out are left out); ``accurate`` keeps puzzles where the network's
    per-cell accuracy on the blanks is at least 90%. ``oracle`` is the bound for any guide:
    MRV branching that always tries the true digit first.
    """
    from neurosym.study.analysis import GUESS_BUCKETS

    table: dict[str, Any] = {}
    for subset in ("all", "accurate"):
        for bucket in (*GUESS_BUCKETS, "total"):
            group = [
                e
                for e in extras
                if (bucket == "total" or e.get("difficulty") == bucket)
                and (subset == "all" or e.get("cell_accuracy", 0.0) >= 0.9)
                and all(
                    e.get(k) is not None
                    for k in ("decisions", "guided_most_decisions", "guided_mrv_decisions")
                )
            ]
            if not group:
                continue
            plain = sum(e["decisions"] for e in group)
            entry: dict[str, Any] = {"n": len(group), "unguided": plain}
            if all(e.get("oracle_decisions") is not None for e in group):
                oracle = sum(e["oracle_decisions"] for e in group)
                entry["oracle"] = oracle
                entry["ratio_oracle"] = plain / oracle if oracle else None
            for policy in ("most", "mrv"):
                guided = sum(e[f"guided_{policy}_decisions"] for e in group)
                entry[f"guided_{policy}"] = guided
                # 0 / 0 (no search either way) is no evidence: left as None.
                entry[f"ratio_{policy}"] = plain / guided if guided else None
            table[f"{subset}/{bucket}"] = entry
    return table


def _fill_order(tasks: list[Any], traces: list[Any]) -> dict[str, Any]:
    """Does TRM fix cells in the order propagation does, and does it change cells back?

    ``traces[i]`` is task i's sequence of snapshots (anything with ``.answer``): supervision
    steps, or answer updates within them (:func:`_cycle_snapshots`).
    """
    from neurosym.study import analysis
    from solvers.sudoku_backtrack import propagation_order

    rhos, flips, lost, n_traced = [], [], [], 0
    for task, trace in zip(tasks, traces, strict=True):
        if not trace:
            continue
        solution = trace[-1].answer if verify(task, trace[-1].answer).ok else None
        if solution is None:
            continue
        n_traced += 1
        mask = [[bool(v) for v in row] for row in task.grid]
        fo = analysis.fill_order([s.answer for s in trace], solution, mask)
        flips.append(fo.changed_more_than_once)
        lost.append(fo.lost_after_correct)
        try:
            order = propagation_order(task)
        except NeurosymError:
            continue
        corr = analysis.order_correlation(fo.fixed_step, order)
        if np.isfinite(corr.rho):
            rhos.append(float(corr.rho))
    return {
        "puzzles": n_traced,
        "with_correlation": len(rhos),
        "median_rho": float(np.median(rhos)) if rhos else float("nan"),
        "mean_rho": float(np.mean(rhos)) if rhos else float("nan"),
        "mean_cells_changed_more_than_once": float(np.mean(flips)) if flips else float("nan"),
        "mean_cells_lost_after_correct": float(np.mean(lost)) if lost else float("nan"),
    }


def _maze_growth(tasks: list[Any], traces: list[Any], loaded: Any) -> dict[str, Any]:
    """How the marked path evolves over the snapshots (:func:`analysis.maze_growth`)."""
    from neurosym.hybrid import proposal_cells
    from neurosym.study import analysis

    labels: dict[str, int] = {}
    for task, trace in zip(tasks, traces, strict=True):
        if not trace:
            continue
        steps = [proposal_cells(task, s, loaded) for s in trace]
        label = analysis.maze_growth(steps, task.start, task.goals)["label"]
        labels[label] = labels.get(label, 0) + 1
    return {"labels": labels}


def write_report(report: CompareReport, out_dir: Path) -> dict[str, str]:
    """Write ``compare.csv``, ``summary.json`` and the PNG plots; returns their paths by name."""
    from neurosym.study import plots

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    csv_path = out_dir / "compare.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in report.rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    files["csv"] = str(csv_path)
    files["accuracy_by_difficulty"] = str(
        plots.plot_accuracy_by_difficulty(report.rows, out_dir / "accuracy_by_difficulty.png")
    )
    files["time"] = str(plots.plot_time_distributions(report.rows, out_dir / "time.png"))
    if any(r["method"] == "neural" for r in report.rows):
        path, _ = plots.plot_steps_vs_effort(report.rows, out_dir / "steps_vs_effort.png")
        files["steps_vs_effort"] = str(path)
    curve = report.search.get("accuracy_vs_steps")
    if curve:
        files["accuracy_vs_steps"] = str(
            plots.plot_accuracy_vs_steps({"TRM": curve}, out_dir / "accuracy_vs_steps.png")
        )
    by_depth = report.search.get("accuracy_vs_depth")
    if by_depth:
        depth_path = out_dir / "depth.csv"
        with depth_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=DEPTH_COLUMNS)
            writer.writeheader()
            for bucket, entry in by_depth["buckets"].items():
                for (k, acc), (_, acc_all), (_, steps) in zip(
                    entry["accuracy"], entry["accuracy_all_steps"], entry["mean_steps"], strict=True
                ):
                    writer.writerow(
                        {
                            "difficulty": bucket,
                            "depth": k,
                            "n": entry["n"],
                            "accuracy": acc,
                            "accuracy_all_steps": acc_all,
                            "mean_steps": steps,
                        }
                    )
        files["depth_csv"] = str(depth_path)
        files["accuracy_vs_depth"] = str(
            plots.plot_accuracy_vs_depth(
                {b: e["accuracy"] for b, e in by_depth["buckets"].items()},
                out_dir / "accuracy_vs_depth.png",
                trained_depth=by_depth["trained_depth"],
                counts={b: e["n"] for b, e in by_depth["buckets"].items()},
                title=f"Accuracy vs test-time depth (halting at {by_depth['halt_threshold']})",
            )
        )
    by_k = report.search.get("accuracy_vs_trajectories")
    if by_k:
        k_path = out_dir / "trajectories.csv"
        with k_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=TRAJECTORY_COLUMNS)
            writer.writeheader()
            for point in by_k["points"]:
                for rule, r in point["rules"].items():
                    writer.writerow(
                        {
                            "k": point["k"],
                            "rule": rule,
                            "n": by_k["n"],
                            "depth": by_k["depth"],
                            "noise": by_k["noise"],
                            "accuracy": r["accuracy"],
                            "mean_steps": r["mean_steps"],
                            "s_per_puzzle": point["s_per_puzzle"],
                        }
                    )
        files["trajectories_csv"] = str(k_path)
        rules = list(by_k["points"][0]["rules"])
        files["accuracy_vs_trajectories"] = str(
            plots.plot_accuracy_vs_depth(
                {r: [(p["k"], p["rules"][r]["accuracy"]) for p in by_k["points"]] for r in rules},
                out_dir / "accuracy_vs_trajectories.png",
                title=f"Accuracy vs K noisy trajectories (depth {by_k['depth']}, "
                f"noise {by_k['noise']}, n={by_k['n']})",
                xlabel="trajectories K (log scale)",
                legend_title="selection rule",
            )
        )
    summary_path = out_dir / "summary.json"
    payload = {
        "source": report.source,
        "model_load_s": report.model_load_s,
        "summary": report.summary,
        "search": report.search,
        "files": files,
    }
    summary_path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    files["summary"] = str(summary_path)
    return files


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return str(value)
