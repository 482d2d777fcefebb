"""Noise for the noise-aware predictor: the marginal of a discrete diffusion over op types.

At noise level t in [0, 1] each of the 6 op nodes keeps its op with weight
``alpha_bar(t)`` (:mod:`nagui.noise_schedule`, the diffusion's own) and is otherwise uniform over the 5 ops; input and output nodes never
change. ``t = 0`` is the clean one-hot, ``t = 1`` pure noise (uniform over ops).
"""
from __future__ import annotations

import torch

from ..noise_schedule import draw_one_hot, keep_or_uniform
from ..space import NODE_TYPES, OPS
from .encoding import OP_NODES

OP_TYPE_IDS = torch.tensor([NODE_TYPES.index(op) for op in OPS])


def uniform_ops(shape_prefix: tuple[int, ...]) -> torch.Tensor:
    u = torch.zeros(*shape_prefix, len(NODE_TYPES))
    u[..., OP_TYPE_IDS] = 1.0 / len(OPS)
    return u


def soft_marginal(x0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """q(x_t | x_0) as probabilities over node types: (B, 8, F) encodings, (B,) -> same shape.

    The type channels of the op nodes are mixed with the uniform distribution over ops;
    the dead-op channels are set to 0, as a noisy cell has no known liveness."""
    k = len(NODE_TYPES)
    out = torch.zeros_like(x0)
    out[:, :, :k] = x0[:, :, :k]
    out[:, OP_NODES, :k] = keep_or_uniform(x0[:, OP_NODES, :k], t, uniform_ops((x0.shape[0], 6)))
    return out


def sample_noisy(x0: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A hard one-hot draw from :func:`soft_marginal`."""
    probs = soft_marginal(x0, t)
    k = len(NODE_TYPES)
    out = torch.zeros_like(probs)
    out[:, :, :k] = draw_one_hot(probs[:, :, :k], generator)
    return out
