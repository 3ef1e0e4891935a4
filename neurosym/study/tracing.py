"""``neurosym trace``: how the TRM's answer evolves over its supervision steps.

Runs every supervision step (no early halting; the trained depth or any other up to
``trm.inference.MAX_TEST_STEPS``) and records, per step, the decoded answer, how many
cells changed since the previous step, the halt probability, and whether the answer verifies.
"""

from __future__ import annotations

import json
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
    max_steps: int | None = None,
) -> Trace:
    """Trace the network on ``task`` (a task, puzzle text or file path), every step run.

    With ``cycles=True`` a row is every answer update (each of the T cycles of each supervision
    step, :func:`cycle_trace`) instead of every supervision step. ``max_steps``: how many
    supervision steps to run (default :func:`neurosym.neural.default_max_steps`, else the
    trained depth).

    Raises
    ------
    ConfigError
        On a ``max_steps`` outside ``1..trm.inference.MAX_TEST_STEPS``, or a ``png`` that is a
        folder (name the file to write) or cannot be created.
    UnsupportedTaskError
        When no model covers the task.

    Examples
    --------
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=20, rng=3)
    >>> tr = trace_task(task)
    >>> [r.step for r in tr.rows], tr.correct_step is not None
    ([1, 2, 3, 4, 5, 6, 7, 8], True)
    >>> len(trace_task(task, cycles=True).rows)  # 8 steps x T=2 answer updates
    16
    >>> len(trace_task(task, max_steps=10).rows)  # past the trained 4
    10
    """
    from types import SimpleNamespace

    from neurosym.api import load_task
    from neurosym.hybrid import propose
    from neurosym.neural import HALT_THRESHOLD, check_max_steps, default_max_steps, resolve_model
    from trm.inference import codec_for

    check_max_steps(max_steps)
    if png is not None:
        from neurosym.outputs import check_output_file

        check_output_file(png, "png")  # before the network runs, not when the plot is saved
    task = load_task(task, box=box)
    if cycles:
        loaded, _ = resolve_model(task, model)
        steps = max_steps if max_steps is not None else default_max_steps(loaded, task)
        tokens, halts = cycle_trace(loaded, [task], max_steps=steps)
        per_step = loaded.config.n_improve_steps
        codec = codec_for(loaded, task)
        snaps = [
            SimpleNamespace(answer=_decode(codec, tok, task), tokens=tok, halt_prob=h)
            for tok, h in zip(tokens[0], halts[0], strict=True)
        ]
    else:
        [proposal], _, loaded = propose([task], model, halt=False, trace=True, max_steps=max_steps)
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
        from neurosym.study.plots import plot_trace

        png_path = str(
            plot_trace(
                [r.changed for r in rows],
                [r.halt_prob for r in rows],
                correct_step,
                Path(png),
                title=f"TRM trace by {unit}: {_describe(task)}",
                xlabel=(f"answer update (T={per_step} per supervision step)" if cycles else unit),
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


def cycle_tokens(
    loaded: Any,
    tasks: list[SudokuTask | MazeTask],
    *,
    batch_size: int = 256,
    max_steps: int | None = None,
) -> Any:
    """The network's predicted tokens after *every* answer update, not only every supervision step.

    Each supervision step runs T cycles, each ending in an update of the answer y; reading y out
    after each cycle shows the recursion at T times the resolution of a supervision-step trace.
    Runs every step (no halting) with the same arithmetic as :meth:`trm.model.TRM.forward`
    (a test checks the last cycle of each step against :func:`trm.inference.predict`).

    ``max_steps`` supervision steps are run (default: the trained ``N_sup``). A size-agnostic
    model runs the tasks at their own size, which must then be one size.

    Returns
    -------
    numpy int64 array ``[len(tasks), max_steps * T, seq_len]``.

    Raises
    ------
    ConfigError
        On a bad ``max_steps``, or tasks of several sizes for a size-agnostic model.

    Examples
    --------
    >>> from neurosym.neural import resolve_model
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=20, rng=3)
    >>> loaded, _ = resolve_model(task)
    >>> cycle_tokens(loaded, [task]).shape  # 8 supervision steps x 2 cycles, 36 cells
    (1, 16, 36)
    """
    return cycle_trace(loaded, tasks, batch_size=batch_size, max_steps=max_steps)[0]


def cycle_trace(
    loaded: Any,
    tasks: list[SudokuTask | MazeTask],
    *,
    batch_size: int = 256,
    max_steps: int | None = None,
) -> tuple[Any, Any]:
    """:func:`cycle_tokens` and the halt head's probability read at every answer update
    (``[len(tasks), max_steps * T]``; the model only acts on it at a step's last update)."""
    import numpy as np
    import torch

    from neurosym.neural import check_max_steps, torch_threads

    model, codec, cfg = loaded.model, loaded.codec, loaded.config
    steps = check_max_steps(max_steps) or cfg.max_supervision_steps
    geometry = None
    if cfg.size_agnostic and tasks:
        codec = _one_codec(loaded, tasks)
        geometry = _geometry(codec)
    device = model.y_init.device
    inputs = torch.from_numpy(codec.encode_batch(tasks)) if tasks else None
    chunks, halts = [], []
    with torch_threads(1), torch.inference_mode():
        for start in range(0, len(tasks), batch_size):
            batch = inputs[start : start + batch_size].to(device)
            carry = model.initial_carry(batch.shape[0], device, geometry=geometry)
            x = model.embed(batch)
            # The size-agnostic mixers read the grid (peer mask / shape); the others nothing.
            layout = None if geometry is None else model._layout(geometry, device)  # noqa: SLF001
            y, z = carry.y, carry.z
            snaps, probs = [], []
            for _ in range(steps):
                for _ in range(cfg.n_improve_steps):
                    y, z = model.latent_recursion(x, y, z, layout)
                    logits, halt_logits = model.readout(y)
                    # A size-agnostic model may know more tokens than this task's codec.
                    snaps.append(logits[..., : codec.vocab_size].float().argmax(dim=-1))
                    probs.append(torch.sigmoid(halt_logits.float()))
            chunks.append(torch.stack(snaps, dim=1).cpu().numpy())
            halts.append(torch.stack(probs, dim=1).cpu().numpy())
    k = steps * cfg.n_improve_steps
    if not chunks:
        return np.zeros((0, k, codec.seq_len), dtype=np.int64), np.zeros((0, k))
    return np.concatenate(chunks).astype(np.int64), np.concatenate(halts)


def _one_codec(loaded: Any, tasks: list[SudokuTask | MazeTask]) -> Any:
    """The codec every task runs in with a size-agnostic model (their one size)."""
    from tasks.errors import ConfigError
    from trm.inference import codec_for

    codecs = {}
    for task in tasks:
        codec = codec_for(loaded, task)
        codecs[json.dumps(codec.spec(), sort_keys=True)] = codec
    if len(codecs) > 1:
        raise ConfigError(f"cycle_trace takes tasks of one size at a time; got {len(codecs)}")
    return next(iter(codecs.values()))


def _geometry(codec: Any) -> Any:
    from tasks.encodings import SudokuCodec
    from trm.model import Geometry

    if isinstance(codec, SudokuCodec):
        return Geometry(codec.size, codec.size, codec.box_rows, codec.box_cols)
    return Geometry(codec.height, codec.width)
