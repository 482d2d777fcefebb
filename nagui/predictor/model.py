"""The predictor network: a GIN over the cell DAG with one output head per objective.

    x (B, 8, F) node features (one-hot or soft types + live flag)  [+ noise level t (B,)]
      -> linear embedding                         # B, 8, H
      -> L x (GIN forward  +  GIN backward)      # messages along and against the DAG edges
      -> readout [output node ; mean over nodes] # B, 2H
      -> trunk MLP                               # B, H
      -> one linear head per objective           # B, n_objectives

Outputs are in normalised units (each objective z-scored with its training statistics;
:class:`nagui.predictor.ensemble.Predictor` converts back). Everything is differentiable
w.r.t. ``x``, which guidance uses.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .encoding import FEATURES, NUM_NODES, adjacency


@dataclass(frozen=True)
class ModelConfig:
    objectives: tuple[str, ...]          # names of the table convention, one head each
    hidden: int = 64                     # width of node embeddings and trunk
    layers: int = 3                      # message-passing rounds (each: forward + backward GIN)
    noise_aware: bool = False            # take a noise level t in [0, 1] as input (guidance)
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not self.objectives or len(set(self.objectives)) != len(self.objectives):
            raise ValueError(f"objectives must be a non-empty list of distinct names, got {self.objectives!r}")
        for name in ("hidden", "layers"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive int, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["objectives"] = list(self.objectives)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown ModelConfig fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{**d, "objectives": tuple(d["objectives"])})


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))


def noise_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of a noise level t in [0, 1]: (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32, device=t.device) * (-math.log(1000.0) / max(half - 1, 1)))
    angles = t.float()[:, None] * 1000.0 * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class DenseGINConv(nn.Module):
    """One dense GIN round, ``mlp((1 + eps) * x + adj @ x)``, over a batch (B, N, F) and an
    adjacency (N, N) or (B, N, N). The same computation, parameter names (``nn``, ``eps``)
    and initialisation as PyG's ``DenseGINConv(train_eps=True)``, whose import (about 1.5 s,
    it pulls in ``torch._dynamo``) every CLI call used to pay for eight lines."""

    def __init__(self, mlp: nn.Module, eps: float = 0.0):
        super().__init__()
        self.nn = mlp
        self.eps = nn.Parameter(torch.full((1,), float(eps)))
        for layer in mlp.children():   # re-drawn as PyG does, so a seed gives the same weights
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self.nn((1 + self.eps) * x + torch.matmul(adj, x))


class CellGNN(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        h = config.hidden
        self.embed = nn.Linear(FEATURES, h)
        # Dense GIN: the graph is the same 8-node DAG for every cell, so a shared (8, 8)
        # adjacency broadcast over the batch beats scatter-based message passing.
        self.forward_convs = nn.ModuleList(DenseGINConv(_mlp(h, h, h)) for _ in range(config.layers))
        self.backward_convs = nn.ModuleList(DenseGINConv(_mlp(h, h, h)) for _ in range(config.layers))
        self.register_buffer("adj_in", adjacency(), persistent=False)
        self.register_buffer("adj_out", adjacency(reverse=True), persistent=False)
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(config.layers))
        self.noise = _mlp(h, h, h) if config.noise_aware else None
        self.trunk = nn.Sequential(_mlp(2 * h, h, h), nn.ReLU(), nn.Dropout(config.dropout))
        self.heads = nn.ModuleList(nn.Linear(h, 1) for _ in config.objectives)

    def embed_cells(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 8, F) [+ t (B,)] -> (B, H) cell embeddings."""
        if x.dim() != 3 or x.shape[1:] != (NUM_NODES, FEATURES):
            raise ValueError(f"expected encodings of shape (B, {NUM_NODES}, {FEATURES}), got {tuple(x.shape)}")
        h = self.embed(x)                                                 # B, 8, H
        if self.noise is not None:
            if t is None:
                raise ValueError("this predictor is noise-aware: pass the noise level t (B,)")
            h = h + self.noise(noise_features(t, self.config.hidden))[:, None, :]
        for fwd, bwd, norm in zip(self.forward_convs, self.backward_convs, self.norms):
            h = norm(h + torch.relu(fwd(h, self.adj_in)) + torch.relu(bwd(h, self.adj_out)))  # B, 8, H
        readout = torch.cat([h[:, -1], h.mean(dim=1)], dim=1)            # B, 2H
        return self.trunk(readout)                                        # B, H

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        z = self.embed_cells(x, t)
        return torch.cat([head(z) for head in self.heads], dim=1)         # B, n_objectives
