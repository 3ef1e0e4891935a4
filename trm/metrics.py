"""The trainer's record of a run: ``metrics.jsonl`` (one JSON object per step and per
evaluation) and its plot, ``training.png``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["METRICS_FILE", "PLOT_FILE", "_Metrics", "_json_safe", "_smooth"]

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "training.png"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


class _Metrics:
    """metrics.jsonl (one JSON object per line, ``type`` "train" or "eval") and the PNG."""

    def __init__(self, out_dir: Path, resume_step: int | None) -> None:
        self.path = out_dir / METRICS_FILE
        self.plot_path = out_dir / PLOT_FILE
        self.train: list[dict[str, Any]] = []
        self.evals: list[dict[str, Any]] = []
        kept: list[str] = []
        if resume_step is not None and self.path.is_file():
            # Drop lines written after the checkpoint: those steps are about to be redone.
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and record.get("step", math.inf) <= resume_step:
                    kept.append(line)
                    (self.evals if record.get("type") == "eval" else self.train).append(record)
        self.path.write_text("".join(k + "\n" for k in kept), encoding="utf-8")
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, record: dict[str, Any]) -> None:
        record = _json_safe(record)
        (self.evals if record.get("type") == "eval" else self.train).append(record)
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def plot(self) -> None:
        # The object API with an Agg canvas: no global backend switch, no display needed.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 4))
        FigureCanvasAgg(fig)
        ax_loss, ax_acc = fig.subplots(1, 2)
        steps = [r["step"] for r in self.train]
        ax_loss.plot(steps, [r["loss"] for r in self.train], lw=0.5, alpha=0.4, label="loss")
        ax_loss.plot(steps, _smooth([r["loss"] for r in self.train]), label="loss (smoothed)")
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_title("training loss")
        ax_loss.legend()
        acc = [(r["step"], r["exact_acc_halted"]) for r in self.train if r["n_halted"] > 0]
        if acc:
            xs, ys = zip(*acc, strict=True)
            ax_acc.plot(xs, _smooth(list(ys)), label="train exact (halted slots, smoothed)")
        if self.evals:
            xs = [r["step"] for r in self.evals]
            ax_acc.plot(xs, [r["exact_accuracy"] for r in self.evals], "o-", label="eval exact")
            ax_acc.plot(xs, [r["valid_accuracy"] for r in self.evals], "^-", label="eval valid")
            ax_acc.plot(xs, [r["cell_accuracy"] for r in self.evals], "s--", label="eval per cell")
        ax_acc.set_ylim(0, 1.02)
        ax_acc.set_xlabel("step")
        ax_acc.set_title("accuracy")
        if acc or self.evals:  # nothing to label before any slot halted
            ax_acc.legend(loc="lower right")
        fig.tight_layout()
        tmp = self.plot_path.with_suffix(".tmp.png")
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, self.plot_path)


def _smooth(values: list[float], window: int = 50) -> list[float]:
    if not values:
        return []
    kernel = np.ones(min(window, len(values)))
    sums = np.convolve(values, kernel, mode="full")[: len(values)]
    counts = np.convolve(np.ones(len(values)), kernel, mode="full")[: len(values)]
    return (sums / counts).tolist()
