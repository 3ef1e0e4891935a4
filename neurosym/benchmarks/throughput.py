"""``neurosym bench throughput``: how many puzzles per second each TRM answers on one CPU thread.

For each model, on seeded fresh tasks of the size it was trained for, at its default depth
(:data:`neurosym.neural.DEFAULT_DEPTH`, else its trained ``N_sup``), per batch size and with
halting on (threshold 0.9, :data:`~neurosym.neural.HALT_THRESHOLD`) and off (every step): the
best of ``repeats`` timed :func:`trm.inference.predict` runs over all tasks (encode, recursion,
strict decode), after one untimed warm-up batch; the mean steps run; and the share of answers
:func:`tasks.verify.verify` accepts (checked outside the timed runs). Model load time is
measured apart, by :func:`trm.inference.load_model` on the checkpoint, after one untimed
first load (torch imports parts of itself then).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurosym.benchmarks.neural import EvalCase, maze_cases, sudoku_cases
from neurosym.study.common import check_int, parse_int_list, resolve_models
from tasks.errors import ConfigError

__all__ = [
    "WARMUP_STEPS",
    "Measurement",
    "case_depth",
    "format_table",
    "main",
    "measure",
    "model_cases",
    "register",
    "run_throughput",
]

#: Supervision steps of the untimed warm-up batch run before each timed series (allocator,
#: kernel selection and first-call costs; enough to reach the steady per-step time).
WARMUP_STEPS = 2

#: ``progress(done, total, label)``: called after every warm-up and timed repeat.
Progress = Callable[[int, int, str], Any]


@dataclass(slots=True)
class Measurement:
    """One (tasks, batch size, halting mode) series: every repeat's seconds over all tasks,
    the warm-up's seconds, and the last repeat's predictions with their ``verify`` outcome."""

    repeat_s: list[float]
    warmup_s: float
    predictions: list[Any]
    verified: list[bool]

    @property
    def best_s(self) -> float:
        """The fastest repeat (the least disturbed by other jobs on a shared machine)."""
        return min(self.repeat_s)

    @property
    def mean_steps(self) -> float:
        return sum(p.steps for p in self.predictions) / max(1, len(self.predictions))

    @property
    def verified_share(self) -> float:
        return sum(self.verified) / max(1, len(self.verified))


def model_cases(
    loaded: Any, n: int, seed: int, maze_sizes: Sequence[int] = (15, 30)
) -> list[EvalCase]:
    """The seeded task sets a model is timed on, the sizes it was trained for.

    9x9 Sudoku models: minimal 9x9 puzzles; 6x6 ones: unique 6x6 puzzles with 10-12 givens
    (both the ``neurosym bench neural`` sets); a fixed-size maze model: perfect mazes of its
    canvas; a size-agnostic maze model: perfect mazes of each side in ``maze_sizes`` (30x30 ones
    with a shortest path over 110 moves). Other Sudoku sizes get fresh puzzles of the model's
    training distribution (:func:`neurosym.study.common.eval_tasks`).
    """
    if loaded.kind == "maze":
        sides = tuple(maze_sizes) if loaded.config.size_agnostic else (loaded.codec.height,)
        return [c for c in maze_cases(sizes=sides, n=n, seed=seed) if c.name.endswith("perfect")]
    if loaded.codec.size == 9:
        return sudoku_cases(n_minimal=n, n_hard=0, n_six=0, seed=seed)[:1]
    if loaded.codec.size == 6:
        return sudoku_cases(n_minimal=0, n_hard=0, n_six=n, seed=seed)[-1:]
    from neurosym.study.common import eval_tasks

    tasks, what = eval_tasks(loaded, n, seed)
    return [EvalCase(what, tasks)]


def case_depth(loaded: Any, tasks: Sequence[Any]) -> int:
    """The supervision-step cap used for ``tasks``: the largest of the tasks' default depths
    (:func:`neurosym.neural.default_max_steps`, else the trained ``N_sup``), so that one cap
    serves every batch and each task gets at least its own default. Only the ``"per-cell"``
    rule makes the defaults differ within a set (30x30 mazes: 57-63 steps)."""
    from neurosym.neural import default_max_steps

    trained = int(loaded.config.max_supervision_steps)
    return max((default_max_steps(loaded, t) or trained for t in tasks), default=trained)


def measure(
    loaded: Any,
    tasks: Sequence[Any],
    *,
    depth: int,
    batch_size: int,
    halt: bool,
    halt_threshold: float = 0.9,
    repeats: int = 3,
    progress: Callable[[str], Any] | None = None,
) -> Measurement:
    """Time ``repeats`` runs of :func:`trm.inference.predict` over all ``tasks`` on one torch
    thread, after one untimed warm-up batch of :data:`WARMUP_STEPS` steps; then ``verify``
    every answer of the last run (answers are deterministic: no noise). ``progress(label)``
    is called after the warm-up and after each repeat."""
    from neurosym.neural import torch_threads
    from tasks.verify import verify
    from trm.inference import predict

    tasks = list(tasks)
    tick = progress or (lambda _label: None)
    options = {"halt": halt, "halt_threshold": halt_threshold, "batch_size": batch_size}
    with torch_threads(1):
        t0 = time.perf_counter()
        predict(loaded, None, tasks[:batch_size], max_steps=min(depth, WARMUP_STEPS), **options)
        warmup_s = time.perf_counter() - t0
        tick("warm-up")
        repeat_s, predictions = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            predictions = predict(loaded, None, tasks, max_steps=depth, **options)
            repeat_s.append(time.perf_counter() - t0)
            tick("timed")
    verified = [verify(t, p.answer).ok for t, p in zip(tasks, predictions, strict=True)]
    return Measurement(repeat_s, warmup_s, predictions, verified)


def run_throughput(
    models: str | Sequence[str] | None = None,
    *,
    n: int = 64,
    batch_sizes: str | Sequence[int] = (1, 64),
    repeats: int = 3,
    halt_threshold: float = 0.9,
    seed: int = 2026,
    maze_sizes: str | Sequence[int] = (15, 30),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Throughput of each model (``None``/``"all"``: every shipped one) per task set, batch
    size and halting mode; every option is checked before any work (:class:`ConfigError`).

    Returns the report (JSON-safe): ``settings``, ``models`` (name -> load seconds and task
    sets) and ``rows``, one per (model, task set, batch size, halting mode), with
    ``puzzles_per_s`` and ``ms_per_puzzle`` of the best repeat, every repeat's seconds, the
    warm-up's, ``mean_steps`` and ``verified`` (the share ``verify`` accepts).
    """
    from neurosym.neural import resolve_model
    from trm.inference import check_halt_threshold, load_model

    chosen = resolve_models(models)
    check_int(n, "n", 1)
    sizes = parse_int_list(batch_sizes, "batch_sizes", 65536)
    check_int(repeats, "repeats", 1, 100)
    threshold = check_halt_threshold(halt_threshold)
    check_int(seed, "seed", 0)
    sides = parse_int_list(maze_sizes, "maze_sizes", 200)
    if sides[0] < 2:
        raise ConfigError(f"maze_sizes takes integers in 2..200, got {maze_sizes!r}")

    # torch imports parts of itself on the first checkpoint load (~3 s here): an untimed load
    # first, so each model's load time is its own.
    t0 = time.perf_counter()
    load_model(next(iter(chosen.values())))
    first_load_s = time.perf_counter() - t0
    loads: dict[str, tuple[Any, float]] = {}
    for name, path in chosen.items():
        t0 = time.perf_counter()
        fresh = load_model(path)
        loads[name] = (fresh, time.perf_counter() - t0)
    plans = []
    for name, (fresh, _) in loads.items():
        for case in model_cases(fresh, n, seed, sides):
            # The cached instance solve() uses, which carries the shipped default depth.
            loaded, _ = resolve_model(case.tasks[0], chosen[name])
            plans.append((name, case, loaded, case_depth(loaded, case.tasks)))
    total = len(plans) * len(sizes) * 2 * (repeats + 1)
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    rows: list[dict[str, Any]] = []
    for name, case, loaded, depth in plans:
        for batch in sizes:
            for halt in (True, False):
                m = measure(
                    loaded,
                    case.tasks,
                    depth=depth,
                    batch_size=batch,
                    halt=halt,
                    halt_threshold=threshold,
                    repeats=repeats,
                    progress=lambda label, what=f"{name} {case.name} b{batch}": tick(
                        f"{what} {label}"
                    ),
                )
                count = len(case.tasks)
                rows.append(
                    {
                        "model": name,
                        "tasks": case.name,
                        "n": count,
                        "depth": depth,
                        "batch_size": batch,
                        "effective_batch": min(batch, count),
                        "halting": halt,
                        "puzzles_per_s": count / m.best_s,
                        "ms_per_puzzle": 1000.0 * m.best_s / count,
                        "best_s": m.best_s,
                        "repeat_s": m.repeat_s,
                        "warmup_s": m.warmup_s,
                        "mean_steps": m.mean_steps,
                        "verified": m.verified_share,
                    }
                )
    return {
        "settings": {
            "n": n,
            "batch_sizes": sizes,
            "repeats": repeats,
            "timing": f"best of {repeats} timed repeats over all tasks; one untimed warm-up "
            f"batch of {WARMUP_STEPS} steps before each series, excluded",
            "halt_threshold": threshold,
            "seed": seed,
            "maze_sizes": sides,
            "torch_threads": 1,
            "untimed_first_load_s": first_load_s,
        },
        "models": {
            name: {
                "path": str(chosen[name]),
                "load_s": load_s,
                "task_sets": [case.name for m, case, _, _ in plans if m == name],
            }
            for name, (_, load_s) in loads.items()
        },
        "rows": rows,
    }


def format_table(report: dict[str, Any]) -> str:
    """The rows as a markdown table, then the load times and how the timing was done."""
    lines = [
        "| model | tasks | n | depth | batch | halting | puzzles/s | ms/puzzle | mean steps "
        "| verified |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        batch = str(r["batch_size"])
        if r["effective_batch"] != r["batch_size"]:
            batch += f" ({r['effective_batch']} used)"
        halting = f"on ({report['settings']['halt_threshold']:g})" if r["halting"] else "off"
        lines.append(
            f"| {r['model']} | {r['tasks']} | {r['n']} | {r['depth']} | {batch} | {halting} "
            f"| {r['puzzles_per_s']:.1f} | {r['ms_per_puzzle']:.1f} | {r['mean_steps']:.2f} "
            f"| {100 * r['verified']:.1f}% |"
        )
    loads = ", ".join(f"{k} {v['load_s']:.2f} s" for k, v in report["models"].items())
    first = report["settings"]["untimed_first_load_s"]
    lines += [
        "",
        f"model load (load_model, not in the table): {loads}; after one untimed first load "
        f"({first:.2f} s, with torch's one-time lazy imports)",
    ]
    lines.append(f"timing: {report['settings']['timing']}; one torch thread")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- CLI
def _cmd_bench_throughput(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from neurosym.outputs import check_output_file

    if args.json:
        check_output_file(args.json, "--json")
    bar = None

    def progress(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            # on stderr (tqdm's default): stdout keeps the table
            bar = tqdm(total=total, desc="throughput", unit="run", leave=False)
        bar.set_postfix_str(label, refresh=False)
        bar.update(1)

    try:
        report = run_throughput(
            args.models,
            n=args.n,
            batch_sizes=args.batch_sizes,
            repeats=args.repeats,
            halt_threshold=args.halt_threshold,
            seed=args.seed,
            maze_sizes=args.maze_sizes,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    print(format_table(report))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def register(bench_subparsers: Any) -> argparse.ArgumentParser:
    """Add ``throughput`` to the sub-parsers of ``neurosym bench``; returns its parser."""
    p = bench_subparsers.add_parser(
        "throughput",
        help="puzzles per second of each TRM on one CPU thread",
        description="Time each model (default: every shipped one) on seeded fresh tasks of "
        "its trained size at its default depth, on one torch thread, per batch size with "
        "halting on and off: puzzles/s and ms per puzzle (best of the timed repeats, warm-up "
        "excluded), mean steps run and the share of answers verify accepts; model load time "
        "apart.",
    )
    p.add_argument(
        "--models", default="all", help="comma-separated shipped names or checkpoint paths"
    )
    p.add_argument("--n", type=int, default=64, help="tasks per task set (default 64)")
    p.add_argument("--batch-sizes", default="1,64", help="batch sizes (default 1,64)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats, best kept (default 3)")
    p.add_argument(
        "--halt-threshold",
        type=float,
        default=0.9,
        help="halting-on threshold, in [0, 1) (default 0.9, as solve)",
    )
    p.add_argument("--seed", type=int, default=2026, help="seed of the tasks (default 2026)")
    p.add_argument(
        "--maze-sizes",
        default="15,30",
        help="maze sides for a size-agnostic maze model (default 15,30)",
    )
    p.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    p.set_defaults(func=_cmd_bench_throughput)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the subcommand alone (``python -m neurosym.benchmarks.throughput``)."""
    from neurosym.benchmarks import run_alone

    return run_alone(register, argv)


if __name__ == "__main__":
    sys.exit(main())
