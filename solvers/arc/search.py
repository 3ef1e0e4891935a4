"""Breadth-first program search for ARC: compose DSL steps, depth by depth, until the time limit.

Every candidate runs on all demonstration inputs and test inputs at once; states that some
shorter program already produced are dropped. A program counts only when it reproduces every
demonstration output, exactly or through one last step learned from the demonstrations: a colour
map, or (for short programs) an object map, a resizing rule (``learned``) or a local rule mapping
each cell's neighbourhood to its output colour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solvers.arc.dsl import (
    Array,
    Program,
    Step,
    as_array,
    constant_step,
    learn_local_rule,
    primitives,
    recolour_step,
)
from solvers.arc.learned import learn_overlay_priority, learn_symmetric_tiling
from solvers.arc.objects import describe_object_map, learn_object_map, object_map_fn
from tasks.arc import MAX_ATTEMPTS, ArcTask

__all__ = ["ArcSearchOutput", "Candidate", "search"]

#: The deepest level the search stores for expansion; past this many states it only checks fits.
_MAX_FRONTIER = 150_000
#: Local (cellular) rules are learned on states of programs this short only: learning one
#: costs a pass over every demo cell, too slow to do for every state of a deep level.
_LOCAL_RULE_MAX_DEPTH = 1
#: Object maps (recolour or delete each object by a property) are learned on states of
#: programs this short only.
_OBJECT_MAP_MAX_DEPTH = 2
#: Resizing rules (a tiling with symmetric copies, an overlay of parts by colour priority) are
#: learned on states of programs this short only, and only where the demo shapes allow one.
_RESIZE_RULE_MAX_DEPTH = 2


@dataclass(frozen=True, slots=True)
class Candidate:
    """A program that reproduces every demonstration, and its outputs for the test inputs."""

    program: Program
    outputs: tuple[Array, ...]


@dataclass(frozen=True, slots=True)
class ArcSearchOutput:
    """Up to :data:`MAX_ATTEMPTS` candidates with distinct test outputs, simplest first."""

    candidates: tuple[Candidate, ...]
    effort: dict[str, float] = field(default_factory=dict)


def _key(grids: tuple[Array, ...]) -> bytes:
    return b"|".join(g.tobytes() + bytes(g.shape) for g in grids)


def _fit(state: tuple[Array, ...], outputs: list[Array]) -> Step | None:
    """None when ``state``'s demo grids are the outputs already or cannot become them by one
    colour map; else the learned recolour step (an empty map never comes back)."""
    mapping: dict[int, int] = {}
    for got, want in zip(state, outputs, strict=False):
        if got.shape != want.shape:
            return None
        pairs = np.unique(got.astype(np.int16) * 10 + want, return_counts=False)
        for pair in pairs:
            src, dst = divmod(int(pair), 10)
            if mapping.setdefault(src, dst) != dst:
                return None
    return recolour_step({s: d for s, d in mapping.items() if s != d})


def _content_shape(g: Array) -> tuple[int, int]:
    """The shape of the bounding box of ``g``'s non-background cells (all of ``g`` if none)."""
    rows, cols = np.nonzero(g)
    if not rows.size:
        return g.shape
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def _resizes(inputs: list[Array], outputs: list[Array]) -> dict[str, bool]:
    """Which resizing steps the search offers: enlarging ones only where some demo output is
    taller or wider than its input's content (a crop then an upscale stays possible), shrinking
    ones only where some output is smaller than its input or an enlarging step may follow."""
    grows = any(
        o.shape[0] > h or o.shape[1] > w
        for (h, w), o in zip(map(_content_shape, inputs), outputs, strict=True)
    )
    shrinks = grows or any(
        o.shape[0] < i.shape[0] or o.shape[1] < i.shape[1]
        for i, o in zip(inputs, outputs, strict=True)
    )
    return {"grows": grows, "shrinks": shrinks}


def search(
    task: ArcTask, *, time_limit_s: float, max_depth: int = 4, attempts: int = MAX_ATTEMPTS
) -> ArcSearchOutput:
    """Programs for ``task``, shortest first: depth 1, 2, ... until a level yields an answer
    (that level is finished, so its ranking is complete), ``max_depth`` or the time limit."""
    start = time.perf_counter()
    deadline = start + time_limit_s
    train_in = [as_array(p.input) for p in task.train]
    train_out = [as_array(p.output) for p in task.train]
    test_in = [as_array(t.input) for t in task.test]
    n_train = len(train_in)
    in_colours = set(np.unique(np.concatenate([g.ravel() for g in train_in + test_in])).tolist())
    out_colours = set(np.unique(np.concatenate([g.ravel() for g in train_out])).tolist())
    steps = primitives(in_colours, out_colours, **_resizes(train_in, train_out))

    found: list[tuple[int, int, Candidate]] = []  # (length, order, candidate)
    answers: dict[bytes, int] = {}  # test outputs -> their entry in ``found``
    tried = 0
    timed_out = False

    def consider(program: Program, state: tuple[Array, ...]) -> None:
        demo = state[:n_train]
        if all(np.array_equal(a, b) for a, b in zip(demo, train_out, strict=True)):
            record(program, state[n_train:])
            return
        recolour = _fit(demo, train_out)
        if recolour is not None and recolour.params[0][1]:
            record(program.then(recolour), tuple(recolour(g) for g in state[n_train:]))
            return
        if len(program) <= _OBJECT_MAP_MAX_DEPTH and object_maps(program, state):
            return
        learners: list[Callable[[], Any]] = []
        if len(program) <= _RESIZE_RULE_MAX_DEPTH and demo[0].shape != train_out[0].shape:
            learners += [
                lambda learn=learn: learn(demo, train_out)
                for learn in (learn_symmetric_tiling, learn_overlay_priority)
            ]
        if len(program) <= _LOCAL_RULE_MAX_DEPTH:
            learners += [
                lambda shape=shape: learn_local_rule(demo, train_out, shape)
                for shape in ("cross", "3x3")
            ]
        # The first learned last step that fits the demos and answers every test input.
        for learn in learners:
            rule = learn()
            if rule is None:
                continue
            outs = [rule(g) for g in state[n_train:]]
            if all(o is not None for o in outs):
                record(program.then(rule), tuple(outs))  # type: ignore[arg-type]
                return

    def object_maps(program: Program, state: tuple[Array, ...]) -> bool:
        """Record every learned object map that fits the demos and knows the test objects."""
        demo = state[:n_train]
        if any(g.shape != o.shape for g, o in zip(demo, train_out, strict=True)):
            return False
        if any((o[g == 0] != 0).any() for g, o in zip(demo, train_out, strict=True)):
            return False
        hit = False
        for conn8 in (True, False):
            for prop, table in learn_object_map(demo, train_out, conn8=conn8) or ():
                step = Step(
                    "object_map",
                    object_map_fn(prop, table, conn8),
                    (
                        ("by", prop),
                        ("conn", 8 if conn8 else 4),
                        ("map", describe_object_map(table)),
                    ),
                )
                outs = [step(g) for g in state[n_train:]]
                if all(o is not None for o in outs):
                    record(program.then(step), tuple(outs))  # type: ignore[arg-type]
                    hit = True
            if hit:
                break
        return hit

    def record(final: Program, outs: tuple[Array, ...]) -> None:
        key = _key(outs)
        if key not in answers:
            answers[key] = len(found)
            found.append((len(final), len(found), Candidate(final, outs)))
        elif len(final) < found[answers[key]][0]:
            # a learned last step can make a longer program turn up before a shorter one with
            # the same answer: show the shorter
            k = answers[key]
            found[k] = (len(final), found[k][1], Candidate(final, outs))

    # depth 0: the input itself (through a colour map), or the one output all demos share
    root = tuple(train_in + test_in)
    consider(Program(), root)
    if all(np.array_equal(o, train_out[0]) for o in train_out):
        const = constant_step(train_out[0])
        consider(Program((const,)), tuple(const(g) for g in root))

    seen = {_key(root)}
    level: list[tuple[Program, tuple[Array, ...]]] = [(Program(), root)]
    depth_reached = 0
    first_found_depth = 0 if found else None
    for depth in range(1, max_depth + 1):
        if len(answers) >= attempts or (first_found_depth is not None):
            break
        depth_reached = depth
        keep = depth < max_depth
        nxt: list[tuple[Program, tuple[Array, ...]]] = []
        for program, state in level:
            for step in steps:
                if time.perf_counter() > deadline:
                    timed_out = True
                    break
                tried += 1
                new = []
                for grid in state:
                    # one step on a 30x30 grid can cost ~10 ms (object crops), and a state holds
                    # every demo and test grid: check the clock per grid, not only per step
                    if time.perf_counter() > deadline:
                        timed_out = True
                        break
                    out = step(grid)
                    if out is None:
                        break
                    new.append(out)
                else:
                    new_state = tuple(new)
                    key = _key(new_state)
                    if key in seen:
                        continue
                    seen.add(key)
                    candidate = program.then(step)
                    consider(candidate, new_state)
                    if keep and len(nxt) < _MAX_FRONTIER:
                        nxt.append((candidate, new_state))
                if timed_out:
                    break
            if timed_out:
                break
        if found and first_found_depth is None:
            first_found_depth = depth
        if timed_out:
            break
        level = nxt
        if not level:
            break

    found.sort(key=lambda item: (item[0], item[1]))
    chosen = tuple(c for _, _, c in found[:attempts])
    effort = {
        "programs_tried": float(tried),
        "states": float(len(seen)),
        "depth_reached": float(depth_reached),
        "programs_fitting": float(len(found)),
        "primitives": float(len(steps)),
        "timed_out": float(timed_out),
        "search_s": time.perf_counter() - start,
    }
    return ArcSearchOutput(candidates=chosen, effort=effort)
