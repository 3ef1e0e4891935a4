"""Losses, AdamATan2 / AdamW / warm-up / EMA, and checkpoints (round trips and every failure)."""

from __future__ import annotations

import copy
import doctest
import hashlib
import importlib
import json
import os
import pickle
import random

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from tasks.errors import CheckpointError, ConfigError
from trm import checkpoint as ckpt
from trm.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    checkpoint_paths,
    load_checkpoint,
    optimizer_state_from_tensors,
    optimizer_state_to_tensors,
    rng_state,
    save_checkpoint,
    set_rng_state,
    strip_prefix,
    with_prefix,
)
from trm.losses import (
    exact_match,
    halt_loss,
    sequence_loss,
    softmax_cross_entropy,
    stablemax_cross_entropy,
)
from trm.optim import EMA, AdamATan2, make_optimizer, scheduled_lr, set_lr, warmup_lr


@pytest.mark.parametrize("name", ["trm.losses", "trm.optim", "trm.checkpoint"])
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# --------------------------------------------------------------------------- losses


def _stablemax_ce_numpy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Slow, independent float64 reference, one position at a time."""
    out = np.zeros(labels.shape, dtype=np.float64)
    flat_logits = logits.reshape(-1, logits.shape[-1]).astype(np.float64)
    for i, label in enumerate(labels.reshape(-1)):
        if label == -100:
            continue
        s = [x + 1.0 if x >= 0 else 1.0 / (1.0 - x + 1e-30) for x in flat_logits[i]]
        out.reshape(-1)[i] = -np.log(s[label] / np.sum(s))
    return out


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_stablemax_matches_numpy_reference(scale):
    rng = np.random.default_rng(int(scale))
    logits = rng.normal(size=(3, 7, 11)) * scale
    logits[0, 0, :] = -np.abs(logits[0, 0, :])  # an all-negative row
    logits[0, 1, 3] = 1e8  # one huge logit
    labels = rng.integers(0, 11, size=(3, 7))
    labels[1, ::2] = -100
    got = stablemax_cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), _stablemax_ce_numpy(logits, labels), rtol=1e-12)
    assert torch.isfinite(got).all()


def test_stablemax_by_hand_and_in_float64_from_float32():
    # s = (2, 1, 0.5) -> p(label 2) = 0.5 / 3.5
    logits = torch.tensor([[1.0, 0.0, -1.0]], dtype=torch.float32)
    got = stablemax_cross_entropy(logits, torch.tensor([2]))
    assert got.dtype == torch.float64
    assert got.item() == pytest.approx(-np.log(0.5 / 3.5), rel=1e-15)
    bf16 = stablemax_cross_entropy(logits.bfloat16(), torch.tensor([2]))
    assert bf16.item() == pytest.approx(got.item(), rel=1e-15)


def test_stablemax_ignored_positions_are_zero_and_get_no_gradient():
    logits = torch.randn(2, 5, 4, requires_grad=True)
    labels = torch.tensor([[0, -100, 3, -100, 1], [-100] * 5])
    loss = stablemax_cross_entropy(logits, labels)
    assert (loss[labels == -100] == 0).all()
    assert (loss[labels != -100] > 0).all()
    loss.sum().backward()
    assert (logits.grad[labels == -100] == 0).all()
    assert (logits.grad[labels != -100].abs().sum(-1) > 0).all()


def test_custom_ignore_index():
    logits = torch.zeros(1, 2, 3)
    loss = stablemax_cross_entropy(logits, torch.tensor([[0, 2]]), ignore_index=0)
    assert loss[0, 0] == 0 and loss[0, 1] == pytest.approx(np.log(3))


def test_loss_shape_mismatch_raises():
    with pytest.raises(ValueError, match="do not fit"):
        stablemax_cross_entropy(torch.zeros(2, 3, 4), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="do not fit"):
        exact_match(torch.zeros(2, 3, 4), torch.zeros(3, 3, dtype=torch.long))


def test_softmax_cross_entropy_matches_torch():
    logits = torch.randn(4, 6, 5)
    labels = torch.randint(0, 5, (4, 6))
    labels[0, :3] = -100
    expected = nn.functional.cross_entropy(
        logits.reshape(-1, 5), labels.reshape(-1), reduction="none"
    ).reshape(4, 6)
    torch.testing.assert_close(softmax_cross_entropy(logits, labels), expected)


def test_sequence_loss_averages_each_sequence_over_its_valid_tokens():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 6, 5)) * 3
    labels = rng.integers(0, 5, size=(3, 6))
    labels[0, :4] = -100  # 2 valid
    labels[2, :] = -100  # none valid
    got = sequence_loss(torch.from_numpy(logits), torch.from_numpy(labels))
    per_token = _stablemax_ce_numpy(logits, labels)
    expected = [per_token[0].sum() / 2, per_token[1].sum() / 6, 0.0]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    soft = sequence_loss(
        torch.from_numpy(logits), torch.from_numpy(labels), loss_fn=softmax_cross_entropy
    )
    assert soft.shape == (3,) and soft.dtype == torch.float32


def test_sequence_loss_flattens_grid_labels():
    logits = torch.randn(2, 3, 3, 4)
    labels = torch.randint(0, 4, (2, 3, 3))
    flat = sequence_loss(logits.reshape(2, 9, 4), labels.reshape(2, 9))
    torch.testing.assert_close(sequence_loss(logits, labels), flat)


def test_exact_match_and_halt_loss():
    logits = torch.tensor([[[0.0, 2.0], [3.0, 0.0]], [[0.0, 2.0], [3.0, 0.0]]])
    labels = torch.tensor([[1, 0], [1, 1]])
    assert exact_match(logits, labels).tolist() == [True, False]
    # the wrong position ignored -> correct; no valid position -> correct (reference semantics)
    assert exact_match(logits, torch.tensor([[1, -100], [-100, -100]])).tolist() == [True, True]

    halt_logits = torch.tensor([2.0, -1.0, 0.5], requires_grad=True)
    target = torch.tensor([1.0, 0.0, 1.0], requires_grad=True)
    loss = halt_loss(halt_logits, target)
    x = halt_logits.detach().double()
    expected = torch.log1p(torch.exp(-x)) + (1 - target.detach().double()) * x  # BCE with logits
    torch.testing.assert_close(loss.double(), expected)
    loss.sum().backward()
    assert target.grad is None  # the target is detached
    assert halt_logits.grad is not None
    assert halt_loss(torch.zeros(2), torch.tensor([True, False])).shape == (2,)
    with pytest.raises(ValueError, match="differ"):
        halt_loss(torch.zeros(2), torch.zeros(3))


# --------------------------------------------------------------------------- AdamATan2


def _adam_atan2_numpy(p, grads, lrs, betas, wd):
    p = np.array(p, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    b1, b2 = betas
    for t, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr / (1 - b1**t) * np.arctan2(m, np.sqrt(v / (1 - b2**t)))
    return p


def test_adam_atan2_one_step_by_hand():
    p = nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
    opt = AdamATan2([p], lr=0.01, betas=(0.9, 0.95), weight_decay=0.1)
    p.grad = torch.tensor([0.5], dtype=torch.float64)
    opt.step()
    # decay: 2 * (1 - 0.001) = 1.998; m = 0.05, v = 0.0125 -> v_hat = 0.25;
    # step = 0.01 / 0.1 * atan2(0.05, 0.5) = 0.1 * atan(0.1)
    assert p.item() == pytest.approx(1.998 - 0.1 * np.arctan(0.1), rel=1e-15)
    assert opt.state[p]["step"].item() == 1.0


def test_adam_atan2_two_steps_match_formula_with_lr_change():
    rng = np.random.default_rng(2)
    p0 = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)) * s for s in (1.0, 1e-3)]
    grads[0][0, 0] = 0.0  # atan2(0, 0) = 0: no epsilon needed, no NaN
    lrs = [1e-2, 3e-2]
    betas, wd = (0.9, 0.95), 0.5
    p = nn.Parameter(torch.from_numpy(p0.copy()))
    frozen = nn.Parameter(torch.ones(2, dtype=torch.float64))  # never gets a gradient
    opt = AdamATan2([p, frozen], lr=lrs[0], betas=betas, weight_decay=wd)
    for step, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        set_lr(opt, lr)
        p.grad = torch.from_numpy(g)
        opt.step()
        expected = _adam_atan2_numpy(p0, grads[:step], lrs[:step], betas, wd)
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-13, atol=1e-15)
    assert torch.equal(frozen, torch.ones(2, dtype=torch.float64))
    assert frozen not in opt.state
    assert torch.isfinite(p).all()


def test_adam_atan2_step_is_bounded_and_scale_invariant():
    p1 = nn.Parameter(torch.zeros(3))
    p2 = nn.Parameter(torch.zeros(3))
    o1 = AdamATan2([p1], lr=0.1, weight_decay=0.0)
    o2 = AdamATan2([p2], lr=0.1, weight_decay=0.0)
    g = torch.tensor([1e-12, 1.0, -1e12])
    for _ in range(3):
        p1.grad, p2.grad = g, g * 1000
        o1.step()
        o2.step()
    torch.testing.assert_close(p1, p2)
    assert (p1.abs() <= 3 * 0.1 * np.pi / 2 / 0.1).all()


def test_adam_atan2_closure_and_state_dict_round_trip():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    twin = copy.deepcopy(model)
    opt = AdamATan2(model.parameters(), lr=1e-2, weight_decay=0.1)
    x = torch.randn(5, 3)

    def closure():
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        return loss

    for _ in range(3):
        assert isinstance(opt.step(closure), torch.Tensor)
    state = opt.state_dict()
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert state["param_groups"][0]["betas"] == (0.9, 0.95)

    twin.load_state_dict(model.state_dict())
    opt2 = AdamATan2(twin.parameters(), lr=5.0, weight_decay=0.0)  # overwritten by the load
    opt2.load_state_dict(copy.deepcopy(state))
    assert opt2.param_groups[0]["lr"] == 1e-2
    for m, o in ((model, opt), (twin, opt2)):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [{"lr": -1.0}, {"lr": float("nan")}, {"betas": (0.9, 1.0)}, {"weight_decay": -0.1}],
)
def test_adam_atan2_rejects_bad_hyperparameters(kwargs):
    with pytest.raises(ConfigError):
        AdamATan2([nn.Parameter(torch.zeros(1))], **kwargs)


def test_make_optimizer():
    params = [nn.Parameter(torch.zeros(2))]
    opt = make_optimizer("adamatan2", params, lr=1e-3, weight_decay=1.0, betas=(0.8, 0.9))
    assert isinstance(opt, AdamATan2)
    assert opt.defaults == {"lr": 1e-3, "betas": (0.8, 0.9), "weight_decay": 1.0}
    adamw = make_optimizer("adamw", params, 1e-3, 1.0, (0.8, 0.9))
    assert isinstance(adamw, torch.optim.AdamW)
    assert adamw.defaults["weight_decay"] == 1.0 and adamw.defaults["betas"] == (0.8, 0.9)
    with pytest.raises(ConfigError, match="'sgd'"):
        make_optimizer("sgd", params)  # type: ignore[arg-type]


def test_warmup_lr():
    assert [warmup_lr(s, 1.0, 4) for s in range(7)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert warmup_lr(0, 3e-4, 0) == 3e-4
    assert warmup_lr(2000, 1e-4, 2000) == 1e-4
    with pytest.raises(ConfigError, match="step"):
        warmup_lr(-1, 1.0, 4)
    with pytest.raises(ConfigError, match="warmup_steps"):
        warmup_lr(1, 1.0, -4)


def test_scheduled_lr_is_warmup_then_constant_then_a_cosine_to_the_floor():
    lrs = [
        scheduled_lr(s, 2.0, 2, lr_min_ratio=0.25, decay_start=4, decay_steps=4) for s in range(11)
    ]
    assert lrs[:5] == [0.0, 1.0, 2.0, 2.0, 2.0]  # warm-up, then exactly the base rate
    assert lrs[6] == pytest.approx(0.5 + 1.5 * 0.5)  # half-way down the cosine
    assert lrs[8:] == [0.5, 0.5, 0.5]  # the floor, held
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:], strict=False))  # never rises
    # Ratio 1.0 (the default) is the plain warm-up schedule at every step.
    assert [scheduled_lr(s, 1.0, 4, decay_steps=3) for s in range(9)] == [
        warmup_lr(s, 1.0, 4) for s in range(9)
    ]
    # A decay that would start inside the warm-up starts after it; 0 steps: straight down.
    assert scheduled_lr(3, 1.0, 4, lr_min_ratio=0.0, decay_start=0, decay_steps=4) == 0.75
    assert scheduled_lr(5, 1.0, 4, lr_min_ratio=0.1, decay_start=4, decay_steps=0) == 0.1
    with pytest.raises(ConfigError, match="lr_min_ratio"):
        scheduled_lr(1, 1.0, 0, lr_min_ratio=1.5)
    with pytest.raises(ConfigError, match="decay_start"):
        scheduled_lr(1, 1.0, 0, decay_start=-1)


# --------------------------------------------------------------------------- EMA


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2).double()
        self.puzzle_emb = nn.Embedding(4, 2).double()
        self.register_buffer("counter", torch.zeros((), dtype=torch.long))
        self.register_buffer("cache", torch.ones(2), persistent=False)


def test_ema_matches_closed_form_after_k_updates():
    torch.manual_seed(0)
    net = _Net()
    decay, k = 0.9, 6
    ema = EMA(net, decay=decay, exclude={"puzzle_emb"})
    assert set(ema.state_dict()) == {"lin.weight", "lin.bias", "counter"}
    w0 = net.lin.weight.detach().numpy().copy()
    history = []
    for i in range(k):
        with torch.no_grad():
            net.lin.weight.add_(torch.randn_like(net.lin.weight))
            net.counter.fill_(i + 1)
        history.append(net.lin.weight.detach().numpy().copy())
        ema.update(net)
    # s_k = d^k s_0 + (1 - d) sum_i d^(k - i) p_i
    expected = decay**k * w0 + sum(
        (1 - decay) * decay ** (k - i) * p for i, p in enumerate(history, start=1)
    )
    np.testing.assert_allclose(ema.shadow["lin.weight"].numpy(), expected, rtol=1e-13)
    assert ema.buffers["counter"].item() == k


def test_ema_averaged_model_copy_to_and_exclusion():
    net = _Net()
    ema = EMA(net, decay=0.5, exclude=["puzzle_emb.weight"])
    before = copy.deepcopy(net.state_dict())
    with torch.no_grad():
        for p in net.parameters():
            p.add_(2.0)
    ema.update(net)
    averaged = ema.averaged_model(net)
    assert averaged is not net
    torch.testing.assert_close(averaged.lin.weight, before["lin.weight"] + 1.0)
    # the excluded embedding keeps the model's current value; the training model is untouched
    torch.testing.assert_close(averaged.puzzle_emb.weight, net.puzzle_emb.weight)
    torch.testing.assert_close(net.lin.weight, before["lin.weight"] + 2.0)
    ema.copy_to(net)
    torch.testing.assert_close(net.lin.weight, before["lin.weight"] + 1.0)
    torch.testing.assert_close(net.puzzle_emb.weight, before["puzzle_emb.weight"] + 2.0)


def test_ema_state_dict_round_trip_and_mismatch():
    net = _Net()
    ema = EMA(net)
    with torch.no_grad():
        net.lin.weight.mul_(3)
    ema.update(net)
    other = EMA(_Net())
    other.load_state_dict({k: v.clone() for k, v in ema.state_dict().items()})
    for name, t in ema.state_dict().items():
        assert torch.equal(other.state_dict()[name], t)
    with pytest.raises(CheckpointError, match="missing"):
        other.load_state_dict({"lin.weight": torch.zeros(2, 3)})
    bad = {k: v.clone() for k, v in ema.state_dict().items()}
    bad["lin.weight"] = torch.zeros(5)
    with pytest.raises(CheckpointError, match="shape"):
        other.load_state_dict(bad)
    with pytest.raises(ConfigError, match="decay"):
        EMA(net, decay=1.5)
    with pytest.raises(ConfigError, match="no parameter"):
        EMA(net).update(nn.Linear(1, 1))


# --------------------------------------------------------------------------- checkpoints


def _meta(step: int = 7, kind: str = "sudoku", **extra) -> dict:
    return {
        "neurosym_version": "0.1.0",
        "config": {"hidden_size": 8, "betas": [0.9, 0.95], "name": "tiny"},
        "task": {"kind": kind, "size": 4},
        "step": step,
        "metrics": {"loss": 0.25, "exact_accuracy": None},
        **extra,
    }


def _tensors() -> dict[str, torch.Tensor]:
    base = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    return {
        "model.w": base,
        "model.tied": base,  # shares storage with model.w
        "model.view": base[1],  # a view into it
        "model.bf16": torch.linspace(-1, 1, 5).bfloat16(),
        "model.idx": torch.tensor([1, -2, 3], dtype=torch.int64),
        "model.mask": torch.tensor([True, False]),
        "model.scalar": torch.tensor(2.5),
        "model.empty": torch.zeros(0, 3),
        "model.transposed": base.t(),  # non-contiguous
    }


def _assert_tensors_equal(got, expected):
    assert set(got) == set(expected)
    for name, t in expected.items():
        assert got[name].dtype == t.dtype, name
        assert torch.equal(got[name], t), name


def _files(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("form", ["dir", "stem", "json", "safetensors"])
def test_checkpoint_round_trip(tmp_path, form):
    target = {
        "dir": f"{tmp_path}/run/ckpt/",
        "stem": tmp_path / "run" / "step_7",
        "json": tmp_path / "step_7.json",
        "safetensors": tmp_path / "step_7.safetensors",
    }[form]
    meta = _meta()
    written = save_checkpoint(target, tensors=_tensors(), meta=meta)
    json_path, data_path = checkpoint_paths(target)
    assert written == json_path
    assert _files(json_path.parent) == sorted([json_path.name, data_path.name])
    for way in {target, json_path, data_path}:
        tensors, loaded = load_checkpoint(way, expected_kind="sudoku")
        _assert_tensors_equal(tensors, _tensors())
        assert {k: loaded[k] for k in meta} == meta
        assert loaded["format"] == FORMAT and loaded["format_version"] == FORMAT_VERSION
        assert loaded["tensors_file"]["name"] == data_path.name
    # the JSON is plain, readable JSON
    doc = json.loads(json_path.read_text())
    assert doc["config"]["hidden_size"] == 8 and len(doc["tensors_file"]["sha256"]) == 64


def test_checkpoint_tuples_become_lists_and_bad_meta_is_rejected(tmp_path):
    _, meta = load_checkpoint(
        save_checkpoint(tmp_path / "a", tensors={}, meta=_meta(extra_tuple=(1, 2)))
    )
    assert meta["extra_tuple"] == [1, 2]
    bad_metas = {
        "numpy.int64": _meta(extra=np.int64(3)),
        "non-string key": _meta(extra={1: "a"}),
        "lacks required": {k: v for k, v in _meta().items() if k != "config"},
        "reserved": _meta(format="x"),
        "must be of type int": _meta(step="7"),
        "'kind'": {**_meta(), "task": {"size": 4}},
        ">= 0": _meta(step=-1),
    }
    for match, meta in bad_metas.items():
        with pytest.raises(CheckpointError, match=match):
            save_checkpoint(tmp_path / "b", tensors={}, meta=meta)
    with pytest.raises(CheckpointError, match="not a Tensor"):
        save_checkpoint(tmp_path / "b", tensors={"x": [1.0]}, meta=_meta())
    assert _files(tmp_path) == ["a.json", "a.safetensors"]


def test_prefix_helpers():
    state = {"w": torch.zeros(1), "b": torch.ones(1)}
    assert strip_prefix({**with_prefix(state, "model"), "ema.w": torch.ones(1)}, "model") == state


@pytest.mark.parametrize("name", ["adamatan2", "adamw"])
def test_optimizer_resume_gives_the_same_next_step(tmp_path, name):
    torch.manual_seed(0)
    x, y = torch.randn(8, 4), torch.randn(8, 2)

    def train_step(model, opt, lr):
        set_lr(opt, lr)
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()

    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    opt = make_optimizer(name, model.parameters(), lr=1e-2, weight_decay=0.1)
    for step in range(1, 4):
        train_step(model, opt, warmup_lr(step, 1e-2, 5))

    saved_groups = copy.deepcopy(opt.state_dict()["param_groups"])
    optim_tensors, optim_desc = optimizer_state_to_tensors(opt.state_dict())
    save_checkpoint(
        tmp_path / "resume",
        tensors={**with_prefix(model.state_dict(), "model"), **optim_tensors},
        meta=_meta(step=3, optimizers={"network": optim_desc}),
    )
    train_step(model, opt, warmup_lr(4, 1e-2, 5))  # the uninterrupted run

    tensors, meta = load_checkpoint(tmp_path / "resume")
    model2 = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    model2.load_state_dict(strip_prefix(tensors, "model"))
    opt2 = make_optimizer(name, model2.parameters(), lr=123.0, weight_decay=0.0)
    state = optimizer_state_from_tensors(tensors, meta["optimizers"]["network"])
    assert state["param_groups"] == saved_groups  # tuples (betas) restored as tuples
    opt2.load_state_dict(state)
    train_step(model2, opt2, warmup_lr(meta["step"] + 1, 1e-2, 5))
    for a, b in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(a, b)


def test_optimizer_state_description_errors():
    tensors, desc = optimizer_state_to_tensors(
        {"state": {0: {"step": torch.tensor(1.0), "note": "x"}}, "param_groups": [{"params": [0]}]}
    )
    assert desc["state"]["0"] == {"tensors": ["step"], "values": {"note": "x"}}
    with pytest.raises(CheckpointError, match="missing"):
        optimizer_state_from_tensors({}, desc)
    with pytest.raises(CheckpointError, match="malformed"):
        optimizer_state_from_tensors(tensors, {"prefix": "optim"})
    with pytest.raises(CheckpointError, match="JSON cannot"):
        optimizer_state_to_tensors({"state": {0: {"x": object()}}, "param_groups": []})


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
def test_rng_state_round_trip_through_a_checkpoint(tmp_path, bit_generator):
    gen = np.random.Generator(bit_generator(5))
    tgen = torch.Generator().manual_seed(3)
    random.random(), gen.random(), torch.rand(1), torch.rand(1, generator=tgen)  # advance all
    rng_tensors, rng_json = rng_state(gen, torch_generator=tgen)
    save_checkpoint(tmp_path / "r", tensors=rng_tensors, meta=_meta(rng=rng_json))

    def draws():
        return (
            [random.random() for _ in range(3)],
            gen.random(3).tolist(),
            torch.rand(3).tolist(),
            torch.randint(0, 100, (3,), generator=tgen).tolist(),
        )

    expected = draws()
    tensors, meta = load_checkpoint(tmp_path / "r")
    assert tensors["rng.torch_cpu"].dtype == torch.uint8
    set_rng_state(tensors, meta["rng"], gen, torch_generator=tgen)
    assert draws() == expected


def test_rng_state_errors():
    tensors, state = rng_state()  # no numpy generator captured
    with pytest.raises(CheckpointError, match="no numpy"):
        set_rng_state(tensors, state, np.random.default_rng(0))
    _, pcg = rng_state(np.random.default_rng(0))
    with pytest.raises(CheckpointError, match="numpy"):
        set_rng_state(tensors, pcg, np.random.Generator(np.random.MT19937(0)))
    with pytest.raises(CheckpointError, match="missing"):
        set_rng_state({}, state)
    with pytest.raises(CheckpointError, match="uint8"):
        set_rng_state({"rng.torch_cpu": torch.zeros(3)}, state)
    # a GPU run resumed without that GPU: the CUDA state is skipped
    set_rng_state({**tensors, "rng.torch_cuda.99": tensors["rng.torch_cpu"]}, state)


# --------------------------------------------------------------------------- failure paths


@pytest.fixture
def saved(tmp_path):
    """A valid checkpoint pair: (json path, safetensors path)."""
    save_checkpoint(tmp_path / "ck", tensors=_tensors(), meta=_meta())
    return checkpoint_paths(tmp_path / "ck")


@pytest.fixture
def no_unpickling(monkeypatch, tmp_path):
    """Make every unpickling route fail loudly, so a CheckpointError proves none was taken."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the loader tried to unpickle")

    for module, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler")]:
        monkeypatch.setattr(module, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)


class _Trap:
    """Unpickling this creates a directory: a visible side effect of any unpickling."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _rewrite_json(json_path, **changes):
    doc = json.loads(json_path.read_text())
    doc.update(changes)
    json_path.write_text(json.dumps(doc))


def test_missing_files(tmp_path, saved):
    json_path, data_path = saved
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nothing_here")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "empty_dir/")
    data_path.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(json_path)


def test_safetensors_without_json_is_refused(tmp_path):
    save_file({"w": torch.zeros(2)}, tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match=r"foreign\.json is missing"):
        load_checkpoint(tmp_path / "foreign.safetensors")


def test_foreign_safetensors_with_a_forged_json_is_refused(saved):
    json_path, data_path = saved
    save_file({"w": torch.zeros(2)}, data_path)  # no neurosym header
    raw = data_path.read_bytes()
    _rewrite_json(
        json_path,
        tensors_file={
            "name": data_path.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "bytes": len(raw),
        },
    )
    with pytest.raises(CheckpointError, match="not a neurosym tensors file"):
        load_checkpoint(json_path)


def test_truncated_safetensors(saved):
    json_path, data_path = saved
    raw = data_path.read_bytes()
    data_path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(json_path)


def test_flipped_byte_is_a_checksum_mismatch(saved):
    json_path, data_path = saved
    raw = bytearray(data_path.read_bytes())
    raw[-3] ^= 0x01  # inside the tensor data: safetensors alone would not notice
    data_path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(json_path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b'{"weights": [1, 2]}', "not a neurosym checkpoint"),
        (b"[1, 2, 3]", "not a neurosym checkpoint"),
    ],
)
def test_bad_json(saved, content, match):
    json_path, _ = saved
    json_path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(json_path)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"format_version": FORMAT_VERSION + 1}, "newer"),
        ({"format_version": "1"}, "unknown format_version"),
        ({"format_version": 0}, "unknown format_version"),
        ({"tensors_file": {"name": "../x.safetensors", "sha256": "0" * 64, "bytes": 1}}, "outside"),
        ({"tensors_file": {"name": "ck.safetensors"}}, "tensors_file"),
        ({"step": -3}, "step"),
    ],
)
def test_invalid_json_fields(saved, changes, match):
    json_path, _ = saved
    _rewrite_json(json_path, **changes)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(json_path)


@pytest.mark.parametrize("key", ["config", "task", "step", "neurosym_version", "tensors_file"])
def test_missing_json_keys(saved, key):
    json_path, _ = saved
    doc = json.loads(json_path.read_text())
    del doc[key]
    json_path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=key):
        load_checkpoint(json_path)


def test_wrong_task_kind(saved):
    json_path, _ = saved
    with pytest.raises(CheckpointError, match="'sudoku' checkpoint, expected 'maze'"):
        load_checkpoint(json_path, expected_kind="maze")


@pytest.mark.parametrize("zip_format", [True, False])
@pytest.mark.usefixtures("no_unpickling")
def test_pickle_files_are_refused_without_unpickling(tmp_path, saved, zip_format):
    json_path, data_path = saved
    marker = tmp_path / "unpickled"
    payload = {"model": _Trap(str(marker))}

    def write_pickle(path):
        # Writing a pickle is safe; only loading one must never happen.
        torch.save(payload, path, _use_new_zipfile_serialization=zip_format)

    write_pickle(data_path)  # a pickle under the tensors file's name
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_checkpoint(json_path)
    write_pickle(json_path)  # and under the JSON's name
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_checkpoint(json_path)
    write_pickle(tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_checkpoint(tmp_path / "model.pt")
    json_path.unlink()
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_checkpoint(data_path)
    assert not marker.exists()


# --------------------------------------------------------------------------- atomic writes


def test_overwrite_leaves_no_temporary_files(tmp_path):
    for step in (1, 2, 3):
        save_checkpoint(
            tmp_path / "latest", tensors={"w": torch.full((2,), step)}, meta=_meta(step)
        )
    assert _files(tmp_path) == ["latest.json", "latest.safetensors"]
    tensors, meta = load_checkpoint(tmp_path / "latest")
    assert meta["step"] == 3 and tensors["w"].tolist() == [3, 3]


@pytest.mark.parametrize(
    ("failing_call", "survivor"),
    [(1, "old"), (2, "new"), (3, "new")],  # 1: JSON commit, 2: tensors rename, 3: JSON tidy-up
)
def test_interrupted_save_leaves_a_complete_checkpoint(
    tmp_path, monkeypatch, failing_call, survivor
):
    old = {"w": torch.zeros(3)}
    new = {"w": torch.ones(3)}
    save_checkpoint(tmp_path / "latest", tensors=old, meta=_meta(step=1))

    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == failing_call:
            raise OSError("disk full (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(tmp_path / "latest", tensors=new, meta=_meta(step=2))
    monkeypatch.setattr(os, "replace", real_replace)

    tensors, meta = load_checkpoint(tmp_path / "latest")
    expected_tensors, expected_step = (old, 1) if survivor == "old" else (new, 2)
    _assert_tensors_equal(tensors, expected_tensors)
    assert meta["step"] == expected_step
    if failing_call == 1:  # nothing was committed, so nothing is left over
        assert _files(tmp_path) == ["latest.json", "latest.safetensors"]

    save_checkpoint(tmp_path / "latest", tensors=new, meta=_meta(step=3))
    assert _files(tmp_path) == ["latest.json", "latest.safetensors"]
    assert load_checkpoint(tmp_path / "latest")[1]["step"] == 3


def test_failure_while_writing_tensors_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "c", tensors={"w": torch.zeros(2)}, meta=_meta(step=1))

    def broken_save_file(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise RuntimeError("killed mid-write (simulated)")

    monkeypatch.setattr(ckpt, "save_file", broken_save_file)
    with pytest.raises(CheckpointError, match="simulated"):
        save_checkpoint(tmp_path / "c", tensors={"w": torch.ones(2)}, meta=_meta(step=2))
    assert _files(tmp_path) == ["c.json", "c.safetensors"]
    assert load_checkpoint(tmp_path / "c")[1]["step"] == 1


def test_load_rereads_when_a_concurrent_save_swaps_the_files(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "live", tensors={"w": torch.zeros(2)}, meta=_meta(step=1))
    real_read_tensors = ckpt._read_tensors
    raced = []

    def racing_read(json_path, data_path, meta):
        if not raced:  # a trainer saves between our reading the JSON and the tensors
            raced.append(meta["step"])
            save_checkpoint(tmp_path / "live", tensors={"w": torch.ones(2)}, meta=_meta(step=2))
        return real_read_tensors(json_path, data_path, meta)

    monkeypatch.setattr(ckpt, "_read_tensors", racing_read)
    tensors, meta = load_checkpoint(tmp_path / "live")
    assert raced == [1]
    assert meta["step"] == 2 and tensors["w"].tolist() == [1.0, 1.0]
