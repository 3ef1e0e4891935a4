"""The resizing steps of ``solvers.arc.learned`` (a tiling with symmetric copies, an overlay of
parts by a colour priority, both learned from the demonstrations) and ``solvers.arc.scaling``,
the painted ``connect_pixels``, ``colour_by_shape_match``, the odd-one-out crop and the object
map by hole count: each on small hand-made grids, and each solving a hand-made task through the
search; and which resizing steps the search offers."""

from __future__ import annotations

import numpy as np

from solvers.arc import solve
from solvers.arc.dsl import primitives
from solvers.arc.learned import learn_overlay_priority, learn_symmetric_tiling
from solvers.arc.objects import colour_by_shape_match, connect_pixels, learn_object_map
from solvers.arc.scaling import kron_by_colour, scale_by_colour_count, subsample
from solvers.arc.search import _resizes
from tasks.arc import ArcTask
from tasks.verify import verify


def _a(rows) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def _solved_by(task: ArcTask, step_name: str) -> None:
    out = solve(task, time_limit_s=10)
    assert out.programs, "no program found"
    assert verify(task, out.answer).ok, out.programs
    assert step_name in out.programs[0], out.programs


def _task(pairs: list[tuple[np.ndarray, np.ndarray]]) -> ArcTask:
    dicts = [{"input": g, "output": o} for g, o in pairs]
    return ArcTask(train=dicts[:-1], test=dicts[-1:])


# ---------------------------------------------------------------------------- tile_symmetric
def _row_mirrored(g: np.ndarray) -> np.ndarray:
    """A 1x3 tiling: the grid, its mirror image, the grid."""
    return np.hstack([g, g[:, ::-1], g])


def test_symmetric_tiling_learns_each_blocks_symmetry() -> None:
    grids = [_a([[1, 2], [3, 4]]), _a([[5, 0, 6], [0, 7, 0]])]
    step = learn_symmetric_tiling(grids, [_row_mirrored(g) for g in grids])
    assert step is not None
    assert str(step) == "tile_symmetric(blocks=1x3, layout=id flip_h id)"
    assert step(_a([[1, 2, 3]])).tolist() == [[1, 2, 3, 3, 2, 1, 1, 2, 3]]


def test_symmetric_tiling_with_quarter_turns() -> None:
    g = _a([[1, 2], [0, 3]])
    want = np.vstack([np.hstack([g, np.rot90(g, -1)]), np.hstack([g[::-1, ::-1], g])])
    step = learn_symmetric_tiling([g], [want])
    assert step is not None and "id rot90 / rot180 id" in str(step)
    assert step(g).tolist() == want.tolist()
    assert step(_a([[1, 2, 3]])) is None  # a quarter turn of a grid that is not square


def test_symmetric_tiling_does_not_apply() -> None:
    g = _a([[1, 2], [3, 4]])
    assert learn_symmetric_tiling([g], [np.tile(g, (1, 2))]) is None  # a plain tile
    assert learn_symmetric_tiling([g], [g]) is None  # no resize
    assert learn_symmetric_tiling([g], [np.zeros((3, 3), np.uint8)]) is None  # not a multiple
    assert learn_symmetric_tiling([g], [np.hstack([g, np.zeros_like(g)])]) is None  # no copy
    # two demos that disagree on the layout
    h = _a([[5, 6], [7, 8]])
    assert learn_symmetric_tiling([g, h], [_row_mirrored(g), np.tile(h, (1, 3))]) is None


def test_symmetric_tiling_solves_a_task() -> None:
    rng = np.random.default_rng(0)
    grids = [rng.integers(0, 10, (2, 3)).astype(np.uint8) for _ in range(3)]
    _solved_by(_task([(g, _row_mirrored(g)) for g in grids]), "tile_symmetric")


# ---------------------------------------------------------------------------- overlay_parts
def _stacked(parts: list[list[list[int]]], priority: list[int], sep: int | None = None):
    """Parts stacked as rows (with separator lines of colour ``sep``), and their overlay."""
    arrays = [_a(p) for p in parts]
    rows = []
    for i, p in enumerate(arrays):
        rows.append(p)
        if sep is not None and i < len(arrays) - 1:
            rows.append(np.full((1, p.shape[1]), sep, np.uint8))
    rank = {c: i for i, c in enumerate(priority)}
    stack = np.stack(arrays)
    best = np.vectorize(rank.get)(stack).argmin(axis=0)
    return np.vstack(rows), np.take_along_axis(stack, best[None], 0)[0]


def test_overlay_parts_learns_a_colour_priority() -> None:
    g, want = _stacked([[[1, 0], [0, 0]], [[2, 2], [0, 0]], [[3, 3], [3, 0]]], [1, 2, 3, 0])
    assert want.tolist() == [[1, 2], [3, 0]]
    step = learn_overlay_priority([g], [want])
    assert step is not None and str(step) == (
        "overlay_parts(split=rows, parts=3, separated=False, priority=1>2>3>0)"
    )
    assert step(g).tolist() == want.tolist()
    # colours the demos never ranked against each other: no guess
    assert step(_a([[4, 0], [0, 0], [5, 0], [0, 0], [0, 0], [0, 0]])) is None


def test_overlay_parts_between_separators() -> None:
    g, want = _stacked([[[1, 0, 2]], [[0, 2, 1]]], [2, 1, 0], sep=5)
    g = g.T  # parts side by side, between columns of 5
    step = learn_overlay_priority([g], [want.T])
    assert step is not None and "split=columns, parts=2, separated=True" in str(step)
    assert step(g).tolist() == want.T.tolist()


def test_overlay_parts_does_not_apply() -> None:
    g = _a([[1, 0], [0, 2]])
    assert learn_overlay_priority([g], [_a([[3, 3]])]) is None  # a colour no part has
    assert learn_overlay_priority([g], [_a([[1, 0, 0]])]) is None  # no cut gives that shape
    # 1 over 2 in one cell, 2 over 1 in another
    assert learn_overlay_priority([_a([[1, 2], [2, 1]])], [_a([[1, 2]])]) is None


def test_overlay_parts_solves_a_task() -> None:
    rng = np.random.default_rng(1)
    pairs = []
    for _ in range(4):
        parts = [(rng.random((4, 4)) < 0.6) * c for c in (4, 7, 8)]
        pairs.append(_stacked([p.tolist() for p in parts], [8, 4, 7, 0]))
    _solved_by(_task(pairs), "overlay_parts")


# ---------------------------------------------------------------------------- scaling
def test_kron_by_colour() -> None:
    g = _a([[1, 1], [2, 0]])
    most = kron_by_colour("most")(g)
    assert most.tolist() == [[1, 1, 1, 1], [2, 0, 2, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    least = kron_by_colour("least")(g)
    assert least.tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0], [2, 0, 0, 0]]
    assert kron_by_colour("most")(_a([[1, 2], [0, 0]])) is None  # tied
    assert kron_by_colour("least")(_a([[1, 1], [0, 0]])) is None  # one colour


def test_scale_by_colour_count() -> None:
    g = _a([[1, 2]])
    assert scale_by_colour_count("tile")(g).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    assert scale_by_colour_count("upscale")(g).tolist() == [[1, 1, 2, 2], [1, 1, 2, 2]]
    assert scale_by_colour_count("upscale")(_a([[3, 3]])).tolist() == [[3, 3]]


def test_subsample() -> None:
    g = _a([[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    assert subsample(2)(g).tolist() == [[1, 2], [3, 4]]
    assert subsample(2)(_a([[1, 5, 2], [0, 0, 0], [3, 0, 4]])) is None  # a dropped cell shows


def test_connect_pixels_paints_the_gap() -> None:
    g = _a([[1, 0, 0, 1], [0, 3, 0, 0]])
    assert connect_pixels("h", paint=2)(g).tolist() == [[1, 2, 2, 1], [0, 3, 0, 0]]
    assert connect_pixels("v", paint=2)(g) is None


def test_scaling_steps_solve_tasks() -> None:
    rng = np.random.default_rng(2)
    kron_pairs, tile_pairs, sub_pairs = [], [], []
    for n in (2, 3, 2, 3):
        g = rng.choice(np.arange(1, 1 + n), (3, 3)).astype(np.uint8)
        g[0, 0], g[1, 1] = 1, 1  # colour 1 the commonest
        g[2, 2] = 2 if n == 2 else 3
        if (np.bincount(g.ravel()) == np.bincount(g.ravel())[1]).sum() == 1:
            kron_pairs.append((g, kron_by_colour("most")(g)))
        tile_pairs.append((g, scale_by_colour_count("tile")(g)))
        small = rng.integers(1, 10, (2, 3)).astype(np.uint8)
        spread = np.zeros((3, 5), np.uint8)
        spread[::2, ::2] = small
        sub_pairs.append((spread, small))
    assert len(kron_pairs) >= 3
    _solved_by(_task(kron_pairs), "kron_self(where=most_common)")
    _solved_by(_task(tile_pairs), "scale_by_colours(kind=tile)")
    _solved_by(_task(sub_pairs), "subsample(k=2)")


def test_painted_connect_pixels_solves_a_task() -> None:
    pairs = []
    for r, c0, c1, colour in ((0, 0, 4, 3), (2, 1, 5, 6), (1, 0, 3, 4), (3, 2, 5, 7)):
        g = np.zeros((4, 6), np.uint8)
        g[r, c0] = g[r, c1] = colour
        out = g.copy()
        out[r, c0 + 1 : c1] = 2
        pairs.append((g, out))
    _solved_by(_task(pairs), "connect_pixels(axes=h, paint=2)")


# ---------------------------------------------------------------------------- objects
def test_colour_by_shape_match() -> None:
    # the blanks (colour 5, the most objects) take the colour of the same-shaped legend object
    g = _a(
        [
            [2, 2, 0, 3, 0, 0, 0],
            [0, 0, 0, 3, 0, 5, 5],
            [5, 0, 0, 0, 0, 0, 0],
            [5, 0, 5, 5, 0, 0, 5],
        ]
    )
    assert colour_by_shape_match("exact")(g).tolist() == [
        [2, 2, 0, 3, 0, 0, 0],
        [0, 0, 0, 3, 0, 2, 2],
        [3, 0, 0, 0, 0, 0, 0],
        [3, 0, 2, 2, 0, 0, 5],
    ]
    # an L and its mirror image match only up to flips and turns
    legend_l = _a([[4, 0, 0, 0, 5], [4, 4, 0, 5, 5], [0, 0, 0, 0, 0], [5, 5, 0, 0, 5]])
    assert colour_by_shape_match("exact")(legend_l) is None
    assert colour_by_shape_match("d4")(legend_l)[1].tolist() == [4, 4, 0, 4, 4]
    assert colour_by_shape_match("exact")(_a([[5, 0, 2, 2]])) is None  # one object each: a tie


def test_object_map_by_hole_count() -> None:
    ring = [[5, 5, 5], [5, 0, 5], [5, 5, 5]]
    two = [[5, 5, 5, 5, 5], [5, 0, 5, 0, 5], [5, 5, 5, 5, 5]]
    g = np.zeros((7, 9), np.uint8)
    g[0:3, 0:3], g[4:7, 0:5], g[0:3, 5:8] = ring, two, ring
    want = g.copy()
    want[0:3, 0:3][want[0:3, 0:3] == 5] = 1
    want[0:3, 5:8][want[0:3, 5:8] == 5] = 1
    want[4:7, 0:5][want[4:7, 0:5] == 5] = 2
    fits = dict(learn_object_map([g], [want]))
    assert fits["holes"] == {1: 1, 2: 2}


def test_crop_unique_object_solves_a_task() -> None:
    def grid(seed: int) -> tuple[np.ndarray, np.ndarray]:
        # three 2x2 two-colour patches, alike but one upside down: same size, same colours
        rng = np.random.default_rng(seed)
        patch = _a([[4, 7], [7, 7]]) if seed % 2 else _a([[7, 4], [4, 4]])
        patch = np.rot90(patch, int(rng.integers(0, 4)))
        odd = int(rng.integers(0, 3))
        g = np.zeros((8, 8), np.uint8)
        for k, (r, c) in enumerate(((0, 0), (0, 5), (5, 2))):
            g[r : r + 2, c : c + 2] = patch[::-1] if k == odd else patch
        return g, patch[::-1]

    _solved_by(_task([grid(s) for s in range(4)]), "crop_object(select=unique)")


def test_shape_match_solves_a_task() -> None:
    pairs = []
    for shift in range(4):
        g = np.zeros((6, 8), np.uint8)
        bar, column = 1 + shift, 9 - shift  # the legend's colours differ per demo
        g[0, 0:2] = bar
        g[2:4, 0] = column
        g[1, 3 + shift % 3 : 5 + shift % 3] = 5
        g[3:5, 7 - shift % 2] = 5
        g[5, 1:3] = 5
        out = g.copy()
        out[1], out[5] = np.where(g[1] == 5, bar, g[1]), np.where(g[5] == 5, bar, g[5])
        out[3:5] = np.where(g[3:5] == 5, column, g[3:5])
        pairs.append((g, out))
    _solved_by(_task(pairs), "colour_by_shape_match")


# ---------------------------------------------------------------------------- the search
def test_resizing_steps_are_offered_only_where_demos_resize() -> None:
    def names(**flags: bool) -> set[str]:
        return {s.name for s in primitives({1}, {1}, **flags)}

    small = _a([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    # same shape, content filling the grid: neither enlarging nor shrinking steps
    full = _a([[1, 2], [2, 1]])
    assert _resizes([full], [full]) == {"grows": False, "shrinks": False}
    assert not {"upscale", "crop_bbox", "tile_rotations"} & names(grows=False, shrinks=False)
    # same shape but a small content: a crop then an upscale may explain it
    assert _resizes([small], [small]) == {"grows": True, "shrinks": True}
    assert _resizes([small], [small[:1, :1]]) == {"grows": False, "shrinks": True}
    assert "crop_bbox" in names(grows=False) and "upscale" not in names(grows=False)


def test_a_shorter_program_replaces_a_longer_one_with_the_same_answer() -> None:
    rng = np.random.default_rng(4)
    pairs = []
    for _ in range(4):
        g = rng.integers(0, 4, (2, 3)).astype(np.uint8)
        pairs.append((g, np.tile(g, (2, 2))))
    # "flip_h | tile_symmetric(all flip_h)" turns up before "tile(rows=2, cols=2)"
    out = solve(_task(pairs), time_limit_s=10)
    assert out.programs[0] == "tile(rows=2, cols=2)"
