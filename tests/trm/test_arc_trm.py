"""TRM for ARC: the canvas codec, augmentations and their inverses, puzzle embeddings with
their sign-SGD optimiser, training, voting, pass@k scoring and test-time embeddings."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import trm.arc as arc
from tasks.arc import ArcTask
from tasks.arc_strategies import arc_grids
from tasks.errors import CheckpointError, ConfigError, InvalidTaskError, UnsupportedTaskError
from trm.arc import (
    ArcTestPrediction,
    RankedAnswer,
    fit_task_embedding,
    load_arc_model,
    predict_arc,
    rank_votes,
    save_arc_model,
    score_arc,
)
from trm.arc_data import (
    ARC_EOS_ID,
    ARC_PAD_ID,
    ArcAugmentation,
    ArcCodec,
    ArcExampleStream,
    make_puzzle_set,
)
from trm.arc_train import ArcTrainConfig, PuzzleSignSGD, arc_model_config, train_arc
from trm.checkpoint import save_checkpoint
from trm.config import preset
from trm.losses import IGNORE_INDEX
from trm.model import TRM, count_parameters


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(old)


@st.composite
def augmentations(draw: st.DrawFn) -> ArcAugmentation:
    perm = draw(st.permutations(range(1, 10)))
    return ArcAugmentation(dihedral=draw(st.integers(0, 7)), colours=(0, *perm))


def _task(task_id: str, pairs, tests) -> ArcTask:
    return ArcTask(
        task_id=task_id,
        train=[{"input": i, "output": o} for i, o in pairs],
        test=[{"input": i, "output": o} for i, o in tests],
    )


def _mirror_task() -> ArcTask:
    return _task(
        "mirror",
        [(((1, 2), (3, 0)), ((2, 1), (0, 3))), (((4, 0), (0, 5)), ((0, 4), (5, 0)))],
        [(((6, 7), (0, 0)), ((7, 6), (0, 0)))],
    )


def _recolour_task() -> ArcTask:
    return _task(
        "recolour",
        [(((1, 0), (0, 1)), ((2, 0), (0, 2))), (((1, 1), (0, 0)), ((2, 2), (0, 0)))],
        [(((0, 1), (1, 1)), ((0, 2), (2, 2)))],
    )


# ---------------------------------------------------------------------------- codec
@given(grid=arc_grids(max_side=30), data=st.data())
def test_codec_round_trip_at_any_offset(grid, data):
    codec = ArcCodec()
    max_r, max_c = codec.max_offset(grid)
    offset = (data.draw(st.integers(0, max_r)), data.draw(st.integers(0, max_c)))
    tokens = codec.encode(grid, offset)
    assert tokens.shape == (900,) and tokens.min() >= 0 and tokens.max() < 12
    assert codec.decode(tokens, offset) == grid


@given(grid=arc_grids(max_side=6))
def test_codec_eos_border_gives_the_dimensions(grid):
    codec = ArcCodec(side=6)
    h, w = len(grid), len(grid[0])
    canvas = codec.encode(grid).reshape(6, 6)
    assert (canvas[:h, :w] == np.asarray(grid) + 2).all()
    if h < 6:
        assert (canvas[h, :w] == ARC_EOS_ID).all()
    if w < 6:
        assert (canvas[:h, w] == ARC_EOS_ID).all()
    rest = np.ones((6, 6), dtype=bool)
    rest[: h + 1, :w] = rest[:h, : w + 1] = False
    assert (canvas[rest] == ARC_PAD_ID).all()
    label = codec.encode_label(grid).reshape(6, 6)
    assert (label[rest] == IGNORE_INDEX).all()
    assert (label[~rest] == canvas[~rest]).all()  # grid and EOS border are supervised


def test_codec_layout_matches_the_reference_tokens():
    canvas = ArcCodec(side=30).encode(((0, 9),)).reshape(30, 30)
    assert canvas[0, :3].tolist() == [2, 11, 1]  # colours shifted by 2, then EOS
    assert canvas[1, :3].tolist() == [1, 1, 0]  # the EOS row spans the grid's columns only


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda c: c.__setitem__((3, 1), ARC_PAD_ID),  # a hole in the EOS row
        lambda c: c.__setitem__((1, 3), 5),  # the EOS column holds a colour
        lambda c: c.__setitem__((1, 1), ARC_PAD_ID),  # a hole inside the grid
        lambda c: c.__setitem__((2, 2), ARC_EOS_ID),  # EOS inside the grid
        lambda c: c.__setitem__((0, 0), ARC_PAD_ID),  # nothing at the top-left
    ],
)
def test_malformed_predictions_decode_to_none(corrupt):
    codec = ArcCodec(side=5)
    canvas = codec.encode(((1, 2, 3), (4, 5, 6), (7, 8, 9))).reshape(5, 5)
    corrupt(canvas)
    assert codec.decode(canvas.reshape(-1)) is None


def test_decode_ignores_padding_cells_and_reads_a_full_canvas():
    codec = ArcCodec(side=4)
    tokens = codec.encode(((1, 2),)).reshape(4, 4)
    tokens[3, 3] = 7  # beyond the border: padding, ignored by the loss and by decode
    assert codec.decode(tokens) == ((1, 2),)
    full = ((1, 2, 3, 4),) * 4  # reaches both edges: no EOS fits, the edges give the size
    assert codec.decode(codec.encode(full)) == full
    with pytest.raises(InvalidTaskError, match="16 tokens"):
        codec.decode(np.zeros(15))
    with pytest.raises(UnsupportedTaskError, match="does not fit"):
        codec.encode(((1, 2),), offset=(0, 3))


# ---------------------------------------------------------------------------- augmentation
@given(grid=arc_grids(max_side=12), aug=augmentations())
def test_augmentation_inverse_undoes_it(grid, aug):
    out = aug.apply(grid)
    assert aug.inverse().apply(out) == grid
    assert aug.apply(aug.inverse().apply(grid)) == grid
    zeros_before = sum(row.count(0) for row in grid)
    assert sum(row.count(0) for row in out) == zeros_before  # black is never recoloured


@given(aug=augmentations())
def test_augmentation_inverse_of_a_task(aug):
    original = _mirror_task()
    assert aug.inverse().apply_task(aug.apply_task(original)) == original


def test_eight_distinct_dihedral_transforms():
    grid = ((1, 2, 3), (4, 5, 6))
    images = {ArcAugmentation(dihedral=k).apply(grid) for k in range(8)}
    assert len(images) == 8
    assert ArcAugmentation(dihedral=0).apply(grid) == grid


def test_bad_augmentations_are_refused():
    with pytest.raises(InvalidTaskError, match="keeps 0"):
        ArcAugmentation(colours=(1, 0, 2, 3, 4, 5, 6, 7, 8, 9))
    with pytest.raises(InvalidTaskError, match="dihedral"):
        ArcAugmentation(dihedral=8)


def test_puzzle_set_views_ids_and_translated_examples():
    codec = ArcCodec(side=5)
    puzzles = make_puzzle_set([_mirror_task(), _recolour_task()], codec, n_views=4, seed=1)
    assert [len(v) for v in puzzles.views] == [4, 4]
    assert all(v[0].is_identity for v in puzzles.views)
    assert puzzles.first_ids == (1, 5) and puzzles.num_puzzle_ids == 9
    stream = ArcExampleStream(puzzles, np.random.default_rng(0), translate_prob=1.0)
    inputs, labels = stream.next_batch(64)
    assert set(stream.last_ids.tolist()) <= set(range(1, 9))
    offsets = set()
    for x, y in zip(inputs.numpy(), labels.numpy(), strict=True):
        written = x.reshape(5, 5) != ARC_PAD_ID  # the grid and its EOS border
        r0, c0 = int(np.argmax(written.any(1))), int(np.argmax(written.any(0)))
        offsets.add((r0, c0))
        assert codec.decode(x, (r0, c0)) is not None
        assert codec.decode(np.where(y == IGNORE_INDEX, 0, y), (r0, c0)) is not None
    assert len(offsets) > 1  # training pairs are translated
    with pytest.raises(UnsupportedTaskError, match="canvas is 1x1"):
        make_puzzle_set([_mirror_task()], ArcCodec(side=1), n_views=1)


# ---------------------------------------------------------------------------- presets, embeddings
def test_paper_arc_presets_have_the_reference_parameter_counts():
    with torch.device("meta"):
        att = TRM(preset("trm-att-arc"))
        mlp = TRM(preset("trm-mlp-arc"))
    assert count_parameters(att) == 6_829_058
    assert count_parameters(mlp) == 18_801_666
    assert tuple(att.puzzle_embedding.shape) == (960 * 1001 + 1, 512)
    assert att.config.seq_len == 900 and att.config.vocab_size == 12


def test_puzzle_embeddings_are_outside_the_parameter_count():
    model = TRM(arc_model_config("arc-tiny", 500, hidden_size=16, seq_len=16))
    everything = sum(p.numel() for p in model.parameters())
    assert count_parameters(model) == everything - 500 * 16
    with pytest.raises(ConfigError, match="vocab_size 12"):
        arc_model_config("sudoku6-tiny", 3)


def test_sign_sgd_moves_used_rows_by_lr_times_sign():
    table = torch.nn.Parameter(torch.full((4, 3), 2.0))
    opt = PuzzleSignSGD([table], lr=0.1, weight_decay=0.5)
    table.grad = torch.tensor([[3.0, -0.001, 0.0], [1.0, 1.0, 1.0], [-4.0, 2.0, 0.0], [0] * 3])
    opt.step(rows=torch.tensor([2, 0, 2]))
    decayed = 2.0 * (1 - 0.1 * 0.5)
    assert torch.allclose(table[0], torch.tensor([decayed - 0.1, decayed + 0.1, decayed]))
    assert torch.allclose(table[2], torch.tensor([decayed + 0.1, decayed - 0.1, decayed]))
    assert (table[1] == 2.0).all() and (table[3] == 2.0).all()  # unused rows: untouched
    opt.step()  # rows=None: every row with the whole table's gradient
    assert table[1, 0].item() == pytest.approx(2.0 * 0.95 - 0.1)
    with pytest.raises(ConfigError, match="lr"):
        PuzzleSignSGD([table], lr=float("nan"))


def _tiny_config(**overrides) -> ArcTrainConfig:
    base = dict(
        steps=40,
        batch_size=16,
        n_views=4,
        device="cpu",
        lr=3e-3,
        warmup_steps=5,
        ema_decay=0.9,
        translate_prob=0.5,
        model={"seq_len": 16, "hidden_size": 32, "max_supervision_steps": 2},
    )
    return ArcTrainConfig(**{**base, **overrides})


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    return train_arc(_tiny_config(steps=80), [_mirror_task(), _recolour_task()])


def test_training_reduces_the_loss_on_two_tiny_tasks(trained):
    losses = [h["loss"] for h in trained.history]
    assert len(losses) == 80
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])


def test_ema_averages_the_network_but_not_the_puzzle_embeddings(trained):
    live, averaged = trained.model, trained.averaged
    assert averaged is not live
    assert torch.equal(averaged.puzzle_embedding, live.puzzle_embedding)
    assert live.puzzle_embedding.abs().sum() > 0  # sign-SGD moved it from its zero init
    assert not torch.equal(averaged.lm_head.weight, live.lm_head.weight)
    assert live.config.num_puzzle_ids == trained.puzzles.num_puzzle_ids == 9


def test_train_config_is_strict():
    with pytest.raises(ConfigError, match="stepz"):
        ArcTrainConfig(stepz=3)
    with pytest.raises(ConfigError, match="puzzle_emb_lr"):
        ArcTrainConfig(puzzle_emb_lr=-1.0)


# ---------------------------------------------------------------------------- voting
def test_votes_rank_by_count_then_mean_halt_probability():
    a, b, c = ((1, 1),), ((2,),), ((3,), (3,))
    ranked = rank_votes([(c, 0.99), (a, 0.1), (b, 0.8), (None, 1.0), (a, 0.3), (b, 0.6), (a, 0.2)])
    assert ranked == (
        RankedAnswer(a, 3, pytest.approx(0.2)),
        RankedAnswer(b, 2, pytest.approx(0.7)),
        RankedAnswer(c, 1, pytest.approx(0.99)),
    )
    tie = rank_votes([(b, 0.5), (a, 0.5)])  # a full tie keeps the first-seen grid first
    assert [r.grid for r in tie] == [b, a]
    assert rank_votes([(None, 0.9)]) == ()


def test_predict_votes_over_de_augmented_views(monkeypatch):
    task = _mirror_task()
    codec = ArcCodec(side=4)
    puzzles = make_puzzle_set([task], codec, n_views=6, seed=3)
    views = puzzles.views[0]
    answer = task.test[0].output
    wrong = ((9, 9), (9, 9))

    def fake(model, inputs, ids, *, steps, batch_size, table):
        # An equivariant "model": views 0-3 answer right (in their own frame), view 4 answers
        # wrong, view 5 emits garbage. The right grid must come back through each inverse.
        rows = []
        for k, view in enumerate(views):
            if k < 4:
                rows.append(codec.encode(view.apply(answer)))
            elif k == 4:
                rows.append(codec.encode(wrong))
            else:
                rows.append(np.zeros(16, dtype=np.int64))
        return np.stack(rows), np.linspace(0.1, 0.6, len(views))

    monkeypatch.setattr(arc, "_final_outputs", fake)
    model = TRM(arc_model_config("arc-tiny", puzzles.num_puzzle_ids, seq_len=16, hidden_size=8))
    [[prediction]] = predict_arc(model, puzzles)
    assert prediction.attempts[0] == answer
    assert prediction.ranked[0].votes == 4
    assert prediction.n_views == 6 and prediction.n_malformed == 1
    assert len(prediction.attempts) == 2
    scores = score_arc([task], [[prediction]])
    assert scores["pass@1"] == scores["pass@2"] == 1.0
    assert scores["malformed"] == pytest.approx(1 / 6)


def test_score_arc_counts_attempts_per_test_input():
    a, b, c = ((1,),), ((2,),), ((3,),)
    task = _task("t", [(a, a)], [(a, b), (a, c)])

    def pred(*grids):
        return ArcTestPrediction(grids, tuple(RankedAnswer(g, 1, 0.5) for g in grids), 2, 0)

    scores = score_arc([task], [[pred(b, a), pred(a, c)]])  # test 1 at pass@1, test 2 at pass@2
    assert scores["pass@1"] == 0.5 and scores["pass@2"] == 1.0
    assert scores["tasks_solved@2"] == 1
    assert score_arc([task], [[pred(), pred(c)]])["pass@1"] == 0.5
    with pytest.raises(InvalidTaskError, match="3 predictions for its 2 tests"):
        score_arc([task], [[pred(b), pred(c), pred(a)]])


def test_predict_with_a_trained_model_gives_at_most_two_attempts(trained):
    preds = predict_arc(trained.averaged, trained.puzzles)
    assert [len(p) for p in preds] == [1, 1]
    for [p] in preds:
        assert p.n_views == 4 and len(p.attempts) <= 2
        assert len(set(p.attempts)) == len(p.attempts)
    assert set(score_arc(trained.puzzles.tasks, preds)) >= {"pass@1", "pass@2"}


# ---------------------------------------------------------------------------- unseen tasks
def test_test_time_fit_changes_only_the_embedding(trained):
    model = trained.averaged
    before = {k: v.clone() for k, v in model.state_dict().items()}
    unseen = _task(
        "unseen",
        [(((3, 0), (0, 0)), ((0, 3), (0, 0))), (((0, 0), (5, 0)), ((0, 0), (0, 5)))],
        [(((7, 0), (0, 0)), ((0, 7), (0, 0)))],
    )
    fitted = fit_task_embedding(model, unseen, n_views=3, steps=12, batch_size=8)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())  # no gradient reached the network
    start = before["puzzle_embedding"][1:].mean(0)
    assert tuple(fitted.table.shape) == (3, 32)
    assert not torch.allclose(fitted.table, start.expand(3, -1))
    assert fitted.puzzles.first_ids == (0,) and len(fitted.history) == 12
    [[p]] = predict_arc(model, fitted.puzzles, table=fitted.table)
    assert p.n_views == 3
    with pytest.raises(UnsupportedTaskError, match="canvas"):
        fit_task_embedding(model, _task("big", [(((1,) * 5,), ((1,),))], [(((1,),), None)]))


def test_arc_checkpoint_round_trip(trained, tmp_path):
    path = save_arc_model(tmp_path / "arc", trained.averaged, trained.puzzles, step=80)
    model, puzzles = load_arc_model(path)
    assert puzzles == trained.puzzles
    for name, tensor in trained.averaged.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor)
    first = predict_arc(trained.averaged, trained.puzzles)
    assert predict_arc(model, puzzles) == first
    meta = {"neurosym_version": "0", "config": {}, "task": {"kind": "maze"}, "step": 0}
    other = save_checkpoint(tmp_path / "maze", tensors={"x": torch.zeros(1)}, meta=meta)
    with pytest.raises(CheckpointError, match="expected 'arc'"):
        load_arc_model(other)


@pytest.mark.parametrize("module", ["trm.arc_data", "trm.arc_train", "trm.arc"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
