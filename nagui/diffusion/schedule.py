"""Noise schedules: how a clean graph x0 is corrupted to x_t, and one reverse step.

Both schedules use the cosine ``alpha_bar(t)`` of :mod:`nagui.noise_schedule` (t in
[0, 1]; 1 at t = 0, 0 at t = 1) and are written in the same x0-parameterisation: the
denoiser predicts a distribution ``p0`` (B, N, K) over each node's clean category, and
:meth:`step` draws x_s (s < t) from the schedule's posterior given x_t and ``p0``. So
guidance, which reshapes ``p0``, works the same way for both.

- :class:`CategoricalSchedule` (the default): discrete diffusion with uniform
  transitions (D3PM). A node keeps its category with probability ``alpha_bar`` and is
  otherwise uniform over the K categories; x_t is always a one-hot graph.
- :class:`GaussianSchedule`: score-based (VP) diffusion on the one-hot encoding scaled
  to [-1, 1], as DiffusionNAG does; x_t is continuous and only the last step's ``p0``
  gives categories.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..noise_schedule import alpha_bar, draw_one_hot, keep_or_uniform


class _Schedule:
    """What both schedules share: K categories per node, and the clean-signal weights of a
    reverse step from t to s < t."""

    name = "schedule"

    def __init__(self, num_categories: int):
        self.k = num_categories

    @staticmethod
    def _levels(t: float, s: float) -> tuple[float, float, float]:
        """alpha_bar(t), alpha_bar(s) and alpha_bar(t) / alpha_bar(s)."""
        a_t, a_s = float(alpha_bar(torch.tensor(t))), float(alpha_bar(torch.tensor(s)))
        return a_t, a_s, a_t / max(a_s, 1e-12)


class CategoricalSchedule(_Schedule):
    name = "categorical"

    def noise(self, x0: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """x0 (B, N) long, t (B,) -> one-hot x_t (B, N, K) drawn from q(x_t | x0)."""
        return draw_one_hot(keep_or_uniform(F.one_hot(x0, self.k).float(), t, 1 / self.k), generator)

    def prior(self, b: int, n: int, generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:
        draw = torch.randint(0, self.k, (b, n), generator=generator, device=device)
        return F.one_hot(draw, self.k).float()

    def step(self, x_t: torch.Tensor, t: float, s: float, p0: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw x_s ~ sum_x0 q(x_s | x_t, x0) p0(x0) (one-hot in, one-hot out)."""
        a_t, a_s, a_ts = self._levels(t, s)
        k = self.k
        # q(x_t | x_s = j) as a function of j, for the observed x_t
        forward = a_ts * x_t + (1 - a_ts) / k
        # sum_i p0(i) q(x_s = j | x0 = i) / q(x_t | x0 = i)
        lik_t = a_t * x_t + (1 - a_t) / k                       # q(x_t | x0 = i)
        w = p0 / lik_t
        backward = a_s * w + (1 - a_s) / k * w.sum(-1, keepdim=True)
        probs = forward * backward
        return draw_one_hot(probs / probs.sum(-1, keepdim=True), generator)


class GaussianSchedule(_Schedule):
    name = "gaussian"

    def noise(self, x0: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        a = alpha_bar(t)[:, None, None]
        clean = 2 * F.one_hot(x0, self.k).float() - 1
        eps = torch.randn(clean.shape, generator=generator, device=clean.device)
        return a.sqrt() * clean + (1 - a).sqrt() * eps

    def prior(self, b: int, n: int, generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:
        return torch.randn((b, n, self.k), generator=generator, device=device)

    def step(self, x_t: torch.Tensor, t: float, s: float, p0: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """DDPM ancestral step with x0_hat = E_p0[2 onehot - 1]."""
        a_t, a_s, _ = self._levels(t, s)
        a_t = min(a_t, 1 - 1e-6)
        x0_hat = 2 * p0 - 1
        a_ts = a_t / max(a_s, 1e-12)
        beta = 1 - a_ts
        mean = (math.sqrt(a_s) * beta / (1 - a_t)) * x0_hat + (math.sqrt(a_ts) * (1 - a_s) / (1 - a_t)) * x_t
        var = beta * (1 - a_s) / (1 - a_t)
        return mean + math.sqrt(max(var, 0.0)) * torch.randn(x_t.shape, generator=generator, device=x_t.device)


SCHEDULES = {"categorical": CategoricalSchedule, "gaussian": GaussianSchedule}


def make_schedule(name: str, num_categories: int):
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {sorted(SCHEDULES)}")
    return SCHEDULES[name](num_categories)
