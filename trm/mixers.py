"""Size-agnostic mixers for grid tasks: each reads the grid's shape at every call instead of a
table tied to one size, so one network runs on any Sudoku box shape (``peers``) or maze size
(``conv``, ``graph``). :class:`trm.model.Block` picks one by ``TRMConfig.mixer``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tasks.errors import ConfigError
from trm.config import TRMConfig

__all__ = ["ConvMixer", "Geometry", "GraphLayout", "GraphMixer", "PeerAttention", "peer_mask"]


@dataclass(frozen=True, slots=True)
class Geometry:
    """The grid a batch lives on: ``height x width`` cells (row-major tokens), and for Sudoku
    the box shape. Size-agnostic mixers (``peers``, ``conv``) read it at every forward call.

    Examples
    --------
    >>> Geometry(9, 9, 3, 3).seq_len
    81
    """

    height: int
    width: int
    box_rows: int | None = None
    box_cols: int | None = None

    @property
    def seq_len(self) -> int:
        """Tokens of the grid, ``height * width``."""
        return self.height * self.width


def peer_mask(geometry: Geometry, prefix: int, num_heads: int) -> Tensor:
    """Boolean attention mask [num_heads, L, L] (L = prefix + cells) for the ``peers`` mixer.

    Heads ``0 .. H/3-1`` see the cell's row, the next third its column, the last third its box
    (each cell is its own peer); prefix slots see every position and every cell sees them.

    Examples
    --------
    >>> m = peer_mask(Geometry(4, 4, 2, 2), prefix=1, num_heads=3)
    >>> m.shape, int(m[0, 1].sum()), int(m[2, 1].sum())  # row: 4 cells + prefix; box: 4 + 1
    (torch.Size([3, 17, 17]), 5, 5)
    """
    if geometry.box_rows is None or geometry.box_cols is None:
        raise ConfigError("the peers mixer needs a Sudoku geometry with a box shape")
    n, br, bc = geometry.height, geometry.box_rows, geometry.box_cols
    cell = torch.arange(n * n)
    row, col = cell // n, cell % n
    box = (row // br) * (n // bc) + col // bc
    groups = [key[:, None] == key[None, :] for key in (row, col, box)]  # each [N*N, N*N]
    length = prefix + n * n
    masks = torch.ones(3, length, length, dtype=torch.bool)
    for g, same in enumerate(groups):
        masks[g, prefix:, prefix:] = same
    return masks.repeat_interleave(num_heads // 3, dim=0)


class PeerAttention(nn.Module):
    """Self-attention restricted by a peer mask (no positional encoding): permutation-
    equivariant within the Sudoku constraint structure, so it runs on any box shape."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size, bias=False)
        self.out = nn.Linear(config.hidden_size, config.hidden_size, bias=False)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        batch, length, width = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.num_heads, width // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(y.transpose(1, 2).reshape(batch, length, width))


class ConvMixer(nn.Module):
    """A 3x3 convolution over the grid cells (zero padding at the edges); each prefix slot gets
    a linear map of the mean over cells. Local, so it runs on any ``height x width``."""

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        width = config.hidden_size
        self.prefix = config.puzzle_prefix_len
        self.conv = nn.Conv2d(width, width, kernel_size=3, padding=1, bias=False)
        self.pool = nn.Linear(width, width, bias=False)

    def forward(self, x: Tensor, geometry: Geometry) -> Tensor:
        batch, _, width = x.shape
        cells = x[:, self.prefix :]  # [B, H*W, D]
        grid = cells.transpose(1, 2).reshape(batch, width, geometry.height, geometry.width)
        mixed = self.conv(grid).flatten(2).transpose(1, 2)  # [B, H*W, D]
        pooled = self.pool(cells.mean(dim=1, keepdim=True)).expand(-1, self.prefix, -1)
        return torch.cat((pooled, mixed), dim=1)


@dataclass(frozen=True, slots=True)
class GraphLayout:
    """What :class:`GraphMixer` reads besides h: the grid and which cells are free (``free``
    [B, H, W, 1], 1.0 on free cells, 0.0 on walls and PAD)."""

    geometry: Geometry
    free: Tensor


def _shift(x: Tensor, rows: int, cols: int, fill: float) -> Tensor:
    """``x`` [B, H, W, C] moved by ``rows`` / ``cols`` (each -1, 0 or 1), ``fill`` entering at
    the edge: ``out[i, j] = x[i - rows, j - cols]``."""
    height, width = x.shape[1], x.shape[2]
    pad = (0, 0, max(cols, 0), max(-cols, 0), max(rows, 0), max(-rows, 0))
    padded = F.pad(x, pad, value=fill)
    r0, c0 = max(-rows, 0), max(-cols, 0)
    return padded[:, r0 : r0 + height, c0 : c0 + width]


#: The four grid neighbours of a cell, as (row, column) offsets of the neighbour.
_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


class GraphMixer(nn.Module):
    """Message passing over a maze's free-cell graph: a free cell reads its own state, each
    free 4-neighbour's through a linear map per direction, and the elementwise max over its
    free neighbours; walls and PAD neither send nor receive (their mixer output is 0). Each
    prefix slot gets a linear map of the mean over free cells. Local, so it runs on any
    ``height x width``; a wall blocks information as it blocks a route.

    Examples
    --------
    >>> from trm.config import preset
    >>> mixer = GraphMixer(preset("maze-graph", hidden_size=8))
    >>> free = torch.tensor([[1.0, 0.0, 1.0]]).view(1, 1, 3, 1)  # a wall between two cells
    >>> layout = GraphLayout(Geometry(1, 3), free)
    >>> out = mixer(torch.randn(1, 4, 8), layout)  # 1 prefix slot + 3 cells
    >>> bool(out[0, 2].abs().sum() == 0)  # the wall's output
    True
    """

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        width = config.hidden_size
        self.prefix = config.puzzle_prefix_len
        # [self, up, down, left, right, neighbour max] -> width, one matmul.
        self.proj = nn.Linear(6 * width, width, bias=False)
        self.pool = nn.Linear(width, width, bias=False)

    def forward(self, x: Tensor, layout: GraphLayout) -> Tensor:
        batch, _, width = x.shape
        geometry, free = layout.geometry, layout.free.to(x.dtype)
        cells = x[:, self.prefix :].reshape(batch, geometry.height, geometry.width, width)
        masked = cells * free
        parts = [masked]
        parts += [_shift(masked, dr, dc, 0.0) for dr, dc in _NEIGHBOURS]
        # Elementwise max over free neighbours: a wall or the edge enters as -1e4, and a cell
        # with no free neighbour reads 0.
        low = -1e4
        guarded = masked + (1.0 - free) * low
        neighbour_max = torch.stack([_shift(guarded, dr, dc, low) for dr, dc in _NEIGHBOURS])
        neighbour_max = neighbour_max.amax(dim=0)
        parts.append(torch.where(neighbour_max > low / 2, neighbour_max, 0.0))
        mixed = (self.proj(torch.cat(parts, dim=-1)) * free).reshape(batch, -1, width)
        count = free.sum(dim=(1, 2)).clamp_min(1.0)  # [B, 1]
        mean = masked.sum(dim=(1, 2)) / count  # [B, D]
        pooled = self.pool(mean).unsqueeze(1).expand(-1, self.prefix, -1)
        return torch.cat((pooled, mixed), dim=1)
