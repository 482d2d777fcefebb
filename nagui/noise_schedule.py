"""The noise level's schedule, shared by the diffusion engine and the noise-aware predictor.

Both must see the same corruption at a noise level t in [0, 1]: the diffusion schedules
(:mod:`nagui.diffusion.schedule`) corrupt cells with it, and the predictor that guides
them (:mod:`nagui.predictor.noise`) is trained on cells corrupted the same way. Kept below
both, so neither imports the other for it.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """Cosine schedule: the weight of the clean signal, 1 at t = 0 and 0 at t = 1."""
    return torch.cos(t.clamp(0, 1) * math.pi / 2) ** 2


def keep_or_uniform(clean: torch.Tensor, t: torch.Tensor, uniform) -> torch.Tensor:
    """q(x_t | x_0) of a discrete diffusion: (B, N, K) clean probabilities keep their weight
    ``alpha_bar(t)`` (t: (B,)) and give the rest to ``uniform`` (a scalar or a tensor)."""
    a = alpha_bar(t)[:, None, None]
    return a * clean + (1 - a) * uniform


def draw_one_hot(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One category per node drawn from (B, N, K) probabilities -> (B, N, K) one-hot."""
    b, n, k = probs.shape
    draw = torch.multinomial(probs.reshape(b * n, k), 1, generator=generator).reshape(b, n)
    return F.one_hot(draw, k).float()
