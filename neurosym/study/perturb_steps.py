"""The mechanics of :mod:`neurosym.study.perturb`: a perturbation of the carry, the references
of each task, recursion runs with the perturbation hooked in, and the per-task figures
(recovery, cells changed, fixed points and cycles) computed from them."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.errors import ConfigError

__all__ = [
    "MAX_CELLS",
    "task_codec",
    "Perturbation",
    "References",
    "StepRun",
    "task_references",
    "run_steps",
    "task_records",
    "aggregate",
    "answer_cycles",
]

MAX_CELLS = 64


@dataclass(frozen=True, slots=True)
class Perturbation:
    """What happens to the carry after supervision step ``step``: ``kind`` ``"none"``,
    ``"noise"`` (std ``sigma`` on z), ``"reset"`` (z back to ``z_init``), ``"cells"``
    (``cells`` answer cells made wrong in y) or ``"cells_yz"`` (in y and z)."""

    kind: str = "none"
    step: int = 1
    sigma: float = 0.0
    cells: int = 1


@dataclass(slots=True)
class References:
    """Per task ([n, L] arrays): the right answer's tokens, which cells the recursion may change
    (Sudoku blanks, free maze cells), a difficulty label and the givens / path length."""

    label: np.ndarray
    editable: np.ndarray
    difficulty: list[str]
    size: list[int]


@dataclass(slots=True)
class StepRun:
    """One run: the answer tokens after every step ([n, depth, L]), whether each verifies
    ([n, depth]), and for ``cells`` the perturbed cells ([n, k], -1 where none could be made
    wrong) and the answer read out right after the perturbation ([n, L])."""

    tokens: np.ndarray
    correct: np.ndarray
    cells: np.ndarray | None = None
    perturbed: np.ndarray | None = None


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def task_codec(loaded: Any, tasks: Sequence[Any]) -> Any:
    from neurosym.study.tracing import _one_codec

    return _one_codec(loaded, list(tasks)) if loaded.config.size_agnostic else loaded.codec


def task_references(loaded: Any, tasks: Sequence[Any]) -> References:
    """The solution tokens (Sudoku: the backtracking solver's, with its guesses as difficulty;
    maze: every cell on a shortest path, bucketed by its length) and the editable cells."""
    from neurosym.benchmarks.neural import _bucket
    from solvers import sudoku_backtrack
    from tasks.encodings import MAZE_FREE_ID, SUDOKU_BLANK_ID, MazeCodec
    from tasks.verify import maze_shortest_length
    from trm.data import union_of_shortest_paths

    codec = task_codec(loaded, tasks)
    inputs = codec.encode_batch(list(tasks))
    labels, difficulty, size = [], [], []
    for task in tasks:
        if isinstance(codec, MazeCodec):
            cells = union_of_shortest_paths(task)
            labels.append(codec.encode_label(task, cells))
            length = int(maze_shortest_length(task) or len(cells))
            lo = 25 * (length // 25)
            difficulty.append(f"path {lo}-{lo + 24}")
            size.append(length)
        else:
            out = sudoku_backtrack.solve(task, time_limit_s=60.0)
            labels.append(codec.encode_solution(out.answer))
            difficulty.append(f"{_bucket(int(out.effort['decisions']))} guesses")
            size.append(task.n_givens)
    blank = MAZE_FREE_ID if isinstance(codec, MazeCodec) else SUDOKU_BLANK_ID
    return References(np.stack(labels), inputs == blank, difficulty, size)


def _pick_cells(
    current: np.ndarray,
    label: np.ndarray,
    editable: np.ndarray,
    k: int,
    values: np.ndarray,
    rng: np.random.Generator,
    prefer: int | None,
) -> list[tuple[int, int]]:
    """Up to ``k`` (cell, donor) pairs: an editable cell (one the answer has right, when there
    are any; on the marked path for a maze) and another cell whose current value is wrong
    for it (neither the current nor the right one)."""
    pool = np.flatnonzero(editable & (current == label))
    if not pool.size:
        pool = np.flatnonzero(editable)
    if prefer is not None and (current[pool] == prefer).any():
        pool = pool[current[pool] == prefer]
    picks: list[tuple[int, int]] = []
    for cell in rng.permutation(pool).tolist():
        wrong = values[(values != current[cell]) & (values != label[cell])]
        donors = np.flatnonzero(np.isin(current, wrong))
        donors = donors[donors != cell]
        if donors.size:
            picks.append((cell, int(donors[rng.integers(donors.size)])))
        if len(picks) == k:
            break
    return picks


def _hook(
    loaded: Any,
    pert: Perturbation,
    index: np.ndarray,
    tokens: np.ndarray,
    refs: References | None,
    seed: int,
    out: StepRun,
    vocab: int,
) -> Callable[[int, Any, Any], Any]:
    """The ``on_step`` callback applying ``pert`` to the batch whose task indices are
    ``index``; ``tokens`` is the run's answer store (step ``s`` is filled when it runs)."""
    import torch

    from tasks.encodings import MAZE_FREE_ID, MAZE_PATH_ID, MazeCodec
    from trm.model import Carry

    net = loaded.model
    prefix = net.config.puzzle_prefix_len
    is_maze = isinstance(loaded.codec, MazeCodec)
    values = np.array([MAZE_FREE_ID, MAZE_PATH_ID]) if is_maze else np.arange(2, vocab)

    def on_step(step: int, rows: Any, carry: Any) -> Any:
        if step != pert.step or pert.kind == "none":
            return None
        tasks = index[rows.cpu().numpy()]
        if pert.kind == "reset":
            return Carry(y=carry.y, z=net.z_init.expand_as(carry.z).clone())
        if pert.kind == "noise":
            z = carry.z.clone()
            for j, i in enumerate(tasks.tolist()):
                gen = torch.Generator(device=z.device).manual_seed(_seed(seed, i, 1))
                noise = torch.randn(z[j].shape, generator=gen, device=z.device, dtype=z.dtype)
                z[j] += pert.sigma * noise
            return Carry(y=carry.y, z=z)
        y, z = carry.y.clone(), carry.z.clone()
        for j, i in enumerate(tasks.tolist()):
            rng = np.random.default_rng(_seed(seed, i, 2))
            cur = tokens[i, step - 1].astype(np.int64)
            picks = _pick_cells(
                cur,
                refs.label[i],  # type: ignore[union-attr]
                refs.editable[i],  # type: ignore[union-attr]
                pert.cells,
                values,
                rng,
                MAZE_PATH_ID if is_maze else None,
            )
            for c, (cell, donor) in enumerate(picks):
                y[j, prefix + cell] = carry.y[j, prefix + donor]
                if pert.kind == "cells_yz":
                    z[j, prefix + cell] = carry.z[j, prefix + donor]
                out.cells[i, c] = cell  # type: ignore[index]
        logits, _ = net.readout(y)
        out.perturbed[tasks] = logits[..., :vocab].float().argmax(-1).cpu().numpy()  # type: ignore[index]
        return Carry(y=y, z=z)

    return on_step


def run_steps(
    loaded: Any,
    tasks: Sequence[Any],
    depth: int,
    perturbation: Perturbation = Perturbation(),
    *,
    refs: References | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
) -> StepRun:
    """Run ``tasks`` (one size) through ``depth`` steps, no halting, perturbed as asked.

    ``refs`` (:func:`task_references`) is needed for ``cells``; ``progress(k)`` is told of
    every ``k`` task-steps run.

    Examples
    --------
    >>> from neurosym.study.compression import resolve_models
    >>> from trm.inference import load_model
    >>> from tasks.generators import generate_puzzle
    >>> loaded = load_model(resolve_models("sudoku6")["sudoku6"])
    >>> tasks = [generate_puzzle(2, 3, n_givens=18, rng=i)[0] for i in range(3)]
    >>> base = run_steps(loaded, tasks, 4)
    >>> same = run_steps(loaded, tasks, 4, Perturbation("noise", step=2, sigma=0.0))
    >>> base.tokens.shape, bool((base.tokens == same.tokens).all())
    ((3, 4, 36), True)
    """
    import torch

    from neurosym.neural import torch_threads
    from tasks.verify import verify
    from trm.rollout import decode_answer, geometry_of, run_batch

    if perturbation.kind.startswith("cells") and refs is None:
        raise ConfigError("a 'cells' perturbation needs the tasks' references")
    net = loaded.model
    codec = task_codec(loaded, tasks)
    geometry = geometry_of(codec) if net.config.size_agnostic else None
    inputs = codec.encode_batch(list(tasks))
    n, length = inputs.shape
    tokens = np.zeros((n, depth, length), dtype=np.int16)
    out = StepRun(tokens, np.zeros((n, depth), dtype=bool))
    if perturbation.kind.startswith("cells"):
        out.cells = np.full((n, perturbation.cells), -1, dtype=np.int64)
        out.perturbed = np.full((n, length), -1, dtype=np.int16)
    with torch_threads(1):
        for lo in range(0, n, batch_size):
            index = np.arange(lo, min(n, lo + batch_size))
            hook = _hook(loaded, perturbation, index, tokens, refs, seed, out, codec.vocab_size)
            for step, (rows, tok, _, _) in enumerate(
                run_batch(
                    net,
                    torch.from_numpy(inputs[index]),
                    depth,
                    False,
                    geometry=geometry,
                    vocab=codec.vocab_size,
                    on_step=hook,
                ),
                start=1,
            ):
                tokens[index[rows.cpu().numpy()], step - 1] = tok.cpu().numpy()
                if progress is not None:
                    progress(len(index))
    memo: dict[tuple[int, bytes], bool] = {}
    for i, task in enumerate(tasks):
        for t in range(depth):
            key = (i, tokens[i, t].tobytes())
            if key not in memo:
                memo[key] = verify(
                    task, decode_answer(codec, tokens[i, t].astype(np.int64), task)
                ).ok
            out.correct[i, t] = memo[key]
    return out


# ------------------------------------------------------------------ figures
def _first_after(flags: np.ndarray, step: int) -> int | None:
    """Steps after ``step`` (1-based) until the first True of ``flags`` ([depth]), or None."""
    hits = np.flatnonzero(flags[step:])
    return int(hits[0]) + 1 if hits.size else None


def _others_changed(tokens: np.ndarray, before: np.ndarray, skip: np.ndarray, end: int) -> int:
    """Cells outside ``skip`` that differ from ``before`` at some step in ``tokens[:end]``."""
    moved = (tokens[:end] != before).any(axis=0) if end else np.zeros(before.shape, bool)
    moved[skip] = False
    return int(moved.sum())


def task_records(base: StepRun, run: StepRun, step: int, refs: References) -> list[dict[str, Any]]:
    """Per task, ``run`` (perturbed after ``step``) against the unperturbed ``base``."""
    depth = base.tokens.shape[1]
    records = []
    for i in range(base.tokens.shape[0]):
        before = base.tokens[i, step - 1]
        after = slice(step, depth)
        rec: dict[str, Any] = {
            "task": i,
            "difficulty": refs.difficulty[i],
            "size": refs.size[i],
            "correct_at_step": bool(base.correct[i, step - 1]),
            "base_final": bool(base.correct[i, -1]),
            "final": bool(run.correct[i, -1]),
            "steps_to_correct": _first_after(run.correct[i], step),
            "base_steps_to_correct": _first_after(base.correct[i], step),
            "disturbed": int((run.tokens[i, after] != before).sum(axis=1).max()),
            "base_disturbed": int((base.tokens[i, after] != before).sum(axis=1).max()),
        }
        if run.cells is not None and run.perturbed is not None:
            cells = run.cells[i][run.cells[i] >= 0]
            back = (run.tokens[i][:, cells] == before[cells]).all(axis=1)  # [depth]
            end = rec["steps_to_correct"] or depth - step
            window = run.tokens[i, step : step + end]
            rec.update(
                cells=cells.tolist(),
                differs=bool(cells.size and (run.perturbed[i, cells] != before[cells]).all()),
                restored=float((run.tokens[i, -1][cells] == before[cells]).mean())
                if cells.size
                else None,
                steps_to_restore=_first_after(back, step) if cells.size else None,
                other_changed=_others_changed(window, before, cells, end),
                base_other_changed=_others_changed(
                    base.tokens[i, step : step + end], before, cells, end
                ),
            )
        records.append(rec)
    return records


def _mean(values: Sequence[Any]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def aggregate(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The summary of some :func:`task_records`: rates over all tasks (``final_correct``,
    ``kept`` / ``gained`` against the unperturbed end) and, over the tasks the unperturbed run
    had right at the perturbation step, ``recovered``, steps to recover (perturbed and
    unperturbed), and for ``cells`` restoration, other cells changed and ``local_fix``.

    Examples
    --------
    >>> r = dict(correct_at_step=True, base_final=True, final=False, steps_to_correct=None,
    ...          base_steps_to_correct=1, disturbed=3, base_disturbed=0)
    >>> a = aggregate([r, {**r, "final": True, "steps_to_correct": 2}])
    >>> a["recovered"], a["steps_to_recover"], a["kept"]
    (0.5, 2.0, 0.5)
    """
    at = [r for r in records if r["correct_at_step"]]
    back = [r for r in at if r["steps_to_correct"] is not None]
    row: dict[str, Any] = {
        "n": len(records),
        "baseline_correct_at_step": _mean([r["correct_at_step"] for r in records]),
        "baseline_final_correct": _mean([r["base_final"] for r in records]),
        "final_correct": _mean([r["final"] for r in records]),
        "kept": _mean([r["final"] for r in records if r["base_final"]]),
        "gained": _mean([r["final"] for r in records if not r["base_final"]]),
        "n_correct_at_step": len(at),
        "recovered": _mean([r["final"] for r in at]),
        "steps_to_recover": _mean([r["steps_to_correct"] for r in back]),
        "baseline_steps_to_recover": _mean([r["base_steps_to_correct"] for r in back]),
        "cells_disturbed": _mean([r["disturbed"] for r in records]),
        "baseline_cells_disturbed": _mean([r["base_disturbed"] for r in records]),
    }
    if records and "cells" in records[0]:
        row.update(
            perturbed_differs=_mean([r["differs"] for r in records if r["cells"]]),
            restored=_mean([r["restored"] for r in at]),
            steps_to_restore=_mean([r["steps_to_restore"] for r in at]),
            other_changed=_mean([r["other_changed"] for r in back]),
            baseline_other_changed=_mean([r["base_other_changed"] for r in back]),
            local_fix=_mean([r["other_changed"] == 0 for r in back]),
        )
    return row


def answer_cycles(
    tokens: np.ndarray, per_step: int, correct: Sequence[bool], *, max_period: int = 32
) -> dict[str, Any]:
    """Fixed points and cycles of the answers ``tokens`` ([n, updates, L], one row per answer
    update, ``per_step`` updates a supervision step); ``correct``: whether each last answer
    verifies. A task is at a **fixed point** when its answer stays the same over at least the
    last quarter of the updates (``first_fixed_step``: the supervision step it settled at); it
    **cycles** with period p (2..``max_period`` updates, at most half that quarter) when its
    last quarter repeats every p updates; else it **wanders**.

    Examples
    --------
    >>> settles = [[1], [2]] + [[3]] * 14  # 16 updates, the answer fixed from update 3 on
    >>> flips = [[1], [2]] * 8
    >>> s = answer_cycles(np.array([settles, flips]), 2, [True, False], max_period=4)
    >>> s["fixed_point"], s["first_fixed_steps"], s["cycle_lengths"]
    (0.5, [2], {'2': 1})
    """
    n, updates = tokens.shape[:2]
    window = max(2, updates // 4)
    kinds, first, periods = [], [], []
    for i in range(n):
        seq = tokens[i]
        same = (seq == seq[-1]).all(axis=1)
        start = updates - int(np.argmin(same[::-1])) if not same.all() else 0
        if updates - start >= window:
            kinds.append("fixed_correct" if correct[i] else "fixed_wrong")
            first.append(start // per_step + 1)
            continue
        tail = seq[-window:]
        period = next(
            (
                p
                for p in range(2, min(max_period, window // 2) + 1)
                if (tail[p:] == tail[:-p]).all()
            ),
            None,
        )
        kinds.append("cycle" if period else "wander")
        if period:
            periods.append(period)
    share = (lambda k: kinds.count(k) / n) if n else (lambda k: 0.0)
    lengths = {str(p): periods.count(p) for p in sorted(set(periods))}
    return {
        "n": n,
        "updates": updates,
        "fixed_point": share("fixed_correct") + share("fixed_wrong"),
        "fixed_correct": share("fixed_correct"),
        "fixed_wrong": share("fixed_wrong"),
        "cycle": share("cycle"),
        "wander": share("wander"),
        "mean_first_fixed_step": _mean(first),
        "median_first_fixed_step": float(np.median(first)) if first else None,
        "first_fixed_steps": first,
        "cycle_lengths": lengths,
        "kinds": kinds,
    }
