"""What a block of code costs: wall time, process CPU time and energy (:class:`Meter`), and
the FLOPs a TRM spends on one supervision step (:func:`step_flops`) or a whole run
(:func:`counted_flops`), as :class:`torch.utils.flop_counter.FlopCounterMode` counts them.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurosym.study.common import check_int
from tasks.errors import ConfigError

__all__ = [
    "DEFAULT_WATTS_PER_CORE",
    "RAPL_ROOT",
    "Measure",
    "Meter",
    "check_watts",
    "counted_flops",
    "rapl_zones",
    "step_flops",
    "steps_run",
]

#: Where Linux exposes the RAPL energy counters (``intel-rapl:N/energy_uj``, microjoules).
RAPL_ROOT = Path("/sys/class/powercap")

#: Watts one busy core is charged when RAPL cannot be read: a server package's TDP over its
#: cores is about 5-12 W (e.g. 270 W / 28 cores), a desktop's 10-20 W (125 W / 8); 15 W/core is
#: a round figure at the high end, so the estimate errs towards more energy, not less.
DEFAULT_WATTS_PER_CORE = 15.0


# ------------------------------------------------------------------ energy and time
def rapl_zones(root: str | os.PathLike[str] = RAPL_ROOT) -> list[Path]:
    """The RAPL package zones under ``root`` whose ``energy_uj`` this process can read.

    Only top-level zones (``intel-rapl:N``): their sub-zones (``intel-rapl:N:M``, core,
    uncore, DRAM) are parts of the package and would count twice.
    """
    zones = []
    for zone in sorted(Path(root).glob("intel-rapl:*")):
        if not re.fullmatch(r"intel-rapl:\d+", zone.name):
            continue
        try:
            int((zone / "energy_uj").read_text())
        except (OSError, ValueError):
            continue
        zones.append(zone)
    return zones


@dataclass(frozen=True, slots=True)
class Measure:
    """Wall seconds, process CPU seconds and joules of one measured block, and how the joules
    were obtained (``"rapl"`` or ``"cpu-time x W W/core"``)."""

    wall_s: float
    cpu_s: float
    energy_j: float
    method: str

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            self.wall_s + other.wall_s,
            self.cpu_s + other.cpu_s,
            self.energy_j + other.energy_j,
            self.method,
        )


class Meter:
    """Measures blocks of code: ``token = meter.start()`` ... ``meter.stop(token)``.

    Energy comes from the readable RAPL package zones under ``rapl_root`` (the counters wrap
    at ``max_energy_range_uj``), else from CPU time x ``watts_per_core``; ``use_rapl=False``
    forces the estimate. :attr:`method` is the short label, :attr:`description` the sentence
    to print beside a figure.

    Examples
    --------
    >>> meter = Meter(10.0, rapl_root="/nonexistent")
    >>> meter.method
    'cpu-time x 10 W/core'
    >>> m = meter.stop(meter.start())
    >>> m.energy_j == 10.0 * m.cpu_s
    True
    """

    def __init__(
        self,
        watts_per_core: float = DEFAULT_WATTS_PER_CORE,
        *,
        rapl_root: str | os.PathLike[str] = RAPL_ROOT,
        use_rapl: bool = True,
    ) -> None:
        self.watts_per_core = check_watts(watts_per_core)
        self.zones = rapl_zones(rapl_root) if use_rapl else []
        self._ranges = [self._max_range(z) for z in self.zones]
        if self.zones:
            self.method = "rapl"
            self.description = (
                f"RAPL package energy ({len(self.zones)} zone(s) under {rapl_root}; the whole "
                "package, other processes included)"
            )
        else:
            self.method = f"cpu-time x {self.watts_per_core:g} W/core"
            self.description = (
                f"estimate: process CPU time x {self.watts_per_core:g} W per core (RAPL "
                "counters not readable here)"
                if use_rapl
                else f"estimate: process CPU time x {self.watts_per_core:g} W per core"
            )

    @staticmethod
    def _max_range(zone: Path) -> int:
        try:
            return int((zone / "max_energy_range_uj").read_text())
        except (OSError, ValueError):
            return 2**32

    def _read_uj(self) -> list[int]:
        return [int((z / "energy_uj").read_text()) for z in self.zones]

    def start(self) -> tuple[float, float, list[int]]:
        """A token holding the clocks (and counters) now."""
        return time.perf_counter(), time.process_time(), self._read_uj()

    def stop(self, token: tuple[float, float, list[int]]) -> Measure:
        """The :class:`Measure` of the block since ``token``."""
        wall0, cpu0, uj0 = token
        uj1 = self._read_uj()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if not self.zones:
            return Measure(wall, cpu, cpu * self.watts_per_core, self.method)
        delta = sum((b - a) % (r + 1) for a, b, r in zip(uj0, uj1, self._ranges, strict=True))
        return Measure(wall, cpu, delta / 1e6, self.method)


def check_watts(watts: object) -> float:
    """``watts`` (per core) as a float when it is a number in (0, 1000], else ConfigError."""
    if isinstance(watts, bool) or not isinstance(watts, int | float) or not 0 < watts <= 1000:
        raise ConfigError(f"watts per core must be a number in (0, 1000], got {watts!r}")
    return float(watts)


# ------------------------------------------------------------------ FLOPs
def _inputs(loaded: Any, task: Any, batch: int) -> tuple[Any, Any, Any]:
    import torch

    from trm.rollout import codec_for, encode_tasks, geometry_of

    codec = codec_for(loaded, task)
    geometry = geometry_of(codec) if loaded.config.size_agnostic else None
    return codec, geometry, torch.from_numpy(encode_tasks(codec, [task] * batch))


def step_flops(loaded: Any, task: Any, *, batch: int = 1) -> int:
    """FLOPs of one supervision step of ``batch`` copies of ``task`` through ``loaded``, as
    :class:`~torch.utils.flop_counter.FlopCounterMode` counts them (2 per multiply-add).

    The step runs through :func:`trm.rollout.run_batch`, the loop every prediction uses.

    Examples
    --------
    >>> from trm.config import preset
    >>> from trm.model import TRM
    >>> from trm.inference import LoadedModel
    >>> from tasks.encodings import MazeCodec
    >>> from tasks.maze import MazeTask
    >>> net = TRM(preset("maze-conv", hidden_size=8)).eval()
    >>> loaded = LoadedModel(net, net.config, MazeCodec(height=2, width=3), {})
    >>> task = MazeTask.parse("S.#\\n#.G")
    >>> step_flops(loaded, task, batch=2) == 2 * step_flops(loaded, task)
    True
    """
    from torch.utils.flop_counter import FlopCounterMode

    from trm.rollout import run_batch

    check_int(batch, "batch", 1)
    codec, geometry, inputs = _inputs(loaded, task, batch)
    with FlopCounterMode(display=False) as counter:
        for _ in run_batch(
            loaded.model, inputs, 1, False, geometry=geometry, vocab=codec.vocab_size
        ):
            pass
    return int(counter.get_total_flops())


def counted_flops(loaded: Any, task: Any, **predict_options: Any) -> tuple[int, Any]:
    """The FLOPs of a whole :func:`trm.inference.predict` call on ``task`` alone, counted
    directly, and its prediction: the check of ``step_flops x steps run`` (the counting
    slows the run, so timed solves never run under it)."""
    from torch.utils.flop_counter import FlopCounterMode

    from neurosym.neural import torch_threads
    from trm.inference import predict

    with torch_threads(1), FlopCounterMode(display=False) as counter:
        [prediction] = predict(loaded, None, [task], **predict_options)
    return int(counter.get_total_flops()), prediction


def steps_run(proposal: Any) -> int:
    """Supervision steps of every trajectory the proposal ran (each halts on its own)."""
    return sum(c.steps for c in proposal.candidates) if proposal.candidates else proposal.steps
