"""The symbolic ARC search: each transformation solves a hand-made task, programs fit every
demonstration, no fit means no attempt, the time limit holds, and solve() dispatches ARC."""

from __future__ import annotations

import doctest
import time
from collections.abc import Callable

import numpy as np
import pytest

import solvers.arc
from solvers.arc import solve
from solvers.arc.dsl import Program, primitives
from solvers.arc.search import search
from tasks.arc import ArcTask
from tasks.errors import ConfigError, UnsupportedTaskError
from tasks.verify import verify

RNG = np.random.default_rng(7)


def _sparse(h: int, w: int, colours: tuple[int, ...] = (1, 2, 3), density: float = 0.3):
    grid = RNG.choice(colours, size=(h, w))
    return np.where(RNG.random((h, w)) < density, grid, 0)


def _task(rule: Callable[[np.ndarray], np.ndarray], inputs: list[np.ndarray]) -> ArcTask:
    """Demonstrations of ``rule`` on all inputs but the last, which is the test."""
    pairs = [{"input": g, "output": rule(g)} for g in inputs]
    return ArcTask(task_id="hand", train=pairs[:-1], test=pairs[-1:])


def _objects_grid(big_colour: int, small_colour: int, offset: int) -> np.ndarray:
    g = np.zeros((10, 10), dtype=int)
    g[1 + offset : 5 + offset, 1:4] = big_colour
    g[2 + offset, 3] = 5  # a second colour inside the big object
    g[7, 6 + offset // 2 : 8 + offset // 2] = small_colour
    return g


def _holes(offset: int, colour: int) -> np.ndarray:
    g = np.zeros((8, 8), dtype=int)
    g[1 + offset : 5 + offset, 1:5] = colour
    g[2 + offset : 4 + offset, 2:4] = 0
    return g


def _filled(offset: int, colour: int) -> np.ndarray:
    g = _holes(offset, colour)
    g[2 + offset : 4 + offset, 2:4] = 4
    return g


def _symmetric(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = rng.permutation(np.arange(1, 10)).reshape(3, 3) % 5 + 1
    top = np.hstack([q, q[:, ::-1]])
    return np.vstack([top, top[::-1]])


def _damage(g: np.ndarray, seed: int) -> np.ndarray:
    """Two cells of ``g`` blanked, at places whose true colours differ (no colour map fits)."""
    out = g.copy()
    out[seed % 3, 0] = 0
    out[5, (seed + 1) % 3 + 3] = 0
    return out


def _gravity_down(g: np.ndarray) -> np.ndarray:
    out = np.zeros_like(g)
    for c in range(g.shape[1]):
        cells = g[:, c][g[:, c] != 0]
        out[g.shape[0] - len(cells) :, c] = cells
    return out


def _halves_task() -> ArcTask:
    pairs = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        a, b = rng.random((4, 3)) < 0.5, rng.random((4, 3)) < 0.5
        g = np.hstack([a * 1, np.full((4, 1), 5), b * 2])
        pairs.append({"input": g, "output": (a & b) * 8})
    return ArcTask(task_id="and", train=pairs[:-1], test=pairs[-1:])


CASES: dict[str, tuple[ArcTask, str]] = {
    "flip_h": (
        _task(lambda g: g[:, ::-1], [_sparse(3, 4), _sparse(4, 4), _sparse(5, 2)]),
        "flip_h",
    ),
    "rot90": (
        _task(lambda g: np.rot90(g, -1), [_sparse(3, 4), _sparse(2, 5), _sparse(4, 3)]),
        "rot90",
    ),
    "transpose": (_task(lambda g: g.T, [_sparse(3, 4), _sparse(2, 5), _sparse(4, 3)]), "transpose"),
    "recolour": (
        _task(lambda g: np.array([0, 4, 6, 3])[g], [_sparse(3, 4), _sparse(4, 4), _sparse(3, 3)]),
        "recolour(map=1->4 2->6)",
    ),
    "crop_bbox": (
        _task(
            lambda g: g[2:5, 1:4],
            [np.pad(RNG.integers(1, 4, (3, 3)), ((2, 3), (1, 2))) for _ in range(3)],
        ),
        "crop_bbox",
    ),
    "upscale": (
        _task(
            lambda g: np.kron(g, np.ones((2, 2), int)),
            [_sparse(2, 3), _sparse(3, 3), _sparse(2, 2)],
        ),
        "upscale(k=2)",
    ),
    "tile": (
        _task(lambda g: np.tile(g, (2, 2)), [_sparse(2, 3), _sparse(3, 3), _sparse(3, 2)]),
        "tile(rows=2, cols=2)",
    ),
    "kron_self": (
        _task(lambda g: np.kron(g != 0, g), [_sparse(3, 3, density=0.5) for _ in range(3)]),
        "kron_self",
    ),
    "gravity": (
        _task(_gravity_down, [_sparse(4, 4), _sparse(5, 3), _sparse(4, 5)]),
        "gravity(to=down)",
    ),
    "largest_object": (
        ArcTask(
            task_id="obj",
            train=[
                {
                    "input": _objects_grid(c, s, o),
                    "output": _objects_grid(c, s, o)[1 + o : 5 + o, 1:4],
                }
                for c, s, o in ((1, 2, 0), (3, 4, 1), (2, 6, 2))
            ],
            test=[{"input": _objects_grid(7, 1, 3), "output": _objects_grid(7, 1, 3)[4:8, 1:4]}],
        ),
        "crop_object(select=largest, conn=8)",
    ),
    "fill_holes": (
        ArcTask(
            task_id="holes",
            train=[
                {"input": _holes(o, c), "output": _filled(o, c)}
                for o, c in ((0, 1), (1, 2), (2, 3))
            ],
            test=[{"input": _holes(3, 5), "output": _filled(3, 5)}],
        ),
        "fill_holes(colour=4)",
    ),
    "symmetrize": (
        ArcTask(
            task_id="sym",
            train=[{"input": _damage(_symmetric(s), s), "output": _symmetric(s)} for s in range(3)],
            test=[{"input": _damage(_symmetric(9), 9), "output": _symmetric(9)}],
        ),
        "symmetrize",
    ),
    "combine_halves": (_halves_task(), "combine_halves(split=columns, op=and) | recolour"),
    "composition": (
        _task(
            lambda g: np.kron(g[::-1], np.ones((2, 2), int)),
            [_sparse(2, 3), _sparse(3, 3), _sparse(3, 2)],
        ),
        "flip_v | upscale(k=2)",
    ),
}


def test_doctests() -> None:
    assert doctest.testmod(solvers.arc).failed == 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_transformation_solves_its_task(name: str) -> None:
    task, program = CASES[name]
    out = solve(task, time_limit_s=10)
    assert out.programs, f"no program found for {name}"
    assert verify(task, out.answer).ok, (name, out.programs)
    assert any(p.startswith(program) for p in out.programs), (name, out.programs)
    assert out.effort["programs_tried"] >= 0 and "depth_reached" in out.effort


def test_a_program_must_fit_every_demonstration() -> None:
    # flip_h explains the first pair only; the second is a flip_v: no depth-1 program fits both
    a, b = np.array([[1, 2], [0, 3]]), np.array([[4, 0], [5, 6]])
    task = ArcTask(
        train=[{"input": a, "output": a[:, ::-1]}, {"input": b, "output": b[::-1]}],
        test=[{"input": a}],
    )
    out = solve(task, time_limit_s=3, max_depth=1)
    assert "flip_h" not in out.programs and "flip_v" not in out.programs
    # whatever the search keeps reproduces both pairs
    inputs = [np.array(p.input, dtype=np.uint8) for p in task.train]
    for cand in search(task, time_limit_s=3, max_depth=1).candidates:
        for grid, pair in zip(inputs, task.train, strict=True):
            assert cand.program(grid).tolist() == [list(r) for r in pair.output]


def test_no_program_means_no_attempt() -> None:
    # outputs are unrelated noise: nothing in the language explains them
    rng = np.random.default_rng(0)
    pairs = [
        {"input": rng.integers(0, 10, (5, 5)), "output": rng.integers(0, 10, (3, 4))}
        for _ in range(3)
    ]
    task = ArcTask(task_id="noise", train=pairs, test=[{"input": rng.integers(0, 10, (5, 5))}])
    out = solve(task, time_limit_s=1.5)
    assert out.programs == () and out.answer == ((),)
    verdict = verify(task, out.answer)
    assert not verdict.ok and verdict.violations[0].rule == "missing"


@pytest.mark.parametrize("limit", [0.3, 1.0])
def test_time_limit_honoured(limit: float) -> None:
    rng = np.random.default_rng(1)
    pairs = [
        {"input": rng.integers(0, 10, (30, 30)), "output": rng.integers(0, 10, (30, 30))}
        for _ in range(4)
    ]
    task = ArcTask(train=pairs, test=[{"input": rng.integers(0, 10, (30, 30))}])
    t0 = time.perf_counter()
    out = solve(task, time_limit_s=limit)
    assert time.perf_counter() - t0 <= limit * 1.1 + 0.05
    assert out.effort["timed_out"] == 1.0 and out.programs == ()


def test_two_attempts_ranked_by_length() -> None:
    # attempts come shortest first, with distinct test outputs
    task, _ = CASES["flip_h"]
    out = solve(task, time_limit_s=5)
    assert 1 <= len(out.programs) <= 2
    lengths = [p.count("|") for p in out.programs]
    assert lengths == sorted(lengths)
    assert len(set(out.answer[0])) == len(out.answer[0])


def test_programs_print_as_pipes() -> None:
    steps = {str(s): s for s in primitives({1, 3}, {4})}
    program = Program((steps["flip_h"], steps["crop_bbox(colour=3)"]))
    assert str(program) == "flip_h | crop_bbox(colour=3)"
    grid = np.array([[3, 0, 0], [0, 1, 0]], dtype=np.uint8)
    assert program(grid).tolist() == [[3]]
    assert str(Program()) == "identity"


def test_bad_arguments() -> None:
    task, _ = CASES["flip_h"]
    with pytest.raises(ConfigError, match="time_limit_s"):
        solve(task, time_limit_s=0)
    with pytest.raises(ConfigError, match="max_depth"):
        solve(task, max_depth=0)
    with pytest.raises(UnsupportedTaskError, match="ArcTask"):
        solve("not a task")  # type: ignore[arg-type]


def test_neurosym_solve_dispatches_arc(tmp_path) -> None:
    import json

    from neurosym.api import solve as ns_solve
    from tasks.errors import UnsupportedTaskError as Unsupported

    task, _ = CASES["flip_h"]
    path = tmp_path / "flip.json"
    path.write_text(
        json.dumps(
            {
                "train": [p.model_dump() for p in task.train],
                "test": [p.model_dump() for p in task.test],
            }
        )
    )
    result = ns_solve(str(path), time_limit_s=3)
    assert result.verified and result.task.task_id == "flip"
    assert result.attempts[0].stage == "symbolic" and result.attempts[0].program == "flip_h"
    assert result.summary()["kind"] == "arc"
    unknown = ArcTask(train=task.train, test=[{"input": task.test[0].input}])
    result = ns_solve(unknown, time_limit_s=3)
    assert not result.verified
    assert result.verification.violations[0].rule == "unverified"
    for method in ("neural", "hybrid"):
        with pytest.raises(Unsupported, match="ARC"):
            ns_solve(task, method=method)
    with pytest.raises(Unsupported, match="ARC backend"):
        ns_solve(task, backend="sat")
