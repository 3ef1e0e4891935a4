"""The HRM baseline (trm.hrm): building, shapes, the one-step gradient, Q halting, parameter
counts, checkpoints, learning, and config errors."""

from __future__ import annotations

import copy
import doctest
import json

import pytest
import torch

import trm.hrm
from tasks.errors import CheckpointError, ConfigError
from tasks.sudoku import SudokuTask
from trm.config import PRESETS, TRMConfig, preset
from trm.hrm import HRM
from trm.inference import load_model, predict
from trm.model import TRM, Carry, count_parameters
from trm.train import TrainConfig, train

DATA6 = {
    "kind": "sudoku",
    "box_rows": 2,
    "box_cols": 3,
    "min_givens": 14,
    "max_givens": 22,
    "unique": True,
}


def tiny_hrm(**overrides) -> TRMConfig:
    base = dict(
        arch="hrm",
        vocab_size=8,
        seq_len=36,
        hidden_size=16,
        num_heads=4,
        num_layers=1,
        puzzle_prefix_len=2,
        n_latent_steps=3,
        n_improve_steps=2,
        max_supervision_steps=3,
    )
    return TRMConfig(**{**base, **overrides})


def inputs_for(cfg: TRMConfig, batch: int = 3, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, cfg.vocab_size, (batch, cfg.seq_len), generator=gen)


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- building and shapes


def test_trm_of_an_hrm_config_builds_two_separate_networks():
    model = TRM(tiny_hrm())
    assert type(model) is HRM and isinstance(model, TRM)
    assert not hasattr(model, "net")
    l_params = {id(p) for p in model.l_net.parameters()}
    h_params = {id(p) for p in model.h_net.parameters()}
    assert l_params and h_params and not l_params & h_params  # not shared, unlike TRM
    assert type(copy.deepcopy(model)) is HRM  # EMA copies keep the class
    assert type(TRM(preset("sudoku6-tiny"))) is TRM


@pytest.mark.parametrize("mixer", ["mlp", "attention"])
def test_forward_shapes_and_both_return_forms(mixer):
    cfg = tiny_hrm(mixer=mixer)
    model = TRM(cfg)
    x = inputs_for(cfg, batch=5)
    carry = model.initial_carry(5)
    new, logits, halt = model(x, carry)
    assert tuple(logits.shape) == (5, 36, 8) and tuple(halt.shape) == (5,)
    assert tuple(new.y.shape) == tuple(new.z.shape) == (5, 38, 16)
    assert halt.dtype == torch.float32 and not new.y.requires_grad and not new.z.requires_grad
    _, logits2, q_halt, q_continue = model(x, carry, q_values=True)
    torch.testing.assert_close(logits2, logits)
    torch.testing.assert_close(q_halt - q_continue, halt)


def test_halt_logit_is_q_halt_minus_q_continue():
    model = TRM(tiny_hrm())
    with torch.no_grad():
        model.q_head.bias.copy_(torch.tensor([1.0, 3.0]))  # continue is worth more: no halt
    _, _, halt = model(inputs_for(model.config), model.initial_carry(3))
    assert torch.allclose(halt, torch.full((3,), -2.0))


# ---------------------------------------------------------------- the one-step gradient


def _record_calls(model: HRM) -> list[tuple[str, bool]]:
    calls: list[tuple[str, bool]] = []
    for name in ("l_net", "h_net"):
        getattr(model, name).register_forward_hook(
            lambda _m, _i, out, name=name: calls.append((name, out.requires_grad))
        )
    return calls


def test_only_the_last_l_and_last_h_application_carry_gradients():
    cfg = tiny_hrm(n_latent_steps=3, n_improve_steps=4)
    model = TRM(cfg)
    calls = _record_calls(model)
    model(inputs_for(cfg), model.initial_carry(3))
    # H_cycles * L_cycles low-level and H_cycles high-level updates, in HRM's order ...
    expected = (["l_net"] * 3 + ["h_net"]) * 4
    assert [name for name, _ in calls] == expected
    # ... of which only the final f_L and the final f_H build a graph.
    assert [grad for _, grad in calls] == [False] * (len(expected) - 2) + [True, True]


def test_gradient_equals_backprop_through_the_final_two_applications_only():
    cfg = tiny_hrm(n_latent_steps=2, n_improve_steps=2)
    model = TRM(cfg)
    x_tokens = inputs_for(cfg)
    carry = model.initial_carry(3)
    _, logits, halt = model(x_tokens, carry)
    (logits.square().mean() + halt.mean()).backward()
    got = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()

    # By hand: every update but the last two as constants, then f_L and f_H with a graph.
    x = model.embed(x_tokens)
    with torch.no_grad():
        y, z = carry.y, carry.z
        z = model.l_net(z, y + x)
        z = model.l_net(z, y + x)
        y = model.h_net(y, z)
        z = model.l_net(z, y + x)
    z = model.l_net(z, y + x)
    y = model.h_net(y, z)
    logits2, halt2 = model.readout(y)
    (logits2.square().mean() + halt2.mean()).backward()
    want = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert got.keys() == want.keys()
    assert any(n.startswith("l_net.") for n in got) and any(n.startswith("h_net.") for n in got)
    for name in want:
        torch.testing.assert_close(got[name], want[name], msg=name)


def test_trm_by_contrast_backprops_through_n_plus_one_applications():
    # The property the HRM test checks fails for TRM: its last cycle keeps n + 1 graphs.
    cfg = preset("sudoku6-tiny", hidden_size=16)
    model = TRM(cfg)
    grads: list[bool] = []
    model.net.register_forward_hook(lambda _m, _i, out: grads.append(out.requires_grad))
    model(inputs_for(cfg), model.initial_carry(3))
    assert sum(grads) == cfg.n_latent_steps + 1


# ---------------------------------------------------------------- Q-learning target


def test_continue_target_uses_the_next_steps_q_values():
    model = TRM(tiny_hrm())
    with torch.no_grad():
        model.q_head.bias.copy_(torch.tensor([-1.0, 2.0]))
    x = inputs_for(model.config)
    carry, _, _ = model(x, model.initial_carry(3))
    last = torch.tensor([True, False, True])
    target = model.continue_target(x, carry, last)
    expected = torch.sigmoid(torch.tensor([-1.0, 2.0, -1.0]))  # last: q_halt; else max
    torch.testing.assert_close(target, expected)
    assert not target.requires_grad
    with pytest.raises(ConfigError, match="is_last_step must have shape"):
        model.continue_target(x, carry, torch.tensor([True]))


# ---------------------------------------------------------------- parameter counts


def test_tiny_hrm_preset_matches_the_tiny_trm_preset_parameter_count():
    with torch.device("meta"):
        hrm, trm = TRM(preset("sudoku6-hrm-tiny")), TRM(preset("sudoku6-tiny"))
    assert type(hrm) is HRM
    assert count_parameters(hrm) == count_parameters(trm) == 156_290
    # Same blocks in all: TRM's 2-block net, HRM's two 1-block nets.
    assert preset("sudoku6-hrm-tiny").effective_depth == 6  # TRM's is 12
    assert preset("sudoku6-tiny").effective_depth == 12


def test_paper_hrm_preset_has_the_reference_parameter_count():
    # TRM_REFERENCE 1.2: HRM (two 4-layer nets) 27,275,266 on Sudoku: 8 blocks of attention
    # 1,048,576 + SwiGLU 2,359,296, embedding + lm_head 2*11*512, q_head 1,026.
    with torch.device("meta"):
        model = TRM(preset("hrm-sudoku"))
    assert count_parameters(model) == 27_275_266
    assert len(model.l_net.blocks) == len(model.h_net.blocks) == 4
    assert preset("hrm-sudoku").effective_depth == 24  # the HRM paper's depth per step


def test_only_the_hrm_presets_build_hrms():
    for name, cfg in PRESETS.items():
        is_hrm = name in ("sudoku6-hrm-tiny", "hrm-sudoku")
        assert (cfg.arch == "hrm") is is_hrm, name
        with torch.device("meta"):
            assert (type(TRM(cfg)) is HRM) is is_hrm, name


# ---------------------------------------------------------------- config errors


def test_bad_arch_and_mismatched_classes_raise_config_error():
    with pytest.raises(ConfigError, match="arch: Input should be 'trm' or 'hrm'"):
        tiny_hrm(arch="transformer")
    with pytest.raises(ConfigError, match="HRM implements arch 'hrm'"):
        HRM(preset("sudoku6-tiny"))
    with pytest.raises(ConfigError, match="config must be a TRMConfig"):
        HRM({"arch": "hrm"})
    with pytest.raises(ConfigError, match="n_latent_steps: must be >= 1"):
        preset("sudoku6-hrm-tiny", n_latent_steps=0)


def test_bad_train_config_for_hrm_fails_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="arch"):
        TrainConfig(preset="sudoku6-hrm-tiny", model={"arch": "hrmm"}, data=DATA6)
    with pytest.raises(ConfigError, match="does not fit the data"):
        TrainConfig(preset="sudoku6-hrm-tiny", data={**DATA6, "box_rows": 3, "box_cols": 3})
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- training and checkpoints


def _train_cfg(steps: int, **kw) -> TrainConfig:
    base = dict(
        preset="sudoku6-hrm-tiny",
        model={"hidden_size": 32},
        data=DATA6,
        steps=steps,
        batch_size=16,
        lr=3e-3,
        warmup_steps=10,
        eval_every=0,
        eval_size=16,
        device="cpu",
        seed=0,
    )
    return TrainConfig(**{**base, **kw})


def test_training_steps_decrease_the_loss_and_train_the_q_heads(tmp_path):
    result = train(_train_cfg(120), tmp_path / "run")
    records = [
        json.loads(line)
        for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
        if '"train"' in line
    ]
    first = sum(r["lm_loss"] for r in records[:10]) / 10
    last = sum(r["lm_loss"] for r in records[-10:]) / 10
    assert last < 0.8 * first, (first, last)
    assert all("continue_loss" in r for r in records)
    assert result.eval_metrics is not None and result.eval_metrics["n"] == 16


def test_checkpoint_round_trip_and_resume(tmp_path):
    run = tmp_path / "run"
    train(_train_cfg(6), run)
    loaded = load_model(run, weights="model")
    assert type(loaded.model) is HRM and loaded.config.arch == "hrm"
    # The same weights as training left: a resumed run continues bit-identically.
    train(_train_cfg(10), run, resume=True)
    straight = tmp_path / "straight"
    train(_train_cfg(10), straight)
    a = load_model(run, weights="model").model.state_dict()
    b = load_model(straight, weights="model").model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # predict runs it beside a TRM through the same interface.
    task = SudokuTask.parse("63....\n..2...\n...3..\n.6.1..\n..124.\n.4....", box=(2, 3))
    (pred,) = predict(loaded, None, [task], max_steps=5)
    assert 1 <= pred.steps <= 5


def test_a_trm_checkpoint_relabelled_hrm_is_refused(tmp_path):
    run = tmp_path / "trm"
    cfg = TrainConfig(
        preset="sudoku6-tiny",
        model={"hidden_size": 16},
        data=DATA6,
        steps=2,
        batch_size=4,
        eval_size=0,
        device="cpu",
    )
    train(cfg, run)
    meta_path = run / "checkpoint.json"
    meta = json.loads(meta_path.read_text())
    meta["config"]["arch"] = "hrm"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit its model config"):
        load_model(run)


def test_forward_checks_the_carry_like_trm():
    model = TRM(tiny_hrm())
    bad = Carry(y=torch.zeros(3, 5, 16), z=torch.zeros(3, 5, 16))
    with pytest.raises(ConfigError, match="carry.y must have shape"):
        model(inputs_for(model.config), bad)


def test_doctests():
    result = doctest.testmod(trm.hrm, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
