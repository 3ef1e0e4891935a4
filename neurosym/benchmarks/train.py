"""``neurosym bench train``: training throughput and time to accuracy of a TRM preset on this
machine, in one run (fresh seeded data, EMA evaluation on unseen puzzles)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from typing import Any

__all__ = ["run_train_benchmark"]

Echo = Callable[[str], Any]


class _Clock:
    """Wall time at every step and evaluation, measured from the first step's start."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.evals: list[tuple[float, dict[str, Any]]] = []
        self.step_seconds: list[float] = []

    def on_step(self, state: Any) -> None:
        seconds = state.metrics.get("step_s")
        if isinstance(seconds, int | float):
            self.step_seconds.append(float(seconds))

    def on_eval(self, state: Any) -> None:
        self.evals.append((time.perf_counter() - self.start, dict(state.eval_metrics or {})))


def run_train_benchmark(
    *,
    preset: str = "sudoku6-tiny",
    steps: int = 2000,
    eval_every: int = 250,
    eval_size: int = 128,
    threads: int = 1,
    seed: int = 0,
    thresholds: tuple[float, ...] = (0.5, 0.9, 0.99),
    echo: Echo = lambda _line: None,
) -> dict[str, Any]:
    """Train ``preset`` for ``steps`` steps in a temporary folder and report examples/s, seconds
    per step and the wall time at which the EMA exact accuracy first reached each threshold."""
    from neurosym.train_cli import PRESET_DATA
    from tasks.errors import ConfigError
    from trm.train import TrainConfig, train

    if preset not in PRESET_DATA:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {sorted(PRESET_DATA)}")
    config = TrainConfig(
        preset=preset,
        data=PRESET_DATA[preset],
        steps=steps,
        eval_every=eval_every,
        eval_size=eval_size,
        threads=threads,
        seed=seed,
        device="cpu",
    )
    clock = _Clock()
    with tempfile.TemporaryDirectory() as out:
        result = train(config, out, callbacks=[clock])
    step_s = sorted(clock.step_seconds)
    median_step = step_s[len(step_s) // 2] if step_s else float("nan")
    report: dict[str, Any] = {
        "preset": preset,
        "steps": result.step,
        "batch_size": config.batch_size,
        "threads": threads,
        "wall_s": result.wall_s,
        "median_step_s": median_step,
        "examples_per_s": config.batch_size / median_step if step_s else float("nan"),
        "evals": [{"wall_s": t, **m} for t, m in clock.evals],
        "time_to_exact": {},
    }
    for threshold in thresholds:
        hit = next((t for t, m in clock.evals if m.get("exact_accuracy", 0) >= threshold), None)
        report["time_to_exact"][str(threshold)] = hit
    echo(
        f"neurosym bench train: preset {preset}, {result.step} steps, batch "
        f"{config.batch_size}, {threads} thread(s), CPU"
    )
    echo(
        f"  wall {result.wall_s:.1f} s; median {median_step * 1e3:.0f} ms/step; "
        f"{report['examples_per_s']:.0f} examples/s (one supervision step each)"
    )
    for t, m in clock.evals:
        echo(
            f"  {t:7.1f} s  step {m.get('step')}: exact {m.get('exact_accuracy', 0):.3f} "
            f"(all steps {m.get('exact_accuracy_all_steps', 0):.3f}), mean steps "
            f"{m.get('mean_steps', 0):.2f}"
        )
    for threshold, hit in report["time_to_exact"].items():
        echo(
            f"  time to {float(threshold):.0%} exact (EMA, {eval_size} unseen puzzles): "
            + (f"{hit:.1f} s" if hit is not None else f"not reached in {result.step} steps")
        )
    return report
