"""``neurosym bench reliability``: fuzz the parsers, ``verify`` and ``solve`` with hostile input.

Every input comes from a seeded generator (random bytes, truncated and mutated real puzzles,
unicode look-alikes, huge sizes, empty 0x0 grids, ragged rows, contradictory givens, noisy
puzzles), so input ``i`` of seed ``s`` is rebuilt exactly by :func:`make_input` ``(s, i)``. Each
input goes through ``tasks.detect.parse_task``, ``SudokuTask.parse`` and ``MazeTask.parse``;
each task that parses gets ``verify`` with fuzzed answers; every ``stride``-th input also goes
through ``neurosym.solve(text, method="symbolic", time_limit_s=...)``.

The figures: exceptions outside the library's hierarchy (:class:`~tasks.errors.NeurosymError`;
goal 0), answers marked verified that this module's own checker rejects (goal 0; the checker
is written here, a Sudoku rule check and a maze BFS, sharing no code with ``tasks.verify``),
the worst time-limit overrun of ``solve`` (goal: wall time <= limit + 10% + 50 ms) and the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurosym.benchmarks.fuzz_inputs import (
    GENERATOR_NAMES,
    GENERATORS,
    Corpus,
    build_corpus,
    fuzz_answers,
    make_input,
)
from neurosym.benchmarks.fuzz_oracle import check_maze_path, check_sudoku_answer, independent_check
from tasks.detect import parse_task
from tasks.errors import ConfigError, NeurosymError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify

__all__ = [
    "GENERATORS",
    "Corpus",
    "build_corpus",
    "check_maze_path",
    "check_sudoku_answer",
    "make_input",
    "register",
    "run_reliability_benchmark",
]

Echo = Callable[[str], Any]

#: Goal: at least this many parser inputs for the "0 foreign exceptions" figure to count.
SCALE_GOAL = 100_000
#: Allowed time-limit overrun: limit * (1 + OVERRUN_FRACTION) + OVERRUN_SLACK_S.
OVERRUN_FRACTION = 0.10
OVERRUN_SLACK_S = 0.05


# ---------------------------------------------------------------------------- the run
@dataclass
class _Failures:
    """Foreign exceptions, deduplicated by (target, type, raising line), one reproducer each."""

    count: int = 0
    by_target: Counter[str] = field(default_factory=Counter)
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, target: str, exc: BaseException, generator: str, index: int, text: str) -> None:
        self.count += 1
        self.by_target[target] += 1
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
        key = f"{target} {type(exc).__name__} at {where}"
        entry = self.kinds.setdefault(
            key,
            {
                "target": target,
                "type": type(exc).__name__,
                "message": str(exc)[:300],
                "where": where,
                "count": 0,
                "generator": generator,
                "index": index,
                "input_len": len(text),
                "input": text if len(text) <= 300 else text[:300] + "...",
            },
        )
        entry["count"] += 1


def _peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run_reliability_benchmark(
    *,
    n: int = SCALE_GOAL,
    n_solve: int = 2000,
    seed: int = 0,
    time_limit_s: float = 0.2,
    data_dir: str | Path | None = None,
    echo: Echo = print,
) -> dict[str, Any]:
    """Fuzz the parsers on ``n`` inputs, ``verify`` on fuzzed answers for each parsed task, and
    ``solve`` (symbolic, ``time_limit_s``) on ``n_solve`` of the same inputs, evenly spread.

    Returns the report (also echoed); ``report["goals"]`` holds each goal and whether it is met.
    """
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    if n_solve < 0 or n_solve > n:
        raise ConfigError(f"n_solve must be in 0..n ({n}), got {n_solve}")
    if not time_limit_s > 0:
        raise ConfigError(f"time_limit_s must be > 0, got {time_limit_s}")
    from neurosym.api import solve
    from neurosym.benchmarks.symbolic import find_data_dir

    data = find_data_dir(data_dir)
    t_start = time.perf_counter()
    corpus = build_corpus(seed, data)
    echo(
        f"reliability: seed {seed}, {n} parser inputs, {n_solve} solve calls "
        f"(time limit {time_limit_s:g} s); corpus {len(corpus.sudoku)} Sudoku + "
        f"{len(corpus.maze)} mazes {corpus.sources}"
    )
    # solve whole blocks of consecutive inputs (one per generator), every ``stride``-th block,
    # so each generator gets its share of solve calls
    stride = max(1, n // n_solve) if n_solve else 0
    # first calls import and build the engines; time them apart so the overrun figure is the
    # steady state, and report them as the cold-start cost
    warmup: dict[str, float] = {}
    for label, text in (
        (
            "sudoku_9x9",
            "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
        ),
        ("maze", "S.#\n..#\n#.G"),
    ):
        if n_solve:
            t0 = time.perf_counter()
            try:
                solve(text, method="symbolic", time_limit_s=max(time_limit_s, 10.0))
            except NeurosymError:
                pass
            warmup[label] = time.perf_counter() - t0
    failures = _Failures()
    per_gen: dict[str, Counter[str]] = {name: Counter() for name in GENERATOR_NAMES}
    wrong_verified: list[dict[str, Any]] = []
    false_rejects: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    worst_overrun = {"overrun_s": float("-inf")}
    slowest_parse = {"s": 0.0}
    outcomes: Counter[str] = Counter()
    over_limit: list[dict[str, Any]] = []
    parsers: tuple[tuple[str, Callable[[str], Any]], ...] = (
        ("parse_task", parse_task),
        ("SudokuTask.parse", SudokuTask.parse),
        ("MazeTask.parse", MazeTask.parse),
    )
    next_report = 0.1
    for i in range(n):
        name, text = make_input(seed, i, corpus)
        gen = per_gen[name]
        gen["inputs"] += 1
        task = None
        for target, fn in parsers:
            counts["parse_calls"] += 1
            t0 = time.perf_counter()
            try:
                parsed = fn(text)
            except NeurosymError:
                parsed = None
            except Exception as exc:  # noqa: BLE001 - counting these is the point
                failures.add(target, exc, name, i, text)
                gen["foreign_exceptions"] += 1
                parsed = None
            dt = time.perf_counter() - t0
            if dt > slowest_parse["s"]:
                slowest_parse = {
                    "s": dt,
                    "target": target,
                    "generator": name,
                    "index": i,
                    "input_len": len(text),
                }
            if target == "parse_task" and parsed is not None:
                task = parsed
                gen["parsed"] += 1
        if isinstance(task, SudokuTask | MazeTask):  # other kinds (ARC) have no checker here
            arng = random.Random(f"answers:{seed}:{i}")
            for answer in fuzz_answers(task, arng, corpus):
                counts["verify_calls"] += 1
                try:
                    ok = verify(task, answer).ok
                except Exception as exc:  # noqa: BLE001 - verify must always return a verdict
                    failures.add("verify", exc, name, i, text)
                    gen["foreign_exceptions"] += 1
                    continue
                truth = independent_check(task, answer)
                counts["verify_accepted"] += ok
                if ok and not truth:
                    wrong_verified.append(
                        {
                            "target": "verify",
                            "generator": name,
                            "index": i,
                            "answer": repr(answer)[:300],
                        }
                    )
                elif truth and not ok:
                    false_rejects.append(
                        {
                            "target": "verify",
                            "generator": name,
                            "index": i,
                            "answer": repr(answer)[:300],
                        }
                    )
        if stride and (i // len(GENERATOR_NAMES)) % stride == 0 and counts["solve_calls"] < n_solve:
            counts["solve_calls"] += 1
            gen["solved_calls"] += 1
            t0 = time.perf_counter()
            result = None
            try:
                result = solve(text, method="symbolic", time_limit_s=time_limit_s)
                outcome = "verified" if result.verified else "unverified"
            except NeurosymError as exc:
                outcome = type(exc).__name__
            except Exception as exc:  # noqa: BLE001
                failures.add("solve", exc, name, i, text)
                gen["foreign_exceptions"] += 1
                outcome = "foreign_exception"
            elapsed = time.perf_counter() - t0
            outcomes[outcome] += 1
            over = elapsed - time_limit_s
            if over > worst_overrun["overrun_s"]:
                worst_overrun = {
                    "overrun_s": over,
                    "elapsed_s": elapsed,
                    "outcome": outcome,
                    "generator": name,
                    "index": i,
                    "input_len": len(text),
                }
            if elapsed > time_limit_s * (1 + OVERRUN_FRACTION) + OVERRUN_SLACK_S:
                counts["solve_over_limit"] += 1
                over_limit.append(
                    {
                        "elapsed_s": elapsed,
                        "outcome": outcome,
                        "generator": name,
                        "index": i,
                        "input_len": len(text),
                        "input": text[:120],
                    }
                )
            if result is not None and result.verified:
                gen["solve_verified"] += 1
                if not independent_check(result.task, result.answer):
                    wrong_verified.append(
                        {
                            "target": "solve",
                            "generator": name,
                            "index": i,
                            "answer": repr(result.answer)[:300],
                        }
                    )
        if (i + 1) / n >= next_report:
            echo(
                f"  {i + 1}/{n} inputs, {counts['solve_calls']} solves, "
                f"{failures.count} foreign exceptions, {time.perf_counter() - t_start:.0f} s"
            )
            next_report += 0.1
    wall = time.perf_counter() - t_start
    limit_bound = time_limit_s * (1 + OVERRUN_FRACTION) + OVERRUN_SLACK_S
    goals = {
        "no_foreign_exceptions": {"value": failures.count, "goal": 0, "met": failures.count == 0},
        "no_wrongly_verified": {"value": len(wrong_verified), "goal": 0, "met": not wrong_verified},
        "time_limit_kept": {
            "value": counts["solve_over_limit"],
            "goal": f"every solve within {limit_bound:.3f} s (limit + 10% + 50 ms)",
            "met": counts["solve_over_limit"] == 0,
        },
    }
    report: dict[str, Any] = {
        "seed": seed,
        "time_limit_s": time_limit_s,
        "n_inputs": n,
        "scale_goal": SCALE_GOAL,
        "scale_reached": n >= SCALE_GOAL,
        "corpus": {"sudoku": len(corpus.sudoku), "maze": len(corpus.maze), **corpus.sources},
        "data_dir": str(data) if data else None,
        "per_generator": {k: dict(v) for k, v in per_gen.items()},
        "parse_calls": counts["parse_calls"],
        "verify_calls": counts["verify_calls"],
        "verify_accepted": counts["verify_accepted"],
        "solve_calls": counts["solve_calls"],
        "solve_outcomes": dict(outcomes),
        "foreign_exceptions": failures.count,
        "foreign_by_target": dict(failures.by_target),
        "foreign_kinds": list(failures.kinds.values()),
        "wrongly_verified": wrong_verified[:50],
        "n_wrongly_verified": len(wrong_verified),
        "verify_false_rejects": false_rejects[:50],
        "n_verify_false_rejects": len(false_rejects),
        "worst_overrun": worst_overrun if counts["solve_calls"] else None,
        "warmup_s": warmup,
        "solve_over_limit": counts["solve_over_limit"],
        "over_limit_calls": over_limit[:50],
        "slowest_parse": slowest_parse,
        "peak_rss_mb": _peak_rss_mb(),
        "wall_s": wall,
        "goals": goals,
        "all_goals_met": all(g["met"] for g in goals.values()),
    }
    _print_report(report, echo)
    return report


def _print_report(rep: dict[str, Any], echo: Echo) -> None:
    echo("")
    echo(f"inputs per generator (seed {rep['seed']}):")
    cols = ("inputs", "parsed", "solved_calls", "solve_verified", "foreign_exceptions")
    heads = ("inputs", "parsed", "solved", "verified", "foreign")
    echo(f"  {'generator':<14} " + " ".join(f"{h:>8}" for h in heads))
    for name, c in rep["per_generator"].items():
        vals = [c.get(k, 0) for k in cols]
        echo(f"  {name:<14} " + " ".join(f"{v:>8}" for v in vals))
    echo(
        f"parser calls: {rep['parse_calls']} on {rep['n_inputs']} inputs (3 parsers each); "
        f"verify calls: {rep['verify_calls']} ({rep['verify_accepted']} accepted); "
        f"solve calls: {rep['solve_calls']} {rep['solve_outcomes']}"
    )
    scale = "" if rep["scale_reached"] else f" (below the goal's scale of {rep['scale_goal']})"
    echo(
        f"exceptions outside NeurosymError: {rep['foreign_exceptions']} "
        f"of {rep['n_inputs']} inputs{scale}"
    )
    for k in rep["foreign_kinds"]:
        echo(
            f"  BUG {k['target']}: {k['type']} at {k['where']} x{k['count']}: "
            f"{k['message'][:120]}  [make_input({rep['seed']}, {k['index']}) = "
            f"{k['input'][:80]!r}]"
        )
    echo(f"answers marked verified that the independent check rejects: {rep['n_wrongly_verified']}")
    for w in rep["wrongly_verified"][:5]:
        where = f"{w['generator']} input {w['index']}"
        echo(f"  BUG {w['target']} accepted {w['answer'][:100]} ({where})")
    echo(
        "correct answers verify rejected (independent check accepts): "
        f"{rep['n_verify_false_rejects']}"
    )
    w = rep["worst_overrun"]
    if w:
        echo(
            f"worst time-limit overrun: {w['overrun_s'] * 1000:+.1f} ms "
            f"(elapsed {w['elapsed_s']:.3f} s for a {rep['time_limit_s']:g} s limit, "
            f"{w['outcome']}, {w['generator']} input {w['index']}, {w['input_len']} chars); "
            f"calls over limit+10%+50ms: {rep['solve_over_limit']}"
        )
    if rep["solve_calls"]:
        cold = ", ".join(f"{k} {v:.2f} s" for k, v in rep["warmup_s"].items())
        echo(f"first calls (engine imports, not in the overrun figure): {cold}")
    sp = rep["slowest_parse"]
    if sp.get("target"):
        echo(
            f"slowest parse: {sp['s'] * 1000:.1f} ms "
            f"({sp['target']}, {sp['generator']}, {sp['input_len']} chars)"
        )
    echo(
        f"peak memory (max RSS of this process): {rep['peak_rss_mb']:.0f} MB; "
        f"wall time {rep['wall_s']:.0f} s"
    )
    for name, g in rep["goals"].items():
        echo(f"goal {name}: {g['value']} (goal {g['goal']}) -> {'met' if g['met'] else 'MISSED'}")


# ---------------------------------------------------------------------------- CLI
def _cmd_bench_reliability(args: argparse.Namespace) -> int:
    from neurosym.outputs import check_output_file

    if args.json:
        check_output_file(args.json, "--json")
    report = run_reliability_benchmark(
        n=args.n,
        n_solve=min(args.n_solve, args.n),
        seed=args.seed,
        time_limit_s=args.time_limit,
        data_dir=args.data,
        echo=print,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0 if report["all_goals_met"] else 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text}")
    return value


def register(bench_subparsers: Any) -> argparse.ArgumentParser:
    """Add ``reliability`` to the sub-parsers of ``neurosym bench``; returns its parser."""
    r = bench_subparsers.add_parser(
        "reliability",
        help="fuzz parsing, verify and solve with hostile input",
        description="Feed seeded hostile inputs (random bytes, truncated and mutated real "
        "puzzles, unicode, huge sizes, 0x0, ragged, contradictory, noisy) to the parsers, "
        "verify and symbolic solve, and print the exceptions outside neurosym's error "
        "hierarchy, answers marked verified that an independent checker rejects, the worst "
        "time-limit overrun and peak memory. Exit code 1 when a goal is missed.",
    )
    r.add_argument(
        "--n",
        type=_positive_int,
        default=SCALE_GOAL,
        help=f"parser inputs (default {SCALE_GOAL}, the goal's scale)",
    )
    r.add_argument(
        "--n-solve",
        type=_positive_int,
        default=2000,
        help="of those, inputs also given to solve, evenly spread (default 2000)",
    )
    r.add_argument(
        "--seed", type=int, default=0, help="seed of the corpus and the inputs (default 0)"
    )
    r.add_argument(
        "--time-limit",
        type=_positive_float,
        default=0.2,
        help="solve's time_limit_s, seconds (default 0.2)",
    )
    r.add_argument(
        "--data", default=None, help="shared data folder for real puzzles (default ../shared/data)"
    )
    r.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    r.set_defaults(func=_cmd_bench_reliability)
    return r


def main(argv: Sequence[str] | None = None) -> int:
    """Run the subcommand alone (``python -m neurosym.benchmarks.reliability``)."""
    from neurosym.benchmarks import run_alone

    return run_alone(register, argv)


if __name__ == "__main__":
    sys.exit(main())
