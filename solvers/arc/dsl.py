"""The ARC program language: grid -> grid steps (whole-grid and object-level) and programs.

A step maps a numpy grid to a new grid, or to None where it does not apply (a crop of an empty
grid, a downscale of a grid that is not made of blocks); a program is a sequence of steps whose
``str`` reads like a shell pipe: ``flip_h | crop_bbox(colour=3)``. Colour 0 is the background.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from solvers.arc.objects import (
    colour_by_shape_match,
    connect_pixels,
    repair_periodic,
    tile_rotations,
)
from solvers.arc.scaling import kron_by_colour, scale_by_colour_count, subsample

__all__ = [
    "MAX_SIDE",
    "Program",
    "Step",
    "constant_step",
    "learn_local_rule",
    "primitives",
    "recolour_step",
]

MAX_SIDE = 30
Array = np.ndarray
StepFn = Callable[[Array], Array | None]

_CONN4 = ndimage.generate_binary_structure(2, 1)
_CONN8 = ndimage.generate_binary_structure(2, 2)


@dataclass(frozen=True, slots=True)
class Step:
    """One named transformation; ``params`` are shown in the program text."""

    name: str
    fn: StepFn
    params: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in self.params)})"

    def __call__(self, grid: Array) -> Array | None:
        out = self.fn(grid)
        if out is None or out.ndim != 2 or not out.size:
            return None
        if out.shape[0] > MAX_SIDE or out.shape[1] > MAX_SIDE:
            return None
        return out


@dataclass(frozen=True, slots=True)
class Program:
    """Steps applied left to right; its length is its simplicity rank."""

    steps: tuple[Step, ...] = ()

    def __str__(self) -> str:
        return " | ".join(str(s) for s in self.steps) if self.steps else "identity"

    def __len__(self) -> int:
        return len(self.steps)

    def then(self, step: Step) -> Program:
        return Program(self.steps + (step,))

    def __call__(self, grid: Array) -> Array | None:
        for step in self.steps:
            grid = step(grid)
            if grid is None:
                return None
        return grid


# ---------------------------------------------------------------------------- helpers
def _bbox(mask: Array) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if not rows.size:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _objects(grid: Array, *, conn8: bool, by_colour: bool) -> list[tuple[Array, int]]:
    """Connected non-background objects as (mask, cell count); ``by_colour``: one colour each."""
    structure = _CONN8 if conn8 else _CONN4
    out = []
    if by_colour:
        for colour in np.unique(grid):
            if colour == 0:
                continue
            labels, n = ndimage.label(grid == colour, structure)
            out.extend((labels == i, 0) for i in range(1, n + 1))
    else:
        labels, n = ndimage.label(grid != 0, structure)
        out.extend((labels == i, 0) for i in range(1, n + 1))
    return [(mask, int(mask.sum())) for mask, _ in out]


# ---------------------------------------------------------------------------- crops, objects
def _crop_bbox(colour: int | None) -> StepFn:
    def fn(g: Array) -> Array | None:
        box = _bbox(g != 0 if colour is None else g == colour)
        return None if box is None else g[box]

    return fn


def _select_object(select: str, conn8: bool, by_colour: bool, crop: bool) -> StepFn:
    def fn(g: Array) -> Array | None:
        objs = _objects(g, conn8=conn8, by_colour=by_colour)
        if len(objs) < 2:
            return None
        if select == "largest":
            key = [n for _, n in objs]
        elif select == "smallest":
            key = [-n for _, n in objs]
        elif select == "most_colours":
            key = [len(np.unique(g[m])) for m, _ in objs]
        elif select == "unique":  # the odd one out: no other object looks the same
            crops = [np.where(m, g, 0)[_bbox(m)] for m, _ in objs]
            blobs = [c.tobytes() + bytes(c.shape) for c in crops]
            key = [-blobs.count(b) for b in blobs]
        else:  # "rarest_colour": the object whose colour is least common in the grid
            counts = np.bincount(g.ravel(), minlength=10)
            key = [-int(counts[g[m]].min()) for m, _ in objs]
        best = max(key)
        if key.count(best) != 1:
            return None  # ambiguous: no guessing
        mask = objs[key.index(best)][0]
        box = _bbox(mask)
        if box is None:
            return None
        if crop:
            return np.where(mask, g, 0)[box]
        return np.where(mask, g, 0)

    return fn


def _count_objects(g: Array) -> Array | None:
    n = len(_objects(g, conn8=True, by_colour=True))
    return np.ones((1, n), dtype=g.dtype) if 0 < n <= MAX_SIDE else None


def _majority_colour(g: Array) -> Array | None:
    counts = np.bincount(g.ravel(), minlength=10)
    counts[0] = 0
    return None if not counts.any() else np.full((1, 1), counts.argmax(), dtype=g.dtype)


# ---------------------------------------------------------------------------- colours
def _keep_colour(colour: int) -> StepFn:
    return lambda g: np.where(g == colour, g, 0)


def _remove_colour(colour: int) -> StepFn:
    return lambda g: np.where(g == colour, 0, g)


def _fill_holes(colour: int) -> StepFn:
    def fn(g: Array) -> Array | None:
        background = g == 0
        labels, n = ndimage.label(background, _CONN4)
        if n == 0:
            return None
        edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        holes = background & ~np.isin(labels, edge)
        return np.where(holes, colour, g) if holes.any() else None

    return fn


# ---------------------------------------------------------------------------- scale, tile
def _upscale(k: int) -> StepFn:
    return lambda g: np.kron(g, np.ones((k, k), dtype=g.dtype))


def _downscale(k: int) -> StepFn:
    def fn(g: Array) -> Array | None:
        h, w = g.shape
        if h % k or w % k or h == k and w == k:
            return None
        small = g[::k, ::k]
        return small if np.array_equal(np.kron(small, np.ones((k, k), g.dtype)), g) else None

    return fn


def _tile(rows: int, cols: int) -> StepFn:
    return lambda g: np.tile(g, (rows, cols))


def _kron_self(inverse: bool) -> StepFn:
    def fn(g: Array) -> Array | None:
        mask = (g == 0) if inverse else (g != 0)
        return np.kron(mask.astype(g.dtype), g)

    return fn


def _mirror(kind: str) -> StepFn:
    def fn(g: Array) -> Array | None:
        if kind == "h":
            return np.hstack([g, g[:, ::-1]])
        if kind == "v":
            return np.vstack([g, g[::-1]])
        top = np.hstack([g, g[:, ::-1]])
        return np.vstack([top, top[::-1]])

    return fn


# ---------------------------------------------------------------------------- halves
def _halves(g: Array, axis: int) -> tuple[Array, Array] | None:
    """The two halves of ``g`` along ``axis`` (0: top/bottom), skipping a middle separator."""
    n = g.shape[axis]
    if n < 2:
        return None
    half = n // 2
    first = g[:half] if axis == 0 else g[:, :half]
    second = g[n - half :] if axis == 0 else g[:, n - half :]
    if n % 2:
        middle = g[half] if axis == 0 else g[:, half]
        if len(np.unique(middle)) != 1 or middle[0] == 0:
            return None
    return first, second


def _half(which: str) -> StepFn:
    axis = 0 if which in ("top", "bottom") else 1
    pick = 0 if which in ("top", "left") else 1

    def fn(g: Array) -> Array | None:
        parts = _halves(g, axis)
        return None if parts is None else parts[pick]

    return fn


_MASK_OPS: dict[str, Callable[[Array, Array], Array]] = {
    "and": np.logical_and,
    "or": np.logical_or,
    "xor": np.logical_xor,
    "nor": lambda a, b: ~(a | b),
    "left_only": lambda a, b: a & ~b,
    "right_only": lambda a, b: b & ~a,
}


def _combine_halves(axis: int, op: str) -> StepFn:
    """A 0/1 mask of ``op`` over the halves' non-background cells (a recolour then paints it)."""

    def fn(g: Array) -> Array | None:
        parts = _halves(g, axis)
        if parts is None:
            return None
        a, b = parts
        return _MASK_OPS[op](a != 0, b != 0).astype(g.dtype)

    return fn


def _overlay_halves(axis: int) -> StepFn:
    """The first half with its background cells taken from the second."""

    def fn(g: Array) -> Array | None:
        parts = _halves(g, axis)
        if parts is None:
            return None
        a, b = parts
        return np.where(a != 0, a, b)

    return fn


# ---------------------------------------------------------------------------- moves, lines
def _gravity(direction: str) -> StepFn:
    def fn(g: Array) -> Array | None:
        t = {"down": g, "up": g[::-1], "right": g.T, "left": g.T[::-1]}[direction]
        out = np.zeros_like(t)
        for c in range(t.shape[1]):
            col = t[:, c]
            cells = col[col != 0]
            if cells.size:
                out[t.shape[0] - cells.size :, c] = cells
        return {"down": out, "up": out[::-1], "right": out.T, "left": out[::-1].T}[direction]

    return fn


def _extend_lines(direction: str) -> StepFn:
    """Each non-background cell paints its colour over background along its row and/or column."""

    def fn(g: Array) -> Array | None:
        out = g.copy()
        rows, cols = np.nonzero(g)
        if not rows.size:
            return None
        for r, c in zip(rows, cols, strict=True):
            colour = g[r, c]
            if direction in ("h", "hv"):
                line = out[r]
                line[line == 0] = colour
            if direction in ("v", "hv"):
                line = out[:, c]
                line[line == 0] = colour
        return out

    return fn


def _symmetrize(colour: int, kind: str) -> StepFn:
    """Cells of ``colour`` (the damage) take the value of a symmetric partner that is not."""

    def fn(g: Array) -> Array | None:
        damaged = g == colour
        if not damaged.any():
            return None
        views = [g[:, ::-1], g[::-1]]
        if kind in ("hv", "d4"):
            views.append(g[::-1, ::-1])
        if kind == "d4" and g.shape[0] == g.shape[1]:
            views += [g.T, g.T[::-1, ::-1], np.rot90(g), np.rot90(g, 3)]
        if kind == "h":
            views = views[:1]
        elif kind == "v":
            views = views[1:2]
        out = g.copy()
        for view in views:
            fill = damaged & (out == colour) & (view != colour)
            out[fill] = view[fill]
        return out if not np.array_equal(out, g) else None

    return fn


def _dedupe(g: Array) -> Array | None:
    keep_r = np.r_[True, (g[1:] != g[:-1]).any(axis=1)]
    g = g[keep_r]
    keep_c = np.r_[True, (g[:, 1:] != g[:, :-1]).any(axis=0)]
    return g[:, keep_c]


def _trim_border(g: Array) -> Array | None:
    return g[1:-1, 1:-1] if g.shape[0] > 2 and g.shape[1] > 2 else None


def _border(colour: int) -> StepFn:
    def fn(g: Array) -> Array | None:
        out = g.copy()
        out[0, :] = out[-1, :] = out[:, 0] = out[:, -1] = colour
        return out

    return fn


# ---------------------------------------------------------------------------- learned steps
def recolour_step(mapping: dict[int, int]) -> Step:
    """A colour map learned from the demonstrations (colours it does not name stay)."""
    lut = np.arange(10, dtype=np.uint8)
    for src, dst in mapping.items():
        lut[src] = dst
    shown = " ".join(f"{s}->{d}" for s, d in sorted(mapping.items()))
    return Step("recolour", lambda g: lut[g], (("map", shown),))


def constant_step(grid: Array) -> Step:
    """The one output every demonstration shares."""
    frozen = grid.copy()
    return Step(
        "constant", lambda g: frozen.copy(), (("shape", f"{grid.shape[0]}x{grid.shape[1]}"),)
    )


_PATCHES = {
    "3x3": np.ones((3, 3), dtype=bool),
    "cross": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool),
}


def _patch_keys(g: Array, shape: str) -> list[bytes]:
    """Per cell, its neighbourhood (``10`` off the grid) as bytes, row-major."""
    padded = np.pad(g, 1, constant_values=10)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
    flat = windows.reshape(g.shape[0] * g.shape[1], 9)[:, _PATCHES[shape].ravel()]
    return [row.tobytes() for row in np.ascontiguousarray(flat)]


def learn_local_rule(inputs: Sequence[Array], outputs: Sequence[Array], shape: str) -> Step | None:
    """A cellular rule: each output cell as a function of its input neighbourhood, learned from
    the demonstrations; None when they contradict one (or it changes nothing). On a grid holding
    a neighbourhood no demonstration showed, the step does not apply (no guess)."""
    table: dict[bytes, int] = {}
    changes = False
    for g, want in zip(inputs, outputs, strict=True):
        if g.shape != want.shape:
            return None
        for key, value in zip(_patch_keys(g, shape), want.ravel().tolist(), strict=True):
            if table.setdefault(key, value) != value:
                return None
        changes = changes or not np.array_equal(g, want)
    if not changes:
        return None

    def fn(g: Array) -> Array | None:
        values = [table.get(key) for key in _patch_keys(g, shape)]
        if None in values:
            return None
        return np.array(values, dtype=g.dtype).reshape(g.shape)

    return Step("local_rule", fn, (("patch", shape), ("rules", len(table))))


# ---------------------------------------------------------------------------- separators
def _background(g: Array) -> int:
    return int(np.bincount(g.ravel(), minlength=10).argmax())


def _crop_not_bg(g: Array) -> Array | None:
    bg = _background(g)
    if bg == 0:
        return None  # crop_bbox covers it
    box = _bbox(g != bg)
    return None if box is None else g[box]


def _split_cells(g: Array) -> list[Array] | None:
    """The equal-sized cells between full-length single-colour separator lines, or None."""
    h, w = g.shape
    for colour in np.unique(g):
        rows = [r for r in range(h) if (g[r] == colour).all()]
        cols = [c for c in range(w) if (g[:, c] == colour).all()]
        if not rows and not cols:
            continue
        r_edges = [-1, *rows, h]
        c_edges = [-1, *cols, w]
        cells = [
            g[r0 + 1 : r1, c0 + 1 : c1]
            for r0, r1 in zip(r_edges, r_edges[1:], strict=False)
            for c0, c1 in zip(c_edges, c_edges[1:], strict=False)
            if r1 - r0 > 1 and c1 - c0 > 1
        ]
        if len(cells) >= 2 and len({c.shape for c in cells}) == 1:
            return cells
    return None


def _pick_cell(select: str) -> StepFn:
    def fn(g: Array) -> Array | None:
        cells = _split_cells(g)
        if cells is None:
            return None
        bg = _background(g)
        if select in ("most_cells", "fewest_cells"):
            key = [int((c != bg).sum()) for c in cells]
            if select == "fewest_cells":
                key = [-k for k in key]
        elif select == "most_colours":
            key = [len(np.unique(c)) for c in cells]
        else:  # "unique": the one cell unlike all the others
            blobs = [c.tobytes() for c in cells]
            key = [-blobs.count(b) for b in blobs]
        best = max(key)
        return cells[key.index(best)] if key.count(best) == 1 else None

    return fn


def _overlay_cells(g: Array) -> Array | None:
    cells = _split_cells(g)
    if cells is None:
        return None
    bg = _background(cells[0])
    out = cells[0].copy()
    for c in cells[1:]:
        out = np.where(out != bg, out, c)
    return out


# ---------------------------------------------------------------------------- the library
def _s(name: str, fn: StepFn, **params: Any) -> Step:
    return Step(name, fn, tuple(params.items()))


#: Steps whose output is never taller or wider than their input (crops, halves, downscales),
#: and steps whose output is never shorter or narrower (upscales, tiles, Kronecker products).
_SHRINKING = frozenset(
    {
        "crop_bbox",
        "pick_cell",
        "overlay_cells",
        "crop_object",
        "downscale",
        "subsample",
        "half",
        "combine_halves",
        "overlay_halves",
        "dedupe_rows_cols",
        "trim_border",
        "count_objects",
        "majority_colour",
    }
)
_GROWING = frozenset(
    {"upscale", "tile", "scale_by_colours", "mirror", "tile_rotations", "kron_self"}
)


def primitives(
    in_colours: Iterable[int],
    out_colours: Iterable[int],
    *,
    grows: bool = True,
    shrinks: bool = True,
) -> list[Step]:
    """Every step the search composes, cheapest and commonest first.

    ``in_colours`` parameterise steps that select or remove a colour of the input;
    ``out_colours`` those that paint one (fill, border, symmetry damage is an input colour).
    Without ``grows`` (no demonstration output is taller or wider than its input) the steps
    that only enlarge a grid (upscale, tile, mirror, Kronecker products) are left out, and
    without ``shrinks`` those that only make it smaller (crops, halves, downscales): with no
    step to undo them, they would only widen every level of the search.
    """
    ins = sorted({int(c) for c in in_colours} - {0})
    outs = sorted({int(c) for c in out_colours} - {0})
    steps: list[Step] = [
        _s("flip_h", lambda g: g[:, ::-1]),
        _s("flip_v", lambda g: g[::-1]),
        _s("rot90", lambda g: np.rot90(g, -1)),
        _s("rot180", lambda g: g[::-1, ::-1]),
        _s("rot270", lambda g: np.rot90(g, 1)),
        _s("transpose", lambda g: g.T),
        _s("transpose_anti", lambda g: g[::-1, ::-1].T),
        _s("crop_bbox", _crop_bbox(None)),
    ]
    steps += [_s("crop_bbox", _crop_bbox(c), colour=c) for c in ins]
    steps.append(_s("crop_bbox", _crop_not_bg, background="most_common"))
    steps += [
        _s("pick_cell", _pick_cell(k), select=k)
        for k in ("most_cells", "fewest_cells", "most_colours", "unique")
    ]
    steps.append(_s("overlay_cells", _overlay_cells))
    for select in ("largest", "smallest", "most_colours", "rarest_colour"):
        for conn8 in (True, False):
            conn = 8 if conn8 else 4
            steps.append(
                _s(
                    "crop_object",
                    _select_object(select, conn8, False, True),
                    select=select,
                    conn=conn,
                )
            )
            steps.append(
                _s(
                    "crop_object",
                    _select_object(select, conn8, True, True),
                    select=select,
                    conn=conn,
                    by="colour",
                )
            )
    steps += [
        _s("keep_object", _select_object(s, True, False, False), select=s)
        for s in ("largest", "smallest")
    ]
    steps.append(_s("crop_object", _select_object("unique", True, False, True), select="unique"))
    steps += [_s("gravity", _gravity(d), to=d) for d in ("down", "up", "left", "right")]
    steps += [_s("upscale", _upscale(k), k=k) for k in (2, 3, 4, 5)]
    steps += [_s("downscale", _downscale(k), k=k) for k in (2, 3, 4, 5)]
    steps += [_s("subsample", subsample(k), k=k) for k in (2, 3)]
    steps += [
        _s("tile", _tile(r, c), rows=r, cols=c)
        for r, c in ((1, 2), (2, 1), (2, 2), (3, 3), (1, 3), (3, 1))
    ]
    steps += [_s("scale_by_colours", scale_by_colour_count(k), kind=k) for k in ("tile", "upscale")]
    steps += [_s("mirror", _mirror(k), axes=k) for k in ("h", "v", "hv")]
    steps.append(_s("tile_rotations", tile_rotations))
    steps += [
        _s("kron_self", _kron_self(False)),
        _s("kron_self", _kron_self(True), where="background"),
    ]
    steps += [_s("kron_self", kron_by_colour(w), where=f"{w}_common") for w in ("most", "least")]
    steps += [_s("half", _half(w), which=w) for w in ("left", "right", "top", "bottom")]
    for axis, name in ((1, "columns"), (0, "rows")):
        steps += [
            _s("combine_halves", _combine_halves(axis, op), split=name, op=op) for op in _MASK_OPS
        ]
        steps.append(_s("overlay_halves", _overlay_halves(axis), split=name))
    steps += [_s("extend_lines", _extend_lines(d), axes=d) for d in ("h", "v", "hv")]
    steps += [_s("connect_pixels", connect_pixels(a), axes=a) for a in ("h", "v", "hv")]
    steps += [_s("fill_holes", _fill_holes(c), colour=c) for c in outs]
    steps += [
        _s("symmetrize", _symmetrize(c, k), damage=c, group=k)
        for c in sorted(set(ins) | {0})
        for k in ("h", "v", "hv", "d4")
    ]
    steps += [_s("repair_periodic", repair_periodic(c), damage=c) for c in sorted(set(ins) | {0})]
    steps += [
        _s("colour_by_shape_match", colour_by_shape_match(u), up_to=u) for u in ("exact", "d4")
    ]
    steps += [_s("keep_colour", _keep_colour(c), colour=c) for c in ins]
    steps += [_s("remove_colour", _remove_colour(c), colour=c) for c in ins]
    steps += [
        _s("dedupe_rows_cols", _dedupe),
        _s("trim_border", _trim_border),
        _s("count_objects", _count_objects),
        _s("majority_colour", _majority_colour),
    ]
    steps += [_s("border", _border(c), colour=c) for c in outs]
    # painting the gaps a colour of its own: only a colour the outputs bring in, and after
    # fill_holes, which explains the same demos where the gaps are closed shapes' insides
    steps += [
        _s("connect_pixels", connect_pixels(a, paint=c), axes=a, paint=c)
        for c in sorted(set(outs) - set(ins))
        for a in ("h", "v", "hv")
    ]
    return [
        s
        for s in steps
        if (grows or s.name not in _GROWING) and (shrinks or s.name not in _SHRINKING)
    ]


def as_array(grid: Sequence[Sequence[int]]) -> Array:
    return np.asarray(grid, dtype=np.uint8)
