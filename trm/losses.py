"""TRM's losses: stablemax cross-entropy per token, its per-sequence mean, and the halt (Q) loss.

The semantics follow the reference ``losses.py`` (TRM_REFERENCE.md sections 3-4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "IGNORE_INDEX",
    "stablemax_cross_entropy",
    "softmax_cross_entropy",
    "sequence_loss",
    "label_weights",
    "exact_match",
    "halt_loss",
]

IGNORE_INDEX = -100
"""Label of an unsupervised position (padding), as in ``torch.nn.CrossEntropyLoss``."""

# Keeps 1 / (1 - x) finite for x -> -inf; the reference's value.
_STABLEMAX_EPS = 1e-30


def _check_shapes(logits: Tensor, labels: Tensor) -> None:
    if logits.dim() < 1 or tuple(logits.shape[:-1]) != tuple(labels.shape):
        raise ValueError(
            f"logits of shape {tuple(logits.shape)} do not fit labels of shape "
            f"{tuple(labels.shape)}: expected logits of shape labels.shape + (vocab,)"
        )


def _gather_label(log_probs: Tensor, labels: Tensor, ignore_index: int) -> Tensor:
    # Ignored positions gather class 0 (any valid index) and are zeroed afterwards.
    valid = labels != ignore_index
    index = torch.where(valid, labels, 0).long().unsqueeze(-1)
    picked = torch.gather(log_probs, dim=-1, index=index).squeeze(-1)
    return torch.where(valid, -picked, torch.zeros_like(picked))


def stablemax_cross_entropy(
    logits: Tensor, labels: Tensor, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Per-position stablemax cross-entropy, computed in float64.

    Stablemax replaces ``exp`` by ``s(x) = x + 1`` for ``x >= 0`` and ``1 / (1 - x)`` for
    ``x < 0``; ``p = s(logits) / sum(s(logits))`` and the loss is ``-log p[label]``.

    Parameters
    ----------
    logits : Tensor
        Shape ``labels.shape + (vocab,)``, any float dtype.
    labels : Tensor
        Integer class indices in ``[0, vocab)``, or ``ignore_index`` where unsupervised.
    ignore_index : int
        Label value whose positions get loss 0.

    Returns
    -------
    Tensor
        float64, the shape of ``labels``; 0 at ignored positions.

    Raises
    ------
    ValueError
        If the shapes of ``logits`` and ``labels`` do not fit.

    Examples
    --------
    >>> logits = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    >>> stablemax_cross_entropy(logits, torch.tensor([0, -100]))  # s = (2, 1, 0.5): -log(2/3.5)
    tensor([0.5596, 0.0000], dtype=torch.float64)
    """
    _check_shapes(logits, labels)
    x = logits.to(torch.float64)
    s = torch.where(x < 0, 1.0 / (1.0 - x + _STABLEMAX_EPS), x + 1.0)
    log_probs = torch.log(s / s.sum(dim=-1, keepdim=True))
    return _gather_label(log_probs, labels, ignore_index)


def softmax_cross_entropy(
    logits: Tensor, labels: Tensor, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Per-position softmax cross-entropy in float32: the reference's alternative loss.

    Parameters and shapes as in :func:`stablemax_cross_entropy`; returns float32.

    Examples
    --------
    >>> softmax_cross_entropy(torch.zeros(1, 4), torch.tensor([2]))  # log(4)
    tensor([1.3863])
    """
    _check_shapes(logits, labels)
    log_probs = torch.log_softmax(logits.to(torch.float32), dim=-1)
    return _gather_label(log_probs, labels, ignore_index)


def sequence_loss(
    logits: Tensor,
    labels: Tensor,
    ignore_index: int = IGNORE_INDEX,
    *,
    loss_fn: Callable[[Tensor, Tensor, int], Tensor] = stablemax_cross_entropy,
    weights: Tensor | None = None,
) -> Tensor:
    """Token loss averaged per sequence over its valid positions, as the reference's ``lm_loss``.

    Each sequence's summed token loss is divided by its own count of supervised positions
    (at least 1, so an all-ignored sequence contributes 0). The caller sums or averages over
    the batch. With ``weights`` the average is weighted: ``sum(w * loss) / sum(w)`` over the
    supervised positions (a sequence whose weights sum to 0 contributes 0).

    Parameters
    ----------
    logits : Tensor
        Shape ``[B, ..., vocab]``.
    labels : Tensor
        Shape ``[B, ...]``; every dimension after the first belongs to the sequence.
    ignore_index : int
        Label value of unsupervised positions.
    loss_fn : callable
        ``(logits, labels, ignore_index) -> per-position loss``; stablemax by default.
    weights : Tensor, optional
        Non-negative per-position weights of the shape of ``labels`` (see
        :func:`label_weights`); None weighs every supervised position 1 (the reference).

    Returns
    -------
    Tensor
        Shape ``[B]``, the dtype ``loss_fn`` returns (float64 for stablemax).

    Raises
    ------
    ValueError
        If the shapes do not fit or ``labels`` has no batch dimension.

    Examples
    --------
    >>> logits = torch.zeros(2, 3, 4)  # uniform over 4 classes: log(4) per token
    >>> labels = torch.tensor([[1, 2, -100], [-100, -100, -100]])
    >>> sequence_loss(logits, labels)
    tensor([1.3863, 0.0000], dtype=torch.float64)
    >>> logits = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])  # token losses (0.3185..., log 2)
    >>> sequence_loss(logits, torch.tensor([[0, 1]]), weights=torch.tensor([[0.0, 3.0]]))
    tensor([0.6931], dtype=torch.float64)
    """
    if labels.dim() < 1:
        raise ValueError("labels need a batch dimension, got a 0-d tensor")
    per_token = loss_fn(logits, labels, ignore_index).reshape(labels.shape[0], -1)
    valid = (labels != ignore_index).reshape(labels.shape[0], -1)
    if weights is None:
        counts = valid.sum(dim=-1)
        return per_token.sum(dim=-1) / counts.clamp_min(1).to(per_token.dtype)
    if tuple(weights.shape) != tuple(labels.shape):
        raise ValueError(
            f"weights of shape {tuple(weights.shape)} do not fit labels of shape "
            f"{tuple(labels.shape)}"
        )
    w = weights.reshape(labels.shape[0], -1).to(per_token.dtype) * valid.to(per_token.dtype)
    total = w.sum(dim=-1)
    safe = torch.where(total > 0, total, torch.ones_like(total))
    return (per_token * w).sum(dim=-1) / safe


def label_weights(
    labels: Tensor, weights: Mapping[int, float], ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Per-position loss weights looked up by label token: ``weights.get(label, 1.0)``.

    For :func:`sequence_loss`'s ``weights``. On mazes most positions just copy the input (walls,
    start, goal); ``{5: 4.0}`` makes each path cell count four times, ``{1: 0.0, 3: 0.0,
    4: 0.0}`` restricts the loss to the free cells (labels 2 and 5).

    Parameters
    ----------
    labels : Tensor
        Integer labels, ``ignore_index`` where unsupervised (weight 0 there).
    weights : mapping of int to float
        Weight of each listed label token; unlisted tokens weigh 1.

    Returns
    -------
    Tensor
        float32, the shape of ``labels``.

    Examples
    --------
    >>> label_weights(torch.tensor([[1, 2, 5, -100]]), {5: 4.0, 1: 0.0})
    tensor([[0., 1., 4., 0.]])
    """
    valid = labels != ignore_index
    safe = torch.where(valid, labels, 0).long()
    size = max([int(safe.max()) + 1 if safe.numel() else 1, *(k + 1 for k in weights)])
    table = torch.ones(size, dtype=torch.float32, device=labels.device)
    for token, weight in weights.items():
        table[token] = float(weight)
    return torch.where(valid, table[safe], torch.zeros((), device=labels.device))


@torch.no_grad()
def exact_match(logits: Tensor, labels: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Whether each sequence's argmax equals its labels at every supervised position.

    This is the halt head's training target. A sequence without supervised positions counts
    as exactly correct, as in the reference.

    Parameters
    ----------
    logits : Tensor
        Shape ``[B, ..., vocab]``.
    labels : Tensor
        Shape ``[B, ...]``.
    ignore_index : int
        Label value of unsupervised positions.

    Returns
    -------
    Tensor
        Bool, shape ``[B]``.

    Examples
    --------
    >>> logits = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> exact_match(logits, torch.tensor([[1, 0], [1, 0]]))
    tensor([ True, False])
    """
    _check_shapes(logits, labels)
    if labels.dim() < 1:
        raise ValueError("labels need a batch dimension, got a 0-d tensor")
    wrong = (logits.argmax(dim=-1) != labels) & (labels != ignore_index)
    return ~wrong.reshape(labels.shape[0], -1).any(dim=-1)


def halt_loss(halt_logits: Tensor, is_exactly_correct: Tensor) -> Tensor:
    """Per-sample binary cross-entropy of the halt logit against "the answer is exactly right".

    The target is detached: the halt head learns to predict correctness, it does not push the
    answer towards it.

    Parameters
    ----------
    halt_logits : Tensor
        Shape ``[B]``, the Q-head's halt logit.
    is_exactly_correct : Tensor
        Shape ``[B]``, bool or float in ``[0, 1]`` (see :func:`exact_match`).

    Returns
    -------
    Tensor
        Shape ``[B]``, the dtype of ``halt_logits``.

    Raises
    ------
    ValueError
        If the two shapes differ.

    Examples
    --------
    >>> halt_loss(torch.tensor([0.0, 0.0]), torch.tensor([True, False]))  # log(2) each
    tensor([0.6931, 0.6931])
    """
    if halt_logits.shape != is_exactly_correct.shape:
        raise ValueError(
            f"halt_logits of shape {tuple(halt_logits.shape)} and targets of shape "
            f"{tuple(is_exactly_correct.shape)} differ"
        )
    target = is_exactly_correct.detach().to(halt_logits.dtype)
    return F.binary_cross_entropy_with_logits(halt_logits, target, reduction="none")
