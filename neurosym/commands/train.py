"""``neurosym train`` and ``neurosym eval``: the handlers, which print (presets, base arguments
and the progress callback are in :mod:`neurosym.train_cli`)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from neurosym.commands.common import add_network_options, format_table, format_time
from neurosym.outputs import check_output_dir

__all__ = ["register"]


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
        f"wall time per puzzle: {format_time(report['wall_s_per_puzzle'])} (all {k} trajectories "
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
    from neurosym.study.comparison_inputs import givens_range, parse_size
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
        lo, hi = givens_range(None, rows * cols)
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
                "size-agnostic model (mixer 'peers', 'conv' or 'graph')"
            )
        es = make_eval_set(spec, args.generate, args.seed)
        return es.tasks, es.solutions, loaded.codec, what
    es = make_eval_set(spec, args.generate, args.seed)
    if es.tasks:
        from trm.inference import codec_for

        codec_for(loaded, es.tasks[0])  # a clear error when the model cannot run them
    return es.tasks, es.solutions, None, what


def _add_eval_options(e: argparse.ArgumentParser) -> None:
    """``eval``'s test-time and generation options (its base arguments are in train_cli)."""
    add_network_options(e, evaluating=True)
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


def register(sub: Any) -> None:
    """Add ``train`` and ``eval`` to the CLI's subparsers."""
    from neurosym.train_cli import add_train_commands

    add_train_commands(sub, _cmd_train, _cmd_eval)
    _add_eval_options(sub.choices["eval"])
