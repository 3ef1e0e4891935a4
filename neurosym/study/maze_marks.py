"""What a maze network marks, against the one right label (every cell on some shortest path):
exact, a superset (extra cells: cycles or dead ends left marked), a subset (cells missing), or
both. Tells dead-end filling (which leaves every cycle of a maze with loops marked) from a
shortest-path search.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.encodings import MAZE_PATH_ID
from tasks.errors import ConfigError
from tasks.maze import MazeTask

__all__ = ["MARK_CLASSES", "MarkCount", "classify_marks", "mark_report", "add_arguments", "main"]

#: The classes of :func:`classify_marks`, in report order.
MARK_CLASSES = ("exact", "superset", "subset", "both")


def classify_marks(task: MazeTask, tokens: np.ndarray) -> tuple[str, int, int]:
    """``(class, extra, missing)`` of a prediction's path marks (token 5 on the maze's cells,
    start and goals left out) against the union of the maze's shortest paths. ``tokens``: the
    maze's own ``height * width`` tokens, or a 2-D canvas with the maze at its top-left.

    Examples
    --------
    >>> from tasks.encodings import MazeCodec
    >>> task = MazeTask.parse("S..\\n.#.\\n..G")
    >>> codec = MazeCodec(height=3, width=3)
    >>> one = codec.encode_label(task, [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)])
    >>> classify_marks(task, one)  # one of the two shortest paths: the other is missing
    ('subset', 0, 3)
    >>> every = codec.encode_label(task, [(0, 1), (0, 2), (1, 2), (1, 0), (2, 0), (2, 1)])
    >>> classify_marks(task, every)  # both routes marked: the whole union
    ('exact', 0, 0)
    """
    from trm.data import union_of_shortest_paths

    ends = {task.start, *task.goals}
    union = set(union_of_shortest_paths(task)) - ends
    grid = np.asarray(tokens)
    if grid.ndim == 1 and grid.size == task.height * task.width:
        grid = grid.reshape(task.height, task.width)
    if grid.ndim != 2 or grid.shape[0] < task.height or grid.shape[1] < task.width:
        raise ConfigError(
            f"tokens must be the maze's {task.height * task.width} cells or a 2-D canvas at "
            f"least {task.height}x{task.width}, got shape {np.asarray(tokens).shape}"
        )
    canvas = grid[: task.height, : task.width]
    rows, cols = np.nonzero(canvas == MAZE_PATH_ID)
    marked = set(zip(rows.tolist(), cols.tolist(), strict=True)) - ends
    extra, missing = len(marked - union), len(union - marked)
    name = ("exact", "subset", "superset", "both")[(extra > 0) * 2 + (missing > 0)]
    return name, extra, missing


@dataclass(frozen=True, slots=True)
class MarkCount:
    """One class of a set: how many mazes, and their mean extra / missing cells."""

    name: str
    n: int
    mean_extra: float
    mean_missing: float


def mark_report(
    model: Any, tasks: Sequence[MazeTask], *, max_steps: int = 64, halt: bool = False
) -> list[MarkCount]:
    """Run ``model`` (a size-agnostic maze TRM or its folder) on ``tasks`` and count the classes
    of its final marks (halting off by default: what the recursion reaches at ``max_steps``).

    Raises
    ------
    ConfigError
        For no tasks, or a task that is not a maze.
    """
    from trm.inference import load_model, predict

    tasks = list(tasks)
    if not tasks or not all(isinstance(t, MazeTask) for t in tasks):
        raise ConfigError("mark_report needs one or more MazeTask")
    loaded = load_model(model) if not hasattr(model, "model") else model
    preds = predict(loaded, None, tasks, max_steps=max_steps, halt=halt)
    found: dict[str, list[tuple[int, int]]] = {name: [] for name in MARK_CLASSES}
    for task, pred in zip(tasks, preds, strict=True):
        name, extra, missing = classify_marks(task, pred.tokens)
        found[name].append((extra, missing))
    return [
        MarkCount(
            name,
            len(v),
            float(np.mean([e for e, _ in v])) if v else 0.0,
            float(np.mean([m for _, m in v])) if v else 0.0,
        )
        for name, v in found.items()
    ]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``bench/maze_marks.py``."""
    p.add_argument("--model", default="neurosym/models/maze_conv", help="a maze TRM folder")
    p.add_argument("--sizes", default="15", help="maze sides, comma-separated (default 15)")
    p.add_argument("--n", type=int, default=40, help="mazes per size and kind (default 40)")
    p.add_argument("--depth", type=int, default=64, help="supervision steps (default 64)")
    p.add_argument("--seed", type=int, default=2026, help="maze seed (default 2026)")
    p.add_argument(
        "--min-path", type=int, default=0, help="loop mazes: shortest path must exceed this"
    )


def main(args: argparse.Namespace) -> int:
    """Print, per size and kind (perfect, loops), the count and mean extra / missing cells of
    each class."""
    import torch

    from tasks.generators import generate_maze_hard, generate_perfect_maze

    torch.set_num_threads(1)
    try:
        sizes = [int(s) for s in str(args.sizes).split(",")]
    except ValueError:
        raise ConfigError(f"--sizes takes comma-separated integers, got {args.sizes!r}") from None
    for size in sizes:
        for kind in ("perfect", "loops"):
            rng = np.random.default_rng([args.seed, size, kind == "loops"])
            tasks = [
                generate_maze_hard(size=size, min_path_length=args.min_path, rng=rng)
                if kind == "loops"
                else generate_perfect_maze(size, size, rng=rng)
                for _ in range(args.n)
            ]
            counts = mark_report(args.model, tasks, max_steps=args.depth)
            shown = ", ".join(
                f"{c.name} {c.n} (+{c.mean_extra:.1f} / -{c.mean_missing:.1f})" for c in counts
            )
            print(f"{size}x{size} {kind}, {args.n} mazes, {args.depth} steps: {shown}")
    return 0
