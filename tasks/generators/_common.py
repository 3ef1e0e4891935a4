"""Argument checks shared by the generators: seeds and bounded ints."""

from __future__ import annotations

import numbers

import numpy as np

from tasks.errors import InvalidTaskError

__all__ = ["as_rng", "check_int"]


def as_rng(rng: object) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and int(rng) >= 0:
        return np.random.default_rng(int(rng))
    raise InvalidTaskError(
        f"rng must be a numpy Generator, a SeedSequence, a non-negative int seed or None, "
        f"got {rng!r}"
    )


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidTaskError(f"{name} must be an int, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise InvalidTaskError(f"{name} must be {bound}, got {value}")
    return value
