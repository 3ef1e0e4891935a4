"""TRM hyper-parameters: the frozen :class:`TRMConfig` and named presets, from CPU-tiny to the
paper's models (whose parameter counts match the reference code exactly).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tasks.errors import ConfigError, describe_validation_error

__all__ = ["TRMConfig", "PRESETS", "preset", "swiglu_hidden_size"]


def swiglu_hidden_size(width: int, expansion: float) -> int:
    """Intermediate size of a SwiGLU over ``width`` features: ``round(expansion * width * 2/3)``
    rounded up to a multiple of 256, as in the reference code.

    The 2/3 keeps a gated MLP's parameter count close to an ungated one with the same
    ``expansion``; the multiple of 256 keeps matrix shapes friendly to GPU kernels.

    Examples
    --------
    >>> swiglu_hidden_size(512, 4), swiglu_hidden_size(97, 4), swiglu_hidden_size(916, 4)
    (1536, 512, 2560)
    """
    inner = round(expansion * width * 2 / 3)
    return -(-inner // 256) * 256


def _config_error(exc: ValidationError) -> ConfigError:
    # A custom __init__ runs inside model_validate too, so its ConfigError can come back wrapped
    # in a ValidationError; unwrap it rather than prefixing the message twice.
    for err in exc.errors():
        original = err.get("ctx", {}).get("error")
        if isinstance(original, ConfigError):
            return original
    return ConfigError(f"invalid TRMConfig: {describe_validation_error(exc)}")


class TRMConfig(BaseModel):
    """Hyper-parameters of a Tiny Recursive Model; each description names the paper's symbol.

    Frozen and strict about names: a typo in a field name is an error, not a silently ignored
    key. Invalid values raise :class:`~tasks.errors.ConfigError` naming the field.

    Examples
    --------
    >>> cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=64)
    >>> cfg.total_seq_len, cfg.mixer, cfg.effective_depth
    (97, 'mlp', 42)
    >>> TRMConfig(vocab_size=11, seq_len=81, hiden_size=64)
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: invalid TRMConfig: hiden_size: Extra inputs are not permitted
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- data shape: fixed by the task codec -------------------------------------------------
    vocab_size: int = Field(
        description="V: token vocabulary size, pad included (9x9 Sudoku 11, maze 6)."
    )
    seq_len: int = Field(
        description="Tokens per puzzle, without the prefix (9x9 Sudoku 81, 30x30 maze 900)."
    )
    # --- network ------------------------------------------------------------------------------
    arch: Literal["trm", "hrm"] = Field(
        "trm",
        description=(
            "'trm' = one shared network for z and y, backprop through the last n + 1 "
            "applications (the paper's TRM); 'hrm' = the HRM baseline (trm.hrm): separate "
            "low-level f_L and high-level f_H networks of num_layers blocks each, only the final "
            "f_L and f_H application get gradients (the 1-step approximation), and a Q-learned "
            "halt/continue head. For 'hrm', n_latent_steps is L_cycles (f_L updates per f_H "
            "update, the HRM paper's T) and n_improve_steps is H_cycles (the HRM paper's N)."
        ),
    )
    hidden_size: int = Field(512, description="D: width of x, y, z and every layer (paper 512).")
    num_heads: int = Field(8, description="Attention heads (paper 8, head dim 64); attention only.")
    expansion: float = Field(
        4.0, description="SwiGLU expansion; the inner size is round(e*w*2/3) up to 256k."
    )
    num_layers: int = Field(
        2,
        description="Blocks in the one shared network net (paper 2); for 'hrm', in each of "
        "f_L and f_H (HRM paper 4).",
    )
    mixer: Literal["mlp", "attention", "peers", "conv", "graph"] = Field(
        "mlp",
        description=(
            "Token mixer: 'mlp' = SwiGLU across positions (the paper's TRM-MLP, no positional "
            "encoding), 'attention' = non-causal self-attention with RoPE (TRM-Att). Beyond the "
            "paper, both size-agnostic (no table tied to one grid size): 'peers' = attention "
            "restricted to each Sudoku cell's constraint peers (a third of the heads each for "
            "row, column and box; the prefix slots see and are seen by every cell), 'conv' = a "
            "3x3 convolution over the grid (the prefix slots read the mean over cells), 'graph' = "
            "message passing over a maze's free-cell graph (each free cell reads itself and its "
            "free 4-neighbours, by a linear map per direction and by their elementwise max; "
            "walls neither send nor receive)."
        ),
    )
    grid_height: int | None = Field(
        None,
        description="Rows of the training grid ('peers', 'conv', 'graph'); height*width = seq_len.",
    )
    grid_width: int | None = Field(None, description="Columns of the training grid.")
    box_rows: int | None = Field(
        None, description="'peers' only: rows per Sudoku box of the training grid."
    )
    box_cols: int | None = Field(
        None, description="'peers' only: columns per Sudoku box of the training grid."
    )
    puzzle_prefix_len: int = Field(
        16,
        description=(
            "Prefix slots before the tokens (paper 16): slot 0 holds the puzzle embedding and "
            "is where the halt head reads y; the rest start at zero and act as scratch registers."
        ),
    )
    num_puzzle_ids: int = Field(
        1,
        description=(
            "Rows of the puzzle-embedding table: 1 for Sudoku and Maze (one learned task vector "
            "shared by all examples), one per augmented puzzle for ARC."
        ),
    )
    # --- recursion ----------------------------------------------------------------------------
    n_latent_steps: int = Field(
        6, description="n: updates z <- net(z, y + x) before each y <- net(y, z) (paper 6)."
    )
    n_improve_steps: int = Field(
        3,
        description=(
            "T: latent recursions per supervision step, T-1 without gradients and 1 with (paper 3)."
        ),
    )
    max_supervision_steps: int = Field(
        16, description="N_sup: most supervision steps (forward calls) per example (paper 16)."
    )
    halt_exploration_prob: float = Field(
        0.1,
        description="ACT exploration: chance a training example gets a random minimum step count.",
    )
    gradient: Literal["recursion", "one_step", "all_cycles"] | None = Field(
        None,
        description=(
            "Which network applications of a supervision step get gradients. None = the "
            "architecture's own rule: 'recursion' for 'trm', 'one_step' for 'hrm'. 'recursion' "
            "= the last latent recursion's n + 1 applications (the paper's TRM); 'one_step' = "
            "only the final z update and the y update (HRM's 1-step approximation; the "
            "paper's ablation, 87.4 -> 56.5 on Sudoku-Extreme); 'all_cycles' = all T(n + 1) "
            "applications, no improvement cycle without gradients (beyond the paper). 'hrm' "
            "takes only None or 'one_step'."
        ),
    )
    # --- numerics -----------------------------------------------------------------------------
    rms_norm_eps: float = Field(1e-5, description="Epsilon of the scale-free RMSNorm.")
    rope_theta: float = Field(10000.0, description="RoPE base frequency (attention mixer only).")

    def __init__(self, **data: Any) -> None:
        # Callers catch one library error; pydantic's ValidationError stays an implementation
        # detail (its message is kept, trimmed to "field: problem").
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> TRMConfig:
        """Like pydantic's, but raising :class:`~tasks.errors.ConfigError` (checkpoint loading)."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> TRMConfig:
        """Like pydantic's, but raising :class:`~tasks.errors.ConfigError` (checkpoint loading)."""
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @field_validator(
        "vocab_size",
        "seq_len",
        "hidden_size",
        "num_heads",
        "num_layers",
        "puzzle_prefix_len",  # slot 0 carries the task vector and the halt read-out
        "num_puzzle_ids",
        "n_latent_steps",
        "n_improve_steps",
        "max_supervision_steps",
    )
    @classmethod
    def _at_least_one(cls, value: int, info: ValidationInfo) -> int:
        # vocab_size needs a pad token and at least one symbol.
        minimum = 2 if info.field_name == "vocab_size" else 1
        if value < minimum:
            raise ValueError(f"must be >= {minimum}, got {value}")
        return value

    @field_validator("expansion", "rms_norm_eps", "rope_theta")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:  # also rejects NaN
            raise ValueError(f"must be > 0, got {value}")
        return value

    @field_validator("halt_exploration_prob")
    @classmethod
    def _probability(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"must be in [0, 1], got {value}")
        return value

    @model_validator(mode="after")
    def _check_heads(self) -> TRMConfig:
        for name in ("grid_height", "grid_width", "box_rows", "box_cols"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.arch == "hrm" and self.gradient not in (None, "one_step"):
            raise ValueError(
                f"arch 'hrm' trains with the one-step gradient only, got gradient {self.gradient!r}"
            )
        if self.mixer == "peers":
            if self.box_rows is None or self.box_cols is None:
                raise ValueError("mixer 'peers' needs box_rows and box_cols (the training box)")
            side = self.box_rows * self.box_cols
            if (self.grid_height or side, self.grid_width or side) != (side, side):
                raise ValueError(
                    f"mixer 'peers' with {self.box_rows}x{self.box_cols} boxes needs a "
                    f"{side}x{side} grid, got {self.grid_height}x{self.grid_width}"
                )
            if self.seq_len != side * side:
                raise ValueError(
                    f"mixer 'peers' with {self.box_rows}x{self.box_cols} boxes needs seq_len "
                    f"{side * side}, got {self.seq_len}"
                )
            if self.num_heads % 3:
                raise ValueError(
                    f"mixer 'peers' splits the heads into row, column and box groups: "
                    f"num_heads must be a multiple of 3, got {self.num_heads}"
                )
        if self.mixer in ("conv", "graph"):
            if self.grid_height is None or self.grid_width is None:
                raise ValueError(f"mixer {self.mixer!r} needs grid_height and grid_width")
            if self.grid_height * self.grid_width != self.seq_len:
                raise ValueError(
                    f"grid_height*grid_width = {self.grid_height * self.grid_width} must equal "
                    f"seq_len {self.seq_len}"
                )
        if self.mixer in ("attention", "peers"):
            if self.hidden_size % self.num_heads:
                raise ValueError(
                    f"hidden_size {self.hidden_size} must be divisible by num_heads "
                    f"{self.num_heads} for the attention mixer"
                )
            if self.head_dim % 2:
                raise ValueError(
                    f"head dim hidden_size/num_heads = {self.head_dim} must be even for RoPE"
                )
        return self

    # --- derived sizes ------------------------------------------------------------------------
    @property
    def total_seq_len(self) -> int:
        """Positions the network sees: ``seq_len + puzzle_prefix_len`` (97 for paper Sudoku)."""
        return self.seq_len + self.puzzle_prefix_len

    @property
    def size_agnostic(self) -> bool:
        """True for the mixers that run on other grid sizes than the training one."""
        return self.mixer in ("peers", "conv", "graph")

    @property
    def head_dim(self) -> int:
        """Width of one attention head, ``hidden_size // num_heads``."""
        return self.hidden_size // self.num_heads

    @property
    def effective_depth(self) -> int:
        """Layers applied per supervision step, ``T * (n + 1) * num_layers`` (paper: 42; for
        'hrm' ``H_cycles * (L_cycles + 1) * num_layers``, the HRM paper's 24)."""
        return self.n_improve_steps * (self.n_latent_steps + 1) * self.num_layers


_MAZE_CONV = dict(
    vocab_size=6,
    seq_len=225,
    hidden_size=64,
    num_heads=4,
    mixer="conv",
    grid_height=15,
    grid_width=15,
    puzzle_prefix_len=1,
    n_latent_steps=3,
    n_improve_steps=2,
    max_supervision_steps=16,
)
_PAPER_SUDOKU = dict(vocab_size=11, seq_len=81, hidden_size=512, num_heads=8, puzzle_prefix_len=16)
_PAPER_ARC = dict(
    vocab_size=12,
    seq_len=900,
    hidden_size=512,
    num_heads=8,
    puzzle_prefix_len=16,
    num_puzzle_ids=960 * 1001 + 1,
    n_latent_steps=4,
    n_improve_steps=3,
)

#: Named configurations. The ``trm-*`` entries are the paper's models (TRM_REFERENCE §1.2 gives
#: their parameter counts), ``hrm-sudoku`` the HRM paper's; the others are sized for a 2-core CPU.
PRESETS: dict[str, TRMConfig] = {
    # 6x6 Sudoku (tokens: pad, blank, digits 1-6): learns in minutes on a laptop CPU.
    "sudoku6-tiny": TRMConfig(
        vocab_size=8,
        seq_len=36,
        hidden_size=64,
        num_heads=4,
        mixer="mlp",
        puzzle_prefix_len=1,
        n_latent_steps=2,
        n_improve_steps=2,
        max_supervision_steps=4,
    ),
    # 9x9 Sudoku with the 6x6 recipe (hidden 64, T=2, n=2, N_sup=4): the fastest 9x9 to train
    # on one CPU thread; a throwaway prototype of it reached 75% raw / 49% EMA in 10 minutes.
    "sudoku9-tiny": TRMConfig(
        vocab_size=11,
        seq_len=81,
        hidden_size=64,
        num_heads=4,
        mixer="mlp",
        puzzle_prefix_len=1,
        n_latent_steps=2,
        n_improve_steps=2,
        max_supervision_steps=4,
    ),
    # 9x9 Sudoku at a quarter of the paper's width and a shallower recursion (depth 20 instead
    # of 42 per step): an hour of 2-core CPU training gets a visible learning curve.
    "sudoku9-small": TRMConfig(
        vocab_size=11,
        seq_len=81,
        hidden_size=128,
        num_heads=4,
        mixer="mlp",
        puzzle_prefix_len=4,
        n_latent_steps=4,
        n_improve_steps=2,
        max_supervision_steps=8,
    ),
    # 15x15 maze canvas (tokens: pad, wall, free, start, goal, path). Attention, because the
    # paper's TRM-MLP scores 0% on mazes: a path needs long-range, position-free mixing.
    "maze-small": TRMConfig(
        vocab_size=6,
        seq_len=225,
        hidden_size=128,
        num_heads=4,
        mixer="attention",
        puzzle_prefix_len=4,
        n_latent_steps=3,
        n_improve_steps=2,
        max_supervision_steps=8,
    ),
    # 9x9 maze canvas with the sudoku9-tiny recipe and the MLP token mixer. On a canvas this
    # small a learned position-mixing matrix can express "look at the 4 neighbours" directly;
    # in 1,000-step probes it reached 16.5% exact paths where attention (RoPE) reached 3%.
    "maze9-tiny": TRMConfig(
        vocab_size=6,
        seq_len=81,
        hidden_size=64,
        num_heads=4,
        mixer="mlp",
        puzzle_prefix_len=1,
        n_latent_steps=2,
        n_improve_steps=2,
        max_supervision_steps=8,
    ),
    # Sudoku with attention over each cell's row, column and box only (no position table), so
    # the same weights run on every box shape whose digits fit the vocabulary (N <= 9 here).
    # Trained on hard 9x9 puzzles (minimal, carved, rated by backtracking guesses).
    "sudoku-peers": TRMConfig(
        vocab_size=11,
        seq_len=81,
        hidden_size=96,
        num_heads=6,
        mixer="peers",
        box_rows=3,
        box_cols=3,
        puzzle_prefix_len=1,
        n_latent_steps=3,
        n_improve_steps=2,
        max_supervision_steps=8,
    ),
    # The same network for 6x6 (2x3 boxes; vocabulary 8 covers grids up to 6 digits).
    "sudoku6-peers": TRMConfig(
        vocab_size=8,
        seq_len=36,
        hidden_size=96,
        num_heads=6,
        mixer="peers",
        box_rows=2,
        box_cols=3,
        puzzle_prefix_len=1,
        n_latent_steps=3,
        n_improve_steps=2,
        max_supervision_steps=8,
    ),
    # Mazes with a 3x3 convolution mixer: local, so a network trained on a 15x15 canvas runs
    # on any H x W, given more recursion (each block application moves information one cell).
    "maze-conv": TRMConfig(**_MAZE_CONV),
    # maze-conv whose labels also carry each free cell's BFS distance from the start mod 3
    # (MazeData(hint="distance")): 3 label-only tokens, hence vocab_size 9.
    "maze-conv-hint": TRMConfig(**{**_MAZE_CONV, "vocab_size": 9}),
    # maze-conv with message passing over the free-cell graph instead of a dense 3x3 kernel:
    # walls block the mixer, so every path of information is a path through the maze.
    "maze-graph": TRMConfig(**{**_MAZE_CONV, "mixer": "graph"}),
    # The paper's models: 5,028,866 / 6,828,034 / 6,822,914 trainable parameters.
    "trm-mlp-sudoku": TRMConfig(**_PAPER_SUDOKU, mixer="mlp", n_latent_steps=6, n_improve_steps=3),
    "trm-att-sudoku": TRMConfig(
        **_PAPER_SUDOKU, mixer="attention", n_latent_steps=6, n_improve_steps=3
    ),
    # n=4 as in the reference README's Maze command (the paper text says 6).
    "trm-att-maze": TRMConfig(
        vocab_size=6,
        seq_len=900,
        hidden_size=512,
        num_heads=8,
        puzzle_prefix_len=16,
        mixer="attention",
        n_latent_steps=4,
        n_improve_steps=3,
    ),
    # The HRM baseline (trm.hrm) at sudoku6-tiny's size: the same width, mixer, prefix and
    # N_sup, and one block in each of f_L and f_H, so the same 2 blocks and exactly the same
    # parameter count (156,290); H_cycles = L_cycles = 2 as in the HRM paper.
    "sudoku6-hrm-tiny": TRMConfig(
        arch="hrm",
        vocab_size=8,
        seq_len=36,
        hidden_size=64,
        num_heads=4,
        mixer="mlp",
        num_layers=1,
        puzzle_prefix_len=1,
        n_latent_steps=2,
        n_improve_steps=2,
        max_supervision_steps=4,
    ),
    # The HRM paper's Sudoku model (27,275,266 trainable parameters, TRM_REFERENCE 1.2): two
    # 4-block attention networks at width 512, H_cycles = L_cycles = 2, one prefix slot.
    "hrm-sudoku": TRMConfig(
        arch="hrm",
        vocab_size=11,
        seq_len=81,
        hidden_size=512,
        num_heads=8,
        mixer="attention",
        num_layers=4,
        puzzle_prefix_len=1,
        n_latent_steps=2,
        n_improve_steps=2,
    ),
    # ARC (tokens: PAD, EOS, colours 0-9 as 2-11; trm.arc_data) on a 10x10 canvas, for tasks
    # whose grids are all <= 10x10 (178 of ARC-AGI-1's 400 training tasks): the reference
    # layout cut down to 100 tokens. num_puzzle_ids is set per run by trm.arc_train.train_arc
    # (one row per augmented view); the table is outside the parameter count.
    "arc-tiny": TRMConfig(
        vocab_size=12,
        seq_len=100,
        hidden_size=64,
        num_heads=4,
        mixer="attention",
        puzzle_prefix_len=2,
        n_latent_steps=2,
        n_improve_steps=2,
        max_supervision_steps=4,
    ),
    # The paper's ARC-AGI-1 models: 30x30 canvas, n=4 as in the reference README, and the
    # reference's table of 960 puzzles x 1001 views + the blank id (outside the counts):
    # 6,829,058 (attention) and 18,801,666 (token MLP) trainable parameters.
    "trm-att-arc": TRMConfig(**_PAPER_ARC, mixer="attention"),
    "trm-mlp-arc": TRMConfig(**_PAPER_ARC, mixer="mlp"),
}


def preset(name: str, **overrides: Any) -> TRMConfig:
    """The preset ``name``, with ``overrides`` applied and validated as a new config.

    Parameters
    ----------
    name
        A key of :data:`PRESETS`.
    **overrides
        Field values to change, e.g. ``hidden_size=32``.

    Returns
    -------
    TRMConfig
        A new config; the preset itself is never modified.

    Raises
    ------
    ConfigError
        For an unknown preset name, an unknown field or an invalid value.

    Examples
    --------
    >>> preset("trm-mlp-sudoku").n_latent_steps
    6
    >>> preset("sudoku6-tiny", hidden_size=32).hidden_size
    32
    >>> preset("sudoku-huge")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: unknown preset 'sudoku-huge'; known: sudoku6-tiny, sudoku9-tiny, ...
    """
    if name not in PRESETS:
        known = ", ".join(PRESETS)
        raise ConfigError(f"unknown preset {name!r}; known: {known}")
    # Re-validate through the constructor: model_copy(update=...) would skip the validators.
    return TRMConfig(**{**PRESETS[name].model_dump(), **overrides})
