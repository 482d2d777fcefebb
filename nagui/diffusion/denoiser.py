"""The denoiser: a small graph transformer that predicts each node's clean category.

    x_t (B, N, K) one-hot or continuous     t (B,)
      -> token = Linear(x_t) + node embedding + time embedding      # B, N, D
      -> L x [self-attention with a learned bias per graph relation  # parent, child,
              (parent -> child, child -> parent, self, unrelated) ;  # self, none
              MLP], both pre-norm residual, time re-injected per layer
      -> Linear -> logits over the K clean categories                # B, N, K

The relation bias is how the topology enters: the graph is the same for every sample
(:meth:`SearchSpace.node_adjacency`), only the node categories change.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..predictor.model import noise_features


@dataclass(frozen=True)
class DenoiserConfig:
    num_nodes: int
    num_categories: int
    width: int = 64
    layers: int = 3
    heads: int = 4

    def __post_init__(self) -> None:
        for name in ("num_nodes", "num_categories", "width", "layers", "heads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"DenoiserConfig.{name} must be a positive int, got {value!r}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} must be a multiple of heads {self.heads}")

    def to_dict(self) -> dict:
        return asdict(self)


def relations(adjacency: np.ndarray) -> torch.Tensor:
    """(N, N) relation ids: 0 unrelated, 1 parent->child, 2 child->parent, 3 self."""
    a = torch.as_tensor(np.asarray(adjacency) > 0)
    rel = torch.zeros(a.shape, dtype=torch.long)
    rel[a] = 1
    rel[a.T] = 2
    rel[torch.eye(a.shape[0], dtype=torch.bool)] = 3
    return rel


class _Block(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.rel_bias = nn.Embedding(4, heads)
        self.time = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, h: torch.Tensor, temb: torch.Tensor, rel: torch.Tensor) -> torch.Tensor:
        b, n, d = h.shape
        x = self.norm1(h + self.time(temb)[:, None, :])
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        bias = self.rel_bias(rel).permute(2, 0, 1)[None]                      # 1, H, N, N
        attn = torch.softmax(q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5 + bias, dim=-1)
        h = h + self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))
        return h + self.mlp(self.norm2(h))


class GraphDenoiser(nn.Module):
    def __init__(self, config: DenoiserConfig, adjacency: np.ndarray):
        super().__init__()
        self.config = config
        w = config.width
        self.inp = nn.Linear(config.num_categories, w)
        self.node = nn.Parameter(torch.randn(config.num_nodes, w) * 0.02)
        self.temb = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(_Block(w, config.heads) for _ in range(config.layers))
        self.out = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, config.num_categories))
        self.register_buffer("rel", relations(adjacency), persistent=False)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Logits (B, N, K) of the clean category of every node."""
        temb = self.temb(noise_features(t, self.config.width))
        h = self.inp(x_t) + self.node[None]
        for block in self.blocks:
            h = block(h, temb, self.rel)
        return self.out(h)
