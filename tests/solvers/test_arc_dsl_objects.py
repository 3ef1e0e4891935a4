"""The object and pattern steps of ``solvers.arc.objects``: each on a small hand-made grid
(its output, and None where it does not apply), and each solving a hand-made task through the
search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.arc import solve
from solvers.arc.objects import (
    connect_pixels,
    learn_object_map,
    object_map_fn,
    repair_periodic,
    tile_rotations,
)
from tasks.arc import ArcTask
from tasks.verify import verify


def _a(rows) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def _solved_by(task: ArcTask, step_name: str) -> None:
    out = solve(task, time_limit_s=10)
    assert out.programs, "no program found"
    assert verify(task, out.answer).ok, out.programs
    assert step_name in out.programs[0], out.programs


# ---------------------------------------------------------------------------- connect_pixels
def test_connect_pixels_fills_between_same_colour_pairs() -> None:
    g = _a([[1, 0, 0, 1], [0, 2, 0, 0], [0, 0, 0, 0], [0, 2, 3, 0]])
    assert connect_pixels("h")(g).tolist() == [
        [1, 1, 1, 1],
        [0, 2, 0, 0],
        [0, 0, 0, 0],
        [0, 2, 3, 0],
    ]
    assert connect_pixels("v")(g).tolist() == [
        [1, 0, 0, 1],
        [0, 2, 0, 0],
        [0, 2, 0, 0],
        [0, 2, 3, 0],
    ]
    both = connect_pixels("hv")(g)
    assert both[0].tolist() == [1, 1, 1, 1] and both[2, 1] == 2


def test_connect_pixels_does_not_apply_without_a_pair() -> None:
    assert connect_pixels("h")(_a([[1, 0, 2], [0, 3, 0]])) is None
    assert connect_pixels("v")(_a([[1, 1], [0, 0]])) is None


def test_connect_pixels_solves_a_task() -> None:
    def pair(rows: list[tuple[int, int, int, int]]) -> dict:
        g = np.zeros((6, 7), dtype=int)
        for r, c0, c1, colour in rows:
            g[r, c0] = g[r, c1] = colour
        out = g.copy()
        for r, c0, c1, colour in rows:
            out[r, c0 : c1 + 1] = colour
        return {"input": g, "output": out}

    task = ArcTask(
        train=[
            pair([(0, 1, 5, 3), (4, 0, 6, 2)]),
            pair([(2, 2, 4, 8)]),
            pair([(1, 0, 3, 4), (5, 2, 6, 4)]),
        ],
        test=[pair([(3, 1, 6, 7), (0, 0, 2, 3)])],
    )
    _solved_by(task, "connect_pixels(axes=h)")


# ---------------------------------------------------------------------------- tile_rotations
def test_tile_rotations() -> None:
    g = _a([[1, 2], [0, 3]])
    assert tile_rotations(g).tolist() == [[1, 2, 0, 1], [0, 3, 3, 2], [2, 3, 3, 0], [1, 0, 2, 1]]
    assert tile_rotations(_a([[1, 2, 3]])) is None


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_tile_rotations_is_quarter_turn_symmetric(n: int, seed: int) -> None:
    g = np.random.default_rng(seed).integers(0, 10, (n, n)).astype(np.uint8)
    out = tile_rotations(g)
    assert np.array_equal(np.rot90(out), out) and np.array_equal(out[:n, :n], g)


def test_tile_rotations_solves_a_task() -> None:
    rng = np.random.default_rng(3)
    grids = [rng.integers(0, 4, (3, 3)) for _ in range(4)]
    pairs = [{"input": g, "output": tile_rotations(g.astype(np.uint8))} for g in grids]
    # the learned symmetric tiling (a depth-0 last step) finds this layout before the primitive
    _solved_by(ArcTask(train=pairs[:3], test=pairs[3:]), "layout=id rot90 / rot270 rot180")


# ---------------------------------------------------------------------------- repair_periodic
def _mosaic(seed: int, h: int = 9, w: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tile = rng.integers(1, 5, (2 + seed % 2, 3))
    return np.tile(tile, (h // tile.shape[0] + 1, w // 3 + 1))[:h, :w]


def test_repair_periodic_fills_the_damage() -> None:
    g = _a([[1, 2, 1, 2], [3, 4, 3, 4], [1, 2, 0, 0], [3, 4, 0, 4]])
    assert repair_periodic(0)(g).tolist() == [
        [1, 2, 1, 2],
        [3, 4, 3, 4],
        [1, 2, 1, 2],
        [3, 4, 3, 4],
    ]
    assert repair_periodic(5)(g) is None  # no damage of that colour
    assert repair_periodic(0)(_a([[1, 2, 3], [4, 0, 6], [7, 8, 9]])) is None  # no period


def test_repair_periodic_solves_a_task() -> None:
    pairs = []
    for seed in range(4):
        full = _mosaic(seed)
        damaged = full.copy()
        damaged[2 + seed % 3 : 5 + seed % 3, 4:7] = 0
        pairs.append({"input": damaged, "output": full})
    _solved_by(ArcTask(train=pairs[:3], test=pairs[3:]), "repair_periodic(damage=0)")


# ---------------------------------------------------------------------------- object_map
def _blobs(sizes: list[tuple[int, int, int]], colour_of=None) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal bars (row, col, length) of colour 5; the output colours each by its length."""
    g = np.zeros((8, 8), dtype=int)
    out = g.copy()
    for r, c, n in sizes:
        g[r, c : c + n] = 5
        out[r, c : c + n] = colour_of(n) if colour_of else {1: 0, 2: 1, 3: 2}[n]
    return g, out


def test_object_map_learns_a_size_rule() -> None:
    g1, o1 = _blobs([(0, 0, 1), (2, 1, 2), (4, 0, 3)])
    g2, o2 = _blobs([(1, 4, 3), (6, 0, 2)])
    fits = dict(learn_object_map([g1, g2], [o1, o2]))
    assert fits["size"] == {1: 0, 2: 1, 3: 2}
    g3, o3 = _blobs([(0, 0, 2), (3, 3, 1)])
    assert object_map_fn("size", fits["size"], True)(g3.astype(np.uint8)).tolist() == o3.tolist()
    # an object of a size never shown: no guess
    g4, _ = _blobs([(0, 0, 4)], colour_of=lambda n: 1)
    assert object_map_fn("size", fits["size"], True)(g4.astype(np.uint8)) is None


def test_object_map_does_not_apply() -> None:
    g, o = _blobs([(0, 0, 2)])
    assert learn_object_map([g], [g]) is None  # nothing changes
    o_bad = o.copy()
    o_bad[7, 7] = 3  # a background cell painted
    assert learn_object_map([g], [o_bad]) is None
    o_split = o.copy()
    o_split[0, 0] = 4  # one object in two colours
    assert learn_object_map([g], [o_split]) is None


@pytest.mark.parametrize("keep_largest", [True, False])
def test_object_map_solves_a_task(keep_largest: bool) -> None:
    def colour(n: int) -> int:
        return 5 if n == 3 else 0 if keep_largest else 2

    pairs = [
        _blobs(s, colour)
        for s in (
            [(0, 0, 1), (2, 1, 3), (4, 0, 2)],
            [(1, 4, 3), (6, 0, 2), (3, 0, 1)],
            [(0, 2, 2), (5, 5, 3)],
            [(2, 2, 3), (6, 1, 1), (0, 0, 2)],
        )
    ]
    dicts = [{"input": g, "output": o} for g, o in pairs]
    _solved_by(ArcTask(train=dicts[:3], test=dicts[3:]), "object_map")
