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

__all__ = ["Trace", "TraceRow", "cycle_tokens", "cycle_trace", "trace_task"]


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
    """The whole trace, the first row whose answer verifies (None if none does), and the row at
    which ``solve`` would stop (halt probability above ``neurosym.neural.HALT_THRESHOLD`` at the
    end of a supervision step; None if never). ``unit``: ``"supervision step"``, or ``"answer
    update"`` with ``cycles=True`` (``cycles_per_step`` = T rows per supervision step)."""

    task: SudokuTask | MazeTask
    rows: list[TraceRow]
    correct_step: int | None
    halt_step: int | None
    png: str | None = None
    unit: str = "supervision step"
    cycles_per_step: int = 1


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
    cycles: bool = False,
) -> Trace:
    """Trace the network on ``task`` (a task, puzzle text or file path), every step run.

    With ``cycles=True`` a row is every answer update (each of the T cycles of each supervision
    step, :func:`cycle_trace`) instead of every supervision step.

    Examples
    --------
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=20, rng=3)
    >>> tr = trace_task(task)
    >>> [r.step for r in tr.rows], tr.correct_step is not None
    ([1, 2, 3, 4], True)
    >>> len(trace_task(task, cycles=True).rows)  # 4 steps x T=2 answer updates
    8
    """
    from types import SimpleNamespace

    from neurosym.api import load_task
    from neurosym.hybrid import propose
    from neurosym.neural import HALT_THRESHOLD, resolve_model

    task = load_task(task, box=box)
    if cycles:
        loaded, _ = resolve_model(task, model)
        tokens, halts = cycle_trace(loaded, [task])
        per_step = loaded.config.n_improve_steps
        snaps = [
            SimpleNamespace(answer=_decode(loaded.codec, tok, task), tokens=tok, halt_prob=h)
            for tok, h in zip(tokens[0], halts[0], strict=True)
        ]
    else:
        [proposal], _, loaded = propose([task], model, halt=False, trace=True)
        snaps, per_step = list(proposal.trace or ()), 1
    rows: list[TraceRow] = []
    before: dict[Any, Any] = {}
    for k, snap in enumerate(snaps, start=1):
        now = _cells(task, snap, loaded)
        if isinstance(task, SudokuTask):
            changed = sum(1 for cell, v in now.items() if before.get(cell, 0) != v)
        else:
            changed = len(set(now) ^ set(before))
        ok = verify(task, snap.answer).ok
        rows.append(TraceRow(k, snap.answer, changed, float(snap.halt_prob), ok))
        before = now
    correct_step = next((r.step for r in rows if r.correct), None)
    halt_step = next(
        (r.step for r in rows if r.step % per_step == 0 and r.halt_prob > HALT_THRESHOLD), None
    )
    unit = "answer update" if cycles else "supervision step"
    png_path = None
    if png is not None:
        from neurosym.plots import plot_trace

        png_path = str(
            plot_trace(
                [r.changed for r in rows],
                [r.halt_prob for r in rows],
                correct_step,
                Path(png),
                title=f"TRM trace by {unit}: {_describe(task)}",
            )
        )
    return Trace(task, rows, correct_step, halt_step, png_path, unit, per_step)


def _decode(codec: Any, tokens: Any, task: SudokuTask | MazeTask) -> Any:
    if isinstance(task, SudokuTask):
        return codec.decode(tokens)
    return codec.decode_path(tokens, task, strict=True)


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
    return cycle_trace(loaded, tasks, batch_size=batch_size)[0]


def cycle_trace(
    loaded: Any, tasks: list[SudokuTask | MazeTask], *, batch_size: int = 256
) -> tuple[Any, Any]:
    """:func:`cycle_tokens` and the halt head's probability read at every answer update
    (``[len(tasks), N_sup * T]``; the model only acts on it at a step's last update)."""
    import numpy as np
    import torch

    from neurosym.neural import torch_threads

    model, codec, cfg = loaded.model, loaded.codec, loaded.config
    device = model.y_init.device
    inputs = torch.from_numpy(codec.encode_batch(tasks))
    chunks, halts = [], []
    with torch_threads(1), torch.inference_mode():
        for start in range(0, len(tasks), batch_size):
            batch = inputs[start : start + batch_size].to(device)
            carry = model.initial_carry(batch.shape[0], device)
            x = model.embed(batch)
            y, z = carry.y, carry.z
            snaps, probs = [], []
            for _ in range(cfg.max_supervision_steps):
                for _ in range(cfg.n_improve_steps):
                    y, z = model.latent_recursion(x, y, z)
                    logits, halt_logits = model.readout(y)
                    snaps.append(logits.float().argmax(dim=-1))
                    probs.append(torch.sigmoid(halt_logits.float()))
            chunks.append(torch.stack(snaps, dim=1).cpu().numpy())
            halts.append(torch.stack(probs, dim=1).cpu().numpy())
    k = cfg.max_supervision_steps * cfg.n_improve_steps
    if not chunks:
        return np.zeros((0, k, codec.seq_len), dtype=np.int64), np.zeros((0, k))
    return np.concatenate(chunks).astype(np.int64), np.concatenate(halts)
