"""Fixtures shared by the neurosym tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A 6x6 TRM trained for 4 steps (hidden 16): a real checkpoint folder, untrained in effect."""
    from trm.train import TrainConfig, train

    out = tmp_path_factory.mktemp("trm6")
    cfg = TrainConfig(
        steps=4, batch_size=4, model={"hidden_size": 16}, eval_size=0, device="cpu", threads=1
    )
    train(cfg, out)
    return out
