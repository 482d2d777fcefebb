"""Multi-objective guidance: reshape the denoiser's x0 distribution towards a preference.

At every reverse step the denoiser gives ``p0`` (B, N, K). With a scalar score s(p) of
the objectives, guidance tilts ``p0`` by the first-order (Taylor) approximation of
``p(x0) * exp(scale * s(x0))``:

    p0'  ∝  p0 * exp(scale * ds/dp)        (per node; ds/dp from autograd)

The score is a Chebyshev scalarisation (default) or a weighted sum of the objectives in
minimisation form, each normalised by the *predicted* front's ideal (0) and nadir (1) —
from the guiding models' values on every cell of the space — so one weight vector
per sample aims it at a point of the front. ``spread_preferences(n, J)`` gives n weight
vectors whose Chebyshev rays cross the normalised front at evenly spaced angles: one call
returns a batch spread along the whole front. Hard constraints add a penalty on the
expected constrained cost (and are enforced exactly at the last step, see
:mod:`.constraints`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ..errors import NaguiError
from ..pareto import non_dominated
from .constraints import Constraints
from .objectives import GuidanceObjective, TableObjective

SCALARISATIONS = ("chebyshev", "weighted")


class PreferenceError(NaguiError, ValueError):
    """Preference weights that are not one non-negative number per objective."""


def spread_preferences(n: int, num_objectives: int, seed: int = 0) -> np.ndarray:
    """(n, J) Chebyshev weights whose rays (1/w) cover the positive orthant evenly."""
    if num_objectives == 1:
        return np.ones((n, 1))
    if num_objectives == 2:
        theta = (np.arange(n) + 0.5) / n * (np.pi / 2)
        d = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    else:
        d = np.abs(np.random.default_rng(seed).standard_normal((n, num_objectives)))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
    w = 1.0 / np.maximum(d, 1e-3)
    return w / w.sum(axis=1, keepdims=True)


def parse_preferences(texts: Sequence[str], num_objectives: int) -> np.ndarray:
    """["0.7,0.3", ...] -> (P, J) non-negative weights summing to 1."""
    rows = []
    for text in texts:
        try:
            w = np.array([float(v) for v in str(text).split(",")], dtype=np.float64)
        except ValueError:
            raise PreferenceError(f"preference {text!r} must be {num_objectives} comma-separated numbers") from None
        if w.shape != (num_objectives,):
            raise PreferenceError(f"preference {text!r} has {w.size} weight(s); {num_objectives} objectives need "
                             f"{num_objectives}")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise PreferenceError(f"preference {text!r}: weights must be finite, >= 0 and not all 0")
        rows.append(w / w.sum())
    return np.array(rows)


@dataclass
class Guidance:
    objectives: Sequence[GuidanceObjective]
    preferences: np.ndarray | None = None        # (P, J) weights; None: spread_preferences(n, J)
    scale: float = 30.0                          # 0 = unguided
    scalarisation: str = "chebyshev"
    constraints: Constraints = field(default_factory=Constraints)
    constraint_terms: Sequence[tuple[TableObjective, float]] = ()   # (expected cost, limit in its z units)
    penalty: float = 5.0                         # weight of a constraint's violation in the score
    at: str = "mode"                             # gradient at p0's mode (a cell; default) or at p0 itself ("soft")
    front: np.ndarray | None = None              # predicted front (minimisation form), from calibrate()
    ideal: np.ndarray | None = None              # (J,) minimisation form, normalised units
    nadir: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.scalarisation not in SCALARISATIONS:
            raise ValueError(f"unknown scalarisation {self.scalarisation!r}; choose one of {SCALARISATIONS}")
        if self.at not in ("mode", "soft"):
            raise ValueError(f"guidance point must be 'mode' or 'soft', got {self.at!r}")
        if not (np.isfinite(self.scale) and self.scale >= 0):
            raise ValueError(f"guidance scale must be a number >= 0, got {self.scale!r}")

    @property
    def signs(self) -> torch.Tensor:
        return torch.tensor([-1.0 if o.maximise else 1.0 for o in self.objectives])

    def minimisation_values(self, p: torch.Tensor) -> torch.Tensor:
        """(B, J) objective values, minimisation form, normalised units."""
        return torch.stack([o.value(p) for o in self.objectives], dim=1) * self.signs.to(p.device)

    def calibrate(self, space, feasible: np.ndarray | None = None) -> "Guidance":
        """Set ideal/nadir from the predicted front over every cell of an enumerable space."""
        cells = space.enumerate()
        with torch.no_grad():
            g = torch.stack([o.values_on_cells(cells, space.num_categories) for o in self.objectives], dim=1)
        g = (g * self.signs).numpy().astype(np.float64)
        if feasible is not None:
            g = g[feasible]
        front = g[non_dominated(g)]
        self.front = front
        self.ideal, self.nadir = front.min(axis=0), front.max(axis=0)
        # a front that is one point in some objective (e.g. a single objective): use the
        # distance from the ideal to the median cell as that objective's unit instead
        flat = self.nadir - self.ideal < 1e-6
        self.nadir[flat] = np.median(g, axis=0)[flat]
        return self

    def front_preferences(self, n: int, margin: float = 0.05) -> np.ndarray:
        """(n, J) Chebyshev weights aimed at n points spread evenly along the predicted
        front (by arc length for 2 objectives, farthest-point order for more)."""
        if self.front is None:
            raise ValueError("calibrate() the guidance first")
        j = self.front.shape[1]
        if j == 1:
            return np.ones((n, 1))
        z = (self.front - self.ideal) / np.maximum(self.nadir - self.ideal, 1e-6)
        z = np.unique(np.round(z, 9), axis=0)
        if j == 2:
            z = z[np.argsort(z[:, 0])]
            arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(z, axis=0), axis=1))])
            at = (np.arange(n) + 0.5) / n * arc[-1]
            targets = np.stack([np.interp(at, arc, z[:, c]) for c in range(j)], axis=1)
        else:
            order = [int(np.argmin(z.sum(1)))]
            dist = np.linalg.norm(z - z[order[0]], axis=1)
            while len(order) < len(z):
                order.append(int(np.argmax(dist)))
                dist = np.minimum(dist, np.linalg.norm(z - z[order[-1]], axis=1))
            targets = z[np.array(order)[np.arange(n) % len(order)]]
        w = 1.0 / (targets + margin)
        return w / w.sum(axis=1, keepdims=True)

    def score(self, p: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """(B,) to maximise: minus the scalarised, normalised objectives, minus penalties."""
        g = self.minimisation_values(p)
        if self.ideal is not None:
            ideal = torch.tensor(self.ideal, dtype=g.dtype, device=g.device)
            span = torch.tensor(np.maximum(self.nadir - self.ideal, 1e-6), dtype=g.dtype, device=g.device)
            g = (g - ideal) / span
        wg = weights * g
        if self.scalarisation == "chebyshev":
            scalar = 0.05 * torch.logsumexp(wg / 0.05, dim=1) + 0.05 * wg.sum(1)
        else:
            scalar = wg.sum(1)
        score = -scalar
        for term, limit in self.constraint_terms:
            score = score - self.penalty * torch.relu(term.value(p) - limit)
        return score

    @staticmethod
    def neighbours(cells: torch.Tensor, k: int) -> torch.Tensor:
        """(B, N) -> (B, N, K, N): every cell with node i set to category c."""
        b, n = cells.shape
        out = cells[:, None, None, :].expand(b, n, k, n).clone()
        for i in range(n):
            out[:, i, :, i] = torch.arange(k, device=cells.device)
        return out

    def tilt(self, p0: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """p0' ∝ p0 * exp(scale * d score / d p0)."""
        if self.scale == 0:
            return p0
        if self.at == "mode":
            p = torch.nn.functional.one_hot(p0.argmax(-1), p0.shape[-1]).to(p0.dtype).requires_grad_(True)
        else:
            p = p0.detach().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(self.score(p, weights).sum(), p)
        logits = torch.log(p0.clamp_min(1e-12)) + self.scale * grad
        return torch.softmax(logits, dim=-1)
