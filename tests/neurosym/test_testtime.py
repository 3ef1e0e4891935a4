"""Test-time knobs: depth past the trained one, stochastic trajectories and how one is chosen,
and shipped size-agnostic models (resolution, errors, tracing)."""

from __future__ import annotations

import doctest
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import neurosym.neural as neural
import solvers
from neurosym import ConfigError, SudokuTask, UnsupportedTaskError, solve, verify
from neurosym.cli import main
from neurosym.hybrid import propose
from tasks.encodings import MazeCodec, SudokuCodec
from tasks.generators import generate_perfect_maze, generate_puzzle
from trm.checkpoint import save_checkpoint, with_prefix
from trm.config import preset
from trm.inference import Candidate, LoadedModel, Prediction, load_model
from trm.model import TRM


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _save(folder, config, codec):
    torch.manual_seed(0)
    net = TRM(config)
    meta = {
        "neurosym_version": "0.1.0",
        "config": config.model_dump(mode="json"),
        "task": codec.spec(),
        "step": 0,
    }
    save_checkpoint(f"{folder}/", tensors=with_prefix(net.state_dict(), "model"), meta=meta)
    return folder


@pytest.fixture(scope="module")
def agnostic(tmp_path_factory):
    """Untrained size-agnostic checkpoints in the folders the shipped ones will have."""
    root = tmp_path_factory.mktemp("models")
    peers = preset("sudoku-peers", hidden_size=12, max_supervision_steps=2)
    conv = preset("maze-conv", hidden_size=8, max_supervision_steps=2)
    return {
        "sudoku_peers": _save(root / "sudoku_peers", peers, SudokuCodec(box_rows=3, box_cols=3)),
        "maze_conv": _save(root / "maze_conv", conv, MazeCodec(height=15, width=15)),
    }


@pytest.fixture
def shipped(monkeypatch, agnostic):
    """The shipped 6x6 model beside the size-agnostic ones, as ``default_models`` sees them."""
    models = {"sudoku6": neural.MODELS_DIR / "sudoku6", **agnostic}
    monkeypatch.setattr(neural, "default_models", lambda: dict(models))
    return models


def _tiny_loaded() -> LoadedModel:
    torch.manual_seed(0)
    net = TRM(preset("sudoku6-tiny", hidden_size=16)).eval()
    return LoadedModel(
        model=net, config=net.config, codec=SudokuCodec(box_rows=2, box_cols=3), meta={}
    )


def _unique(task: SudokuTask) -> bool:
    return solvers.count_sudoku_solutions(task, 2) == 1


def test_neural_doctests():
    result = doctest.testmod(neural, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- depth


def test_depth_past_the_trained_one_runs_and_is_reported():
    task, _ = generate_puzzle(2, 3, n_givens=14, rng=2)
    loaded = _tiny_loaded()  # an untrained halt head never fires: every allowed step runs
    r = solve(task, method="neural", model=loaded, max_steps=11)
    assert r.effort["trm_steps"] == 11 and r.effort["max_steps"] == 11
    assert loaded.config.max_supervision_steps == 4
    r = solve(task, method="neural", model=loaded)
    assert r.effort["trm_steps"] == 4 and r.effort["max_steps"] == 4


def test_halting_still_stops_confident_puzzles_early():
    for seed in range(3):
        task, _ = generate_puzzle(2, 3, n_givens=22, rng=seed)
        r = solve(task, method="neural", max_steps=64)  # the shipped 6x6 model
        assert r.verified and r.effort["trm_steps"] <= 4 and r.effort["max_steps"] == 64
        h = solve(task, method="hybrid", max_steps=64)
        assert h.stage == "neural" and h.effort["trm_steps"] == r.effort["trm_steps"]


@pytest.mark.parametrize("bad", [0, -1, 4097, 2.5, True, "8"])
def test_bad_max_steps_is_a_config_error(bad):
    task, _ = generate_puzzle(2, 3, n_givens=22, rng=0)
    with pytest.raises(ConfigError, match="max_steps"):
        solve(task, method="neural", max_steps=bad)


def test_network_options_are_refused_for_symbolic():
    task, _ = generate_puzzle(2, 3, n_givens=22, rng=0)
    with pytest.raises(ConfigError, match="trajectories, select apply to method 'neural'"):
        solve(task, trajectories=2, select="vote")
    with pytest.raises(ConfigError, match="no effect with one trajectory"):
        solve(task, method="neural", noise=0.2)
    with pytest.raises(ConfigError, match="select must be one of"):
        solve(task, method="hybrid", trajectories=2, select="best")


def test_cli_bad_max_steps_is_one_error_line(capsys):
    task, _ = generate_puzzle(2, 3, n_givens=22, rng=0)
    assert main(["solve", task.to_line(), "--method", "neural", "--max-steps", "0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: max_steps must be an int in 1..4096")


def test_cli_solve_max_steps_and_trajectories(capsys):
    task, _ = generate_puzzle(2, 3, n_givens=22, rng=1)
    argv = ["solve", task.to_line(), "--method", "hybrid", "--json", "--max-steps", "16"]
    assert main([*argv, "--trajectories", "3", "--noise", "0.2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] and data["effort"]["trajectories"] == 3
    assert data["effort"]["max_steps"] == 16 and 0 <= data["effort"]["selected_trajectory"] < 3


def test_per_cell_rule():
    assert neural.per_cell_depth(16, 0) == 16
    assert neural.per_cell_depth(16, 128) == 16
    assert neural.per_cell_depth(16, 129) == 17
    assert neural.per_cell_depth(2, 481) == math.ceil(481 / neural.CELLS_PER_STEP)


def test_default_depth_table(shipped, monkeypatch):
    conv = neural._load_path(shipped["maze_conv"])
    peers = neural._load_path(shipped["sudoku_peers"])
    small, big = generate_perfect_maze(7, 7, rng=0), generate_perfect_maze(31, 31, rng=0)
    sudoku, _ = generate_puzzle(3, 3, n_givens=30, rng=0)
    assert neural.DEFAULT_DEPTH["sudoku_peers"] == 64  # measured; see the model card
    monkeypatch.setattr(neural, "DEFAULT_DEPTH", {})
    assert neural.default_max_steps(conv, big) is None  # unlisted: the trained depth
    monkeypatch.setattr(neural, "DEFAULT_DEPTH", {"maze_conv": "per-cell", "sudoku_peers": 12})
    assert neural.default_max_steps(conv, small) == max(2, math.ceil(small.n_free / 8))
    assert neural.default_max_steps(conv, big) == math.ceil(big.n_free / 8) > 2
    assert neural.default_max_steps(peers, sudoku) == 12
    assert neural.default_max_steps(_tiny_loaded(), sudoku) is None  # not a shipped model
    # The same folder passed by path is the same model, so it gets the same depth.
    loaded, _ = neural.resolve_model(sudoku, str(shipped["sudoku_peers"]))
    assert loaded is peers
    [p], _, _ = propose([sudoku])
    assert p.max_steps == 12 and p.steps == 12  # untrained: never halts, runs the default depth
    [m1, m2], _, _ = propose([small, generate_perfect_maze(9, 9, rng=1)])
    assert m1.max_steps == max(2, math.ceil(small.n_free / 8)) and m1.steps == m1.max_steps
    assert m2.max_steps == max(2, math.ceil(generate_perfect_maze(9, 9, rng=1).n_free / 8))


# --------------------------------------------------------------------------- trajectories


def test_trajectories_run_in_one_batch_and_are_reported():
    task, _ = generate_puzzle(2, 3, n_givens=16, rng=3)
    loaded = _tiny_loaded()
    [p], _, _ = propose([task], loaded, trajectories=5, noise=0.5, seed=1)
    assert len(p.candidates) == 5 and p.select is None
    assert p.candidates[p.selected].answer == p.answer
    # Trajectory 0 is the noise-free run: the single-trajectory answer.
    [single], _, _ = propose([task], loaded)
    assert np.array_equal(p.candidates[0].tokens, single.tokens)
    assert any(not np.array_equal(c.tokens, single.tokens) for c in p.candidates[1:])
    # Seeded: the same call gives the same candidates.
    [again], _, _ = propose([task], loaded, trajectories=5, noise=0.5, seed=1)
    assert all(
        np.array_equal(a.tokens, b.tokens)
        for a, b in zip(p.candidates, again.candidates, strict=True)
    )
    r = solve(task, method="neural", model=loaded, trajectories=5, noise=0.5, seed=1)
    assert r.effort["trajectories"] == 5 and r.effort["selected_trajectory"] == p.selected
    assert r.effort["trm_steps"] == p.candidates[p.selected].steps


@pytest.mark.parametrize("rule", ["halt", "first", "vote"])
def test_rules_agree_with_predicts_own_choice(rule):
    from trm.inference import predict

    loaded = _tiny_loaded()
    tasks = [generate_puzzle(2, 3, n_givens=14, rng=s)[0] for s in range(4)]
    preds = predict(loaded, None, tasks, trajectories=6, noise=1.0, select=rule, max_steps=3)
    for task, pred in zip(tasks, preds, strict=True):
        assert neural.choose(task, pred.candidates, rule) == pred.selected


def _cand(answer, *, steps=1, halt=0.5, tokens=0):
    return SimpleNamespace(answer=answer, tokens=np.array([tokens]), steps=steps, halt_prob=halt)


@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.floats(0, 1), st.integers(0, 2), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["halt", "first", "vote", "verify"]),
)
def test_choose_matches_the_reference_rules(spec, rule):
    from trm.inference import select_candidate

    cands = [_cand("good" if ok else "bad", steps=s, halt=h, tokens=t) for s, h, t, ok in spec]

    def check(_task, answer):
        return answer == "good"

    k = neural.choose(None, cands, rule, check=check)
    if rule != "verify":
        assert k == select_candidate(cands, rule)  # the same rule as trm.inference.predict applies
    elif any(ok for *_, ok in spec):
        assert cands[k].answer == "good" and all(c.answer == "bad" for c in cands[:k])
    else:
        assert k == select_candidate(cands, "halt")


def _solution_and_wrongs(seed: int):
    task, solution = generate_puzzle(2, 3, is_unique=_unique, rng=seed)
    blanks = [(r, c) for r in range(6) for c in range(6) if not task.grid[r][c]]

    def wrong(k: int):
        grid = [list(row) for row in solution]
        for r, c in blanks[:k]:
            grid[r][c] = grid[r][c] % 6 + 1
        return tuple(tuple(row) for row in grid)

    return task, solution, wrong


def _fake_predict(monkeypatch, answers_halts):
    """Make trm.inference.predict return these candidates (answer, halt prob) for every task,
    choosing by the rule it is asked for."""
    import trm.inference as inference

    def fake(model, codec, tasks, *, select="halt", trajectories=1, **_):
        out = []
        for _task in tasks:
            cands = [
                Candidate(
                    answer=a,
                    tokens=np.array([hash(a) % 1000]),
                    confidence=np.full((6, 6), 0.9, dtype=np.float32),
                    steps=1 + i,
                    halt_prob=h,
                )
                for i, (a, h) in enumerate(answers_halts[:trajectories])
            ]
            k = neural.choose(None, cands, select)
            c = cands[k]
            out.append(
                Prediction(c.answer, c.tokens, c.confidence, c.steps, c.halt_prob, None, cands, k)
            )
        return out

    monkeypatch.setattr(inference, "predict", fake)


def test_verify_selection_keeps_the_first_verified_trajectory(monkeypatch):
    task, solution, wrong = _solution_and_wrongs(4)
    _fake_predict(
        monkeypatch, [(wrong(3), 0.99), (wrong(1), 0.2), (solution, 0.1), (solution, 0.3)]
    )
    loaded = _tiny_loaded()
    r = solve(task, method="neural", model=loaded, trajectories=4, select="verify")
    assert r.verified and r.answer == solution
    assert r.effort["selected_trajectory"] == 2 and r.effort["trm_steps"] == 3
    r = solve(task, method="neural", model=loaded, trajectories=4)  # default: halt
    assert not r.verified and r.answer == wrong(3) and r.effort["selected_trajectory"] == 0
    # The hybrid's default is the verifier: no repair needed.
    h = solve(task, method="hybrid", model=loaded, trajectories=4)
    assert h.stage == "neural" and h.answer == solution and h.cells_changed == 0
    assert h.effort["selected_trajectory"] == 2
    # Another rule asked for: only its candidate is checked, and then repaired.
    h = solve(task, method="hybrid", model=loaded, trajectories=4, select="halt")
    assert h.stage == "repair" and h.answer == solution and h.cells_changed == 3


def test_hybrid_repairs_from_the_halt_choice_when_none_verifies(monkeypatch):
    task, solution, wrong = _solution_and_wrongs(5)
    _fake_predict(monkeypatch, [(wrong(4), 0.3), (wrong(2), 0.8), (wrong(5), 0.1)])
    loaded = _tiny_loaded()
    n = solve(task, method="neural", model=loaded, trajectories=3, select="verify")
    assert not n.verified and n.answer == wrong(2) and n.effort["selected_trajectory"] == 1
    h = solve(task, method="hybrid", model=loaded, trajectories=3)
    assert h.stage == "repair" and h.answer == solution
    assert h.cells_changed == 2 and h.effort["selected_trajectory"] == 1  # from trajectory 1


# --------------------------------------------------------------------------- size-agnostic


def test_size_agnostic_models_cover_every_size_they_can_run(shipped, monkeypatch):
    # A specialist listed first answers its own size; the others go to the size-agnostic ones.
    monkeypatch.setattr(neural, "PREFERRED_MODELS", ("sudoku6", "sudoku_peers", "maze_conv"))

    def resolved(task):
        loaded, _ = neural.resolve_model(task)
        return next(n for n, p in shipped.items() if neural._load_path(p) is loaded)

    six = generate_puzzle(2, 3, n_givens=20, rng=0)[0]
    assert resolved(six) == "sudoku6"  # the specialist is preferred
    for box in ((2, 2), (2, 4), (3, 3)):
        assert resolved(generate_puzzle(*box, n_givens=10, rng=0)[0]) == "sudoku_peers"
    for h, w in ((7, 7), (9, 5), (31, 31)):
        assert resolved(generate_perfect_maze(h, w, rng=0)) == "maze_conv"
    with pytest.raises(
        UnsupportedTaskError,
        match=r"16x16 Sudoku.*covered: 6x6 Sudoku \(2x3 boxes\), Sudoku with up to 9 digits "
        r"\(any box shape\), mazes of any size",
    ):
        solve(generate_puzzle(4, 4, n_givens=200, rng=0)[0], method="neural")


def test_preference_list_decides_between_covering_models(shipped, monkeypatch):
    six = generate_puzzle(2, 3, n_givens=20, rng=0)[0]
    monkeypatch.setattr(neural, "PREFERRED_MODELS", ("sudoku_peers", "sudoku6"))
    loaded, _ = neural.resolve_model(six)
    assert loaded is neural._load_path(shipped["sudoku_peers"])
    monkeypatch.setattr(neural, "PREFERRED_MODELS", ())  # unlisted: by name
    assert neural.resolve_model(six)[0] is neural._load_path(shipped["sudoku6"])


def test_fixed_size_model_keeps_the_exact_size_rule(shipped):
    six = neural._load_path(shipped["sudoku6"])
    with pytest.raises(UnsupportedTaskError, match=r"model \(6x6 Sudoku .*\) does not cover"):
        neural.resolve_model(generate_puzzle(2, 2, n_givens=8, rng=0)[0], six)
    peers = neural._load_path(shipped["sudoku_peers"])
    with pytest.raises(
        UnsupportedTaskError, match=r"any box shape\)\) does not cover this 9x9 maze"
    ):
        neural.resolve_model(generate_perfect_maze(9, 9, rng=0), peers)


def test_size_agnostic_models_solve_end_to_end(shipped):
    four = generate_puzzle(2, 2, n_givens=8, rng=1)[0]
    r = solve(four, method="neural")
    assert len(r.answer) == 4 and r.verified == verify(four, r.answer).ok
    assert solve(four, method="hybrid").verified
    maze = generate_perfect_maze(7, 9, rng=2)
    h = solve(maze, method="hybrid", trajectories=2)
    assert h.verified and h.effort["trajectories"] == 2


def test_trace_cycles_of_size_agnostic_models_match_predict(shipped):
    from neurosym.study.tracing import cycle_tokens, trace_task

    for task in (generate_puzzle(2, 2, n_givens=8, rng=1)[0], generate_perfect_maze(7, 9, rng=2)):
        loaded, _ = neural.resolve_model(task)
        t = loaded.config.n_improve_steps
        cycles = cycle_tokens(loaded, [task], max_steps=3)
        assert cycles.shape == (1, 3 * t, task.size**2 if task.kind == "sudoku" else 63)
        [p], _, _ = propose([task], loaded, halt=False, trace=True, max_steps=3)
        for k, step in enumerate(p.trace):
            assert (cycles[0, (k + 1) * t - 1] == step.tokens).all()
        assert len(trace_task(task, max_steps=3).rows) == 3
        assert len(trace_task(task, cycles=True, max_steps=3).rows) == 3 * t
    with pytest.raises(ConfigError, match="one size at a time"):
        cycle_tokens(
            loaded, [generate_perfect_maze(7, 7, rng=0), generate_perfect_maze(5, 5, rng=0)]
        )


# --------------------------------------------------------------------------- eval


def test_cli_eval_rules_from_one_run(tiny_checkpoint, capsys):
    argv = ["eval", str(tiny_checkpoint), "--generate", "6", "--json"]
    assert main([*argv, "--trajectories", "4", "--noise", "0.5", "--select", "vote"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 6 and rep["trajectories"] == 4 and rep["select"] == "vote"
    assert set(rep["rules"]) == {"trajectory0", "halt", "first", "vote", "verify"}
    assert rep["exact_accuracy"] == rep["rules"]["vote"]["exact_accuracy"]
    valid = {r: m["valid_accuracy"] for r, m in rep["rules"].items()}
    assert valid["verify"] == max(valid.values())  # any verified candidate counts
    assert rep["wall_s_per_puzzle"] > 0
    assert main([*argv, "--max-steps", "7"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["mean_steps"] == 7.0  # untrained: no halting, the whole test-time depth
    assert main(["eval", str(tiny_checkpoint), "--generate", "6", "--trajectories", "3"]) == 0
    text = capsys.readouterr().out
    assert "halt *" in text and "wall time per puzzle" in text


def test_eval_trajectory0_is_the_single_trajectory_answer():
    from trm.data import make_eval_set
    from trm.inference import evaluate

    loaded = load_model(neural.MODELS_DIR / "sudoku9")
    es = make_eval_set(loaded.meta["train_config"]["data"], 12, 7)
    plain = evaluate(loaded, es.tasks, es.solutions, halt_threshold=0.9, max_steps=8)
    rep = neural.evaluate_trajectories(
        loaded, es.tasks, es.solutions, trajectories=3, halt_threshold=0.9, max_steps=8
    )
    zero = rep["rules"]["trajectory0"]
    assert zero["exact_accuracy"] == plain["exact_accuracy"]
    assert zero["valid_accuracy"] == plain["valid_accuracy"]
    assert zero["mean_steps"] == plain["mean_steps"]


def test_cli_eval_generates_other_maze_sizes(shipped, capsys):
    ckpt = str(shipped["maze_conv"])
    base = ["eval", ckpt, "--generate", "3", "--max-steps", "2", "--json"]
    assert main([*base, "--kind", "maze", "--size", "11x7"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 3 and 0.0 <= rep["valid_accuracy"] <= 1.0 and rep["mean_steps"] == 2.0
    assert main([*base, "--size", "9x9", "--loops", "--trajectories", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 3
    assert main([*base, "--size", "9x7", "--loops"]) == 1
    assert "square" in capsys.readouterr().err
    fixed = str(neural.MODELS_DIR / "maze9")
    assert main(["eval", fixed, "--generate", "2", "--size", "31x31"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "covers 9x9 mazes only" in err[0]
    assert main(["eval", fixed, "--generate", "2", "--kind", "sudoku", "--size", "9x9"]) == 1
    assert "answers maze tasks" in capsys.readouterr().err
