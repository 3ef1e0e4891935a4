"""Argument parsers, formatting and the progress bar shared by several command groups."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ProgressBar",
    "write_json_report",
    "add_network_options",
    "box_arg",
    "fmt",
    "format_table",
    "format_time",
    "int_list",
    "network_kwargs",
    "readable_curve",
]


def box_arg(text: str) -> tuple[int, int]:
    try:
        rows, cols = text.lower().split("x")
        return (int(rows), int(cols))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--box takes ROWSxCOLS, e.g. 2x3; got {text!r}") from None


def add_network_options(
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


def network_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "max_steps": args.max_steps,
        "trajectories": args.trajectories,
        "noise": args.noise,
        "select": args.select,
    }


def readable_curve(curve: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """A long accuracy-after-k-steps curve cut to one line: k = 1..8, then powers of two and the
    last k (the full curve is in summary.json).

    >>> [k for k, _ in readable_curve([(k, 0.5) for k in range(1, 65)])]
    [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64]
    """
    last = curve[-1][0] if curve else 0
    return [(k, a) for k, a in curve if k <= 8 or k & (k - 1) == 0 or k == last]


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


class ProgressBar:
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


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:.{digits}g}"
    return str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [list(map(str, header))] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json_report(path: str, report: Any) -> None:
    """Write a benchmark's ``report`` as indented JSON to ``path`` (checked earlier with
    ``check_output_file``) and say so; values JSON lacks are written as their ``str``."""
    import json

    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2, default=str)
    print(f"wrote {path}")
