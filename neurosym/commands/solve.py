"""``neurosym solve`` (one puzzle or a list) and ``neurosym demo``: handlers, result formatting
and their arguments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from neurosym.commands.common import add_network_options, box_arg, format_time, network_kwargs
from neurosym.outputs import check_output_dir

__all__ = ["format_result", "format_many_line", "register"]


def _format_effort(effort: dict[str, float]) -> str:
    parts = []
    for key, value in effort.items():
        if isinstance(value, float) and not value.is_integer():
            parts.append(f"{key}={value:.4g}")
        else:
            parts.append(f"{key}={int(value)}")
    return ", ".join(parts) or "-"


def format_result(result: object) -> str:
    """Human-readable text for a :class:`neurosym.SolveResult`: the answer drawn, then stats."""
    from tasks.arc import ArcTask
    from tasks.sudoku import SudokuTask

    task = result.task  # type: ignore[attr-defined]
    if isinstance(task, ArcTask):
        from neurosym.demo import describe_arc

        return describe_arc(result)  # type: ignore[arg-type]
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
        f"time: {format_time(result.time_s)}",  # type: ignore[attr-defined]
        f"effort: {_format_effort(result.effort)}",  # type: ignore[attr-defined]
    ]
    if result.stage is not None:  # type: ignore[attr-defined]
        times = ", ".join(f"{k} {format_time(v)}" for k, v in result.stage_times.items())  # type: ignore[attr-defined]
        lines.append(
            f"hybrid stage: {result.stage}   cells changed: {result.cells_changed}   "  # type: ignore[attr-defined]
            f"stage times: {times}"
        )
    if result.overridden_givens:  # type: ignore[attr-defined]
        lines.append(
            "overridden givens (row, col, given -> answer): "
            + ", ".join(f"({r}, {c}) {g}->{v}" for r, c, g, v in result.overridden_givens)  # type: ignore[attr-defined]
        )
    if not result.verified:  # type: ignore[attr-defined]
        lines += [f"violation: {v.message}" for v in result.verification.violations]  # type: ignore[attr-defined]
    return "\n".join(lines)


def _cmd_solve(args: argparse.Namespace) -> int:
    from neurosym.api import solve
    from tasks.errors import ConfigError

    on_map = args.start is not None or args.goal is not None
    if args.many:
        if on_map:
            raise ConfigError("--start/--goal apply to one Moving AI map, not to --many lists")
        return _cmd_solve_many(args)
    if args.workers is not None:
        raise ConfigError("--workers applies to --many (one puzzle is solved in this process)")
    result = solve(_one_task(args, on_map), **_solve_kwargs(args))
    if args.json:
        print(json.dumps(result.summary()))
    else:
        print(format_result(result))
    return 0 if result.verified else 1


def _one_task(args: argparse.Namespace, on_map: bool) -> Any:
    """``solve``'s puzzle: text, a file, standard input (``-``: always text, never a path), or
    with ``--start``/``--goal`` a Moving AI map."""
    from neurosym.api import load_task
    from tasks.detect import is_movingai, parse_task
    from tasks.errors import InvalidTaskError

    from_stdin = args.puzzle == "-"
    source = sys.stdin.read() if from_stdin else args.puzzle
    if on_map:
        return load_task(source, start=args.start, goal=args.goal)
    try:
        return parse_task(source, box=args.box) if from_stdin else load_task(source, box=args.box)
    except InvalidTaskError as exc:
        text = source if from_stdin else _head(source)
        if text is not None and is_movingai(text):
            raise InvalidTaskError(
                "a Moving AI map marks no start or goal: pass them as --start ROW,COL --goal "
                "ROW,COL (0-based)"
            ) from None
        raise InvalidTaskError(f"<stdin>: {exc}" if from_stdin else str(exc)) from None


def _head(path: str) -> str | None:
    """The first lines of ``path`` when it is a readable file, else None."""
    try:
        with open(path, encoding="utf-8") as fh:
            return "".join(fh.readline() for _ in range(4))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _cell_arg(text: str) -> tuple[int, int]:
    try:
        row, col = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ROW,COL (0-based ints), e.g. 3,17; got {text!r}"
        ) from None
    return (row, col)


def _solve_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``neurosym solve`` as :func:`neurosym.solve` keywords."""
    return {
        "method": args.method,
        "backend": args.backend,
        "time_limit_s": args.time_limit,
        "seed": args.seed,
        "box": args.box,
        "check_unique": not args.no_unique,
        "model": args.model,
        "givens": args.givens,
        **network_kwargs(args),
    }


def _read_puzzle_list(source: str) -> list[Any]:
    """The puzzles of ``--many``'s file (``-``: standard input), with their line numbers."""
    from neurosym.many import parse_puzzle_list
    from tasks.errors import InvalidTaskError

    if source == "-":
        where, text, as_csv = "<stdin>", sys.stdin.read(), None
    else:
        path = Path(source)
        where, as_csv = source, True if path.suffix.lower() == ".csv" else None
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidTaskError(f"no such file: {source}") from None
        except IsADirectoryError:
            raise InvalidTaskError(f"{source} is a directory; pass a file of puzzles") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidTaskError(f"cannot read {source}: {exc}") from None
    try:
        return parse_puzzle_list(text, as_csv=as_csv)
    except InvalidTaskError as exc:
        raise InvalidTaskError(f"{where}: {exc}") from None


def format_many_line(item: Any, line: int, width: int = 1) -> str:
    """One line for a :class:`neurosym.ManyResult`: index, input line, verdict, how (method,
    backend, search time) and the answer on one line, or the error."""
    head = f"{item.index:>{width}}  line {line:<{width}}"
    if item.result is None:
        message = " ".join(str(item.message).split())  # one line per puzzle, whatever the error
        return f"{head}  error         {item.error}: {message}"
    r = item.result
    how = f"{r.method}:{r.stage}" if r.stage is not None else r.method
    verdict = "verified    " if r.verified else "NOT verified"
    return f"{head}  {verdict}  {how} {r.backend}  {format_time(r.time_s)}  {_answer_text(r)}"


def _answer_text(result: Any) -> str:
    """A result's answer on one line: a Sudoku's cells row by row, a maze's path length."""
    from tasks.sudoku import SudokuTask

    if isinstance(result.task, SudokuTask):
        return SudokuTask.from_grid(result.answer, box=result.task.box).to_line()
    return f"path {len(result.answer) - 1} moves"


def _cmd_solve_many(args: argparse.Namespace) -> int:
    import time

    from neurosym.many import solve_many

    listed = _read_puzzle_list(args.puzzle)
    workers = 1 if args.workers is None else args.workers
    start = time.perf_counter()
    results = solve_many(
        [p.text for p in listed],
        workers=workers,
        progress=sys.stderr.isatty(),
        **_solve_kwargs(args),
    )
    elapsed = time.perf_counter() - start
    width = len(str(max(len(listed), listed[-1].line)))
    for puzzle, item in zip(listed, results, strict=True):
        if args.json:
            print(json.dumps({"line": puzzle.line, **item.summary()}))
        else:
            print(format_many_line(item, puzzle.line, width))
    n = len(results)
    verified = sum(r.verified for r in results)
    errors = sum(not r.ok for r in results)
    summary = (
        f"{n} puzzles: {verified} verified, {n - verified - errors} not verified, {errors} "
        f"{'error' if errors == 1 else 'errors'} in {elapsed:.2f} s ({n / elapsed:.1f} "
        f"puzzles/s, {workers} {'worker' if workers == 1 else 'workers'}, method {args.method})"
    )
    # --json keeps standard output to one JSON object per line
    print(summary, file=sys.stderr if args.json else sys.stdout)
    return 0 if verified == n else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from neurosym.demo import demo_arc, demo_comparison, describe_arc, run_demo

    if args.out is not None:
        check_output_dir(args.out, "--out")  # before the demo's solves and comparison
    ok = True
    for title, result in run_demo(seed=args.seed):
        print(f"=== {title}")
        print(format_result(result))
        print()
        # symbolic and hybrid answers must verify; a neural one is shown with its verdict
        ok = ok and (result.verified or result.method == "neural")
    title, result = demo_arc()
    print(f"=== {title}")
    print(describe_arc(result))
    print()
    ok = ok and result.verified
    if args.compare > 0:
        print(f"=== neural vs symbolic vs hybrid on {args.compare} generated 9x9 puzzles")
        report = demo_comparison(seed=args.seed, n=args.compare, out_dir=args.out)
        from neurosym.commands.study import format_compare

        print(format_compare(report))
        ok = ok and all(r["correct"] for r in report.rows if r["method"] != "neural")
    return 0 if ok else 1


def register(sub: Any) -> None:
    """Add ``solve`` and ``demo`` to the CLI's subparsers."""
    p = sub.add_parser(
        "solve",
        help="solve a puzzle given as text or a file",
        description="Solve a Sudoku (81-char line, N x N grid, letters past 9) or a maze "
        "(ASCII: # wall, . free, S start, G goal) and print the verified answer with stats; "
        "with --many, solve a file of puzzles, in worker processes with --workers.",
    )
    p.add_argument(
        "puzzle",
        help="puzzle text, the path of a file holding one, or - to read it from standard input "
        "(with --many: the file of puzzles, or - for standard input)",
    )
    p.add_argument(
        "--many",
        action="store_true",
        help="PUZZLE is a list: one puzzle per line (blank lines and # comments skipped) or a "
        "CSV (its puzzle/quizzes column, else the first); print a line per puzzle and a "
        "summary with puzzles/s; exit 1 if any fails",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="K",
        help="with --many: solve in K worker processes (default 1: in this process; each "
        "process loads the solvers, and the model for neural/hybrid, again)",
    )
    p.add_argument(
        "--start",
        type=_cell_arg,
        default=None,
        metavar="ROW,COL",
        help="a Moving AI .map (which marks no start or goal): the start cell, 0-based",
    )
    p.add_argument(
        "--goal",
        type=_cell_arg,
        default=None,
        metavar="ROW,COL",
        help="a Moving AI .map: the goal cell, 0-based (with --start)",
    )
    p.add_argument(
        "--method",
        default="symbolic",
        choices=["symbolic", "neural", "hybrid"],
        help="symbolic (default), neural (the TRM alone) or hybrid (TRM, verify, repair, search)",
    )
    p.add_argument("--model", default=None, help="TRM checkpoint for --method neural/hybrid")
    p.add_argument(
        "--givens",
        default="hard",
        choices=["hard", "soft"],
        help="soft: some givens may be wrong; override the fewest (Sudoku)",
    )
    p.add_argument(
        "--backend",
        default=None,
        help="Sudoku: sat (default), cpsat, constraint, backtrack; maze: bfs (default), networkx",
    )
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the solver's randomness (CP-SAT; noisy trajectories)",
    )
    p.add_argument("--box", type=box_arg, default=None, help="Sudoku box as ROWSxCOLS, e.g. 2x3")
    p.add_argument("--no-unique", action="store_true", help="skip the uniqueness check")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_network_options(p)
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser(
        "demo",
        help="solve built-in examples three ways and compare the methods",
        description="Generate a minimal 9x9 Sudoku (solved symbolically, by the shipped TRM and "
        "by the hybrid), a 16x16 Sudoku and a Maze-Hard-style 30x30 maze (symbolic), solve one "
        "ARC-AGI-1 training task by program search (printing the program found), then "
        "compare the three methods on generated 9x9 puzzles and print the table.",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated examples (default 0)")
    p.add_argument(
        "--compare",
        type=int,
        default=60,
        metavar="N",
        help="puzzles in the closing comparison (default 60; 0 skips it)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="also write the comparison's CSV and plots to this folder (new or existing)",
    )
    p.set_defaults(func=_cmd_demo)
