"""``neurosym bench`` (symbolic, many, train, mixers, neural) and ``neurosym datagen``: handlers
and arguments."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from neurosym.commands.common import box_arg, int_list, write_json_report
from neurosym.outputs import check_output_dir, check_output_file

__all__ = ["register"]


def _cmd_bench_symbolic(args: argparse.Namespace) -> int:
    from neurosym.benchmarks.symbolic import SECTIONS, check_data_dir, run_symbolic_benchmark
    from tasks.errors import ConfigError

    sections = tuple(args.only) if args.only else SECTIONS
    try:
        data_dir = check_data_dir(args.data, sections)
    except ConfigError as exc:
        # a usage mistake, found before any work: argparse's exit code, one line
        print(f"error: --data: {exc}", file=sys.stderr)
        return 2
    if args.json:
        check_output_file(args.json, "--json")
    report = run_symbolic_benchmark(
        data_dir=data_dir,
        n_generated=args.generated,
        n_large=args.large,
        constraint_subset=args.constraint_subset,
        seed=args.seed,
        quick=args.quick,
        sections=sections,
        echo=print,
    )
    if args.json:
        write_json_report(args.json, report)
    return 0 if report.get("all_targets_met", False) or args.quick else 1


def _cmd_bench_many(args: argparse.Namespace) -> int:
    from neurosym.benchmarks.many import run_many_benchmark

    if args.json:
        check_output_file(args.json, "--json")
    report = run_many_benchmark(
        n=args.n,
        box=args.box,
        method=args.method,
        workers=args.workers,
        seed=args.seed,
        time_limit_s=args.time_limit,
        echo=print,
    )
    if args.json:
        write_json_report(args.json, report)
    return 0 if report["answers_agree"] else 1


def _cmd_bench_train(args: argparse.Namespace) -> int:
    from neurosym.benchmarks.train import run_train_benchmark

    if args.json:
        check_output_file(args.json, "--json")
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
        write_json_report(args.json, report)
    return 0


def _cmd_bench_mixers(args: argparse.Namespace) -> int:
    from neurosym.benchmarks.mixers import format_mixer_report, run_mixer_benchmark
    from neurosym.benchmarks.symbolic import find_data_dir

    check_output_dir(args.out, "--out")
    data = None
    if args.data:
        try:
            data = json.loads(args.data)
        except json.JSONDecodeError as exc:
            from tasks.errors import ConfigError

            raise ConfigError(f"--data must be a JSON object: {exc}") from None
    report = run_mixer_benchmark(
        args.kind,
        args.out,
        cpu_minutes=args.cpu_minutes,
        mixers=args.mixers,
        data=data,
        n=args.n,
        n_hard=args.n_hard,
        sizes=args.sizes,
        depths=args.depths,
        seed=args.seed,
        data_dir=find_data_dir(None) if args.kind == "sudoku" else None,
        echo=print,
    )
    print(format_mixer_report(report))
    print(f"report: {Path(args.out) / 'mixers.json'}")
    return 0


def _cmd_bench_neural(args: argparse.Namespace) -> int:
    from neurosym.benchmarks.neural import maze_cases, run_neural_benchmark, sudoku_cases
    from neurosym.benchmarks.symbolic import find_data_dir
    from neurosym.neural import default_models
    from tasks.errors import ConfigError
    from trm.inference import load_model

    model = args.model or {"sudoku": "sudoku_peers", "maze": "maze_conv"}[args.kind]
    shipped = default_models()
    path = shipped.get(model, model)
    if not os.path.exists(path):
        raise ConfigError(
            f"--model {model!r} is neither a checkpoint path nor a shipped model "
            f"({', '.join(shipped) or 'none shipped'})"
        )
    if args.json:
        check_output_file(args.json, "--json")
    loaded = load_model(path, expected_kind=args.kind)
    if args.kind == "sudoku":
        data_dir = find_data_dir(args.data)
        if data_dir is None:
            print("note: ../shared/data not found (pass --data): public collections skipped")
        cases = sudoku_cases(
            n_minimal=args.n,
            n_hard=args.n_hard,
            n_six=args.n_six,
            seed=args.seed,
            data_dir=data_dir,
            progress=print,
        )
    else:
        cases = maze_cases(sizes=args.sizes, n=args.n, seed=args.seed)
    depths = args.depths or (
        [8, 16, 32, 64, 128, 256] if args.kind == "sudoku" else [16, 32, 64, 128, 256]
    )
    report = run_neural_benchmark(
        loaded,
        cases,
        depths=depths,
        trajectories=args.trajectories,
        noise=args.noise,
        default_depth=args.default_depth,
        halt_threshold=args.halt_threshold,
        echo=print,
    )
    report.update(model=str(path), kind=args.kind, seed=args.seed)
    if args.json:
        write_json_report(args.json, report)
    return 0


def _cmd_datagen(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from neurosym.hard_data import make_hard_sudoku, write_pool
    from tasks.errors import ConfigError

    if os.path.isdir(args.out):
        raise ConfigError(f"--out {args.out!r} is a directory; name an .npz file")
    if os.path.exists(args.out):
        raise ConfigError(f"--out {args.out!r} exists; choose a new file")
    check_output_file(args.out, "--out")
    rows, cols = args.box
    with tqdm(total=args.n, unit="puzzle") as bar:
        pool = make_hard_sudoku(
            args.n,
            seed=args.seed,
            box_rows=rows,
            box_cols=cols,
            start=args.start,
            workers=args.workers,
            progress=bar.update,
        )
    write_pool(args.out, pool)
    guesses = pool["guesses"]
    print(
        f"wrote {args.out}: {args.n} minimal puzzles, givens {pool['givens'].min()}-"
        f"{pool['givens'].max()} (mean {pool['givens'].mean():.1f}), "
        f"{(guesses == 0).mean():.1%} need no guess, {(guesses > 5).mean():.1%} need > 5"
    )
    return 0


def register(sub: Any) -> Any:
    """Add ``bench`` (with its built-in benchmarks) and ``datagen``; returns ``bench``'s
    subparsers, on which other modules register more."""
    p = sub.add_parser("bench", help="benchmarks", description="Benchmarks.")
    bench = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    b = bench.add_parser(
        "symbolic",
        help="symbolic solvers against in-run baselines",
        description="Time the default Sudoku and maze backends against baselines measured in "
        "the same run (plain CP-SAT rebuilt per puzzle, python-constraint, networkx) and print "
        "the ratios and whether each target is met. Seeded generated puzzles by default; "
        "--data adds the public sets. Exit 1 when a target is missed (not with --quick).",
    )
    b.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="the shared data folder (e.g. ../shared/data): add Norvig's hardest 9x9 and use the "
        "Moving AI 512x512 mazes; default: generated puzzles and mazes only (exit 2 if PATH "
        "lacks a set the sections run need)",
    )
    b.add_argument("--generated", type=int, default=200, help="generated minimal 9x9 puzzles")
    b.add_argument("--large", type=int, default=5, help="16x16 and 25x25 puzzles each")
    b.add_argument(
        "--constraint-subset",
        type=int,
        default=20,
        help="hard 9x9 puzzles timed with python-constraint (slow, ~1 s each)",
    )
    b.add_argument(
        "--seed", type=int, default=0, help="seed of the generated puzzles and mazes (default 0)"
    )
    b.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    b.add_argument(
        "--only",
        nargs="+",
        choices=["9x9", "large", "maze"],
        help="run only these sections (default: all)",
    )
    b.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    b.set_defaults(func=_cmd_bench_symbolic)
    bm = bench.add_parser(
        "many",
        help="solve_many throughput with 1 and 2 worker processes",
        description="Solve the same seeded minimal Sudoku puzzles with neurosym.solve_many once "
        "per worker count, each run cold (pool start-up, imports and model loading counted), "
        "and print puzzles/s, the speed-up over the first run and whether the answers agree.",
    )
    bm.add_argument("--n", type=int, default=120, help="puzzles (default 120)")
    bm.add_argument(
        "--box", type=box_arg, default=(3, 3), help="Sudoku box as ROWSxCOLS (default 3x3)"
    )
    bm.add_argument(
        "--method",
        default="hybrid",
        choices=["symbolic", "neural", "hybrid"],
        help="solve_many's method (default hybrid: the network per puzzle, repair if needed)",
    )
    bm.add_argument(
        "--workers",
        type=int_list,
        default=[1, 2],
        metavar="K,K,...",
        help="worker counts to time, the first the baseline (default 1,2)",
    )
    bm.add_argument("--time-limit", type=float, default=10.0, help="seconds per puzzle")
    bm.add_argument("--seed", type=int, default=0, help="seed of the generated puzzles")
    bm.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    bm.set_defaults(func=_cmd_bench_many)
    t = bench.add_parser(
        "train",
        help="TRM training speed and time to accuracy",
        description="Train a preset from scratch in a temporary folder and print examples/s, "
        "seconds per step and the time at which the EMA weights first reach 50/90/99%% exact "
        "accuracy on unseen generated puzzles.",
    )
    t.add_argument(
        "--preset", default="sudoku6-tiny", help="preset to train (default sudoku6-tiny)"
    )
    t.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    t.add_argument(
        "--eval-every", type=int, default=250, help="evaluate every N steps (default 250)"
    )
    t.add_argument(
        "--eval-size", type=int, default=128, help="puzzles per evaluation (default 128)"
    )
    t.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    t.add_argument(
        "--seed", type=int, default=0, help="seed of the data and initialisation (default 0)"
    )
    t.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    t.set_defaults(func=_cmd_bench_train)
    mx = bench.add_parser(
        "mixers",
        help="size-agnostic mixers vs TRM-MLP / TRM-Att at equal CPU time",
        description="Train the same recursion with each mixer for the same process CPU time "
        "(one thread) on the same seeded data, then score every model's EMA weights by verify "
        "on the same fresh sets at the trained depth and deeper. Finished runs in --out are "
        "reused, so a killed benchmark continues.",
    )
    mx.add_argument(
        "--kind",
        choices=["sudoku", "sudoku6", "maze"],
        default="sudoku6",
        help="what to train on: sudoku (9x9), sudoku6 (default) or maze",
    )
    mx.add_argument("--cpu-minutes", type=float, default=6.0, help="budget of each mixer")
    mx.add_argument("--mixers", nargs="+", default=None, help="default: all of the kind's")
    mx.add_argument("--data", default=None, help="JSON overrides of the preset's data")
    mx.add_argument("--n", type=int, default=200, help="tasks per evaluation set")
    mx.add_argument("--n-hard", type=int, default=50, help="9x9 puzzles needing >5 guesses")
    mx.add_argument("--sizes", type=int_list, default=[15, 30], help="maze sides")
    mx.add_argument("--depths", type=int_list, default=None, help="default: N_sup and 4x")
    mx.add_argument(
        "--seed", type=int, default=0, help="seed of training data and evaluation sets (default 0)"
    )
    mx.add_argument("--out", default="bench-mixers", help="run folders and mixers.json")
    mx.set_defaults(func=_cmd_bench_mixers)
    nb = bench.add_parser(
        "neural",
        help="TRM accuracy vs test-time depth and K trajectories on hard puzzles",
        description="Valid-answer accuracy (every answer checked by verify) of a TRM at each "
        "test-time depth (one halting run to the deepest) and with K noisy trajectories under "
        "each selection rule, with wall time per task on one thread. Sudoku: fresh minimal "
        "9x9 by guesses needed, puzzles needing >5 guesses, Norvig's and Gecode's collections "
        "(evaluation only), 6x6 with 10-12 givens. Mazes: perfect and with loops per size.",
    )
    nb.add_argument(
        "--kind", choices=["sudoku", "maze"], default="sudoku", help="sudoku (default) or maze sets"
    )
    nb.add_argument("--model", default=None, help="checkpoint or shipped model name")
    nb.add_argument("--n", type=int, default=300, help="tasks per generated set")
    nb.add_argument("--n-hard", type=int, default=100, help="9x9 puzzles needing >5 guesses")
    nb.add_argument("--n-six", type=int, default=200, help="6x6 puzzles (0: skip)")
    nb.add_argument("--sizes", type=int_list, default=[15, 30, 59], help="maze sides")
    nb.add_argument("--depths", type=int_list, default=None, help="e.g. 8,16,64,256")
    nb.add_argument("--trajectories", type=int_list, default=[1, 8], help="K values")
    nb.add_argument(
        "--noise",
        type=float,
        default=0.1,
        help="latent noise std of trajectories 1..K-1 (default 0.1)",
    )
    nb.add_argument("--default-depth", type=int, default=None, help="depth of the K runs")
    nb.add_argument(
        "--halt-threshold",
        type=float,
        default=0.9,
        help="halt probability that stops a puzzle (default 0.9), in (0, 1)",
    )
    nb.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="seed of the generated sets and the noise (default 2026)",
    )
    nb.add_argument("--data", default=None, help="shared data folder (default ../shared/data)")
    nb.add_argument("--json", default=None, metavar="FILE", help="also write the report")
    nb.set_defaults(func=_cmd_bench_neural)

    g = sub.add_parser(
        "datagen",
        help="generate a pool of hard Sudoku puzzles for training",
        description="Minimal unique Sudoku puzzles (no given removable), each rated by the "
        "backtracking solver's guesses, written to an .npz that `neurosym train --data "
        "'{\"pool_path\": FILE}'` draws from. Seeded: puzzle i comes from (seed, start+i).",
    )
    g.add_argument("--n", type=int, default=1000, help="puzzles to generate (default 1000)")
    g.add_argument("--seed", type=int, default=1, help="seed of the pool (default 1)")
    g.add_argument(
        "--start",
        type=int,
        default=0,
        help="index of the first puzzle, to extend a pool (default 0)",
    )
    g.add_argument("--box", type=box_arg, default=(3, 3), help="ROWSxCOLS (default 3x3)")
    g.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    g.add_argument("--out", required=True, help="the .npz file to write")
    g.set_defaults(func=_cmd_datagen)
    return bench
