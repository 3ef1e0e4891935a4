"""``MazeData(hint="distance")``: maze labels that also carry each free cell's BFS distance from
the start mod 3 (label-only tokens, never inputs, never read by the decoder)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.encodings import MAZE_FREE_ID, MazeCodec, bfs_distances
from tasks.errors import CheckpointError, ConfigError
from tasks.generators import generate_maze_hard, generate_perfect_maze
from tasks.verify import verify
from trm.checkpoint import load_checkpoint, save_checkpoint
from trm.data import (
    DISTANCE_HINT_ID,
    MazeData,
    TaskStream,
    add_distance_hint,
    make_eval_set,
    union_of_shortest_paths,
)
from trm.inference import load_model, predict
from trm.train import TrainConfig, train


def _distances(task) -> np.ndarray:
    free = np.array([[ch != "#" for ch in row] for row in task.rows])
    return bfs_distances(free, [task.start])


@settings(max_examples=40, deadline=None)
@given(size=st.integers(5, 13), seed=st.integers(0, 10**6), loops=st.booleans())
def test_hints_are_the_distance_residues_of_the_free_cells_off_the_path(size, seed, loops):
    task = (
        generate_maze_hard(size=size, min_path_length=0, rng=seed)
        if loops
        else generate_perfect_maze(size, size, rng=seed)
    )
    codec = MazeCodec(height=15, width=15)  # a canvas larger than the maze: PAD stays PAD
    path = union_of_shortest_paths(task)
    plain = codec.encode_label(task, path)
    hinted = add_distance_hint(plain, task, codec)
    dist = _distances(task)
    grid, base = hinted.reshape(15, 15), plain.reshape(15, 15)
    is_hint = grid >= DISTANCE_HINT_ID
    # Only free cells off the path change, and every reachable one does.
    assert np.array_equal(grid[~is_hint], base[~is_hint])
    assert np.all(base[is_hint] == MAZE_FREE_ID)
    inside = grid[: task.height, : task.width]
    reach = dist >= 0
    off_path = base[: task.height, : task.width] == MAZE_FREE_ID
    assert np.array_equal(inside >= DISTANCE_HINT_ID, off_path & reach)
    assert np.array_equal(inside[off_path & reach] - DISTANCE_HINT_ID, dist[off_path & reach] % 3)
    assert not is_hint[task.height :].any() and not is_hint[:, task.width :].any()
    # The decoder reads path marks only: the hinted label decodes to the same verified answer.
    answer = codec.decode_path(hinted, task, strict=True)
    assert answer == codec.decode_path(plain, task, strict=True)
    assert verify(task, answer).ok


def test_an_unreachable_free_cell_keeps_its_free_token():
    from tasks.maze import MazeTask

    task = MazeTask.parse("S.#.\n..##\n...G")  # (0, 3) is walled off from the start
    codec = MazeCodec(height=3, width=4)
    label = add_distance_hint(codec.encode_label(task, []), task, codec).reshape(3, 4)
    assert label[0, 3] == MAZE_FREE_ID
    assert label[0, 1] == DISTANCE_HINT_ID + 1 and label[2, 2] == DISTANCE_HINT_ID + 4 % 3


def test_the_stream_hints_after_the_symmetry_and_the_inputs_never_hold_hints():
    cfg = MazeData(height=11, width=11, maze="mixed", min_size=5, loop_prob=0.5, label="union",
                   hint="distance")  # fmt: skip
    assert cfg.label_vocab_size() == 9 and MazeData().label_vocab_size() == 6
    stream = TaskStream(cfg, np.random.default_rng(3))
    codec = cfg.codec()
    saw_hint = 0
    for ex in stream.next_examples(30):
        assert ex.inputs.max() < DISTANCE_HINT_ID
        # The label is the hint of the (augmented) task the example holds.
        expected = add_distance_hint(codec.encode_label(ex.task, ex.solution), ex.task, codec)
        assert np.array_equal(ex.labels, expected)
        saw_hint += int((ex.labels >= DISTANCE_HINT_ID).any())
    assert saw_hint >= 25  # a small maze may have no free cell off its shortest paths
    es = make_eval_set(cfg, n=4, seed=9)
    assert (es.labels >= DISTANCE_HINT_ID).any() and es.labels.max() < 9


def test_the_model_vocabulary_must_cover_the_hint_tokens():
    data = {"kind": "maze", "height": 7, "width": 7, "hint": "distance"}
    with pytest.raises(ConfigError, match="vocab_size 9"):
        TrainConfig(preset="maze-conv", model={"seq_len": 49, "grid_height": 7, "grid_width": 7},
                    data=data, steps=1)  # fmt: skip
    cfg = TrainConfig(preset="maze-conv-hint", data={**data, "height": 15, "width": 15}, steps=1)
    assert cfg.trm_config().vocab_size == 9


def _tiny_hint_run(tmp_path):
    cfg = TrainConfig(
        preset="maze-conv-hint",
        # The preset's canvas is 15x15; this run trains on 7x7 (the conv mixer is local).
        model={
            "hidden_size": 8,
            "max_supervision_steps": 2,
            "seq_len": 49,
            "grid_height": 7,
            "grid_width": 7,
        },  # fmt: skip
        data={
            "kind": "maze",
            "height": 7,
            "width": 7,
            "maze": "mixed",
            "min_size": 5,
            "label": "union",
            "hint": "distance",
        },  # fmt: skip
        steps=2,
        batch_size=4,
        eval_every=0,
        eval_size=0,
        threads=1,
    )
    train(cfg, tmp_path)
    return tmp_path


def test_a_hint_trained_checkpoint_loads_and_predicts_decoded_paths(tmp_path):
    run = _tiny_hint_run(tmp_path)
    loaded = load_model(run)
    assert loaded.config.vocab_size == 9 and loaded.codec.vocab_size == 6
    tasks = [generate_perfect_maze(7, 7, rng=s) for s in range(3)]
    for task, pred in zip(tasks, predict(loaded, None, tasks, max_steps=2), strict=True):
        # Whatever the untrained net says, the answer is a decoded path verify can judge.
        assert isinstance(pred.answer, list) and pred.answer[0] == task.start
        assert pred.tokens.max() < 9


def test_a_hintless_checkpoint_with_a_larger_vocabulary_stays_inconsistent(tmp_path):
    run = _tiny_hint_run(tmp_path)
    tensors, meta = load_checkpoint(run)
    meta["train_config"]["data"]["hint"] = "none"  # the model's 9 tokens no longer explained
    meta = {k: v for k, v in meta.items() if k not in ("format", "format_version", "tensors_file")}
    out = tmp_path / "edited"
    save_checkpoint(out, tensors={k: torch.as_tensor(v) for k, v in tensors.items()}, meta=meta)
    with pytest.raises(CheckpointError, match="does not fit its model config"):
        load_model(out)


class _FavourToken(torch.nn.Module):
    """An lm_head whose logits put ``token`` first at every position."""

    def __init__(self, vocab: int, token: int) -> None:
        super().__init__()
        self.vocab, self.token = vocab, token

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(*y.shape[:-1], self.vocab, dtype=y.dtype, device=y.device)
        logits[..., self.token] = 5.0
        return logits


@pytest.mark.parametrize("token, expected", [(DISTANCE_HINT_ID + 1, MAZE_FREE_ID), (5, 5)])
def test_a_predicted_hint_reads_as_a_free_cell(token, expected):
    from trm.config import preset
    from trm.inference import evaluate
    from trm.model import TRM

    net = TRM(preset("maze-conv-hint", hidden_size=8, max_supervision_steps=2)).eval()
    net.lm_head = _FavourToken(9, token)
    tasks = [generate_perfect_maze(7, 7, rng=s) for s in range(2)]
    for pred in predict(net, None, tasks, max_steps=2, halt=False):
        # Not cut to the codec's 6 tokens (which would pick among 0..5 instead): the hint wins
        # the argmax and is read as "free, off the path".
        assert set(np.unique(pred.tokens).tolist()) == {expected}
    scores = evaluate(net, tasks, [union_of_shortest_paths(t) for t in tasks], max_steps=2)
    assert scores["valid_accuracy_all_steps"] == 0.0


def test_a_hintless_checkpoint_warm_starts_a_hinted_run_answering_as_before(tmp_path):
    from trm.config import preset

    common = {
        "hidden_size": 8,
        "max_supervision_steps": 2,
        "seq_len": 49,
        "grid_height": 7,
        "grid_width": 7,
    }
    data = {"kind": "maze", "height": 7, "width": 7, "maze": "mixed", "min_size": 5}
    plain = TrainConfig(preset="maze-conv", model={**common, "vocab_size": 6}, data=data,
                        steps=2, batch_size=4, eval_every=0, eval_size=0, threads=1)  # fmt: skip
    train(plain, tmp_path / "plain")
    hinted = TrainConfig(
        preset="maze-conv-hint",
        model=common,
        data={**data, "hint": "distance"},
        init_from=str(tmp_path / "plain"),
        steps=1,
        batch_size=4,
        eval_every=0,
        eval_size=0,
        threads=1,
    )
    from trm.train import _build_model

    net = _build_model(hinted, torch.device("cpu")).eval()
    old = load_model(tmp_path / "plain").model
    emb, head = net.token_embedding.weight, net.lm_head.weight
    assert emb.shape[0] == head.shape[0] == 9
    assert torch.equal(emb[:6], old.token_embedding.weight) and torch.equal(
        head[:6], old.lm_head.weight
    )
    for k in range(DISTANCE_HINT_ID, 9):
        assert torch.equal(head[k], head[MAZE_FREE_ID]) and torch.equal(emb[k], emb[MAZE_FREE_ID])
    tasks = [generate_perfect_maze(7, 7, rng=s) for s in range(3)]
    before = predict(old, None, tasks, max_steps=2, halt=False)
    after = predict(net, None, tasks, max_steps=2, halt=False)
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(a.tokens, b.tokens) and a.answer == b.answer
    # Another vocabulary difference is still refused.
    wrong = hinted.model_copy(update={"data": MazeData(**{**data, "hint": "none"})})
    with pytest.raises(ConfigError, match="vocab_size"):
        _build_model(wrong, torch.device("cpu"))
    assert preset("maze-conv-hint").vocab_size == 9
