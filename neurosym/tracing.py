"""``neurosym trace``: how the TRM's answer evolves over its supervision steps.

Runs every supervision step (no early halting) and records, per step, the decoded answer, how many
cells changed since the previous step, the halt probability, and whether the answer verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify

__all__ = ["Trace", "TraceRow", "trace_task"]


@dataclass(frozen=True)
class TraceRow:
    """One supervision step: the answer then, cells changed since the step before (the first
    step counts the cells it fills / marks), the halt probability, and the verifier's verdict."""

    step: int
    answer: Any
    changed: int
    halt_prob: float
    correct: bool


@dataclass(frozen=True)
class Trace:
    """The whole trace, the first step whose answer verifies (None if none does), and the step
    at which the halt head would stop (None if it never crosses 0.5)."""

    task: SudokuTask | MazeTask
    rows: list[TraceRow]
    correct_step: int | None
    halt_step: int | None
    png: str | None = None


def _cells(task: SudokuTask | MazeTask, step: Any, loaded: Any) -> dict[Any, Any]:
    if isinstance(task, SudokuTask):
        return {(r, c): v for r, row in enumerate(step.answer) for c, v in enumerate(row)}
    from neurosym.hybrid import proposal_cells

    return dict.fromkeys(proposal_cells(task, step, loaded), True)


def trace_task(
    task: SudokuTask | MazeTask | str,
    model: Any = None,
    *,
    png: str | Path | None = None,
    box: tuple[int, int] | None = None,
) -> Trace:
    """Trace the network on ``task`` (a task, puzzle text or file path).

    Examples
    --------
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=20, rng=3)
    >>> tr = trace_task(task)
    >>> [r.step for r in tr.rows], tr.correct_step is not None
    ([1, 2, 3, 4], True)
    """
    from neurosym.api import load_task
    from neurosym.hybrid import propose

    task = load_task(task, box=box)
    [proposal], _, loaded = propose([task], model, halt=False, trace=True)
    rows: list[TraceRow] = []
    before: dict[Any, Any] = {}
    for k, step in enumerate(proposal.trace or (), start=1):
        now = _cells(task, step, loaded)
        if isinstance(task, SudokuTask):
            changed = sum(1 for cell, v in now.items() if before.get(cell, 0) != v)
        else:
            changed = len(set(now) ^ set(before))
        rows.append(
            TraceRow(k, step.answer, changed, float(step.halt_prob), verify(task, step.answer).ok)
        )
        before = now
    correct_step = next((r.step for r in rows if r.correct), None)
    halt_step = next((r.step for r in rows if r.halt_prob > 0.5), None)
    png_path = None
    if png is not None:
        from neurosym.plots import plot_trace

        png_path = str(
            plot_trace(
                [r.changed for r in rows],
                [r.halt_prob for r in rows],
                correct_step,
                Path(png),
                title=f"TRM trace: {_describe(task)}",
            )
        )
    return Trace(task, rows, correct_step, halt_step, png_path)


def _describe(task: SudokuTask | MazeTask) -> str:
    if isinstance(task, SudokuTask):
        return f"{task.size}x{task.size} Sudoku, {task.n_givens} givens"
    return f"{task.height}x{task.width} maze"


def cycle_tokens(loaded: Any, tasks: list[SudokuTask | MazeTask], *, batch_size: int = 256) -> Any:
    """The network's predicted tokens after *every* answer update, not only every supervision step.

    Each supervision step runs T cycles, each ending in an update of the answer y; reading y out
    after each cycle shows the recursion at T times the resolution of a supervision-step trace.
    Runs every step (no halting) with the same arithmetic as :meth:`trm.model.TRM.forward`
    (a test checks the last cycle of each step against :func:`trm.inference.predict`).

    Returns
    -------
    numpy int64 array ``[len(tasks), N_sup * T, seq_len]``.

    Examples
    --------
    >>> from neurosym.neural import resolve_model
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=20, rng=3)
    >>> loaded, _ = resolve_model(task)
    >>> cycle_tokens(loaded, [task]).shape  # 4 supervision steps x 2 cycles, 36 cells
    (1, 8, 36)
    """
    import numpy as np
    import torch

    from neurosym.neural import torch_threads

    model, codec, cfg = loaded.model, loaded.codec, loaded.config
    device = model.y_init.device
    inputs = torch.from_numpy(codec.encode_batch(tasks))
    chunks = []
    with torch_threads(1), torch.inference_mode():
        for start in range(0, len(tasks), batch_size):
            batch = inputs[start : start + batch_size].to(device)
            carry = model.initial_carry(batch.shape[0], device)
            x = model.embed(batch)
            y, z = carry.y, carry.z
            snaps = []
            for _ in range(cfg.max_supervision_steps):
                for _ in range(cfg.n_improve_steps):
                    y, z = model.latent_recursion(x, y, z)
                    logits, _ = model.readout(y)
                    snaps.append(logits.float().argmax(dim=-1))
            chunks.append(torch.stack(snaps, dim=1).cpu().numpy())
    if not chunks:
        return np.zeros((0, cfg.max_supervision_steps * cfg.n_improve_steps, codec.seq_len))
    return np.concatenate(chunks).astype(np.int64)
