"""``solve(method="neural")``: the TRM's answer, always checked by ``verify``.

Models come from a checkpoint the user passes (a path or a loaded model) or from the defaults
shipped in ``neurosym/models/`` (6x6 and 9x9 Sudoku, 9x9 mazes).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.errors import ConfigError, UnsupportedTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = [
    "HALT_THRESHOLD",
    "MODELS_DIR",
    "default_models",
    "resolve_model",
    "solve_neural",
    "torch_threads",
]

#: The halt probability at which ``solve``, ``compare`` and the hybrid stop a puzzle's recursion.
#: Higher than the reference's 0.5: measured on 1,000 generated unique 9x9 puzzles (30-35
#: givens) with the shipped model, 0.5 gives 82.4% exact in 2.31 of 4 steps on average, 0.9
#: gives 88.2% in 2.51 (all 4 steps: 89.1%); on 6x6, 98.1% in 1.03 vs 99.2% in 1.06.
HALT_THRESHOLD = 0.9

#: Where default checkpoints ship: one folder per model holding ``checkpoint.json`` and
#: ``checkpoint.safetensors`` (see ``models/README.md`` for how each was trained).
MODELS_DIR = Path(__file__).resolve().parent / "models"


def default_models() -> dict[str, Path]:
    """The shipped default checkpoints by name (``{}`` when none are shipped)."""
    if not MODELS_DIR.is_dir():
        return {}
    return {p.parent.name: p.parent for p in sorted(MODELS_DIR.glob("*/checkpoint.json"))}


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Any:
    from trm.inference import load_model

    return load_model(path)


def _fits(loaded: Any, task: SudokuTask | MazeTask) -> bool:
    codec = loaded.codec
    if isinstance(task, SudokuTask):
        return codec.kind == "sudoku" and (codec.box_rows, codec.box_cols) == task.box
    # Exact canvas only: the shipped 9x9 maze model scores 0% exact on padded 5x5 and 7x7 mazes.
    return codec.kind == "maze" and (task.height, task.width) == (codec.height, codec.width)


def _describe(loaded: Any) -> str:
    codec = loaded.codec
    if codec.kind == "sudoku":
        return f"{codec.size}x{codec.size} Sudoku ({codec.box_rows}x{codec.box_cols} boxes)"
    return f"{codec.height}x{codec.width} mazes"


def resolve_model(task: SudokuTask | MazeTask, model: Any = None) -> tuple[Any, float]:
    """The loaded model to use for ``task`` and the seconds spent loading it (0 when cached).

    ``model`` may be a loaded model (:class:`trm.inference.LoadedModel`), a checkpoint path, or
    None for a shipped default that covers the task.

    Raises
    ------
    UnsupportedTaskError
        When the model does not cover the task, or no shipped model does (naming what is covered).
    CheckpointError
        When a checkpoint path is missing or invalid.
    """
    t0 = time.perf_counter()
    if model is None:
        candidates = [_load(str(p)) for p in default_models().values()]
        fitting = [m for m in candidates if m.codec.kind == task.kind and _fits(m, task)]
        if not fitting:
            covered = ", ".join(_describe(m) for m in candidates) or "none"
            raise UnsupportedTaskError(
                f"no shipped TRM model covers this {_task_words(task)}; covered: {covered}. "
                "Pass model=<checkpoint path> (train one with trm.train.train) or use "
                "method='symbolic'"
            )
        loaded = fitting[0]
    elif isinstance(model, str | os.PathLike):
        loaded = _load(os.fspath(model))
    else:
        loaded = model
    if not hasattr(loaded, "codec") or not _fits(loaded, task):
        what = _describe(loaded) if hasattr(loaded, "codec") else type(loaded).__name__
        raise UnsupportedTaskError(f"the model ({what}) does not cover this {_task_words(task)}")
    return loaded, time.perf_counter() - t0


def _task_words(task: SudokuTask | MazeTask) -> str:
    if isinstance(task, SudokuTask):
        return f"{task.size}x{task.size} Sudoku ({task.box_rows}x{task.box_cols} boxes)"
    return f"{task.height}x{task.width} maze"


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Cap torch's intra-op CPU threads inside the block (None: leave them as they are)."""
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads must be a positive int or None, got {threads!r}")
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def solve_neural(
    task: SudokuTask | MazeTask, model: Any = None, *, halt: bool = True
) -> tuple[Any, str, float, dict[str, float]]:
    """Run the TRM on one task: ``(answer, backend, seconds, effort)``; the caller verifies.

    ``seconds`` is inference only; loading is reported as ``effort['model_load_s']``.
    """
    from trm.inference import predict

    loaded, load_s = resolve_model(task, model)
    with torch_threads(1):
        t0 = time.perf_counter()
        [prediction] = predict(loaded, None, [task], halt=halt, halt_threshold=HALT_THRESHOLD)
        elapsed = time.perf_counter() - t0
    effort = {
        "trm_steps": float(prediction.steps),
        "halt_prob": float(prediction.halt_prob),
        "mean_confidence": float(prediction.confidence.mean()),
        "min_confidence": float(prediction.confidence.min()),
        "model_load_s": load_s,
    }
    return prediction.answer, "trm", elapsed, effort
