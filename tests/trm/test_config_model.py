"""TRMConfig validation and presets; the model's shapes, init, recursion, errors and learning."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from tasks.errors import ConfigError, InvalidTaskError
from trm.config import PRESETS, TRMConfig, preset, swiglu_hidden_size
from trm.model import TRM, Carry, count_parameters, rms_norm


def tiny(**overrides) -> TRMConfig:
    """A 6x6-Sudoku-shaped config small enough for many tests per second."""
    base = dict(
        vocab_size=8,
        seq_len=36,
        hidden_size=32,
        num_heads=4,
        puzzle_prefix_len=2,
        n_latent_steps=2,
        n_improve_steps=2,
        max_supervision_steps=3,
    )
    return TRMConfig(**{**base, **overrides})


def random_inputs(cfg: TRMConfig, batch: int = 4, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, cfg.vocab_size, (batch, cfg.seq_len), generator=gen)


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    # Model init draws from torch's default generator. One thread: these tensors are too small
    # to gain from intra-op parallelism, and a second thread spinning on a core that another
    # process holds can make a step 20x slower.
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("name", "expected"),
    [("trm-mlp-sudoku", 5_028_866), ("trm-att-sudoku", 6_828_034), ("trm-att-maze", 6_822_914)],
)
def test_paper_presets_have_the_reference_parameter_counts(name, expected):
    with torch.device("meta"):
        model = TRM(preset(name))
    assert count_parameters(model) == expected


def test_paper_mlp_block_breakdown_matches_reference():
    # TRM_REFERENCE 1.2: channel SwiGLU 2,359,296 and mlp_t 148,992 (L = 97) per block.
    with torch.device("meta"):
        model = TRM(preset("trm-mlp-sudoku"))
    block = model.net.blocks[0]
    assert sum(p.numel() for p in block.mlp.parameters()) == 2_359_296
    assert sum(p.numel() for p in block.mixer.parameters()) == 148_992
    assert swiglu_hidden_size(97, 4) == 512 and swiglu_hidden_size(512, 4) == 1536


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_builds(name):
    with torch.device("meta"):
        model = TRM(preset(name))
    assert count_parameters(model) > 0


def test_count_parameters_leaves_out_only_the_puzzle_embedding():
    cfg = tiny(num_puzzle_ids=3)
    model = TRM(cfg)
    total = sum(p.numel() for p in model.parameters())
    assert count_parameters(model) == total - 3 * cfg.hidden_size


def test_config_is_frozen():
    cfg = tiny()
    with pytest.raises(ValidationError, match="frozen"):
        cfg.hidden_size = 64


def test_config_rejects_unknown_fields():
    with pytest.raises(ConfigError, match="hiden_size"):
        TRMConfig(vocab_size=11, seq_len=81, hiden_size=64)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("vocab_size", 1, r"vocab_size: must be >= 2, got 1"),
        ("seq_len", 0, r"seq_len: must be >= 1, got 0"),
        ("n_latent_steps", 0, r"n_latent_steps: must be >= 1"),
        ("n_improve_steps", -1, r"n_improve_steps: must be >= 1"),
        ("max_supervision_steps", 0, r"max_supervision_steps: must be >= 1"),
        ("puzzle_prefix_len", 0, r"puzzle_prefix_len: must be >= 1"),
        ("expansion", 0.0, r"expansion: must be > 0"),
        ("rms_norm_eps", float("nan"), r"rms_norm_eps: must be > 0, got nan"),
        ("halt_exploration_prob", 1.5, r"halt_exploration_prob: must be in \[0, 1\], got 1.5"),
        ("mixer", "gru", r"mixer: Input should be 'mlp', 'attention', 'peers', 'conv' or 'graph'"),
        ("hidden_size", "wide", r"hidden_size"),
    ],
)
def test_config_rejects_bad_values_naming_field_and_value(field, value, match):
    with pytest.raises(ConfigError, match=match):
        tiny(**{field: value})


def test_attention_needs_heads_that_divide_width_and_even_head_dim():
    with pytest.raises(ConfigError, match="divisible by num_heads 5"):
        tiny(mixer="attention", hidden_size=32, num_heads=5)
    with pytest.raises(ConfigError, match="must be even for RoPE"):
        tiny(mixer="attention", hidden_size=36, num_heads=4)
    tiny(mixer="mlp", hidden_size=32, num_heads=5)  # heads are unused by the MLP mixer


def test_config_json_round_trip_and_validation_errors():
    cfg = preset("trm-att-maze")
    assert TRMConfig.model_validate_json(cfg.model_dump_json()) == cfg
    assert TRMConfig.model_validate(cfg.model_dump()) == cfg
    with pytest.raises(ConfigError, match="vocab_size: must be >= 2"):
        TRMConfig.model_validate({**cfg.model_dump(), "vocab_size": 0})
    with pytest.raises(ConfigError, match="typo: Extra inputs"):
        TRMConfig.model_validate_json('{"vocab_size": 6, "seq_len": 9, "typo": 1}')


def test_preset_overrides_make_a_new_validated_config():
    before = PRESETS["sudoku6-tiny"]
    cfg = preset("sudoku6-tiny", hidden_size=16)
    assert cfg.hidden_size == 16 and PRESETS["sudoku6-tiny"] is before
    assert before.hidden_size == 64
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        preset("nope")
    with pytest.raises(ConfigError, match="hidden: Extra inputs"):
        preset("sudoku6-tiny", hidden=16)
    with pytest.raises(ConfigError, match="n_latent_steps: must be >= 1"):
        preset("sudoku6-tiny", n_latent_steps=0)


def test_paper_presets_match_reference_hyperparameters():
    mlp = preset("trm-mlp-sudoku")
    assert (mlp.vocab_size, mlp.seq_len, mlp.total_seq_len) == (11, 81, 97)
    assert (mlp.n_improve_steps, mlp.n_latent_steps, mlp.max_supervision_steps) == (3, 6, 16)
    assert mlp.effective_depth == 42
    maze = preset("trm-att-maze")
    assert (maze.vocab_size, maze.seq_len, maze.mixer, maze.n_latent_steps) == (
        6,
        900,
        "attention",
        4,
    )


# ---------------------------------------------------------------- model


@pytest.mark.parametrize("mixer", ["mlp", "attention"])
def test_forward_shapes_dtypes_and_finite_logits(mixer):
    cfg = tiny(mixer=mixer)
    model = TRM(cfg)
    carry = model.initial_carry(4)
    new_carry, logits, halt = model(random_inputs(cfg), carry)
    assert isinstance(new_carry, Carry)
    assert new_carry.y.shape == new_carry.z.shape == (4, cfg.seq_len + 2, cfg.hidden_size)
    assert logits.shape == (4, cfg.seq_len, cfg.vocab_size) and logits.dtype == torch.float32
    assert halt.shape == (4,) and halt.dtype == torch.float32
    assert torch.isfinite(logits).all() and torch.isfinite(new_carry.y).all()
    # The step changed the state: the recursion is not a no-op.
    assert not torch.equal(new_carry.y, carry.y) and not torch.equal(new_carry.z, carry.z)


@pytest.mark.parametrize("mixer", ["mlp", "attention"])
def test_halt_head_starts_far_from_halting(mixer):
    cfg = tiny(mixer=mixer)
    model = TRM(cfg)
    _, _, halt = model(random_inputs(cfg, batch=8), model.initial_carry(8))
    expected = 1 / (1 + math.exp(5))  # ~0.0067
    torch.testing.assert_close(torch.sigmoid(halt), torch.full((8,), expected))


@pytest.mark.parametrize("mixer", ["mlp", "attention"])
def test_only_the_last_cycle_builds_a_graph(mixer):
    cfg = tiny(mixer=mixer, n_latent_steps=3, n_improve_steps=3)
    model = TRM(cfg)
    with_grad, without_grad = [], []

    def count(_module, _args, output):
        (with_grad if output.requires_grad else without_grad).append(output)

    model.net.register_forward_hook(count)
    model(random_inputs(cfg), model.initial_carry(4))
    n, T = cfg.n_latent_steps, cfg.n_improve_steps
    assert len(with_grad) == n + 1  # backprop covers one latent recursion
    assert len(without_grad) == (T - 1) * (n + 1)


@pytest.mark.parametrize(("n_improve_steps", "reaches_carry"), [(1, True), (2, False)])
def test_gradient_reaches_the_incoming_carry_only_without_no_grad_cycles(
    n_improve_steps, reaches_carry
):
    cfg = tiny(n_improve_steps=n_improve_steps)
    model = TRM(cfg)
    start = model.initial_carry(2)
    carry = Carry(y=start.y.requires_grad_(), z=start.z.requires_grad_())
    _, logits, _ = model(random_inputs(cfg, batch=2), carry)
    logits.sum().backward()
    assert (carry.y.grad is not None) is reaches_carry
    assert (carry.z.grad is not None) is reaches_carry


def test_returned_carry_is_detached_and_every_parameter_gets_a_gradient():
    cfg = tiny(mixer="attention")
    model = TRM(cfg)
    carry, logits, halt = model(random_inputs(cfg), model.initial_carry(4))
    for state in (carry.y, carry.z):
        assert not state.requires_grad and state.grad_fn is None
    (logits.logsumexp(-1).mean() + halt.sum()).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
    # The second step starts from the detached carry: a fresh graph, no retain_graph needed.
    _, logits2, _ = model(random_inputs(cfg), carry)
    logits2.sum().backward()


def test_initial_carry_broadcasts_the_fixed_init_vectors():
    cfg = tiny()
    model = TRM(cfg)
    carry = model.initial_carry(3)
    assert torch.equal(carry.y, model.y_init.expand(3, 38, 32))
    assert torch.equal(carry.z, model.z_init.expand(3, 38, 32))
    assert not torch.equal(model.y_init, model.z_init)
    assert not model.y_init.requires_grad and "y_init" in model.state_dict()
    carry.y[0] = 0.0  # materialised, so a trainer can reset rows in place
    assert not torch.equal(model.initial_carry(3).y[0], carry.y[0])
    with pytest.raises(ConfigError, match="batch_size must be >= 1"):
        model.initial_carry(0)


def test_initialisation_statistics():
    cfg = tiny(hidden_size=256, mixer="attention", num_heads=4)
    model = TRM(cfg)
    qkv = model.net.blocks[0].mixer.qkv.weight
    assert qkv.std().item() == pytest.approx(1 / math.sqrt(256), rel=0.05)
    assert qkv.abs().max().item() <= 2 / math.sqrt(256) / 0.879 + 1e-6  # truncated at 2 sigma
    emb = model.token_embedding.weight
    assert emb.std().item() == pytest.approx(1 / math.sqrt(256), rel=0.15)
    assert model.y_init.std().item() == pytest.approx(1.0, rel=0.2)
    assert torch.count_nonzero(model.puzzle_embedding) == 0
    assert torch.count_nonzero(model.q_head.weight) == 0
    assert torch.equal(model.q_head.bias, torch.full((2,), -5.0))


def test_same_seed_same_model_and_state_dict_round_trip():
    cfg = tiny(mixer="attention")
    torch.manual_seed(7)
    a = TRM(cfg)
    torch.manual_seed(7)
    b = TRM(cfg)
    inputs = random_inputs(cfg)
    torch.testing.assert_close(a(inputs, a.initial_carry(4))[1], b(inputs, b.initial_carry(4))[1])
    c = TRM(cfg)  # different draw
    assert set(c.state_dict()) == set(a.state_dict())
    assert not any(k.endswith(("cos", "sin")) for k in a.state_dict())  # derived, not saved
    c.load_state_dict(a.state_dict())
    torch.testing.assert_close(c(inputs, c.initial_carry(4))[1], a(inputs, a.initial_carry(4))[1])


def test_puzzle_ids_select_the_task_vector():
    cfg = tiny(num_puzzle_ids=2)
    model = TRM(cfg)
    with torch.no_grad():
        model.puzzle_embedding[1].normal_()
    inputs = random_inputs(cfg, batch=2)
    carry = model.initial_carry(2)
    default = model(inputs, carry)[1]
    zeros = model(inputs, carry, puzzle_ids=torch.zeros(2, dtype=torch.long))[1]
    ones = model(inputs, carry, puzzle_ids=torch.ones(2, dtype=torch.long))[1]
    torch.testing.assert_close(default, zeros)
    assert not torch.allclose(default, ones)


def test_bad_inputs_raise_library_errors():
    cfg = tiny()
    model = TRM(cfg)
    carry = model.initial_carry(2)
    good = random_inputs(cfg, batch=2)
    with pytest.raises(InvalidTaskError, match=r"inputs holds 8, expected token ids .* \[0, 8\)"):
        model(good.clone().fill_(8), carry)
    with pytest.raises(InvalidTaskError, match="inputs holds -1"):
        model(good.clone().fill_(-1), carry)
    with pytest.raises(InvalidTaskError, match=r"shape \[batch, 36\], got \[2, 35\]"):
        model(good[:, :35], carry)
    with pytest.raises(InvalidTaskError, match="integer tensor"):
        model(good.float(), carry)
    with pytest.raises(ConfigError, match=r"carry.y must have shape \[3, 38, 32\]"):
        model(random_inputs(cfg, batch=3), carry)
    with pytest.raises(InvalidTaskError, match="puzzle_ids holds 1"):
        model(good, carry, puzzle_ids=torch.ones(2, dtype=torch.long))
    with pytest.raises(InvalidTaskError, match=r"puzzle_ids must be .* shape \[2\]"):
        model(good, carry, puzzle_ids=torch.zeros(3, dtype=torch.long))
    with pytest.raises(ConfigError, match="TRMConfig"):
        TRM({"vocab_size": 8})


def test_bf16_autocast_runs_with_fp32_norms_and_halt():
    cfg = tiny(mixer="attention")
    model = TRM(cfg)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        carry, logits, halt = model(random_inputs(cfg), model.initial_carry(4))
    assert logits.dtype == torch.bfloat16 and halt.dtype == torch.float32
    assert torch.isfinite(logits.float()).all() and torch.isfinite(carry.y).all()
    x = torch.randn(3, 5, 16, dtype=torch.bfloat16) * 100
    normed = rms_norm(x, 1e-5)
    assert normed.dtype == torch.bfloat16
    torch.testing.assert_close(
        normed.float().square().mean(-1), torch.ones(3, 5), atol=0.02, rtol=0
    )


@pytest.mark.parametrize("mixer", ["mlp", "attention"])
def test_deep_supervision_memorises_a_small_batch(mixer):
    # A token-wise relabelling learned through deep supervision under plain Adam: the whole
    # path (embedding, recursion, heads, carry hand-over) is trainable.
    cfg = tiny(mixer=mixer, hidden_size=32)
    model = TRM(cfg)
    inputs = random_inputs(cfg, batch=8, seed=1)
    targets = (inputs + 1) % cfg.vocab_size
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        carry = model.initial_carry(8)
        for _ in range(cfg.max_supervision_steps):
            carry, logits, _ = model(inputs, carry)
            loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0], losses
