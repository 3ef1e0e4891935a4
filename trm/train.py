"""Training a TRM with deep supervision over persistent batch slots, ACT halting, EMA, periodic
evaluation, metrics/plots and exactly resumable atomic checkpoints.

Supervision scheme (the reference's, without its dropped rows): the batch is ``batch_size``
*slots*, each holding an example, its carry (y, z) and its step count. Every optimiser step
runs one supervision step for every slot; a slot halts when its step count reaches ``N_sup``,
or when its halt logit is > 0 and it has run at least its minimum step count (0, or with
probability ``halt_exploration_prob`` a draw from 2..N_sup). Halted slots are refilled before
the next step with *new* examples from the stream and fresh carries, so no drawn example is
ever skipped. Loss = mean over slots of the per-sequence stablemax loss + 0.5 * the halt BCE
against "the answer is exactly right"; then the optimiser step (warm-up lr) and the EMA update.
An HRM (``arch="hrm"``, :mod:`trm.hrm`) halts when q_halt > q_continue, and its halt term is
HRM's Q-learning pair: the BCE of q_halt against "exactly right" plus that of q_continue against
the bootstrapped target from one more forward pass without gradients.

Launched by ``torchrun`` the same loop runs data-parallel (DistributedDataParallel, each process
an equal share of the slots from its own data stream; see :func:`train`).

This module holds the loop. The configuration lives in :mod:`trm.train_config`, the slots in
:mod:`trm.slots`, the torchrun/DDP plumbing in :mod:`trm.distributed`, ``metrics.jsonl`` and the
plot in :mod:`trm.metrics`, and what a checkpoint holds beyond the weights (and restoring it) in
:mod:`trm.run_state`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from tasks.encodings import MAZE_FREE_ID
from tasks.errors import CheckpointError, ConfigError
from trm.checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint
from trm.data import EvalSet, TaskStream, make_eval_set
from trm.distributed import (
    _any_rank,
    _data_rng,
    _destroy_group,
    _Dist,
    _gather_other_ranks,
    _init_distributed,
    _resolve_device,
    _wrap_ddp,
)
from trm.hrm import HRM
from trm.inference import evaluate, load_model
from trm.losses import (
    exact_match,
    halt_loss,
    label_weights,
    sequence_loss,
    softmax_cross_entropy,
    stablemax_cross_entropy,
)
from trm.metrics import METRICS_FILE as METRICS_FILE  # re-exported (it was defined here)
from trm.metrics import PLOT_FILE as PLOT_FILE  # re-exported (it was defined here)
from trm.metrics import _Metrics
from trm.model import TRM, Carry
from trm.optim import EMA, make_optimizer, set_lr
from trm.run_state import _checkpoint_contents, _restore
from trm.slots import Slots, refill
from trm.train_config import TrainConfig, check_resumable, lr_at

__all__ = ["TrainConfig", "TrainState", "TrainResult", "Callback", "train"]


@dataclass(slots=True)
class TrainState:
    """What callbacks see: the step just finished, its metrics and the latest evaluation."""

    step: int
    total_steps: int
    metrics: dict[str, Any]
    eval_metrics: dict[str, Any] | None
    out_dir: Path
    config: TrainConfig


@dataclass(slots=True)
class TrainResult:
    """The outcome of :func:`train`."""

    out_dir: Path
    checkpoint: Path
    step: int
    metrics: dict[str, Any]
    eval_metrics: dict[str, Any] | None
    eval_history: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    stopped_early: bool = False  # max_seconds ran out before config.steps


class Callback:
    """Base for callbacks; any object with some of these methods works (all optional)."""

    def on_step(self, state: TrainState) -> None:
        """After every optimiser step."""

    def on_eval(self, state: TrainState) -> None:
        """After every evaluation; ``state.eval_metrics`` holds it."""

    def on_checkpoint(self, path: Path) -> None:
        """After a checkpoint is written; ``path`` is its JSON file."""


def _notify(callbacks: Sequence[Any], method: str, arg: Any) -> None:
    for cb in callbacks:
        fn = getattr(cb, method, None)
        if fn is not None:
            fn(arg)


def _build_model(cfg: TrainConfig, device: torch.device, *, warm_start: bool = True) -> TRM:
    # Seed the init without touching the caller's global torch RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = TRM(cfg.trm_config())
    if warm_start and cfg.init_from is not None:
        hint_tokens = cfg.data.label_vocab_size() - cfg.data.codec().vocab_size
        _load_initial_weights(model, cfg.init_from, cfg.data.kind, hint_tokens)
    return model.to(device)


def _load_initial_weights(model: TRM, path: str, kind: str, hint_tokens: int = 0) -> None:
    """Copy a checkpoint's EMA (else raw) weights into ``model``, whose config must match.

    With ``hint_tokens`` (a ``MazeData(hint="distance")`` run), a checkpoint trained without
    hints may have that many fewer tokens: each hint token's embedding and readout rows start
    as copies of the free cell's, so the warm-started net first answers exactly as before (a
    hint ties with "free", and inference reads a hint as free) and then learns to split them.
    """
    source = load_model(path, expected_kind=kind)  # CheckpointError when missing or unfit
    ours, theirs = model.config.model_dump(mode="json"), source.config.model_dump(mode="json")
    grow = hint_tokens > 0 and theirs["vocab_size"] + hint_tokens == ours["vocab_size"]
    differ = sorted(
        k for k in ours if ours[k] != theirs.get(k) and not (grow and k == "vocab_size")
    )
    if differ:
        raise ConfigError(
            f"init_from {path!r}: the checkpoint's model differs from this run's in "
            + "; ".join(f"{k} ({theirs.get(k)!r} vs {ours[k]!r})" for k in differ)
        )
    state = source.model.state_dict()
    if grow:
        state = dict(state)
        for name in ("token_embedding.weight", "lm_head.weight"):
            rows = state[name]
            extra = rows[MAZE_FREE_ID].expand(hint_tokens, -1)
            state[name] = torch.cat((rows, extra), dim=0).contiguous()
    model.load_state_dict(state, strict=True)


# ---------------------------------------------------------------------------- train


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    max_seconds: float | None = None,
    clock: Literal["wall", "cpu"] = "wall",
) -> TrainResult:
    """Train a TRM as ``config`` says, writing metrics, a plot and checkpoints to ``out_dir``.

    See the module docstring for the supervision scheme. Writes ``metrics.jsonl`` (one line per
    step and per evaluation), ``training.png`` (at each evaluation and at the end) and
    ``checkpoint.{json,safetensors}`` (every ``checkpoint_every`` steps and at the end). On the
    CPU in fp32, a run resumed from a checkpoint continues bit-identically to one that never
    stopped. On CUDA, the forward pass runs under bf16 autocast (``precision``; the same
    autocast path runs on the CPU with ``precision="bf16"``, which is how it is tested here).

    **Several processes (DDP).** Launched by ``torchrun`` (``WORLD_SIZE > 1`` in the
    environment), each process joins the process group (NCCL on CUDA, each on GPU
    ``LOCAL_RANK``; Gloo on the CPU), wraps the model in
    :class:`torch.nn.parallel.DistributedDataParallel` and runs ``batch_size / world_size`` of
    the slots (``batch_size`` must divide evenly) from its own data stream (rank 0 seeded with
    ``seed``, rank r with ``SeedSequence(seed, spawn_key=(r,))``); gradients are averaged, so
    the weights stay identical on every rank. Only rank 0 evaluates, calls ``callbacks`` and
    writes ``metrics.jsonl`` (its own slots' figures), the plot and the checkpoints; a
    checkpoint also holds every other rank's slots and random state, so the run resumes
    exactly with ``resume=True`` under the same number of processes. The process group is
    destroyed at the end (unless the caller had initialised it). From a shell::

        torchrun --nproc_per_node 2 -m neurosym.cli train --preset sudoku6-tiny \\
            --steps 2000 --out runs/ddp

    (on one machine with two GPUs, or on the CPU with two processes of one thread each; every
    process of the CLI prints the final summary line).

    Parameters
    ----------
    config : TrainConfig
    out_dir : str or PathLike
        Created if missing.
    resume : bool
        Continue from ``out_dir``'s checkpoint up to ``config.steps``. Only the fields that do
        not change the numbers (steps, eval/checkpoint cadence, eval_size, threads, device,
        compile) may differ from the checkpoint's config, and the lr schedule (``lr_min_ratio``,
        ``decay_start``, ``decay_steps``) when it gives every step already taken the same rate,
        e.g. a decay added to a constant-rate run from its checkpoint on.
    callbacks : sequence
        Objects with any of ``on_step(state)``, ``on_eval(state)``, ``on_checkpoint(path)``.
    max_seconds : float, optional
        Stop after the first step that ends this many seconds into the optimiser loop (before
        ``config.steps`` if need be), then evaluate and checkpoint as at the end; ``resume=True``
        continues from there exactly. Meant for leases of fixed length (a GPU command limited
        to 10 minutes) and for comparisons at equal training time. Under DDP every process
        stops at the same step: one past the limit stops them all.
    clock : "wall" or "cpu"
        What ``max_seconds`` counts: wall time, or this process's CPU time
        (:func:`time.process_time`; with one torch thread, the compute the run received, so
        runs sharing a busy machine still get equal budgets).

    Returns
    -------
    TrainResult

    Raises
    ------
    ConfigError
        For an invalid config, CUDA asked for but absent, an existing checkpoint without
        ``resume``, a resume whose config (or number of processes) differs in a field that
        matters, or a batch that does not split evenly over the processes.
    CheckpointError
        With ``resume`` when the checkpoint is missing or unreadable.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> cfg = TrainConfig(steps=3, batch_size=4, model={"hidden_size": 16}, eval_size=4,
    ...                   device="cpu")
    >>> result = train(cfg, tmp.name)
    >>> result.step, result.checkpoint.name, result.eval_metrics["n"]
    (3, 'checkpoint.json', 4)
    >>> tmp.cleanup()
    """
    if not isinstance(config, TrainConfig):
        raise ConfigError(f"config must be a TrainConfig, got {type(config).__name__}")
    if max_seconds is not None and (
        isinstance(max_seconds, bool)
        or not isinstance(max_seconds, int | float)
        or not 0 < max_seconds < math.inf
    ):
        raise ConfigError(f"max_seconds must be a positive number, got {max_seconds!r}")
    if clock not in ("wall", "cpu"):
        raise ConfigError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    cfg = config
    device = _resolve_device(cfg.device)
    out = Path(out_dir)
    json_path, _ = checkpoint_paths(out / "")
    if not resume and json_path.is_file():
        raise ConfigError(
            f"{out} already holds a checkpoint; pass resume=True to continue it, or use a new "
            "directory"
        )
    dist_ctx, device = _init_distributed(device)
    try:
        if dist_ctx.enabled and cfg.batch_size % dist_ctx.world_size:
            raise ConfigError(
                f"batch_size {cfg.batch_size} must be divisible by the {dist_ctx.world_size} "
                "processes (each runs an equal share of the slots)"
            )
        if dist_ctx.is_main:
            out.mkdir(parents=True, exist_ok=True)
        old_threads = torch.get_num_threads()
        threads = cfg.threads if cfg.threads is not None else (1 if device.type == "cpu" else None)
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            timer = time.perf_counter if clock == "wall" else time.process_time
            limit = (timer, max_seconds) if max_seconds is not None else None
            # Torch seeds its global CPU generator at random in every process. Nothing here
            # draws from it, but checkpoints record it (and a resume restores it), so two runs
            # of one config (a rerun, or a restart from scratch after a crash before the first
            # checkpoint) saved different bytes. Seed it from `seed` for a fresh run instead;
            # the caller's state comes back afterwards.
            with torch.random.fork_rng(devices=[]):
                if not resume:
                    sequence = np.random.SeedSequence(cfg.seed, spawn_key=(dist_ctx.rank, 1))
                    torch.default_generator.manual_seed(int(sequence.generate_state(1)[0]))
                return _train(cfg, out, device, resume, list(callbacks), dist_ctx, limit)
        finally:
            torch.set_num_threads(old_threads)
    finally:
        _destroy_group(dist_ctx)


def _train(
    cfg: TrainConfig,
    out: Path,
    device: torch.device,
    resume: bool,
    callbacks: list[Any],
    dist_ctx: _Dist,
    limit: tuple[Any, float] | None = None,
) -> TrainResult:
    started = time.perf_counter()
    rank, world, main = dist_ctx.rank, dist_ctx.world_size, dist_ctx.is_main
    if not main:
        callbacks = []  # progress, metrics and checkpoints are rank 0's
    # same seed, so every rank starts from the same weights; a resume restores its own below
    model = _build_model(cfg, device, warm_start=not resume)
    n_sup = model.config.max_supervision_steps
    explore_p = model.config.halt_exploration_prob
    hrm = isinstance(model, HRM)  # Q-learned halting: two Q logits and a continue loss
    optimizer = make_optimizer(
        cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay, cfg.betas
    )
    # The puzzle embedding (one task vector here) is trained by the same optimiser, so it is
    # averaged with everything else.
    ema = EMA(model, cfg.ema_decay, warmup=cfg.ema_warmup) if cfg.ema_decay is not None else None
    rng = _data_rng(cfg.seed, rank)
    stream = TaskStream(cfg.data, rng)
    slots = Slots.empty(model, cfg.batch_size // world, device)
    step = 0
    last_metrics: dict[str, Any] = {}
    last_eval: dict[str, Any] | None = None

    if resume:
        tensors, meta = load_checkpoint(out, expected_kind=cfg.data.kind)
        if not isinstance(meta.get("train_config"), dict):
            raise CheckpointError(f"{out} holds a model checkpoint, not a resumable training run")
        check_resumable(meta["train_config"], cfg, int(meta.get("step", 0)))
        step, last_metrics, last_eval = _restore(
            out, tensors, meta, dist_ctx, model, optimizer, ema, slots, rng, device
        )

    eval_set: EvalSet | None = None
    if cfg.eval_size > 0 and main:
        eval_set = make_eval_set(cfg.data, cfg.eval_size, cfg.eval_seed)
    metrics_log = _Metrics(out, step if resume else None) if main else None
    wrapped: torch.nn.Module = _wrap_ddp(model, device) if dist_ctx.enabled else model
    forward = torch.compile(wrapped) if cfg.compile else wrapped
    token_loss = stablemax_cross_entropy if cfg.loss == "stablemax" else softmax_cross_entropy
    autocast = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
    examples_done = 0
    loop_start = time.perf_counter()
    limit_start = limit[0]() if limit is not None else 0.0
    stopped_early = False
    checkpoint = checkpoint_paths(out / "")[0]

    def run_eval(eval_set: EvalSet) -> dict[str, Any]:
        scored = ema.averaged_model(model) if ema is not None else model
        scored.eval()
        result = evaluate(scored, eval_set.tasks, eval_set.solutions, codec=eval_set.codec)
        model.train()
        record = {"type": "eval", "step": step, "weights": "ema" if ema else "model", **result}
        if metrics_log is not None:  # always, as evaluation runs on rank 0 only
            metrics_log.write(record)
            metrics_log.plot()
        _notify(callbacks, "on_eval", TrainState(step, cfg.steps, last_metrics, record, out, cfg))
        return record

    def write_checkpoint() -> Path:
        # Every rank takes part (its slots and random streams go into rank 0's checkpoint);
        # only rank 0 writes.
        other_ranks = _gather_other_ranks(dist_ctx, slots.tensors(), rng)
        if not main:
            return checkpoint
        tensors, meta = _checkpoint_contents(
            cfg,
            step,
            model,
            ema,
            optimizer,
            slots.tensors(),
            rng,
            last_metrics,
            last_eval,
            other_ranks,
        )
        # save_checkpoint (and _build_model) are looked up in this module: tests wrap them.
        path = save_checkpoint(out, tensors=tensors, meta=meta)
        _notify(callbacks, "on_checkpoint", path)
        return path

    try:
        model.train()
        while step < cfg.steps:
            t0 = time.perf_counter()
            stream.set_step(step)
            refill(slots, stream, rng, model, explore_p)
            set_lr(optimizer, lr_at(cfg, step + 1))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                if hrm:
                    carry, logits, q_halt, q_continue = forward(
                        slots.inputs, Carry(y=slots.y, z=slots.z), q_values=True
                    )
                    halt_logits = q_halt - q_continue  # halt when q_halt > q_continue
                else:
                    carry, logits, halt_logits = forward(slots.inputs, Carry(y=slots.y, z=slots.z))
            weights = label_weights(slots.labels, cfg.label_weights) if cfg.label_weights else None
            lm = sequence_loss(logits, slots.labels, loss_fn=token_loss, weights=weights)
            correct = exact_match(logits, slots.labels)
            if hrm:
                # HRM's Q-learning: q_halt learns "exactly right", q_continue the bootstrapped
                # value of going on, from one more forward pass (no gradients) on the new carry.
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                    target = model.continue_target(slots.inputs, carry, slots.steps + 1 >= n_sup)
                q = halt_loss(q_halt, correct)
                q_cont = halt_loss(q_continue, target)
                loss = lm.mean() + cfg.halt_loss_weight * (q.mean() + q_cont.mean())
            else:
                q = halt_loss(halt_logits, correct)
                loss = lm.mean() + cfg.halt_loss_weight * q.mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update(model, step + 1)
            step += 1

            with torch.no_grad():
                slots.y, slots.z = carry.y.float(), carry.z.float()
                slots.steps += 1
                may_halt = (halt_logits > 0) & (slots.steps >= slots.min_halt)
                slots.halted = (slots.steps >= n_sup) | may_halt
                halted = slots.halted
                n_halted = int(halted.sum())
                token_acc = (logits.argmax(-1) == slots.labels).float().mean()
                exact_halted = correct[halted].float().mean() if n_halted else None
                steps_halted = slots.steps[halted].float().mean() if n_halted else None
            examples_done += n_halted
            elapsed = time.perf_counter() - loop_start
            last_metrics = {
                "type": "train",
                "step": step,
                "loss": float(loss.detach()),
                "lm_loss": float(lm.detach().mean()),
                "halt_loss": float(q.detach().mean()),
                "token_acc": float(token_acc),
                "exact_acc_all": float(correct.float().mean()),
                "exact_acc_halted": None if exact_halted is None else float(exact_halted),
                "n_halted": n_halted,
                "mean_steps_halted": None if steps_halted is None else float(steps_halted),
                "lr": optimizer.param_groups[0]["lr"],
                "examples_per_s": examples_done / elapsed if elapsed > 0 else 0.0,
                "step_s": time.perf_counter() - t0,
            }
            if hrm:
                last_metrics["continue_loss"] = float(q_cont.detach().mean())
            if dist_ctx.enabled:
                last_metrics["world_size"] = world  # the other figures are rank 0's slots
            if metrics_log is not None:
                metrics_log.write(last_metrics)
            _notify(
                callbacks, "on_step", TrainState(step, cfg.steps, last_metrics, last_eval, out, cfg)
            )

            if eval_set is not None and cfg.eval_every and step % cfg.eval_every == 0:
                if step < cfg.steps:  # the final evaluation runs below
                    last_eval = run_eval(eval_set)
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < cfg.steps:
                checkpoint = write_checkpoint()
            if limit is not None and step < cfg.steps:
                timer, seconds = limit
                if _any_rank(dist_ctx, timer() - limit_start >= seconds, device):
                    stopped_early = True
                    break

        if eval_set is not None and (last_eval is None or last_eval.get("step") != step):
            last_eval = run_eval(eval_set)
        checkpoint = write_checkpoint()
        if metrics_log is not None and eval_set is None and metrics_log.train:
            metrics_log.plot()
    finally:
        if metrics_log is not None:
            metrics_log.close()
    return TrainResult(
        out_dir=out,
        checkpoint=checkpoint,
        step=step,
        metrics=last_metrics,
        eval_metrics=last_eval,
        eval_history=list(metrics_log.evals) if metrics_log is not None else [],
        wall_s=time.perf_counter() - started,
        stopped_early=stopped_early,
    )
