"""Object- and pattern-level ARC steps: recolour or delete objects by a property learned from
the demonstrations, connect same-coloured pixels along rows and columns, repair a periodic
mosaic, tile a square grid with its rotations.

Like every step in :mod:`solvers.arc.dsl`, each one maps a numpy grid to a grid, or to None
where it does not apply; colour 0 is the background.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage

__all__ = [
    "OBJECT_PROPERTIES",
    "colour_by_shape_match",
    "connect_pixels",
    "learn_object_map",
    "repair_periodic",
    "tile_rotations",
]

Array = np.ndarray
StepFn = Callable[[Array], Array | None]

_CONN4 = ndimage.generate_binary_structure(2, 1)
_CONN8 = ndimage.generate_binary_structure(2, 2)
#: Learned object maps show their rules in the program text up to this many.
_SHOWN_RULES = 6


# ---------------------------------------------------------------------------- objects
def _single_colour_objects(g: Array, conn8: bool) -> list[tuple[tuple[Array, Array], int]]:
    """Connected one-colour non-background objects as ((rows, cols), colour), in scan order."""
    structure = _CONN8 if conn8 else _CONN4
    out = []
    for colour in np.unique(g):
        if colour == 0:
            continue
        labels, n = ndimage.label(g == colour, structure)
        if n == 0:
            continue
        order = np.argsort(labels, axis=None, kind="stable")
        flat = labels.ravel()[order]
        bounds = np.searchsorted(flat, np.arange(1, n + 2))
        for i in range(n):
            idx = order[bounds[i] : bounds[i + 1]]
            out.append((np.unravel_index(idx, g.shape), int(colour)))
    return out


def _shape_key(cells: tuple[Array, Array]) -> bytes:
    rows, cols = cells
    r0, c0 = rows.min(), cols.min()
    mask = np.zeros((rows.max() - r0 + 1, cols.max() - c0 + 1), dtype=np.uint8)
    mask[rows - r0, cols - c0] = 1
    return bytes(mask.shape) + mask.tobytes()


def _n_holes(cells: tuple[Array, Array]) -> int:
    """How many separate regions the object encloses (4-connected, anything not the object)."""
    rows, cols = cells
    r0, c0 = rows.min(), cols.min()
    mask = np.zeros((rows.max() - r0 + 3, cols.max() - c0 + 3), dtype=bool)
    mask[rows - r0 + 1, cols - c0 + 1] = True
    _, n = ndimage.label(~mask, _CONN4)
    return n - 1


def _keys(prop: str, g: Array, objs: list[tuple[tuple[Array, Array], int]]) -> list:
    sizes = [len(cells[0]) for cells, _ in objs]
    if prop == "size":
        return sizes
    if prop == "size_rank":  # 0: the largest size; equal sizes share a rank
        ranks = {s: i for i, s in enumerate(sorted(set(sizes), reverse=True))}
        return [ranks[s] for s in sizes]
    if prop == "extreme":
        big, small = max(sizes), min(sizes)
        return ["largest" if s == big else "smallest" if s == small else "other" for s in sizes]
    if prop == "border":
        h, w = g.shape
        return [
            bool((r == 0).any() or (r == h - 1).any() or (c == 0).any() or (c == w - 1).any())
            for (r, c), _ in objs
        ]
    if prop == "has_hole":
        return [_n_holes(cells) > 0 for cells, _ in objs]
    if prop == "holes":
        return [_n_holes(cells) for cells, _ in objs]
    shapes = [_shape_key(cells) for cells, _ in objs]
    if prop == "shape":
        return shapes
    # "shape_count": how many objects share the object's shape
    return [shapes.count(s) for s in shapes]


#: The properties an object map may be keyed by, simplest first.
OBJECT_PROPERTIES = (
    "size",
    "extreme",
    "size_rank",
    "border",
    "has_hole",
    "holes",
    "shape_count",
    "shape",
)

_KEEP = -1  # the object keeps its colour


def _object_values(g: Array, want: Array, objs) -> list[int] | None:
    """Per object, the one colour it has in ``want`` (``_KEEP`` if its own), else None."""
    values = []
    for (rows, cols), colour in objs:
        target = want[rows, cols]
        value = int(target[0])
        if (target != value).any():
            return None
        values.append(_KEEP if value == colour else value)
    return values


def learn_object_map(
    inputs: Sequence[Array], outputs: Sequence[Array], *, conn8: bool = True
) -> list[tuple[str, dict]] | None:
    """Every property (of :data:`OBJECT_PROPERTIES`) whose value decides, consistently over
    the demonstrations, the colour each one-colour object gets (0 deletes it, or it keeps its
    own); background cells must stay. None when the outputs are not such a per-object recolour;
    ``(property, key -> colour)`` pairs otherwise (possibly none)."""
    per_demo = []
    changed = False
    for g, want in zip(inputs, outputs, strict=True):
        if g.shape != want.shape:
            return None
        background = g == 0
        if (want[background] != 0).any():
            return None
        objs = _single_colour_objects(g, conn8)
        if not objs:
            return None
        values = _object_values(g, want, objs)
        if values is None:
            return None
        changed = changed or any(v != _KEEP for v in values)
        per_demo.append((g, objs, values))
    if not changed:
        return None
    fits = []
    for prop in OBJECT_PROPERTIES:
        table: dict = {}
        for g, objs, values in per_demo:
            for key, value in zip(_keys(prop, g, objs), values, strict=True):
                if table.setdefault(key, value) != value:
                    break
            else:
                continue
            break
        else:
            if len(set(table.values())) > 1:  # one value for all objects is a plain recolour
                fits.append((prop, table))
    return fits


def object_map_fn(prop: str, table: dict, conn8: bool) -> StepFn:
    """Apply a learned object map; None on a grid with an object whose key it never saw."""

    def fn(g: Array) -> Array | None:
        objs = _single_colour_objects(g, conn8)
        if not objs:
            return None
        out = g.copy()
        for ((rows, cols), _), key in zip(objs, _keys(prop, g, objs), strict=True):
            value = table.get(key)
            if value is None:
                return None
            if value != _KEEP:
                out[rows, cols] = value
        return out

    return fn


def describe_object_map(table: dict) -> str:
    if len(table) > _SHOWN_RULES or any(isinstance(k, bytes) for k in table):
        return f"{len(table)} rules"
    return " ".join(
        f"{k}->{'keep' if v == _KEEP else v}" for k, v in sorted(table.items(), key=str)
    )


def _shape_keys(cells: tuple[Array, Array], turned: bool) -> set[bytes]:
    """The object's shape key, and with ``turned`` those of its flips and quarter turns."""
    rows, cols = cells
    r0, c0 = rows.min(), cols.min()
    mask = np.zeros((rows.max() - r0 + 1, cols.max() - c0 + 1), dtype=np.uint8)
    mask[rows - r0, cols - c0] = 1
    views = [mask]
    if turned:
        views += [np.rot90(mask, k) for k in (1, 2, 3)]
        views += [np.rot90(mask[::-1], k) for k in (0, 1, 2, 3)]
    return {bytes(v.shape) + np.ascontiguousarray(v).tobytes() for v in views}


def colour_by_shape_match(up_to: str) -> StepFn:
    """Objects of the commonest object colour (the blanks) take the colour of the other-coloured
    objects of the same shape (``exact``, or up to flips and turns: ``d4``), where those share
    one colour; a legend of coloured shapes painting its copies. None if no blank matches."""
    turned = up_to == "d4"

    def fn(g: Array) -> Array | None:
        objs = _single_colour_objects(g, True)
        if len(objs) < 2:
            return None
        per_colour = np.bincount([colour for _, colour in objs], minlength=10)
        blank = int(per_colour.argmax())
        if (per_colour == per_colour[blank]).sum() != 1:
            return None
        legend: dict[bytes, set[int]] = {}
        for cells, colour in objs:
            if colour != blank:
                for key in _shape_keys(cells, False):
                    legend.setdefault(key, set()).add(colour)
        out = g.copy()
        hit = False
        for cells, colour in objs:
            if colour != blank:
                continue
            colours = set().union(*(legend.get(k, set()) for k in _shape_keys(cells, turned)))
            if len(colours) == 1:
                out[cells] = colours.pop()
                hit = True
        return out if hit else None

    return fn


# ---------------------------------------------------------------------------- lines
def connect_pixels(axes: str, paint: int | None = None) -> StepFn:
    """Background cells between two cells of one colour in a row (``h``) and/or column
    (``v``) take that colour, or ``paint`` where given; None when no such pair exists."""

    def fill_rows(g: Array, out: Array) -> bool:
        hit = False
        for r in range(g.shape[0]):
            row = g[r]
            for colour in np.unique(row):
                if colour == 0:
                    continue
                where = np.flatnonzero(row == colour)
                if where.size < 2:
                    continue
                span = out[r, where[0] : where[-1] + 1]
                gap = g[r, where[0] : where[-1] + 1] == 0
                if gap.any():
                    span[gap] = colour if paint is None else paint
                    hit = True
        return hit

    def fn(g: Array) -> Array | None:
        out = g.copy()
        hit = False
        if "h" in axes:
            hit |= fill_rows(g, out)
        if "v" in axes:
            out_t = out.T.copy()
            hit |= fill_rows(g.T, out_t)
            out = np.where((g == 0) & (out == 0), out_t.T, out)
        return out if hit else None

    return fn


# ---------------------------------------------------------------------------- mosaics
def _smallest_shift(g: Array, damaged: Array, axis: int) -> int:
    n = g.shape[axis]
    for p in range(1, n):
        a, b = (g[p:], g[:-p]) if axis == 0 else (g[:, p:], g[:, :-p])
        da, db = (damaged[p:], damaged[:-p]) if axis == 0 else (damaged[:, p:], damaged[:, :-p])
        if ((a == b) | da | db).all():
            return p
    return n


def repair_periodic(damage: int) -> StepFn:
    """Cells of colour ``damage`` take the value that the grid's smallest row and column
    periods (over its other cells) put there; None if no period or a cell stays unknown."""

    def fn(g: Array) -> Array | None:
        damaged = g == damage
        if not damaged.any() or damaged.all():
            return None
        h, w = g.shape
        ph = _smallest_shift(g, damaged, 0)
        pw = _smallest_shift(g, damaged, 1)
        if ph == h and pw == w:
            return None
        rows, cols = np.indices(g.shape)
        cls = ((rows % ph) * pw + cols % pw).ravel()
        flat, bad = g.ravel(), damaged.ravel()
        n = ph * pw
        lo = np.full(n, 10, dtype=np.int16)
        hi = np.full(n, -1, dtype=np.int16)
        np.minimum.at(lo, cls[~bad], flat[~bad])
        np.maximum.at(hi, cls[~bad], flat[~bad])
        if (lo[cls[bad]] > 9).any() or (lo != hi)[hi >= 0].any():
            return None
        out = flat.copy()
        out[bad] = lo[cls[bad]]
        return out.reshape(g.shape)

    return fn


def tile_rotations(g: Array) -> Array | None:
    """A square grid and its quarter turns, 2x2: [[g, rot90], [rot270, rot180]] clockwise."""
    if g.shape[0] != g.shape[1]:
        return None
    top = np.hstack([g, np.rot90(g, -1)])
    bottom = np.hstack([np.rot90(g, 1), g[::-1, ::-1]])
    return np.vstack([top, bottom])
