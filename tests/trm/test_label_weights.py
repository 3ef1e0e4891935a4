"""Per-label loss weights (TrainConfig.label_weights): the weighted per-sequence loss, the
config's validation and round trip, and a short maze run that uses them."""

from __future__ import annotations

import importlib
import json

import pytest
import torch

from tasks.errors import ConfigError
from trm.checkpoint import load_checkpoint
from trm.losses import IGNORE_INDEX, label_weights, sequence_loss, softmax_cross_entropy
from trm.train import TrainConfig, train


def test_label_weights_look_up_by_label_and_zero_ignored_positions():
    labels = torch.tensor([[1, 2, 5, 5], [3, 4, IGNORE_INDEX, 2]])
    w = label_weights(labels, {5: 4.0, 1: 0.0})
    assert w.tolist() == [[0.0, 1.0, 4.0, 4.0], [1.0, 1.0, 0.0, 1.0]]
    assert w.dtype == torch.float32
    # A weight for a token beyond every label present is fine.
    assert label_weights(torch.tensor([[0, 1]]), {9: 2.0}).tolist() == [[1.0, 1.0]]


def test_weighted_sequence_loss_is_the_weighted_mean_of_token_losses():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 6)
    labels = torch.tensor([[1, 2, 5, 5, 2], [5, 5, 5, 1, 1], [1, IGNORE_INDEX, 2, 2, 5]])
    weights = label_weights(labels, {5: 3.0, 1: 0.0})
    got = sequence_loss(logits, labels, weights=weights, loss_fn=softmax_cross_entropy)
    per_token = softmax_cross_entropy(logits, labels)
    expected = (per_token * weights).sum(-1) / weights.sum(-1)
    assert torch.allclose(got, expected)
    # All-ones weights reproduce the unweighted (reference) loss exactly.
    ones = label_weights(labels, {})
    assert torch.allclose(
        sequence_loss(logits, labels, weights=ones), sequence_loss(logits, labels)
    )
    # A sequence whose weights are all 0 contributes 0, not NaN.
    zero = sequence_loss(logits[:1], labels[:1], weights=torch.zeros(1, 5))
    assert zero.tolist() == [0.0]
    with pytest.raises(ValueError, match="weights of shape"):
        sequence_loss(logits, labels, weights=torch.ones(3, 4))


MAZE7 = dict(
    preset=None,
    model=dict(
        vocab_size=6,
        seq_len=49,
        hidden_size=16,
        num_heads=2,
        num_layers=1,
        mixer="mlp",
        puzzle_prefix_len=1,
        n_latent_steps=1,
        n_improve_steps=1,
        max_supervision_steps=2,
    ),
    data=dict(kind="maze", height=7, width=7),
    batch_size=4,
    eval_size=4,
    device="cpu",
)


def test_train_config_validates_and_round_trips_label_weights(tmp_path):
    cfg = TrainConfig(**MAZE7, steps=2, label_weights={5: 2.0, 1: 0.0})
    assert cfg.label_weights == {1: 0.0, 5: 2.0}
    # JSON (the checkpoint's train_config) has string keys; validation turns them back.
    dumped = cfg.model_dump(mode="json")
    assert dumped["label_weights"] == {"1": 0.0, "5": 2.0}
    assert TrainConfig.model_validate(dumped) == cfg
    with pytest.raises(ConfigError, match="names token 6"):
        TrainConfig(**MAZE7, label_weights={6: 1.0})
    with pytest.raises(ConfigError, match="must be finite and >= 0"):
        TrainConfig(**MAZE7, label_weights={5: -1.0})
    with pytest.raises(ConfigError, match="must be >= 0"):
        TrainConfig(**MAZE7, label_weights={-1: 1.0})

    result = train(cfg, tmp_path / "run")
    _, meta = load_checkpoint(result.checkpoint)
    assert meta["train_config"]["label_weights"] == {"1": 0.0, "5": 2.0}
    # A weighted run resumes (the saved config validates back to the same one) ...
    more = TrainConfig(**MAZE7, steps=3, label_weights={5: 2.0, 1: 0.0})
    assert train(more, tmp_path / "run", resume=True).step == 3
    # ... and changing the weights is refused: they change the numbers.
    other = TrainConfig(**MAZE7, steps=4, label_weights={5: 3.0})
    with pytest.raises(ConfigError, match="label_weights"):
        train(other, tmp_path / "run", resume=True)


@pytest.mark.filterwarnings("ignore:Data has no positive values")  # the loss plot: all zero
def test_zero_weight_labels_do_not_move_the_weights(tmp_path):
    # With every label weighted 0 the token loss is 0, so with the halt loss also off and no
    # weight decay the parameters stay where they started.
    cfg = TrainConfig(
        **MAZE7,
        steps=2,
        label_weights={t: 0.0 for t in range(6)},
        halt_loss_weight=0.0,
        weight_decay=0.0,
        ema_decay=None,
    )
    result = train(cfg, tmp_path / "run")
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["lm_loss"] == 0.0 for r in lines if r["type"] == "train")
    tensors, _ = load_checkpoint(result.checkpoint)
    initial = importlib.import_module("trm.train")._build_model(cfg, torch.device("cpu"))
    for name, value in initial.state_dict().items():
        assert torch.equal(tensors[f"model.{name}"], value), name
