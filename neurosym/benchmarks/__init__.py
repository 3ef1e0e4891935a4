"""Benchmarks run by ``neurosym bench ...``; each prints ratios measured in one run."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any


def run_alone(
    register: Callable[[Any], argparse.ArgumentParser], argv: Sequence[str] | None
) -> int:
    """Run one ``neurosym bench`` subcommand without the rest of the CLI (``python -m
    neurosym.benchmarks.NAME NAME ...``): ``register`` adds it to a fresh ``bench`` parser."""
    parser = argparse.ArgumentParser(prog="neurosym bench")
    register(parser.add_subparsers(dest="bench", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))
