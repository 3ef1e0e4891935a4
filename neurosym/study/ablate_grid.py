"""The grid of :mod:`neurosym.study.ablate`: its factors and their levels, the equal-compute
budget of every run, and the parsing of ``--grid`` into variants (TRMConfig overrides)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tasks.errors import ConfigError

__all__ = ["BUDGET_KINDS", "FACTORS", "Budget", "Variant", "forward_passes_per_step", "parse_grid"]

FACTORS = ("T", "n", "layers", "width", "N_sup", "ema", "grad", "mixer", "arch")
BUDGET_KINDS = ("cpu-minutes", "forward-passes")
_INT_FIELDS = {
    "T": "n_improve_steps",
    "n": "n_latent_steps",
    "layers": "num_layers",
    "width": "hidden_size",
    "N_sup": "max_supervision_steps",
}
_CHOICES = {
    "ema": ("on", "off"),
    "grad": ("recursion", "one_step", "all_cycles"),
    "mixer": ("mlp", "attention"),
    "arch": ("trm", "hrm"),
}


@dataclass(frozen=True, slots=True)
class Budget:
    """Training compute of every run: ``amount`` CPU minutes or forward passes (see module)."""

    kind: str
    amount: float

    def __post_init__(self) -> None:
        if self.kind not in BUDGET_KINDS:
            raise ConfigError(f"budget kind must be one of {list(BUDGET_KINDS)}, got {self.kind!r}")
        amount = self.amount
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ConfigError(f"budget must be a number, got {amount!r}")
        if not (0 < amount < math.inf):
            raise ConfigError(f"budget must be a positive number, got {amount!r}")
        if self.kind == "forward-passes" and amount != int(amount):
            raise ConfigError(f"a forward-pass budget must be a whole number, got {amount!r}")

    def describe(self) -> str:
        """``"1 CPU minute(s) per run"`` or ``"N forward passes per run"``."""
        if self.kind == "cpu-minutes":
            return f"{self.amount:g} CPU minute(s) per run (one torch thread)"
        return f"{int(self.amount):,} forward passes (block applications per slot) per run"


@dataclass(frozen=True, slots=True)
class Variant:
    """One point of the grid: the base, or the base with one factor changed."""

    name: str  # "base", "T=3", "ema=off", ...
    factor: str  # "base" or one of FACTORS
    value: str
    model: dict[str, Any] = field(default_factory=dict)  # TRMConfig overrides over the base
    ema: bool = True


def forward_passes_per_step(config: Any) -> int:
    """Block applications one training step runs per slot: ``T * (n + 1) * layers``, doubled for
    an HRM (its continue target is a second supervision step without gradients).

    Examples
    --------
    >>> from trm.config import preset
    >>> forward_passes_per_step(preset("sudoku6-tiny")), forward_passes_per_step(
    ...     preset("sudoku6-hrm-tiny"))
    (12, 12)
    """
    per_step = config.n_improve_steps * (config.n_latent_steps + 1) * config.num_layers
    return per_step * (2 if config.arch == "hrm" else 1)


# ------------------------------------------------------------------ the grid
def _base_value(factor: str, base: Any, ema: bool) -> str:
    if factor in _INT_FIELDS:
        return str(getattr(base, _INT_FIELDS[factor]))
    if factor == "ema":
        return "on" if ema else "off"
    if factor == "grad":
        return base.gradient or ("one_step" if base.arch == "hrm" else "recursion")
    return str(getattr(base, factor))


def _default_levels(factor: str, base: Any, ema: bool) -> list[str]:
    here = _base_value(factor, base, ema)
    if factor in ("T", "n"):
        value = int(here)
        return [str(v) for v in (value - 1, value + 1) if v >= 1]
    if factor in _INT_FIELDS:
        value = int(here)
        return [str(v) for v in dict.fromkeys((value // 2, value * 2)) if v >= 1 and v != value]
    return [c for c in _CHOICES[factor] if c != here]


def _overrides(factor: str, value: str, base: Any) -> tuple[dict[str, Any], bool | None]:
    """TRMConfig overrides for ``factor=value``, and the EMA switch (None: the base's)."""
    if factor in _INT_FIELDS:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{factor} takes whole numbers >= 1, got {value!r}") from None
        if number < 1:
            raise ConfigError(f"{factor} takes whole numbers >= 1, got {value!r}")
        return {_INT_FIELDS[factor]: number}, None
    if value not in _CHOICES[factor]:
        raise ConfigError(f"{factor} takes one of {list(_CHOICES[factor])}, got {value!r}")
    if factor == "ema":
        return {}, value == "on"
    if factor == "grad":
        if base.arch == "hrm" and value != "one_step":
            raise ConfigError(f"grad={value} needs arch trm; the base is an HRM")
        return {"gradient": value}, None
    if factor == "mixer":
        return {"mixer": value}, None
    if value == "hrm":
        # Two networks of half the blocks: the TRM's parameter count, and HRM's own gradient.
        return {"arch": "hrm", "num_layers": max(1, base.num_layers // 2), "gradient": None}, None
    return {"arch": "trm", "gradient": None}, None


def parse_grid(items: str | Sequence[str] | None, base: Any, *, ema: bool = True) -> list[Variant]:
    """The variants of a grid: the base first, then each factor's levels.

    Parameters
    ----------
    items : ``"T n=1,4 ema"`` (or a list of such items); a bare factor takes its default
        levels (one below and one above the base for T and n; half and double for layers,
        width and N_sup; the other choices for ema, grad, mixer, arch); ``None``: every factor
        at its default levels.
    base : the base :class:`~trm.config.TRMConfig`.

    Raises
    ------
    ConfigError
        On an unknown factor, a malformed or unknown value, a value equal to the base's (the
        base runs anyway) or a factor named twice.

    Examples
    --------
    >>> from trm.config import preset
    >>> [v.name for v in parse_grid("T ema mixer=attention", preset("sudoku6-tiny"))]
    ['base', 'T=1', 'T=3', 'ema=off', 'mixer=attention']
    >>> parse_grid("depth=3", preset("sudoku6-tiny"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: unknown factor 'depth'; known: T, n, layers, ...
    """
    if items is None:
        items = list(FACTORS)
    elif isinstance(items, str):
        items = items.split()
    variants = [Variant("base", "base", "base", {}, ema)]
    seen: set[str] = set()
    for item in items:
        factor, _, values = str(item).partition("=")
        factor = factor.strip()
        if factor not in FACTORS:
            raise ConfigError(f"unknown factor {factor!r}; known: {', '.join(FACTORS)}")
        if factor in seen:
            raise ConfigError(f"factor {factor!r} is named twice")
        seen.add(factor)
        here = _base_value(factor, base, ema)
        if values:
            levels = [v.strip() for v in values.split(",")]
            if any(not v for v in levels) or len(set(levels)) != len(levels):
                raise ConfigError(f"{factor} takes distinct comma-separated values, got {values!r}")
        else:
            levels = _default_levels(factor, base, ema)
        for value in levels:
            overrides, switch = _overrides(factor, value, base)
            if value == here:
                raise ConfigError(f"{factor}={value} is the base's value (the base runs anyway)")
            variants.append(
                Variant(
                    f"{factor}={value}", factor, value, overrides, ema if switch is None else switch
                )
            )
    return variants
