"""The Tiny Recursive Model in one file: layers, the shared network, and one supervision step
(T-1 latent recursions without gradients, one with), following TRM_REFERENCE.md sections 1-2.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tasks.encodings import MAZE_WALL_ID
from tasks.errors import ConfigError, InvalidTaskError
from trm.config import TRMConfig, swiglu_hidden_size
from trm.mixers import ConvMixer, Geometry, GraphLayout, GraphMixer, PeerAttention, peer_mask

__all__ = ["Carry", "Geometry", "GraphLayout", "TRM", "count_parameters", "peer_mask"]

# Standard deviation of a unit normal cut at +-2 sigma. Dividing by it makes a truncated normal
# have the std asked for (the JAX/LeCun convention the reference uses).
_TRUNC2_STD = math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(2 / math.sqrt(2)))


def _trunc_normal_(tensor: Tensor, std: float) -> Tensor:
    """Fill ``tensor`` in place from a normal cut at +-2 sigma whose final std is ``std``."""
    raw_std = std / _TRUNC2_STD
    return nn.init.trunc_normal_(tensor, mean=0.0, std=raw_std, a=-2 * raw_std, b=2 * raw_std)


def rms_norm(x: Tensor, eps: float) -> Tensor:
    """RMSNorm over the last axis without a learned scale; computed in fp32 (bf16-safe)."""
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.square().mean(-1, keepdim=True) + eps)).to(x.dtype)


class SwiGLU(nn.Module):
    """down(silu(gate) * up) over the last axis, gate and up fused in one bias-free Linear."""

    def __init__(self, width: int, expansion: float) -> None:
        super().__init__()
        inner = swiglu_hidden_size(width, expansion)
        self.gate_up = nn.Linear(width, 2 * inner, bias=False)
        self.down = nn.Linear(inner, width, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class RotaryEmbedding(nn.Module):
    """cos/sin tables for 1-D RoPE over all positions (prefix included), rotate-half layout."""

    def __init__(self, head_dim: int, max_len: int, theta: float) -> None:
        super().__init__()
        inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        freqs = torch.outer(torch.arange(max_len, dtype=torch.float32), inv_freq)
        angles = torch.cat((freqs, freqs), dim=-1)  # [L, head_dim]
        # Not persistent: recomputed from the config, so checkpoints hold only learned state.
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Rotate ``x`` of shape [B, H, L, head_dim]; in fp32, cast back to x's dtype."""
        x32 = x.float()
        half = x32.shape[-1] // 2
        rotated = torch.cat((-x32[..., half:], x32[..., :half]), dim=-1)
        return (x32 * self.cos + rotated * self.sin).to(x.dtype)


class Attention(nn.Module):
    """Non-causal multi-head self-attention with RoPE; every position sees every other."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size, bias=False)
        self.out = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.rotary = RotaryEmbedding(config.head_dim, config.total_seq_len, config.rope_theta)

    def forward(self, x: Tensor) -> Tensor:
        batch, length, width = x.shape
        # [B, L, 3D] -> 3 x [B, H, L, head_dim]
        qkv = self.qkv(x).view(batch, length, 3, self.num_heads, width // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        q, k = self.rotary(q), self.rotary(k)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=False)
        return self.out(y.transpose(1, 2).reshape(batch, length, width))


class Block(nn.Module):
    """Post-norm block: h = norm(h + mix(h)); h = norm(h + swiglu(h))."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.eps = config.rms_norm_eps
        self.mixer_kind = config.mixer
        if config.mixer == "mlp":
            # A SwiGLU across positions: each output position is a learned function of all input
            # positions, so the mixer is position-aware and needs no positional encoding.
            self.mixer: nn.Module = SwiGLU(config.total_seq_len, config.expansion)
        elif config.mixer == "attention":
            self.mixer = Attention(config)
        elif config.mixer == "peers":
            self.mixer = PeerAttention(config)
        elif config.mixer == "graph":
            self.mixer = GraphMixer(config)
        else:
            self.mixer = ConvMixer(config)
        self.mlp = SwiGLU(config.hidden_size, config.expansion)

    def forward(self, h: Tensor, layout: object = None) -> Tensor:
        if self.mixer_kind == "mlp":
            h_t = h.transpose(1, 2)  # [B, D, L]
            # As in the reference, the norm runs while transposed: over positions, not channels.
            h = rms_norm(h_t + self.mixer(h_t), self.eps).transpose(1, 2)
        elif self.mixer_kind == "attention":
            h = rms_norm(h + self.mixer(h), self.eps)
        else:  # peers: layout is the mask; conv: the geometry; graph: a GraphLayout
            h = rms_norm(h + self.mixer(h, layout), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class ReasoningNet(nn.Module):
    """The one network ``net`` that updates both z and y: blocks applied to hidden + injection."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_layers))

    def forward(self, hidden: Tensor, injection: Tensor, layout: object = None) -> Tensor:
        h = hidden + injection  # input injection by elementwise sum
        for block in self.blocks:
            h = block(h, layout)
        return h


@dataclass(slots=True)
class Carry:
    """The recurrent state between supervision steps, each [B, seq_len + prefix, D].

    ``y`` is the current answer embedding (z_H in the reference code), ``z`` the latent
    reasoning state (z_L). :meth:`TRM.forward` returns it detached.

    Examples
    --------
    >>> carry = Carry(y=torch.zeros(2, 5, 8), z=torch.ones(2, 5, 8))
    >>> tuple(carry.z.shape)
    (2, 5, 8)
    """

    y: Tensor
    z: Tensor


class TRM(nn.Module):
    """Tiny Recursive Model: one shared network, answer y and latent z, deep supervision.

    Each :meth:`forward` call is one supervision step. A caller (trainer or predictor) loops it
    up to ``config.max_supervision_steps`` times, feeding the returned carry back in.

    Parameters
    ----------
    config
        Sizes and recursion depths. The model keeps a reference; configs are frozen. A config
        with ``arch="hrm"`` makes ``TRM(config)`` return the HRM baseline
        (:class:`trm.hrm.HRM`, a subclass with the same interface).

    Examples
    --------
    >>> from trm.config import preset
    >>> model = TRM(preset("sudoku6-tiny", hidden_size=16))
    >>> inputs = torch.randint(0, 8, (3, 36))
    >>> carry = model.initial_carry(3)
    >>> carry, logits, halt = model(inputs, carry)
    >>> tuple(logits.shape), tuple(halt.shape), tuple(carry.y.shape)
    ((3, 36, 8), (3,), (3, 37, 16))
    >>> round(torch.sigmoid(halt[0]).item(), 4)  # halt head starts at bias -5: never halts
    0.0067
    """

    #: The ``TRMConfig.arch`` this class implements.
    arch = "trm"

    def __new__(cls, *args: object, **kwargs: object) -> TRM:
        # TRM(config) builds the architecture config.arch names, so every place that builds a
        # model from a config (training, checkpoint loading and validation) builds an HRM for
        # arch="hrm" too. No arguments: copy.deepcopy (EMA) recreating an instance.
        config = args[0] if args else kwargs.get("config")
        if cls is TRM and isinstance(config, TRMConfig) and config.arch == "hrm":
            from trm.hrm import HRM  # trm.hrm subclasses TRM, so it cannot be imported above

            cls = HRM
        return super().__new__(cls)

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        if not isinstance(config, TRMConfig):
            raise ConfigError(f"config must be a TRMConfig, got {type(config).__name__}")
        if config.arch != self.arch:
            raise ConfigError(
                f"{type(self).__name__} implements arch {self.arch!r}, but the config says "
                f"{config.arch!r}; build it with TRM(config)"
            )
        self.config = config
        width = config.hidden_size
        self.embed_scale = math.sqrt(width)  # token entries ~1/sqrt(D), so x entries are O(1)

        self.token_embedding = nn.Embedding(config.vocab_size, width)
        # The reference keeps this table as a zero-initialised buffer with its own sign-SGD
        # optimiser. Here it is a Parameter so autograd reaches it, but count_parameters leaves
        # it out (matching the reference counts), and EMA/optimisers should treat it apart.
        self.puzzle_embedding = nn.Parameter(torch.zeros(config.num_puzzle_ids, width))
        self._build_networks(config)
        self.lm_head = nn.Linear(width, config.vocab_size, bias=False)
        self.q_head = nn.Linear(width, 2)  # [halt, continue] logits; TRM trains only halt

        # Fixed starting points for y and z: one random vector each, broadcast to every position
        # and example. Persistent so a checkpoint reproduces the model exactly.
        self.register_buffer("y_init", _trunc_normal_(torch.empty(width), std=1.0))
        self.register_buffer("z_init", _trunc_normal_(torch.empty(width), std=1.0))
        self._masks: dict[tuple[Geometry, torch.device], Tensor] = {}  # peers mixer, per grid
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                _trunc_normal_(module.weight, std=1.0 / math.sqrt(module.in_features))  # LeCun
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        _trunc_normal_(self.token_embedding.weight, std=1.0 / math.sqrt(self.config.hidden_size))
        with torch.no_grad():
            # sigmoid(-5) ~ 0.0067: no example halts before the head has learned anything.
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)

    def _build_networks(self, config: TRMConfig) -> None:
        """The reasoning network(s): here the one shared ``net``; :class:`trm.hrm.HRM` builds
        two."""
        self.net = ReasoningNet(config)

    # ------------------------------------------------------------------ state
    @property
    def geometry(self) -> Geometry:
        """The training grid: what :meth:`forward` assumes when given no geometry."""
        cfg = self.config
        if cfg.grid_height is not None and cfg.grid_width is not None:
            return Geometry(cfg.grid_height, cfg.grid_width, cfg.box_rows, cfg.box_cols)
        if cfg.box_rows is not None and cfg.box_cols is not None:
            side = cfg.box_rows * cfg.box_cols
            return Geometry(side, side, cfg.box_rows, cfg.box_cols)
        return Geometry(1, cfg.seq_len)  # the paper's mixers see a flat sequence

    def check_geometry(self, geometry: Geometry | None) -> Geometry:
        """``geometry`` (default: the training one), or :class:`ConfigError` when this model
        cannot run on it: the paper's mixers run only at their trained sequence length, and the
        ``peers`` mixer needs a box shape."""
        if geometry is None:
            return self.geometry
        if not isinstance(geometry, Geometry):
            raise ConfigError(f"geometry must be a Geometry, got {type(geometry).__name__}")
        cfg = self.config
        if geometry.height < 1 or geometry.width < 1:
            raise ConfigError(f"geometry must be at least 1x1, got {geometry}")
        if not cfg.size_agnostic and geometry.seq_len != cfg.seq_len:
            raise ConfigError(
                f"mixer {cfg.mixer!r} runs only on its trained {cfg.seq_len} tokens, got a "
                f"{geometry.height}x{geometry.width} grid"
            )
        if cfg.mixer == "peers":
            br, bc = geometry.box_rows, geometry.box_cols
            if (
                br is None
                or bc is None
                or br * bc != geometry.height
                or geometry.height != (geometry.width)
            ):
                raise ConfigError(
                    f"mixer 'peers' needs a Sudoku geometry (N x N, box), got {geometry}"
                )
        return geometry

    def _layout(
        self, geometry: Geometry, device: torch.device, inputs: Tensor | None = None
    ) -> object:
        """What the mixer reads besides h: the peer mask, the geometry, the free cells of each
        maze (a :class:`GraphLayout`, from ``inputs``), or nothing."""
        if self.config.mixer == "peers":
            key = (geometry, device)
            mask = self._masks.get(key)
            if mask is None:
                mask = peer_mask(geometry, self.config.puzzle_prefix_len, self.config.num_heads)
                mask = self._masks[key] = mask.to(device)
            return mask
        if self.config.mixer == "conv":
            return geometry
        if self.config.mixer == "graph":
            if inputs is None:
                raise ConfigError("mixer 'graph' reads the walls from the inputs; pass them")
            free = (inputs > MAZE_WALL_ID).view(-1, geometry.height, geometry.width, 1)
            return GraphLayout(geometry, free.to(device))
        return None

    def initial_carry(
        self,
        batch_size: int,
        device: torch.device | str | None = None,
        geometry: Geometry | None = None,
    ) -> Carry:
        """A fresh carry: ``y_init`` and ``z_init`` at every position of ``batch_size`` examples.

        ``device`` defaults to the model's, ``geometry`` to the training grid. The tensors are
        materialised (not broadcast views), so a trainer may reset some rows in place.
        """
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        geometry = self.check_geometry(geometry)
        length = geometry.seq_len + self.config.puzzle_prefix_len
        shape = (batch_size, length, self.config.hidden_size)
        device = self.y_init.device if device is None else device
        return Carry(
            y=self.y_init.to(device).expand(shape).clone(),
            z=self.z_init.to(device).expand(shape).clone(),
        )

    # ------------------------------------------------------------------ pieces
    def embed(self, inputs: Tensor, puzzle_ids: Tensor | None = None) -> Tensor:
        """x: token embeddings after the puzzle prefix, scaled by sqrt(D); [B, L + prefix, D]."""
        batch, width = inputs.shape[0], self.config.hidden_size
        tokens = self.token_embedding(inputs)  # [B, seq_len, D]
        if puzzle_ids is None:
            task_vector = self.puzzle_embedding[0].expand(batch, width)
        else:
            task_vector = self.puzzle_embedding[puzzle_ids]
        # Slot 0 holds the puzzle embedding; the other prefix slots start at zero and serve as
        # scratch registers the recursion can write to.
        registers = tokens.new_zeros(batch, self.config.puzzle_prefix_len - 1, width)
        x = torch.cat((task_vector[:, None].to(tokens.dtype), registers, tokens), dim=1)
        return self.embed_scale * x

    def latent_recursion(
        self, x: Tensor, y: Tensor, z: Tensor, layout: object = None
    ) -> tuple[Tensor, Tensor]:
        """n updates z <- net(z, y + x), then one y <- net(y, z): x is absent from the y update,
        which is how one network tells its two jobs apart."""
        for _ in range(self.config.n_latent_steps):
            z = self.net(z, y + x, layout)
        y = self.net(y, z, layout)
        return y, z

    def readout(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Token logits [B, seq_len, V] (prefix dropped) and the fp32 halt logit [B] from y."""
        logits = self.lm_head(y)[:, self.config.puzzle_prefix_len :]
        halt_logits = self.q_head(y[:, 0]).float()[..., 0]
        return logits, halt_logits

    # ------------------------------------------------------------------ one supervision step
    def forward(
        self,
        inputs: Tensor,
        carry: Carry,
        puzzle_ids: Tensor | None = None,
        *,
        geometry: Geometry | None = None,
        latent_noise: float | Tensor = 0.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Carry, Tensor, Tensor]:
        """One supervision step: T latent recursions, the last one with gradients (see
        ``config.gradient`` for the other choices).

        Parameters
        ----------
        inputs
            Token ids, integer tensor [B, seq_len], each in ``[0, vocab_size)``.
        carry
            The state from :meth:`initial_carry` or from the previous step.
        puzzle_ids
            Rows of the puzzle-embedding table, integer tensor [B]; ``None`` means id 0 for all.
        geometry
            The grid of ``inputs`` (default: the training grid). Only the size-agnostic mixers
            (``peers``, ``conv``) accept another size.
        latent_noise
            Standard deviation of Gaussian noise added to z after each of the T latent
            recursions (stochastic trajectories at inference; 0 = deterministic); a tensor
            broadcastable to z ([B, 1, 1]) gives each example its own scale.
        generator
            Source of that noise (on the model's device), for reproducible trajectories.

        Returns
        -------
        tuple[Carry, Tensor, Tensor]
            The new carry (detached: gradients never cross supervision steps), token logits
            [B, seq_len, vocab_size] and halt logits [B] in fp32 (halt when > 0).

        Raises
        ------
        InvalidTaskError
            For inputs or puzzle ids of the wrong shape, dtype or range.
        ConfigError
            For a carry or geometry that does not fit this model and batch.
        """
        geometry = self.check_geometry(geometry)
        self._check_inputs(inputs, carry, puzzle_ids, geometry)
        x = self.embed(inputs, puzzle_ids)
        layout = self._layout(geometry, x.device, inputs)
        y, z = carry.y, carry.z
        gradient = self.config.gradient or "recursion"
        # T-1 improvement cycles without a graph: they move (y, z) toward a better answer for
        # free, and backprop covers only the final cycle's n + 1 network applications
        # (gradient="all_cycles" keeps the graph of every cycle instead).
        with torch.no_grad() if gradient != "all_cycles" else contextlib.nullcontext():
            for _ in range(self.config.n_improve_steps - 1):
                y, z = self.latent_recursion(x, y, z, layout)
                z = self._perturb(z, latent_noise, generator)
        if gradient == "one_step":
            # HRM's 1-step approximation: all but the final z update and the y update are
            # constants to backprop.
            with torch.no_grad():
                for _ in range(self.config.n_latent_steps - 1):
                    z = self.net(z, y + x, layout)
            z = self.net(z, y + x, layout)
            y = self.net(y, z, layout)
        else:
            y, z = self.latent_recursion(x, y, z, layout)
        z = self._perturb(z, latent_noise, generator)
        logits, halt_logits = self.readout(y)
        return Carry(y=y.detach(), z=z.detach()), logits, halt_logits

    @staticmethod
    def _perturb(z: Tensor, scale: float | Tensor, generator: torch.Generator | None) -> Tensor:
        if not isinstance(scale, Tensor) and scale <= 0:
            return z
        noise = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
        return z + scale * noise

    def _check_inputs(
        self, inputs: Tensor, carry: Carry, puzzle_ids: Tensor | None, geometry: Geometry
    ) -> None:
        cfg = self.config
        if not isinstance(inputs, Tensor) or inputs.is_floating_point() or inputs.is_complex():
            got = inputs.dtype if isinstance(inputs, Tensor) else type(inputs).__name__
            raise InvalidTaskError(f"inputs must be an integer tensor of token ids, got {got}")
        seq_len = geometry.seq_len if cfg.size_agnostic else cfg.seq_len
        if inputs.dim() != 2 or inputs.shape[1] != seq_len:
            raise InvalidTaskError(
                f"inputs must have shape [batch, {seq_len}], got {list(inputs.shape)}"
            )
        batch = inputs.shape[0]
        expected = [batch, seq_len + cfg.puzzle_prefix_len, cfg.hidden_size]
        for name in ("y", "z"):
            state = getattr(carry, name)
            if list(state.shape) != expected:
                raise ConfigError(
                    f"carry.{name} must have shape {expected}, got {list(state.shape)}"
                )
        if puzzle_ids is not None:
            if puzzle_ids.is_floating_point() or list(puzzle_ids.shape) != [batch]:
                raise InvalidTaskError(
                    f"puzzle_ids must be an integer tensor of shape [{batch}], "
                    f"got {puzzle_ids.dtype} {list(puzzle_ids.shape)}"
                )
        # Range checks cost a device sync, and a compiled graph cannot branch on data, so they
        # run only in eager mode. On CUDA a bad index would otherwise kill the whole context.
        if torch.compiler.is_compiling():
            return
        _check_range("inputs", inputs, cfg.vocab_size, "token ids (vocab_size)")
        if puzzle_ids is not None:
            _check_range("puzzle_ids", puzzle_ids, cfg.num_puzzle_ids, "num_puzzle_ids")


def _check_range(name: str, values: Tensor, upper: int, what: str) -> None:
    if values.numel() == 0:
        return
    low, high = torch.stack(torch.aminmax(values)).tolist()  # one device sync, not two
    if low < 0 or high >= upper:
        bad = low if low < 0 else high
        raise InvalidTaskError(f"{name} holds {bad}, expected {what} in [0, {upper})")


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters, leaving out puzzle embeddings as the reference's counts do.

    Works on a bare :class:`TRM` and on wrappers around one (DDP, ``torch.compile``).

    Examples
    --------
    >>> from trm.config import preset
    >>> with torch.device("meta"):  # no memory, no init cost
    ...     model = TRM(preset("trm-mlp-sudoku"))
    >>> count_parameters(model)
    5028866
    """
    excluded = {id(m.puzzle_embedding) for m in model.modules() if isinstance(m, TRM)}
    return sum(p.numel() for p in model.parameters() if p.requires_grad and id(p) not in excluded)
