"""The hybrid: proposals verified, repaired with the fewest changes, or searched from scratch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solvers
from neurosym import solve
from neurosym.api import hybrid_result
from neurosym.hybrid import Proposal, guided_orders, run_hybrid, solve_guided
from tasks.errors import ConfigError, SolverTimeoutError, UnsolvableError
from tasks.generators import generate_perfect_maze, generate_puzzle
from tasks.maze import MazeTask
from tasks.strategies import noisy_sudoku
from tasks.sudoku import SudokuTask


def _unique(task: SudokuTask) -> bool:
    return solvers.count_sudoku_solutions(task, 2) == 1


def _proposal(answer, confidence=None, tokens=None) -> Proposal:
    """What a fake proposer returns: any answer, with confidences."""
    if isinstance(answer, tuple | list) and answer and isinstance(answer[0], tuple | list):
        shape = (len(answer), len(answer[0]))
    else:
        shape = (1, 1)
    conf = np.ones(shape) if confidence is None else np.asarray(confidence, dtype=float)
    toks = np.zeros(1, dtype=np.int64) if tokens is None else tokens
    return Proposal(answer=answer, confidence=conf, tokens=toks, steps=1, halt_prob=1.0, time_s=0.0)


def _corrupt(solution, task: SudokuTask, k: int, seed: int):
    """The solution with ``k`` blank cells changed to another digit."""
    rng = np.random.default_rng(seed)
    blanks = [(r, c) for r in range(task.size) for c in range(task.size) if not task.grid[r][c]]
    picks = rng.choice(len(blanks), size=min(k, len(blanks)), replace=False)
    grid = [list(row) for row in solution]
    for i in picks:
        r, c = blanks[i]
        grid[r][c] = grid[r][c] % task.size + 1
    return tuple(tuple(row) for row in grid), len(picks)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(0, 8),
    box=st.sampled_from([(2, 2), (2, 3), (3, 3)]),
)
def test_corrupted_proposal_on_unique_puzzle_is_repaired_exactly(seed, k, box):
    # On a unique puzzle the only valid grid is the solution, so the fewest cells to change are
    # exactly the corrupted ones.
    task, solution = generate_puzzle(*box, is_unique=_unique, rng=seed)
    proposal, n_bad = _corrupt(solution, task, k, seed)
    out = run_hybrid(task, _proposal(proposal))
    result = hybrid_result(task, out)
    assert result.verified and result.answer == solution
    assert result.method == "hybrid"
    if n_bad == 0:
        assert result.stage == "neural" and result.cells_changed == 0
    else:
        assert result.stage == "repair"
        assert result.cells_changed == n_bad
    assert set(result.stage_times) >= {"neural"}


def test_repair_on_non_unique_puzzle_changes_no_more_than_brute_force():
    # 4x4 with few givens: several solutions; the repair must reach the closest one.
    task, solution = generate_puzzle(2, 2, n_givens=4, rng=7)
    proposal, _ = _corrupt(solution, task, 5, 3)
    out = run_hybrid(task, _proposal(proposal))
    result = hybrid_result(task, out)
    assert result.verified
    # Brute force: every solution of the puzzle (depth-first over legal digits) and its
    # distance to the proposal.
    blanks = [(r, c) for r in range(4) for c in range(4) if not task.grid[r][c]]
    grid = [list(row) for row in task.grid]
    distances = []

    def fill(i: int) -> None:
        if i == len(blanks):
            distances.append(sum(grid[r][c] != proposal[r][c] for r, c in blanks))
            return
        r, c = blanks[i]
        for d in range(1, 5):
            box = [grid[r - r % 2 + a][c - c % 2 + b] for a in range(2) for b in range(2)]
            if d in grid[r] or d in (grid[k][c] for k in range(4)) or d in box:
                continue
            grid[r][c] = d
            fill(i + 1)
            grid[r][c] = 0

    fill(0)
    assert len(distances) >= 2  # several solutions: the choice matters
    best = min(distances)
    assert result.cells_changed == best


def test_fallback_runs_when_repair_times_out(monkeypatch):
    import solvers.repair

    def timeout(*args, **kwargs):
        raise SolverTimeoutError("repair took too long")

    monkeypatch.setattr(solvers.repair, "repair_sudoku", timeout)
    task, solution = generate_puzzle(3, 3, is_unique=_unique, rng=4)
    proposal, _ = _corrupt(solution, task, 6, 1)
    result = hybrid_result(task, run_hybrid(task, _proposal(proposal)))
    assert result.stage == "fallback" and result.verified and result.answer == solution
    assert result.cells_changed == 6
    assert result.effort["repair_timed_out"] == 1.0
    assert {"neural", "repair", "fallback"} <= set(result.stage_times)


def test_garbage_proposal_still_gives_verified_answer():
    task, solution = generate_puzzle(3, 3, is_unique=_unique, rng=5)
    junk = tuple(tuple(0 for _ in range(9)) for _ in range(9))
    result = hybrid_result(task, run_hybrid(task, _proposal(junk)))
    assert result.verified and result.answer == solution


def test_unsolvable_task_raises():
    # (0, 0) has no candidate left (row: 2, 3; column: 4; box: 1), though no two givens clash.
    task = SudokuTask.parse(".23..1..4.......")
    assert not task.given_conflicts() and solvers.count_sudoku_solutions(task, 1) == 0
    with pytest.raises(UnsolvableError):
        run_hybrid(task, _proposal(((1, 2, 3, 4),) * 4))


def _misread_first_given(task: SudokuTask) -> tuple[SudokuTask, tuple[int, int]]:
    r, c, v = task.givens()[0]
    grid = [list(row) for row in task.grid]
    grid[r][c] = v % task.size + 1
    noisy = SudokuTask(box_rows=task.box_rows, box_cols=task.box_cols, grid=grid)
    return noisy, (r, c)


def test_soft_givens_override_the_wrong_ones():
    task, solution = generate_puzzle(3, 3, is_unique=_unique, rng=11)
    noisy, (r, c) = _misread_first_given(task)
    # The proposer believes the true solution, confidently.
    out = run_hybrid(noisy, _proposal(solution), givens="soft")
    result = hybrid_result(noisy, out)
    assert result.verified and result.stage in ("neural", "repair")
    assert 1 <= len(result.overridden_givens) <= 1
    assert result.overridden_givens[0][:2] == (r, c)


def _maze_proposal(task: MazeTask, cells) -> Proposal:
    from tasks.encodings import MAZE_PATH_ID

    tokens = np.zeros((task.height, task.width), dtype=np.int64)
    for rr, cc in cells:
        tokens[rr, cc] = MAZE_PATH_ID
    return _proposal([task.start], np.ones((task.height, task.width)), tokens.ravel())


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), drop=st.integers(0, 6), extra=st.integers(0, 6))
def test_maze_proposal_with_holes_and_strays_is_repaired(seed, drop, extra):
    task = generate_perfect_maze(9, 9, rng=seed)
    path = solvers.solve_maze(task).answer
    rng = np.random.default_rng(seed)
    cells = set(path)
    inner = path[1:-1]
    for i in rng.choice(len(inner), size=min(drop, len(inner)), replace=False):
        cells.discard(inner[i])
    free = [
        (r, c)
        for r in range(task.height)
        for c in range(task.width)
        if task.rows[r][c] == "." and (r, c) not in path
    ]
    strays = {free[i] for i in rng.choice(len(free), size=min(extra, len(free)), replace=False)}
    cells |= strays
    prop = _maze_proposal(task, cells)
    result = hybrid_result(task, run_hybrid(task, prop))
    assert result.verified
    assert len(result.answer) == len(path)  # optimal length
    if drop == 0 and not strays and len(cells) == len(path):
        assert result.stage in ("neural", "repair")
    # A perfect maze has one path: the changes are the holes plus the strays.
    if result.stage == "repair":
        assert result.cells_changed == (len(set(path)) - len(set(path) & cells)) + len(strays)


def test_guided_orders_follow_the_network():
    task, solution = generate_puzzle(3, 3, n_givens=24, is_unique=_unique, rng=2)
    conf = np.full((9, 9), 0.5)
    prop = _proposal(solution, conf)
    cell_order, value_order = guided_orders(prop, "most")
    assert value_order((0, 0), tuple(range(1, 10)))[0] == solution[0][0]
    out = solve_guided(task, prop, cell_policy="most")
    assert out.answer == solution
    # Right about every cell: no guess is ever undone.
    assert out.effort["backtracks"] == 0
    with pytest.raises(ConfigError):
        guided_orders(prop, "sideways")


def test_solve_hybrid_with_shipped_6x6_model_is_always_verified():
    for seed in range(6):
        task, solution = generate_puzzle(2, 3, n_givens=12, is_unique=_unique, rng=seed)
        result = solve(task, method="hybrid")
        assert result.verified and result.answer == solution
        assert result.stage in ("neural", "repair", "fallback")
        assert result.effort["trm_steps"] >= 1


def test_solve_soft_symbolic_and_hard_contradiction():
    task, solution = generate_puzzle(3, 3, is_unique=_unique, rng=12)
    noisy, (r, c) = _misread_first_given(task)
    soft = solve(noisy, givens="soft")
    # One override suffices (the wrong given), though it may not be the one overridden.
    assert soft.verified and len(soft.overridden_givens) == 1
    with pytest.raises(UnsolvableError):
        solve(noisy, check_unique=False)
    with pytest.raises(ConfigError):
        solve(noisy, givens="squishy")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(example=noisy_sudoku(max_side=6, max_errors=3))
def test_noisy_givens_never_give_a_wrong_answer_marked_verified(example):
    from neurosym.api import relaxed_task
    from tasks.verify import verify

    noisy, clean, solution, changed = example
    soft = solve(noisy, givens="soft", check_unique=False)
    assert soft.verified and len(soft.overridden_givens) <= len(changed)
    # Verified means: a valid grid agreeing with every given it does not list as overridden.
    assert verify(relaxed_task(noisy, soft.overridden_givens), soft.answer).ok
    for r, c, was, now in soft.overridden_givens:
        assert noisy.grid[r][c] == was and soft.answer[r][c] == now != was
    # Hard givens: a verified answer respects every given; otherwise the puzzle is unsolvable.
    try:
        hard = solve(noisy, check_unique=False)
    except UnsolvableError:
        assert changed  # the clean puzzle is solvable
    else:
        assert hard.verified and verify(noisy, hard.answer).ok
    # The hybrid with a (fake) proposer that believes the clean solution.
    out = hybrid_result(noisy, run_hybrid(noisy, _proposal(solution), givens="soft"))
    assert out.verified and len(out.overridden_givens) <= len(changed)
    assert verify(relaxed_task(noisy, out.overridden_givens), out.answer).ok
