"""The Hierarchical Reasoning Model (HRM) baseline behind TRM's interface (TRM_REFERENCE.md
section 2, "HRM for contrast"; the HRM paper's Fig. 2 and its ``hrm_act_v1`` code, written anew).

HRM keeps two states: the high-level ``z_H`` (the carry's ``y``, read by the output and Q heads)
and the low-level ``z_L`` (the carry's ``z``), updated by two *separate* networks of
``num_layers`` blocks each (TRM shares one). One supervision step runs ``H_cycles``
(``n_improve_steps``) high-level cycles, each ``L_cycles`` (``n_latent_steps``) updates
``z_L <- f_L(z_L + z_H + x)`` (input injection) followed by one ``z_H <- f_H(z_H + z_L)``. All but
the very last ``f_L`` and the very last ``f_H`` application run without gradients: the
"one-step gradient" approximation (TRM instead backprops through the last ``n + 1``
applications). The carry is detached between supervision steps (deep supervision).

Halting is Q-learned: the Q head gives ``[q_halt, q_continue]`` logits at prefix slot 0 of
``z_H``; an example halts when ``q_halt > q_continue`` (or at ``N_sup`` steps, with TRM's
exploration). :meth:`HRM.forward` returns ``q_halt - q_continue`` as its halt logit, so every
caller that halts on "logit > 0" (training, :func:`trm.inference.predict`, evaluation) applies
HRM's rule unchanged. Training (:func:`trm.train.train`) adds HRM's continue loss: the BCE of
``q_continue`` against ``sigmoid(next q_halt)`` at the last step and ``sigmoid(max(next q_halt,
next q_continue))`` before it, the next values coming from one more forward pass on the new
carry (without gradients; the reference's bootstrapped target, no replay buffer).

Build it with ``TRM(config)`` for a config with ``arch="hrm"`` (presets ``sudoku6-hrm-tiny`` and
``hrm-sudoku``); checkpoints, :func:`trm.inference.load_model`, ``predict`` and ``evaluate`` work
as for a TRM.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tasks.errors import ConfigError
from trm.config import TRMConfig
from trm.model import TRM, Carry, Geometry, ReasoningNet

__all__ = ["HRM"]


class HRM(TRM):
    """HRM: low-level ``l_net`` (f_L) and high-level ``h_net`` (f_H), one-step gradient, Q halting.

    Same constructor, carry, embeddings, heads and :meth:`forward` signature as :class:`TRM`
    (``carry.y`` is z_H, ``carry.z`` is z_L); only the networks and the recursion differ.

    Examples
    --------
    >>> from trm.config import preset
    >>> from trm.model import count_parameters
    >>> model = TRM(preset("sudoku6-hrm-tiny", hidden_size=16))
    >>> type(model).__name__, count_parameters(model) == count_parameters(
    ...     TRM(preset("sudoku6-tiny", hidden_size=16)))
    ('HRM', True)
    >>> carry = model.initial_carry(3)
    >>> carry, logits, halt = model(torch.randint(0, 8, (3, 36)), carry)
    >>> tuple(logits.shape), tuple(halt.shape), tuple(carry.y.shape)
    ((3, 36, 8), (3,), (3, 37, 16))
    >>> float(halt[0])  # q_halt - q_continue: both heads start at bias -5
    0.0
    """

    arch = "hrm"

    def _build_networks(self, config: TRMConfig) -> None:
        # Registered where TRM registers its one network, so the init order is the same.
        self.l_net = ReasoningNet(config)  # f_L: z_L <- f_L(z_L + z_H + x)
        self.h_net = ReasoningNet(config)  # f_H: z_H <- f_H(z_H + z_L)

    # ------------------------------------------------------------------ pieces
    def latent_recursion(
        self, x: Tensor, y: Tensor, z: Tensor, layout: object = None
    ) -> tuple[Tensor, Tensor]:
        """One high-level cycle: ``L_cycles`` updates z_L <- f_L(z_L, z_H + x), then one
        z_H <- f_H(z_H, z_L). Returns (z_H, z_L), i.e. (y, z)."""
        for _ in range(self.config.n_latent_steps):
            z = self.l_net(z, y + x, layout)
        y = self.h_net(y, z, layout)
        return y, z

    def q_logits(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """The Q head at prefix slot 0 of z_H: (q_halt, q_continue) logits, each [B], fp32."""
        q = self.q_head(y[:, 0]).float()
        return q[..., 0], q[..., 1]

    def readout(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Token logits [B, seq_len, V] (prefix dropped) and the halt logit
        ``q_halt - q_continue`` [B] (halt when > 0, i.e. when q_halt > q_continue)."""
        logits = self.lm_head(y)[:, self.config.puzzle_prefix_len :]
        q_halt, q_continue = self.q_logits(y)
        return logits, q_halt - q_continue

    # ------------------------------------------------------------------ one supervision step
    def forward(  # type: ignore[override]  # the extra keyword only widens the return
        self,
        inputs: Tensor,
        carry: Carry,
        puzzle_ids: Tensor | None = None,
        *,
        geometry: Geometry | None = None,
        latent_noise: float | Tensor = 0.0,
        generator: torch.Generator | None = None,
        q_values: bool = False,
    ) -> tuple[Carry, Tensor, Tensor] | tuple[Carry, Tensor, Tensor, Tensor]:
        """One supervision step: ``H_cycles`` high-level cycles, only the final f_L and f_H
        applications with gradients.

        Parameters as in :meth:`TRM.forward` (``latent_noise`` is added to z_L after each
        high-level cycle), plus ``q_values``: return ``(carry, logits, q_halt, q_continue)``
        instead of ``(carry, logits, q_halt - q_continue)`` (what training needs for the Q
        losses).
        """
        geometry = self.check_geometry(geometry)
        self._check_inputs(inputs, carry, puzzle_ids, geometry)
        x = self.embed(inputs, puzzle_ids)
        layout = self._layout(geometry, x.device, inputs)
        cfg = self.config
        y, z = carry.y, carry.z
        with torch.no_grad():
            for _ in range(cfg.n_improve_steps - 1):
                y, z = self.latent_recursion(x, y, z, layout)
                z = self._perturb(z, latent_noise, generator)
            for _ in range(cfg.n_latent_steps - 1):
                z = self.l_net(z, y + x, layout)
        # The one-step gradient: backprop sees only these two applications (and, through x,
        # the embeddings); everything before them is a constant.
        z = self.l_net(z, y + x, layout)
        y = self.h_net(y, z, layout)
        z = self._perturb(z, latent_noise, generator)
        logits = self.lm_head(y)[:, cfg.puzzle_prefix_len :]
        q_halt, q_continue = self.q_logits(y)
        new_carry = Carry(y=y.detach(), z=z.detach())
        if q_values:
            return new_carry, logits, q_halt, q_continue
        return new_carry, logits, q_halt - q_continue

    @torch.no_grad()
    def continue_target(
        self,
        inputs: Tensor,
        next_carry: Carry,
        is_last_step: Tensor,
        puzzle_ids: Tensor | None = None,
    ) -> Tensor:
        """HRM's Q-learning target for ``q_continue`` [B], in [0, 1], without gradients.

        One more supervision step from ``next_carry`` (the carry this step returned) gives the
        next ``(q_halt, q_continue)``; the target is ``sigmoid(next q_halt)`` where
        ``is_last_step`` (the example must halt next) and ``sigmoid(max(next q_halt,
        next q_continue))`` elsewhere.
        """
        if list(is_last_step.shape) != [inputs.shape[0]]:
            raise ConfigError(
                f"is_last_step must have shape [{inputs.shape[0]}], got {list(is_last_step.shape)}"
            )
        _, _, q_halt, q_continue = self(inputs, next_carry, puzzle_ids, q_values=True)
        best = torch.where(is_last_step, q_halt, torch.maximum(q_halt, q_continue))
        return torch.sigmoid(best)
