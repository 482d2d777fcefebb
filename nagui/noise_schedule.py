"""The noise level's schedule, shared by the diffusion engine and the noise-aware predictor.

Both must see the same corruption at a noise level t in [0, 1]: the diffusion schedules
(:mod:`nagui.diffusion.schedule`) corrupt cells with it, and the predictor that guides
them (:mod:`nagui.predictor.noise`) is trained on cells corrupted the same way. Kept below
both, so neither imports the other for it.
"""
from __future__ import annotations

import math

import torch


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """Cosine schedule: the weight of the clean signal, 1 at t = 0 and 0 at t = 1."""
    return torch.cos(t.clamp(0, 1) * math.pi / 2) ** 2
