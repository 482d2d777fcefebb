"""The reverse process: start from noise, denoise step by step, guided, decode, polish.

    x ~ prior                                  # (n, N, K) noise
    for t, s in zip(ts[:-1], ts[1:]):          # 1 -> 0 in `steps` steps
        p0 = denoiser(x, t)                    # clean-graph distribution per node
        p0 = allowed(p0)                       # forbidden categories removed
        p0 = guidance.tilt(p0, weights)        # towards each sample's preference
        x = schedule.step(x, t, s, p0)         # posterior draw (skipped at the last step)
    cells = decode(p0, feasible)               # node by node, never leaving the feasible set
    cells = polish(cells)                      # corrector: exact single-node moves (guided only)

Every decoded index tensor is a valid architecture of the space (no rejection).

The corrector ("polish") runs ``polish_sweeps`` sweeps at t = 0: each sample takes the
single-node change that raises its guidance score most, if any, staying feasible and off
the isomorphism classes other samples of the batch hold (a sample that duplicates an
earlier one must move). The reverse process places samples near their targets; the
moves finish the job without collapsing the batch onto a few cells.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..progress import cancel_point
from .guidance import Guidance, spread_preferences
from .model import DiffusionModel


@dataclass
class Samples:
    indices: torch.Tensor            # (n, N) category per node
    archs: list                      # decoded architectures
    preferences: np.ndarray | None   # (n, J) weights each sample was guided with
    sample_s: float                  # wall time of the whole call
    device: str
    raw_indices: torch.Tensor | None = None   # before the corrector (None if it did not run)


class FeasibleDecoder:
    """Node-by-node decoding restricted to configurations with a feasible completion."""

    def __init__(self, feasible: np.ndarray, num_nodes: int, num_categories: int, device="cpu"):
        f = torch.as_tensor(np.asarray(feasible, dtype=bool), device=device)
        self.k, self.n = num_categories, num_nodes
        self.feasible = f
        reach = [f]
        for _ in range(num_nodes - 1):
            reach.append(reach[-1].reshape(-1, num_categories).any(dim=1))
        self.reach = reach[::-1]      # reach[i]: (K**(i+1),) prefix of length i+1 can be completed

    def __call__(self, p0: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        b = p0.shape[0]
        prefix = torch.zeros(b, dtype=torch.long, device=p0.device)
        out = torch.empty(b, self.n, dtype=torch.long, device=p0.device)
        for i in range(self.n):
            cand = prefix[:, None] * self.k + torch.arange(self.k, device=p0.device)[None]
            allowed = self.reach[i][cand]                                       # b, K
            # every allowed category keeps a floor of mass: when p0 puts (almost) all of it on
            # forbidden ones, sampling stays well defined (no denormal sums) and feasible
            probs = p0[:, i].clamp_min(1e-12) * allowed
            pick = torch.multinomial(probs, 1, generator=generator)[:, 0]
            out[:, i] = pick
            prefix = prefix * self.k + pick
        return out


def polish(cells: torch.Tensor, guidance: Guidance, weights: torch.Tensor, space, feasible: torch.Tensor,
           sweeps: int) -> torch.Tensor:
    """The corrector (see the module doc). ``feasible`` (K**N,) bool; needs an enumerable space."""
    cells = cells.clone()
    b, n = cells.shape
    k = space.num_categories
    canon = space.canonical_ids.to(cells.device)
    rows = torch.arange(b, device=cells.device)
    for _ in range(sweeps):
        cand = Guidance.neighbours(cells, k).reshape(b, n * k, n)
        flat = space.flat_index(cand)                                          # b, nk
        with torch.no_grad():
            score = guidance.score(F.one_hot(cand.reshape(-1, n), k).float(),
                                   weights.repeat_interleave(n * k, dim=0)).reshape(b, n * k)
            current = guidance.score(F.one_hot(cells, k).float(), weights)
        cls, mine = canon[flat], canon[space.flat_index(cells)]
        first = torch.full((int(canon.max()) + 1,), b, dtype=torch.long, device=cells.device)
        first = first.scatter_reduce(0, mine, rows, reduce="amin")
        duplicate = first[mine] != rows
        taken = torch.zeros(len(first), dtype=torch.bool, device=cells.device)
        taken[mine] = True
        allowed = feasible[flat] & ~taken[cls]
        gain = torch.where(allowed, score - current[:, None], torch.full_like(score, -torch.inf))
        moved = torch.zeros(b, dtype=torch.bool, device=cells.device)
        for _ in range(n * k):   # rounds: movers that lose a class to a larger gain try their next best
            best_gain, best = gain.max(1)
            move = ~moved & ((best_gain > 1e-6) | (duplicate & torch.isfinite(best_gain)))
            if not move.any():
                break
            movers = torch.nonzero(move)[:, 0]
            movers = movers[torch.argsort(best_gain[movers], descending=True)]
            target = cls[movers, best[movers]]
            winner = torch.full((len(first),), len(movers), dtype=torch.long, device=cells.device)
            winner = winner.scatter_reduce(0, target, torch.arange(len(movers), device=cells.device), reduce="amin")
            won = movers[winner[target] == torch.arange(len(movers), device=cells.device)]
            cells[won, best[won] // k] = best[won] % k
            moved[won] = True
            gain = torch.where(torch.isin(cls, cls[won, best[won]]), torch.full_like(gain, -torch.inf), gain)
        if not moved.any():
            break
    return cells


class Sampler:
    def __init__(self, model: DiffusionModel, steps: int = 16, device: str | None = None):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        self.model = model
        self.steps = steps
        self.device = torch.device(device) if device else model.device
        model.to(self.device)

    def sample(self, n: int, guidance: Guidance | None = None, seed: int = 0, feasible: np.ndarray | None = None,
               polish_sweeps: int = 4) -> Samples:
        """n cells; ``guidance=None`` (or scale 0) samples the prior. ``feasible`` (bool over
        all configurations) restricts decoding; ``guidance.preferences`` (P, J) are cycled
        over the batch (default: aimed evenly along the predicted front)."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        space, schedule, dev = self.model.space, self.model.schedule, self.device
        gen = torch.Generator(device=dev).manual_seed(int(seed))
        start = time.perf_counter()
        guided = guidance is not None and guidance.scale > 0
        prefs = weights = None
        if guided:
            if guidance.preferences is not None:
                prefs = np.asarray(guidance.preferences, dtype=np.float64)
            elif guidance.front is not None:
                prefs = guidance.front_preferences(n)
            else:
                prefs = spread_preferences(n, len(guidance.objectives))
            prefs = prefs[np.arange(n) % len(prefs)]
            weights = torch.tensor(prefs, dtype=torch.float32, device=dev)
        allowed = torch.ones(space.num_categories, device=dev)
        if guidance is not None:
            for c in space.forbidden_categories(guidance.constraints.forbidden_ops):
                allowed[c] = 0.0
        if feasible is None:
            feasible = np.ones(space.num_categories ** space.num_nodes, dtype=bool)
        decoder = FeasibleDecoder(feasible, space.num_nodes, space.num_categories, dev)

        x = schedule.prior(n, space.num_nodes, generator=gen, device=dev)
        ts = torch.linspace(1.0, 0.0, self.steps + 1).tolist()
        p0 = None
        for t, s in zip(ts[:-1], ts[1:]):
            cancel_point()
            p0 = self.model.denoise(x, torch.full((n,), t, device=dev)) * allowed
            p0 = p0 / p0.sum(-1, keepdim=True)
            if guided:
                p0 = guidance.tilt(p0, weights)
            if s > 0:
                x = schedule.step(x, t, s, p0, generator=gen)
        idx = decoder(p0, gen)
        raw = None
        if guided and polish_sweeps > 0:
            raw = idx.cpu()
            idx = polish(idx, guidance, weights, space, decoder.feasible, polish_sweeps)
        idx = idx.cpu()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return Samples(idx, space.from_indices(idx), prefs, time.perf_counter() - start, str(dev), raw)
