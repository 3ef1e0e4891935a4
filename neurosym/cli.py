"""The ``neurosym`` command line: builds the parser from the command groups in
:mod:`neurosym.commands` and runs one command. The CLI owns all printing and progress bars."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from neurosym.commands import bench, solve, study, train
from neurosym.commands.solve import format_result
from tasks.errors import NeurosymError

__all__ = ["build_parser", "main", "format_result"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurosym",
        description="Solve grid puzzles (Sudoku of any box size, mazes) with verified answers, "
        "and benchmark the solvers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    solve.register(sub)
    study.register(sub)
    train.register(sub)
    bench_sub = bench.register(sub)
    _register_elsewhere(sub, bench_sub)
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
