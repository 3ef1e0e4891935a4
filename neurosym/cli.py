"""The ``neurosym`` command line: solve, demo, bench. It owns all printing and progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from tasks.errors import NeurosymError

__all__ = ["main", "format_result"]


def _box_arg(text: str) -> tuple[int, int]:
    try:
        rows, cols = text.lower().split("x")
        return (int(rows), int(cols))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--box takes ROWSxCOLS, e.g. 2x3; got {text!r}") from None


def _format_effort(effort: dict[str, float]) -> str:
    parts = []
    for key, value in effort.items():
        if isinstance(value, float) and not value.is_integer():
            parts.append(f"{key}={value:.4g}")
        else:
            parts.append(f"{key}={int(value)}")
    return ", ".join(parts) or "-"


def _format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def format_result(result: object) -> str:
    """Human-readable text for a :class:`neurosym.SolveResult`: the answer drawn, then stats."""
    from tasks.sudoku import SudokuTask

    task = result.task  # type: ignore[attr-defined]
    if isinstance(task, SudokuTask):
        drawing = task.to_text(result.answer)  # type: ignore[attr-defined]
        what = (
            f"{task.size}x{task.size} Sudoku ({task.box_rows}x{task.box_cols} boxes), "
            f"{task.n_givens} givens"
        )
    else:
        drawing = task.to_text(result.answer)  # type: ignore[attr-defined]
        moves = len(result.answer) - 1  # type: ignore[attr-defined]
        what = f"{task.height}x{task.width} maze, shortest path {moves} moves"
    unique = {True: "yes", False: "no", None: "not checked"}[result.unique]  # type: ignore[attr-defined]
    lines = [
        drawing,
        "",
        what,
        f"verified: {'yes' if result.verified else 'NO'}   unique: {unique}   "  # type: ignore[attr-defined]
        f"method: {result.method}   backend: {result.backend}   "  # type: ignore[attr-defined]
        f"time: {_format_time(result.time_s)}",  # type: ignore[attr-defined]
        f"effort: {_format_effort(result.effort)}",  # type: ignore[attr-defined]
    ]
    if not result.verified:  # type: ignore[attr-defined]
        lines += [f"violation: {v.message}" for v in result.verification.violations]  # type: ignore[attr-defined]
    return "\n".join(lines)


def _cmd_solve(args: argparse.Namespace) -> int:
    from neurosym.api import solve

    result = solve(
        args.puzzle,
        method=args.method,
        backend=args.backend,
        time_limit_s=args.time_limit,
        seed=args.seed,
        box=args.box,
        check_unique=not args.no_unique,
        model=args.model,
    )
    if args.json:
        print(json.dumps(result.summary()))
    else:
        print(format_result(result))
    return 0 if result.verified else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from neurosym.demo import run_demo

    ok = True
    for title, result in run_demo(seed=args.seed):
        print(f"=== {title}")
        print(format_result(result))
        print()
        # a symbolic answer must verify; a neural one is shown with its verdict either way
        ok = ok and (result.verified or result.method != "symbolic")
    return 0 if ok else 1


def _cmd_bench_symbolic(args: argparse.Namespace) -> int:
    from neurosym.benchmarks.symbolic import SECTIONS, run_symbolic_benchmark

    report = run_symbolic_benchmark(
        data_dir=args.data,
        n_generated=args.generated,
        n_large=args.large,
        constraint_subset=args.constraint_subset,
        seed=args.seed,
        quick=args.quick,
        sections=tuple(args.only) if args.only else SECTIONS,
        echo=print,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        print(f"wrote {args.json}")
    return 0 if report.get("all_targets_met", False) or args.quick else 1


def _cmd_bench_train(args: argparse.Namespace) -> int:
    from neurosym.benchmarks.train import run_train_benchmark

    report = run_train_benchmark(
        preset=args.preset,
        steps=args.steps,
        eval_every=args.eval_every,
        eval_size=args.eval_size,
        threads=args.threads,
        seed=args.seed,
        echo=print,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        print(f"wrote {args.json}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from neurosym.train_cli import PRESET_DATA, Progress
    from trm.train import TrainConfig, train

    data = dict(PRESET_DATA.get(args.preset, {}))
    if not data:
        from tasks.errors import ConfigError

        raise ConfigError(f"unknown preset {args.preset!r}; choose one of {sorted(PRESET_DATA)}")
    fields: dict[str, Any] = {
        "preset": args.preset,
        "data": data,
        "device": args.device,
        "seed": args.seed,
    }
    for name in (
        "steps",
        "batch_size",
        "lr",
        "eval_every",
        "eval_size",
        "checkpoint_every",
        "threads",
        "optimizer",
    ):
        value = getattr(args, name)
        if value is not None:
            fields[name] = value
    config = TrainConfig(**fields)
    progress = Progress(config.steps)
    try:
        result = train(config, args.out, resume=args.resume, callbacks=[progress])
    finally:
        progress.close()
    print(f"checkpoint: {result.checkpoint}  (steps {result.step}, {result.wall_s:.0f} s)")
    if result.eval_metrics:
        print("final evaluation (EMA weights): " + json.dumps(result.eval_metrics))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from trm.data import make_eval_set
    from trm.inference import evaluate, load_model

    loaded = load_model(args.checkpoint)
    if args.data:
        from tasks.datasets import load_sudoku_csv

        records = [r for r in load_sudoku_csv(args.data) if r.solution is not None]
        tasks = [r.task for r in records]
        solutions = [r.solution for r in records]
        source = f"{args.data} ({len(tasks)} puzzles with a known solution)"
    else:
        data_cfg = loaded.meta.get("train_config", {}).get("data") or loaded.codec.spec()
        es = make_eval_set(data_cfg, args.generate, args.seed)
        tasks, solutions = es.tasks, es.solutions
        source = f"{len(tasks)} generated, seed {args.seed}"
    metrics = evaluate(loaded, tasks, solutions)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(f"evaluated on {source}")
        for key, value in metrics.items():
            print(f"  {key}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurosym",
        description="Solve grid puzzles (Sudoku of any box size, mazes) with verified answers, "
        "and benchmark the solvers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "solve",
        help="solve a puzzle given as text or a file",
        description="Solve a Sudoku (81-char line, N x N grid, letters past 9) or a maze "
        "(ASCII: # wall, . free, S start, G goal) and print the verified answer with stats.",
    )
    p.add_argument("puzzle", help="puzzle text or the path of a file holding one")
    p.add_argument("--method", default="symbolic", choices=["symbolic", "neural", "hybrid"])
    p.add_argument("--model", default=None, help="TRM checkpoint for --method neural")
    p.add_argument(
        "--backend",
        default=None,
        help="Sudoku: sat (default), cpsat, constraint, backtrack; maze: bfs (default), networkx",
    )
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--box", type=_box_arg, default=None, help="Sudoku box as ROWSxCOLS, e.g. 2x3")
    p.add_argument("--no-unique", action="store_true", help="skip the uniqueness check")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser(
        "demo",
        help="solve built-in examples (9x9, 16x16, 30x30 maze)",
        description="Generate a minimal 9x9 Sudoku, a 16x16 Sudoku and a Maze-Hard-style 30x30 "
        "maze with the seeded generators, solve them and print the verified answers.",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_demo)

    from neurosym.train_cli import add_train_commands

    add_train_commands(sub, _cmd_train, _cmd_eval)

    p = sub.add_parser("bench", help="benchmarks", description="Benchmarks.")
    bench = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    b = bench.add_parser(
        "symbolic",
        help="symbolic solvers against in-run baselines",
        description="Time the default Sudoku and maze backends against baselines measured in "
        "the same run (plain CP-SAT rebuilt per puzzle, python-constraint, networkx) and print "
        "the ratios and whether each target is met.",
    )
    b.add_argument("--data", default=None, help="shared data folder (default: ../shared/data)")
    b.add_argument("--generated", type=int, default=200, help="generated minimal 9x9 puzzles")
    b.add_argument("--large", type=int, default=5, help="16x16 and 25x25 puzzles each")
    b.add_argument(
        "--constraint-subset",
        type=int,
        default=20,
        help="hard 9x9 puzzles timed with python-constraint (slow, ~1 s each)",
    )
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    b.add_argument(
        "--only",
        nargs="+",
        choices=["9x9", "large", "maze"],
        help="run only these sections (default: all)",
    )
    b.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    b.set_defaults(func=_cmd_bench_symbolic)
    t = bench.add_parser(
        "train",
        help="TRM training speed and time to accuracy",
        description="Train a preset from scratch in a temporary folder and print examples/s, "
        "seconds per step and the time at which the EMA weights first reach 50/90/99%% exact "
        "accuracy on unseen generated puzzles.",
    )
    t.add_argument("--preset", default="sudoku6-tiny")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--eval-size", type=int, default=128)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    t.set_defaults(func=_cmd_bench_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except NeurosymError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
