"""Resizing steps whose factor or pattern the grid itself gives: a Kronecker product keyed by
the most or least common colour, tiling or upscaling by the number of colours, subsampling.

Like every step in :mod:`solvers.arc.dsl`, each one maps a numpy grid to a grid, or to None
where it does not apply; colour 0 is the background.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["kron_by_colour", "scale_by_colour_count", "subsample"]

Array = np.ndarray
StepFn = Callable[[Array], Array | None]


def _colour_counts(g: Array) -> Array:
    """How often each colour 1-9 occurs (background 0 counts as absent)."""
    counts = np.bincount(g.ravel(), minlength=10)
    counts[0] = 0
    return counts


def kron_by_colour(which: str) -> StepFn:
    """The grid copied into each cell holding its ``most`` or ``least`` common non-background
    colour (other cells become empty blocks); None when that colour is tied."""

    def fn(g: Array) -> Array | None:
        counts = _colour_counts(g)
        present = np.flatnonzero(counts)
        if present.size < 2:
            return None  # one colour: kron_self already
        values = counts[present]
        best = values.max() if which == "most" else values.min()
        if (values == best).sum() != 1:
            return None
        colour = present[values == best][0]
        return np.kron((g == colour).astype(g.dtype), g)

    return fn


def scale_by_colour_count(kind: str) -> StepFn:
    """``tile`` the grid, or ``upscale`` each cell, ``n x n`` times for ``n`` distinct colours
    (the background among them when present): a one-colour grid stays as it is."""

    def fn(g: Array) -> Array | None:
        n = len(np.unique(g))
        if kind == "tile":
            return np.tile(g, (n, n))
        return np.kron(g, np.ones((n, n), dtype=g.dtype))

    return fn


def subsample(k: int) -> StepFn:
    """Every ``k``-th row and column, from the first: the picture a grid spread apart
    by ``k - 1`` empty lines hides; None unless the lines dropped are all background."""

    def fn(g: Array) -> Array | None:
        if g.shape[0] < k and g.shape[1] < k:
            return None
        keep = np.zeros(g.shape, dtype=bool)
        keep[::k, ::k] = True
        return g[::k, ::k] if not g[~keep].any() else None

    return fn
