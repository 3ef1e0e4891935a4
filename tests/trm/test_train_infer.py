"""Training data, the trainer (learning, exact resume, EMA, metrics, checkpoints) and inference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from tasks.errors import CheckpointError, ConfigError, InvalidTaskError
from tasks.maze import MazeTask
from tasks.verify import verify
from trm.checkpoint import load_checkpoint
from trm.config import preset
from trm.data import (
    MazeData,
    SudokuData,
    TaskStream,
    data_config,
    make_eval_set,
    shortest_path,
)
from trm.inference import evaluate, load_model, predict
from trm.model import TRM
from trm.train import TrainConfig, train

# A 4x4-Sudoku model small enough to train for hundreds of steps in a few seconds.
SUDOKU4 = dict(
    vocab_size=6,
    seq_len=16,
    hidden_size=32,
    num_heads=4,
    num_layers=1,
    puzzle_prefix_len=1,
    n_latent_steps=2,
    n_improve_steps=1,
    max_supervision_steps=2,
)
DATA4 = dict(kind="sudoku", box_rows=2, box_cols=2, min_givens=6, max_givens=10)


def tiny_config(**overrides) -> TrainConfig:
    base = dict(
        preset=None,
        model=SUDOKU4,
        data=DATA4,
        steps=6,
        batch_size=8,
        lr=3e-3,
        weight_decay=0.0,
        warmup_steps=2,
        eval_every=0,
        eval_size=4,
        device="cpu",
        threads=1,
    )
    return TrainConfig(**{**base, **overrides})


@pytest.fixture(autouse=True)
def _one_thread():
    # One thread: these tensors are too small to gain from intra-op parallelism, and a second
    # thread spinning on a core another process holds can make a step 20x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- data


def test_stream_is_seeded_and_resumable_from_the_generator_state():
    a = TaskStream(SudokuData(), np.random.default_rng(3))
    b = TaskStream(SudokuData(), np.random.default_rng(3))
    first = a.next_batch(5)
    assert all(torch.equal(x, y) for x, y in zip(first, b.next_batch(5), strict=True))
    saved = a.rng.bit_generator.state
    expected = a.next_batch(3)
    c = TaskStream(SudokuData(), np.random.default_rng(99))
    c.rng.bit_generator.state = saved
    assert all(torch.equal(x, y) for x, y in zip(expected, c.next_batch(3), strict=True))


def test_sudoku_examples_are_consistent_and_within_the_givens_range():
    stream = TaskStream(SudokuData(min_givens=12, max_givens=15), np.random.default_rng(0))
    for ex in stream.next_examples(20):
        assert 12 <= ex.task.n_givens <= 15
        assert verify(ex.task, ex.solution).ok
        assert np.array_equal(ex.labels, stream.codec.encode_solution(ex.solution))
        given = ex.inputs != 1  # blank token
        assert np.array_equal(ex.inputs[given], ex.labels[given])


@pytest.mark.parametrize("maze", ["perfect", "hard"])
def test_maze_labels_draw_a_shortest_path(maze):
    cfg = MazeData(height=9, width=9, maze=maze, min_path_length=8 if maze == "hard" else 0)
    stream = TaskStream(cfg, np.random.default_rng(1))
    for ex in stream.next_examples(5):
        assert verify(ex.task, ex.solution).ok
        assert stream.codec.decode_path(ex.labels, ex.task) == ex.solution


def test_shortest_path_and_its_failure():
    assert shortest_path(MazeTask.parse("S.#\n#.G")) == [(0, 0), (0, 1), (1, 1), (1, 2)]
    with pytest.raises(InvalidTaskError, match="reachable"):
        shortest_path(MazeTask.parse("S#G"))


def test_pool_and_eval_set():
    pool = TaskStream(SudokuData(pool_size=3, augment=False), np.random.default_rng(0))
    seen = {ex.task.to_line() for ex in pool.next_examples(30)}
    assert len(seen) == 3
    es = make_eval_set(SudokuData(pool_size=3), n=10, seed=5)
    assert len(es) == 10 and es.labels.shape == (10, 36)
    assert (
        make_eval_set(SudokuData(), n=4, seed=5).tasks
        == make_eval_set(SudokuData(), n=4, seed=5).tasks
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "sudoku", "min_givens": 20, "max_givens": 10},
        {"kind": "sudoku", "max_givens": 37},
        {"kind": "maze", "height": 5, "width": 7},  # augment needs a square canvas
        {"kind": "maze", "maze": "hard", "height": 5, "width": 7, "augment": False},
        {"kind": "tetris"},
        {"kind": "sudoku", "givens": 3},
    ],
)
def test_bad_data_configs_raise_config_error(spec):
    with pytest.raises(ConfigError):
        data_config(spec)


# ---------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"betas": (0.9, 1.0)}, "beta"),
        ({"ema_decay": 1.5}, "ema_decay"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"stepz": 3}, "stepz"),
        ({"model": {**SUDOKU4, "vocab_size": 11}}, "does not fit the data"),
        ({"model": {**SUDOKU4, "hiden": 3}}, "hiden"),
        ({"preset": "nope"}, "unknown preset"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_train_configs_raise_config_error(overrides, match):
    with pytest.raises(ConfigError, match=match):
        tiny_config(**overrides)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_without_cuda_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="CUDA is not available"):
        train(tiny_config(device="cuda"), tmp_path)
    assert not (tmp_path / "checkpoint.json").exists()


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def memorised(tmp_path_factory):
    """8 fixed 4x4 puzzles, trained until memorised (about 100 steps suffice, 240 run); shared."""
    out = tmp_path_factory.mktemp("memorise")
    data = {**DATA4, "pool_size": 8, "augment": False, "min_givens": 4, "max_givens": 8}
    cfg = tiny_config(data=data, steps=240, batch_size=16, ema_decay=0.9, eval_every=120)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train(cfg, out)
    finally:
        torch.set_num_threads(threads)
    pool = TaskStream(SudokuData(**data), np.random.default_rng(0)).pool
    return cfg, result, pool


def test_tiny_model_memorises_eight_puzzles(memorised):
    cfg, result, pool = memorised
    loaded = load_model(result.out_dir, expected_kind="sudoku")
    tasks = [t for t, _ in pool]
    solutions = [s for _, s in pool]
    metrics = evaluate(loaded, tasks, solutions)
    assert metrics["exact_accuracy_all_steps"] == 1.0
    assert metrics["cell_accuracy_all_steps"] == 1.0
    answers = predict(loaded, None, tasks, halt=False)
    assert [p.answer for p in answers] == solutions


def test_loss_decreases_and_metrics_and_plot_are_written(memorised):
    cfg, result, _ = memorised
    lines = (result.out_dir / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    train_records = [r for r in records if r["type"] == "train"]
    assert [r["step"] for r in train_records] == list(range(1, cfg.steps + 1))
    assert {"loss", "lm_loss", "halt_loss", "token_acc", "exact_acc_halted", "lr"} <= set(
        train_records[0]
    )
    first = np.mean([r["loss"] for r in train_records[:20]])
    last = np.mean([r["loss"] for r in train_records[-20:]])
    assert last < 0.2 * first
    evals = [r for r in records if r["type"] == "eval"]
    assert [r["step"] for r in evals] == [120, 240]
    assert result.eval_metrics["step"] == 240 and result.eval_metrics["weights"] == "ema"
    png = (result.out_dir / "training.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluation_uses_the_ema_weights(tmp_path):
    # decay 1.0: the average never moves from the initial weights, while the model trains.
    cfg = tiny_config(ema_decay=1.0, steps=5, eval_size=6)
    result = train(cfg, tmp_path)
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        initial = TRM(cfg.trm_config())
    ema = load_model(tmp_path)
    for name, value in initial.state_dict().items():
        assert torch.equal(ema.model.state_dict()[name], value), name
    raw = load_model(tmp_path, weights="model")
    assert not torch.equal(raw.model.lm_head.weight, initial.lm_head.weight)
    es = make_eval_set(cfg.data, cfg.eval_size, cfg.eval_seed)
    expected = evaluate(initial, es.tasks, es.solutions, codec=es.codec)
    got = {k: v for k, v in result.eval_metrics.items() if k in expected}
    assert got == expected


def _all_tensors(path):
    tensors, meta = load_checkpoint(path)
    return tensors, meta


def test_resume_is_bit_identical(tmp_path):
    cfg = tiny_config(steps=7, halt_exploration_prob=0.5, eval_size=0)
    straight = train(cfg, tmp_path / "straight")
    # steps is a field a resumed run may change; 3 is mid-example (N_sup = 2).
    train(tiny_config(steps=3, halt_exploration_prob=0.5, eval_size=0), tmp_path / "split")
    resumed = train(cfg, tmp_path / "split", resume=True)
    assert resumed.step == straight.step == 7
    a, meta_a = _all_tensors(straight.checkpoint)
    b, meta_b = _all_tensors(resumed.checkpoint)
    assert sorted(a) == sorted(b)
    assert any(k.startswith("optim.") for k in a) and any(k.startswith("slots.") for k in a)
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert meta_a["rng"] == meta_b["rng"]
    lines = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == list(range(1, 8))


def test_resume_refuses_a_different_run_and_fresh_start_refuses_an_old_one(tmp_path):
    train(tiny_config(steps=2, eval_size=0), tmp_path)
    with pytest.raises(ConfigError, match="resume=True"):
        train(tiny_config(steps=4, eval_size=0), tmp_path)
    with pytest.raises(ConfigError, match="lr"):
        train(tiny_config(steps=4, eval_size=0, lr=1e-2), tmp_path, resume=True)
    with pytest.raises(CheckpointError):
        train(tiny_config(steps=4), tmp_path / "empty", resume=True)


def test_resume_may_add_an_lr_decay_that_starts_at_the_checkpoint(tmp_path):
    decay = dict(lr_min_ratio=0.1, decay_steps=4, eval_size=0)
    train(tiny_config(steps=3, eval_size=0), tmp_path / "const")
    # A decay starting before step 3 would change rates already used: refused, nothing run.
    with pytest.raises(ConfigError, match="decay_start.*same rates"):
        train(tiny_config(steps=6, decay_start=2, **decay), tmp_path / "const", resume=True)
    resumed = train(tiny_config(steps=6, decay_start=3, **decay), tmp_path / "const", resume=True)
    straight = train(tiny_config(steps=6, decay_start=3, **decay), tmp_path / "straight")
    a, _ = _all_tensors(resumed.checkpoint)
    b, _ = _all_tensors(straight.checkpoint)
    for name in a:  # the constant run + its decay == the decayed run from the start
        assert torch.equal(a[name], b[name]), name
    lines = (tmp_path / "const" / "metrics.jsonl").read_text().splitlines()
    lrs = [json.loads(x)["lr"] for x in lines]
    assert lrs[2] == lrs[1] > lrs[3] > lrs[4] > lrs[5]
    with pytest.raises(ConfigError, match="lr_min_ratio"):
        tiny_config(lr_min_ratio=2.0)


def test_init_from_starts_from_the_checkpoints_ema_weights_and_resumes_without_it(tmp_path):
    first = train(tiny_config(steps=3, eval_size=0), tmp_path / "first")
    source, _ = _all_tensors(first.checkpoint)
    ema = {k[len("ema.") :]: v for k, v in source.items() if k.startswith("ema.")}
    assert ema
    # One step at lr 0 (no weight decay): the weights after it are exactly the checkpoint's
    # EMA weights, not the seeded initialisation.
    cfg = tiny_config(steps=1, eval_size=0, lr=0.0, init_from=str(tmp_path / "first"))
    warm = train(cfg, tmp_path / "warm")
    after, meta = _all_tensors(warm.checkpoint)
    for name, value in ema.items():
        assert torch.equal(after["model." + name], value), name
    assert meta["train_config"]["init_from"] == str(tmp_path / "first")
    cold = train(tiny_config(steps=1, eval_size=0, lr=0.0), tmp_path / "cold")
    cold_t, _ = _all_tensors(cold.checkpoint)
    assert any(not torch.equal(cold_t["model." + n], v) for n, v in ema.items())
    # A resume restores its own weights: the source may be gone by then.
    (tmp_path / "first" / "checkpoint.json").unlink()
    resumed = train(cfg.model_copy(update={"steps": 2}), tmp_path / "warm", resume=True)
    assert resumed.step == 2


def test_init_from_refuses_another_model_or_a_missing_file(tmp_path):
    train(tiny_config(steps=1, eval_size=0), tmp_path / "src")
    other = tiny_config(steps=1, eval_size=0, init_from=str(tmp_path / "src"))
    other = other.model_copy(update={"model": {**SUDOKU4, "hidden_size": 16}})
    with pytest.raises(ConfigError, match="hidden_size"):
        train(other, tmp_path / "dst")
    with pytest.raises(CheckpointError):
        train(tiny_config(steps=1, init_from=str(tmp_path / "nothing")), tmp_path / "dst2")


def test_a_time_limit_stops_early_checkpoints_and_resumes_exactly(tmp_path):
    cfg = tiny_config(steps=8, eval_size=0)
    # A limit that every step exceeds: one step, then the final checkpoint as at the end.
    short = train(cfg, tmp_path / "split", max_seconds=1e-9, clock="cpu")
    assert short.stopped_early and short.step == 1
    assert load_checkpoint(short.checkpoint)[1]["step"] == 1
    resumed = train(cfg, tmp_path / "split", resume=True)
    straight = train(cfg, tmp_path / "straight", max_seconds=3600)  # never reached
    assert not straight.stopped_early and resumed.step == straight.step == 8
    a, _ = _all_tensors(resumed.checkpoint)
    b, _ = _all_tensors(straight.checkpoint)
    for name in a:
        assert torch.equal(a[name], b[name]), name
    for bad in (0, -1.0, float("inf"), True, "5"):
        with pytest.raises(ConfigError, match="max_seconds"):
            train(cfg, tmp_path / "bad", max_seconds=bad)
    with pytest.raises(ConfigError, match="clock"):
        train(cfg, tmp_path / "bad", max_seconds=1.0, clock="gpu")


def test_the_gpu_precision_path_runs_on_the_cpu(tmp_path):
    # precision="bf16" runs the forward pass under the same autocast as CUDA does by default.
    fp32 = train(tiny_config(steps=4, eval_size=0), tmp_path / "fp32")
    bf16 = train(tiny_config(steps=4, eval_size=0, precision="bf16"), tmp_path / "bf16")
    assert math.isfinite(bf16.metrics["loss"])
    a, _ = _all_tensors(fp32.checkpoint)
    b, _ = _all_tensors(bf16.checkpoint)
    assert b["model.lm_head.weight"].dtype == torch.float32  # parameters stay fp32
    assert not torch.equal(a["model.lm_head.weight"], b["model.lm_head.weight"])  # it did run
    loaded = load_model(bf16.checkpoint)
    es = make_eval_set(DATA4, 3, seed=1)
    assert len(predict(loaded, loaded.codec, es.tasks)) == 3
    with pytest.raises(ConfigError, match="precision"):
        tiny_config(precision="fp16")


@pytest.mark.slow
def test_training_under_torch_compile_on_the_cpu_matches_eager(tmp_path):
    # Inductor on the CPU: the code path a CUDA run takes with compile=True (minutes to compile).
    eager = train(tiny_config(steps=3, eval_size=0), tmp_path / "eager")
    compiled = train(tiny_config(steps=3, eval_size=0, compile=True), tmp_path / "compiled")
    a, _ = _all_tensors(eager.checkpoint)
    b, _ = _all_tensors(compiled.checkpoint)
    assert sorted(a) == sorted(b)  # no "_orig_mod." prefixes leak into the checkpoint
    for name in a:
        if a[name].is_floating_point():
            torch.testing.assert_close(a[name], b[name], rtol=1e-2, atol=1e-3)  # fused kernels


@pytest.mark.slow
@pytest.mark.parametrize("name", ["trm-mlp-sudoku", "trm-att-sudoku", "trm-att-maze"])
def test_paper_presets_train_a_few_steps_at_full_size(tmp_path, name):
    from neurosym.train_cli import PRESET_DATA

    cfg = TrainConfig(
        preset=name, data=PRESET_DATA[name], steps=2, batch_size=2, eval_size=0, device="cpu"
    )
    result = train(cfg, tmp_path)
    assert result.step == 2 and math.isfinite(result.metrics["loss"])
    assert load_model(result.checkpoint).config == cfg.trm_config()


def test_checkpoint_every_k_steps_and_callbacks(tmp_path):
    seen = {"steps": [], "evals": [], "checkpoints": []}

    class Recorder:
        def on_step(self, state):
            seen["steps"].append(state.step)

        def on_eval(self, state):
            seen["evals"].append(state.eval_metrics["step"])

        def on_checkpoint(self, path):
            seen["checkpoints"].append(load_checkpoint(path)[1]["step"])

    class OnlySteps:  # callbacks may implement any subset of the methods
        def on_step(self, state):
            pass

    cfg = tiny_config(steps=6, checkpoint_every=2, eval_every=3)
    train(cfg, tmp_path, callbacks=[Recorder(), OnlySteps()])
    assert seen["steps"] == [1, 2, 3, 4, 5, 6]
    assert seen["evals"] == [3, 6]
    assert seen["checkpoints"] == [2, 4, 6]


# ---------------------------------------------------------------- inference


@pytest.fixture
def model6():
    torch.manual_seed(0)
    return TRM(preset("sudoku6-tiny", hidden_size=16)).eval()


def test_predict_shapes_and_trace(model6):
    es = make_eval_set(SudokuData(), n=3, seed=0)
    preds = predict(model6, es.codec, es.tasks, trace=True, batch_size=2)
    assert len(preds) == 3
    for p in preds:
        assert len(p.answer) == 6 and all(len(row) == 6 for row in p.answer)
        assert p.confidence.shape == (6, 6)
        assert ((p.confidence > 0) & (p.confidence <= 1)).all()
        assert p.steps == 4 and len(p.trace) == p.steps  # bias -5: never halts early
        assert p.trace[-1].answer == p.answer and p.trace[-1].halt_prob == p.halt_prob
    assert all(p.trace is None for p in predict(model6, es.codec, es.tasks))
    assert [p.steps for p in predict(model6, es.codec, es.tasks, max_steps=2)] == [2, 2, 2]


def test_halting_stops_early_when_the_halt_head_says_so(model6):
    es = make_eval_set(SudokuData(), n=5, seed=1)
    with torch.no_grad():
        model6.q_head.bias.fill_(10.0)  # sigmoid(10) > 0.5: halt after the first step
    halted = predict(model6, es.codec, es.tasks, trace=True)
    assert [p.steps for p in halted] == [1] * 5
    assert all(len(p.trace) == 1 for p in halted)
    one_step = predict(model6, es.codec, es.tasks, halt=False, max_steps=1)
    assert [p.answer for p in halted] == [p.answer for p in one_step]
    full = predict(model6, es.codec, es.tasks, halt=False, trace=True)
    assert [len(p.trace) for p in full] == [4] * 5
    metrics = evaluate(model6, es.tasks, es.solutions, codec=es.codec)
    assert metrics["mean_steps"] == 1.0


def test_predict_maze(tmp_path):
    data = MazeData(height=7, width=7)
    torch.manual_seed(0)
    cfg = preset("maze-small", seq_len=49, hidden_size=16, max_supervision_steps=2)
    model = TRM(cfg).eval()
    es = make_eval_set(data, n=2, seed=0)
    preds = predict(model, es.codec, es.tasks)
    for p, task in zip(preds, es.tasks, strict=True):
        assert p.answer[0] == task.start  # a decoded (possibly partial) path from the start
        assert p.confidence.shape == (7, 7) and p.steps == 2
    metrics = evaluate(model, es.tasks, es.solutions, codec=es.codec)
    assert metrics["n"] == 2 and 0.0 <= metrics["cell_accuracy"] <= 1.0


def test_predict_rejects_a_codec_that_does_not_fit(model6):
    es = make_eval_set(SudokuData(box_rows=2, box_cols=2, min_givens=8, max_givens=8), n=1, seed=0)
    with pytest.raises(ConfigError, match="does not fit"):
        predict(model6, es.codec, es.tasks)
    with pytest.raises(ConfigError, match="max_steps"):
        predict(model6, make_eval_set(SudokuData(), 1, 0).codec, [], max_steps=0)


def test_load_model_rejects_garbage_and_the_wrong_kind(tmp_path, memorised):
    (tmp_path / "checkpoint.json").write_text("not json at all")
    with pytest.raises(CheckpointError):
        load_model(tmp_path)
    pt = tmp_path / "model.pt"
    pt.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(CheckpointError):
        load_model(pt)
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "missing")
    _, result, _ = memorised
    with pytest.raises(CheckpointError, match="maze"):
        load_model(result.out_dir, expected_kind="maze")


def test_maze_training_runs_and_loads(tmp_path):
    model = preset("maze-small", seq_len=49, hidden_size=16, max_supervision_steps=2).model_dump()
    cfg = TrainConfig(
        preset=None,
        model=model,
        data={"kind": "maze", "height": 7, "width": 7},
        steps=3,
        batch_size=4,
        eval_size=2,
        device="cpu",
    )
    result = train(cfg, tmp_path)
    assert result.eval_metrics["n"] == 2
    loaded = load_model(tmp_path, expected_kind="maze")
    assert loaded.kind == "maze" and loaded.codec.seq_len == 49


def test_unique_puzzles_have_exactly_one_solution():
    from itertools import product

    def count_solutions(task):  # brute force over row permutations, fine for 4x4
        rows = [[p for p in product(range(1, 5), repeat=4) if len(set(p)) == 4] for _ in task.grid]
        rows = [
            [p for p in options if all(g in (0, v) for g, v in zip(row, p, strict=True))]
            for options, row in zip(rows, task.grid, strict=True)
        ]
        return sum(verify(task, grid).ok for grid in product(*rows))

    cfg = SudokuData(box_rows=2, box_cols=2, min_givens=0, max_givens=6, unique=True)
    loose = TaskStream(cfg.model_copy(update={"unique": False}), np.random.default_rng(4))
    assert any(count_solutions(ex.task) > 1 for ex in loose.next_examples(10))
    for ex in TaskStream(cfg, np.random.default_rng(4)).next_examples(10):
        assert count_solutions(ex.task) == 1
        assert verify(ex.task, ex.solution).ok
