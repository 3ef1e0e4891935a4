"""``neurosym bench neural``: what test-time depth and stochastic trajectories buy a TRM, on
hard puzzles, in one run on this machine.

For each evaluation set the model runs once with halting up to the deepest depth asked for;
a puzzle's answer at depth ``d`` is its answer at the step it halted (halt probability over
the threshold) or at step ``d``, whichever comes first, so one run gives the whole
accuracy-vs-depth curve. Every answer is decoded strictly and checked by
:func:`tasks.verify.verify` ("valid"). Then K noisy trajectories run at the default depth and
each selection rule is scored on the same candidates, with the wall time of that run.
Inference runs on one torch thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "EvalCase",
    "depth_curve",
    "trajectory_table",
    "run_neural_benchmark",
    "sudoku_cases",
    "maze_cases",
]

Echo = Callable[[str], Any]


@dataclass(slots=True)
class EvalCase:
    """A named evaluation set: tasks and, per task, a difficulty label (e.g. guesses bucket)."""

    name: str
    tasks: list[Any]
    labels: list[str] = field(default_factory=list)


def depth_curve(
    loaded: Any,
    tasks: Sequence[Any],
    depths: Sequence[int],
    *,
    halt_threshold: float = 0.9,
    batch_size: int = 128,
) -> dict[str, Any]:
    """Valid-answer accuracy at every depth in ``depths`` (with halting), from one run.

    Returns ``{"depths", "valid" (per depth, [n] bools), "steps" (per depth, [n] steps used),
    "seconds"}``; ``seconds`` is the wall time of the run to the deepest depth with halting.
    Tasks of several sizes are run size by size (size-agnostic models).
    """
    import torch

    from tasks.verify import verify
    from trm.rollout import (
        check_steps,
        decode_answer,
        encode_tasks,
        geometry_of,
        group_by_codec,
        hint_token,
        run_batch,
    )

    net = loaded.model
    depths = sorted(set(int(d) for d in depths))
    deepest = check_steps(net, depths[-1])
    n = len(tasks)
    valid = {d: np.zeros(n, dtype=bool) for d in depths}
    used = {d: np.zeros(n, dtype=np.int64) for d in depths}
    fixed = None if net.config.size_agnostic else loaded.codec
    start_time = time.perf_counter()
    for codec, members in group_by_codec(net, fixed, list(tasks)):
        geometry = geometry_of(codec) if net.config.size_agnostic else None
        inputs_np = encode_tasks(codec, [tasks[i] for i in members])
        for lo in range(0, len(members), batch_size):
            chunk = members[lo : lo + batch_size]
            answers: dict[int, dict[int, np.ndarray]] = {d: {} for d in depths}
            halted_at: dict[int, int] = {}
            inputs = torch.from_numpy(inputs_np[lo : lo + batch_size])
            for step, (rows, tokens, _, halt_prob) in enumerate(
                run_batch(
                    net,
                    inputs,
                    deepest,
                    True,
                    halt_threshold,
                    geometry=geometry,
                    vocab=codec.vocab_size,
                    hint_as=hint_token(codec),
                ),
                start=1,
            ):
                tok = tokens.cpu().numpy()
                probs = halt_prob.cpu().numpy()
                for j, row in enumerate(rows.tolist()):
                    stops = probs[j] > halt_threshold
                    for d in depths:
                        if step == d or (stops and step < d):
                            answers[d][row] = tok[j].astype(np.int64)
                    if stops:
                        halted_at[row] = step
            for d in depths:
                for row, tok in answers[d].items():
                    i = chunk[row]
                    valid[d][i] = verify(tasks[i], decode_answer(codec, tok, tasks[i])).ok
                    used[d][i] = min(halted_at.get(row, d), d)
    return {
        "depths": depths,
        "valid": valid,
        "steps": used,
        "seconds": time.perf_counter() - start_time,
    }


def trajectory_table(
    loaded: Any,
    tasks: Sequence[Any],
    *,
    trajectories: int,
    noise: float,
    max_steps: int | None,
    halt_threshold: float = 0.9,
    seed: int = 0,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Valid accuracy of each selection rule over one run of ``trajectories`` per task.

    ``verify`` counts a task when any candidate verifies (what the hybrid's verifier
    selection keeps). Returns ``{"rules": {rule: accuracy}, "seconds", "mean_steps"}``.
    """
    from tasks.verify import verify
    from trm.inference import predict, select_candidate

    t0 = time.perf_counter()
    preds = predict(
        loaded,
        None,
        list(tasks),
        max_steps=max_steps,
        halt_threshold=halt_threshold,
        trajectories=trajectories,
        noise=noise,
        seed=seed,
        batch_size=batch_size,
    )
    seconds = time.perf_counter() - t0
    ok = [[verify(t, c.answer).ok for c in p.candidates] for t, p in zip(tasks, preds, strict=True)]
    rules: dict[str, float] = {}
    for rule in ("halt", "first", "vote"):
        chosen = [select_candidate(p.candidates, rule) for p in preds]
        rules[rule] = float(np.mean([o[k] for o, k in zip(ok, chosen, strict=True)]))
    rules["verify"] = float(np.mean([any(o) for o in ok]))
    steps = [c.steps for p in preds for c in p.candidates]
    return {"rules": rules, "seconds": seconds, "mean_steps": float(np.mean(steps))}


def _buckets(case: EvalCase, valid: np.ndarray) -> dict[str, tuple[int, float]]:
    out: dict[str, tuple[int, float]] = {}
    for label in dict.fromkeys(case.labels):
        idx = [i for i, lab in enumerate(case.labels) if lab == label]
        out[label] = (len(idx), float(valid[idx].mean()))
    return out


def run_neural_benchmark(
    loaded: Any,
    cases: Sequence[EvalCase],
    *,
    depths: Sequence[int] = (8, 16, 32, 64, 128, 256),
    trajectories: Sequence[int] = (1, 8),
    noise: float = 0.1,
    default_depth: int | None = None,
    halt_threshold: float = 0.9,
    echo: Echo = print,
) -> dict[str, Any]:
    """Run :func:`depth_curve` and :func:`trajectory_table` on every case; print a table.

    Returns the report as a dict (JSON-safe).
    """
    import torch

    from tasks.errors import UnsupportedTaskError
    from trm.inference import check_halt_threshold, codec_for

    # Checked before the first case: the trajectory table would reject it only after the
    # depth curves had run (minutes).
    halt_threshold = check_halt_threshold(halt_threshold)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    report: dict[str, Any] = {"cases": {}}
    try:
        for case in cases:
            if not case.tasks:
                continue
            try:
                codec_for(loaded, case.tasks[0])
            except UnsupportedTaskError as exc:
                echo(f"\n{case.name}: skipped ({exc})")
                continue
            curve = depth_curve(loaded, case.tasks, depths, halt_threshold=halt_threshold)
            n = len(case.tasks)
            rows = []
            for d in curve["depths"]:
                v = curve["valid"][d]
                rows.append(
                    {
                        "depth": d,
                        "valid": float(v.mean()),
                        "mean_steps": float(curve["steps"][d].mean()),
                        "buckets": _buckets(case, v) if case.labels else {},
                    }
                )
            echo(
                f"\n{case.name}: {n} tasks; valid answers by test-time depth (halting at "
                f"{halt_threshold}); {curve['seconds']:.1f} s for the run to depth "
                f"{curve['depths'][-1]}"
            )
            for row in rows:
                buckets = "  ".join(
                    f"{k} ({m}): {100 * a:.1f}%" for k, (m, a) in row["buckets"].items()
                )
                echo(
                    f"  depth {row['depth']:>4}: {100 * row['valid']:5.1f}%  mean steps "
                    f"{row['mean_steps']:6.2f}  {buckets}"
                )
            traj = []
            for k in trajectories:
                result = trajectory_table(
                    loaded,
                    case.tasks,
                    trajectories=k,
                    noise=noise,
                    max_steps=default_depth,
                    halt_threshold=halt_threshold,
                )
                traj.append({"k": k, **result})
                rules = "  ".join(f"{r} {100 * a:.1f}%" for r, a in result["rules"].items())
                echo(
                    f"  K={k:>3} (noise {noise}, depth {default_depth}): {rules}  "
                    f"{1000 * result['seconds'] / n:.1f} ms/task"
                )
            report["cases"][case.name] = {"n": n, "depth": rows, "trajectories": traj}
    finally:
        torch.set_num_threads(old)
    return report


def _bucket(guesses: int) -> str:
    from neurosym.hard_data import GUESS_BUCKETS

    return next(name for lo, hi, name in GUESS_BUCKETS if lo <= guesses <= hi)


def sudoku_cases(
    *,
    n_minimal: int = 300,
    n_hard: int = 100,
    n_six: int = 200,
    seed: int = 2026,
    data_dir: Any = None,
    progress: Callable[[str], Any] | None = None,
) -> list[EvalCase]:
    """The Sudoku evaluation sets of the issue's targets, generated from ``seed`` (training
    pools use other seeds) plus the public collections in ``data_dir`` when given:

    * ``minimal 9x9``: ``n_minimal`` fresh minimal unique puzzles, labelled by guesses bucket;
    * ``9x9 >5 guesses``: the first ``n_hard`` fresh minimal puzzles needing more than 5
      backtracking guesses (drawn from a longer stream of the same generator);
    * ``norvig-hardest`` and ``gecode-9x9`` (evaluation only, never training);
    * ``6x6 10-12 givens``: ``n_six`` unique 6x6 puzzles carved to 10-12 givens.
    """
    from pathlib import Path

    from neurosym.hard_data import guesses_needed, make_hard_sudoku
    from tasks.datasets import load_sudoku_csv
    from tasks.generators import generate_puzzle, generate_solution
    from tasks.sudoku import SudokuTask
    from trm.data import other_solution

    def tasks_of(pool: dict[str, np.ndarray]) -> list[SudokuTask]:
        out = []
        for flat in pool["puzzles"]:
            grid = tuple(tuple(int(v) for v in flat[r * 9 : (r + 1) * 9]) for r in range(9))
            out.append(SudokuTask(box_rows=3, box_cols=3, grid=grid))
        return out

    say = progress or (lambda _msg: None)
    cases = []
    say(f"generating {n_minimal} minimal 9x9 puzzles (seed {seed})")
    pool = make_hard_sudoku(n_minimal, seed=seed)
    cases.append(
        EvalCase("minimal 9x9", tasks_of(pool), [_bucket(int(g)) for g in pool["guesses"].tolist()])
    )
    say(f"collecting {n_hard} minimal 9x9 puzzles needing > 5 guesses (seed {seed + 1})")
    hard: list[SudokuTask] = []
    start = 0
    while len(hard) < n_hard:
        chunk = make_hard_sudoku(200, seed=seed + 1, start=start)
        start += 200
        hard += [t for t, g in zip(tasks_of(chunk), chunk["guesses"], strict=True) if g > 5]
    cases.append(EvalCase("9x9 >5 guesses", hard[:n_hard], [">5"] * n_hard))
    if data_dir is not None:
        for name, path in (
            ("norvig-hardest", Path(data_dir) / "sudoku-norvig-hardest" / "hardest.csv"),
            ("gecode-9x9", Path(data_dir) / "sudoku-gecode-9x9" / "puzzles.csv"),
        ):
            if path.is_file():
                tasks = [r.task for r in load_sudoku_csv(path)]
                cases.append(EvalCase(name, tasks, [_bucket(guesses_needed(t)) for t in tasks]))
    if n_six:
        say(f"generating {n_six} unique 6x6 puzzles with 10-12 givens (seed {seed + 2})")
        rng = np.random.default_rng(seed + 2)
        six = []
        while len(six) < n_six:
            solution = generate_solution(2, 3, rng=rng)
            task, _ = generate_puzzle(
                2,
                3,
                n_givens=int(rng.integers(10, 13)),
                solution=solution,
                is_unique=lambda t, s=solution: other_solution(t, s) is None,
                rng=rng,
            )
            if 10 <= task.n_givens <= 12:
                six.append(task)
        cases.append(EvalCase("6x6 10-12 givens", six, [str(t.n_givens) for t in six]))
    return cases


def maze_cases(
    *,
    sizes: Sequence[int] = (15, 30, 59),
    n: int = 100,
    seed: int = 2026,
    min_path: dict[int, int] | None = None,
) -> list[EvalCase]:
    """Perfect mazes and mazes with loops (the Maze-Hard construction) of each side in
    ``sizes``, ``n`` of each, generated from ``seed``; 30x30 ones need a shortest path over
    110 moves (the Maze-Hard rule) unless ``min_path`` says otherwise."""
    from tasks.generators import generate_maze_hard, generate_perfect_maze
    from tasks.verify import maze_shortest_length

    min_path = {30: 110} if min_path is None else min_path
    cases = []
    for size in sizes:
        need = min_path.get(size, 0)
        rng = np.random.default_rng([seed, size])
        perfect = []
        while len(perfect) < n:
            maze = generate_perfect_maze(size, size, rng=rng)
            if maze_shortest_length(maze) > need:
                perfect.append(maze)
        loops = [generate_maze_hard(size=size, min_path_length=need, rng=rng) for _ in range(n)]
        cases.append(EvalCase(f"{size}x{size} perfect", perfect, []))
        cases.append(EvalCase(f"{size}x{size} loops", loops, []))
    return cases
