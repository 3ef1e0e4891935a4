"""Last steps learned from the demonstrations whose output is a different size from the grid:
a tiling with flipped and rotated copies, and an overlay of equal parts under a colour priority.

Each ``learn_*`` function returns a :class:`~solvers.arc.dsl.Step` that reproduces every
demonstration output from its grid, or None; the step does not apply (None) to a grid its
rule cannot decide, so it never guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from solvers.arc.dsl import Array, Step

__all__ = ["SYMMETRIES", "learn_overlay_priority", "learn_symmetric_tiling"]

#: The eight symmetries of a square, identity first: a block that several fit shows the first.
SYMMETRIES: dict[str, Callable[[Array], Array]] = {
    "id": lambda g: g,
    "flip_h": lambda g: g[:, ::-1],
    "flip_v": lambda g: g[::-1],
    "rot180": lambda g: g[::-1, ::-1],
    "rot90": lambda g: np.rot90(g, -1),
    "rot270": lambda g: np.rot90(g, 1),
    "transpose": lambda g: g.T,
    "transpose_anti": lambda g: g[::-1, ::-1].T,
}


# ---------------------------------------------------------------------------- tiling
def learn_symmetric_tiling(inputs: Sequence[Array], outputs: Sequence[Array]) -> Step | None:
    """An ``R x C`` tiling whose block ``(i, j)`` is one fixed symmetry of the grid (the same
    for every demonstration), e.g. rows of the grid alternating with its mirror image; None
    unless every output is such a tiling of its input with one ``R x C`` (more than one block)."""
    blocks: tuple[int, int] | None = None
    fits: list[set[str]] = []
    for g, want in zip(inputs, outputs, strict=True):
        (h, w), (big_h, big_w) = g.shape, want.shape
        if big_h % h or big_w % w:
            return None
        shape = (big_h // h, big_w // w)
        if shape == (1, 1) or blocks not in (None, shape):
            return None
        if blocks is None:
            blocks = shape
            fits = [set(SYMMETRIES) for _ in range(shape[0] * shape[1])]
        views = {name: f(g) for name, f in SYMMETRIES.items()}
        for k, names in enumerate(fits):
            i, j = divmod(k, shape[1])
            block = want[i * h : (i + 1) * h, j * w : (j + 1) * w]
            names &= {
                n for n in names if views[n].shape == block.shape and (views[n] == block).all()
            }
            if not names:
                return None
    if blocks is None:
        return None
    rows, cols = blocks
    # the simplest symmetry per block: an input the demos never told apart gets the first
    layout = [next(n for n in SYMMETRIES if n in names) for names in fits]
    if all(n == "id" for n in layout):
        return None  # a plain tile, a primitive already

    def fn(g: Array) -> Array | None:
        tiles = [SYMMETRIES[n](g) for n in layout]
        if any(t.shape != g.shape for t in tiles):
            return None  # a transposed block of a grid that is not square
        return np.vstack([np.hstack(tiles[r * cols : (r + 1) * cols]) for r in range(rows)])

    shown = " / ".join(" ".join(layout[r * cols : (r + 1) * cols]) for r in range(rows))
    return Step("tile_symmetric", fn, (("blocks", f"{rows}x{cols}"), ("layout", shown)))


# ---------------------------------------------------------------------------- overlays
def _split_parts(g: Array, axis: int, n_parts: int, separated: bool) -> Array | None:
    """``g`` cut along ``axis`` (0: a stack of rows) into ``n_parts`` equal parts, as a
    ``(n_parts, h, w)`` array; with ``separated``, parts sit between one-colour lines."""
    size = g.shape[axis] + separated
    if size % n_parts:
        return None
    step = size // n_parts
    part = step - separated
    if part < 1:
        return None
    view = g if axis == 0 else g.T
    if separated:
        lines = view[part::step]
        if (lines != lines[:, :1]).any():
            return None
    stack = np.stack([view[i * step : i * step + part] for i in range(n_parts)])
    return stack if axis == 0 else stack.transpose(0, 2, 1)


def _layouts(g: Array, out_shape: tuple[int, ...]) -> list[tuple[int, int, bool]]:
    """Every (axis, parts, separated) that cuts ``g`` into parts of ``out_shape``."""
    found = []
    for axis in (0, 1):
        if g.shape[1 - axis] != out_shape[1 - axis]:
            continue
        size, part = g.shape[axis], out_shape[axis]
        for separated in (False, True):
            n_parts, rest = divmod(size + separated, part + separated)
            if n_parts >= 2 and not rest:
                found.append((axis, n_parts, separated))
    return found


def _winners(stack: Array, beats: Array) -> Array | None:
    """Per cell, the part value that beats (or equals) every other part's value there."""
    winner = np.full(stack.shape[1:], -1, dtype=np.int16)
    for cand in stack:
        wins = ((stack == cand) | beats[cand, stack]).all(axis=0)
        winner = np.where((winner < 0) & wins, cand, winner)
    if (winner < 0).any():
        return None
    return winner.astype(stack.dtype)


def learn_overlay_priority(inputs: Sequence[Array], outputs: Sequence[Array]) -> Step | None:
    """The grid cut into equal parts (stacked, or between separator lines) and laid on top of
    each other, each cell showing the colour that ranks highest among the parts' colours there;
    the ranking is learned from the demonstrations (a colour never beaten by a present one).
    None when no cut and no ranking fits them all."""
    layouts = None
    for g, want in zip(inputs, outputs, strict=True):
        found = set(_layouts(g, want.shape))
        layouts = found if layouts is None else layouts & found
        if not layouts:
            return None
    for axis, n_parts, separated in sorted(layouts or ()):
        beats = np.zeros((10, 10), dtype=bool)
        stacks = []
        for g, want in zip(inputs, outputs, strict=True):
            stack = _split_parts(g, axis, n_parts, separated)
            if stack is None or not (stack == want).any(axis=0).all():
                break
            stacks.append(stack)
            for part in stack:
                beats[want, part] = True
        else:
            beats[np.arange(10), np.arange(10)] = False
            for k in range(10):  # transitive closure: 10 colours, Warshall
                beats |= beats[:, k : k + 1] & beats[k : k + 1, :]
            if beats.diagonal().any():
                continue  # the demos rank two colours both ways
            if not all(
                (w := _winners(s, beats)) is not None and np.array_equal(w, want)
                for s, want in zip(stacks, outputs, strict=True)
            ):
                continue
            return _overlay_step(axis, n_parts, separated, beats)
    return None


def _overlay_step(axis: int, n_parts: int, separated: bool, beats: Array) -> Step:
    def fn(g: Array) -> Array | None:
        stack = _split_parts(g, axis, n_parts, separated)
        return None if stack is None else _winners(stack, beats)

    # the ranking as the program text shows it: colours beaten by fewer first (exact for a
    # total order; colours the demos never compared are listed in an arbitrary order)
    ranked = sorted(
        (c for c in range(10) if beats[c].any() or beats[:, c].any()),
        key=lambda c: (int(beats[:, c].sum()), -int(beats[c].sum())),
    )
    return Step(
        "overlay_parts",
        fn,
        (
            ("split", "rows" if axis == 0 else "columns"),
            ("parts", n_parts),
            ("separated", separated),
            ("priority", ">".join(str(c) for c in ranked)),
        ),
    )
