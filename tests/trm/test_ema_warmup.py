"""EMA warm-up: decay min(decay, (1 + t) / (10 + t)) at update t; off by default."""

from __future__ import annotations

import pytest
from torch import nn

from trm.optim import EMA
from trm.train import TrainConfig


def _model(value: float) -> nn.Linear:
    model = nn.Linear(1, 1, bias=False)
    nn.init.constant_(model.weight, value)
    return model


@pytest.mark.parametrize("warmup", [False, True])
def test_warmup_arithmetic(warmup):
    model = _model(0.0)
    ema = EMA(model, decay=0.999, warmup=warmup)
    expected = 0.0
    for t in range(1, 30):
        nn.init.constant_(model.weight, float(t))
        ema.update(model, t)
        decay = min(0.999, (1 + t) / (10 + t)) if warmup else 0.999
        expected = decay * expected + (1 - decay) * t
        got = ema.averaged_model(model).weight.item()
        assert got == pytest.approx(expected, rel=1e-6)
    # With warm-up the average follows the weights closely; without, it barely moves.
    assert (got > 10) == warmup


def test_update_without_step_uses_the_plain_decay():
    model = _model(0.0)
    ema = EMA(model, decay=0.5, warmup=True)
    nn.init.constant_(model.weight, 1.0)
    ema.update(model)
    assert ema.averaged_model(model).weight.item() == pytest.approx(0.5)


def test_train_config_field_defaults_off():
    assert TrainConfig().ema_warmup is False
    assert TrainConfig(ema_warmup=True).ema_warmup is True
