"""BOHB (Falkner et al., 2018): Hyperband's successive halving with a TPE model.

NB201's tables give two fidelities: 12-epoch validation accuracy (cheap, 12/200 of a
training: :data:`.problem.CHEAP_SHARE`) and the 200-epoch target accuracy (full). With
``eta = 3`` each bracket therefore is one round of successive halving:

1. propose ``bracket`` new cells and evaluate them cheaply;
2. train the best ``bracket // eta`` of them (by 12-epoch accuracy) fully.

Proposals follow BOHB's model: a fraction ``random_fraction`` is uniform at random; the
rest maximise TPE's ratio l(x)/g(x), where l and g are factorised categorical densities
over the 6 edges' ops (Laplace-smoothed) of the best ``top`` share of the observations
and of the others. The model is fitted on the full fidelity once it has ``min_points``
observations (BOHB's rule: the highest budget with enough points), before that on the
cheap one. Single objective (the target accuracy).
"""
from __future__ import annotations

import numpy as np

from .cells import NUM_EDGES, NUM_OPS
from ..problem import Problem
from .strategy import Cheap, SearchContext, SingleObjectiveStrategy


class BOHB(SingleObjectiveStrategy):
    name = "bohb"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 bracket: int = 9, eta: int = 3, random_fraction: float = 1 / 3, top: float = 0.15,
                 min_points: int = NUM_EDGES + 1, candidates: int = 64):
        super().__init__(problem, rng, context)
        if bracket < eta or eta < 2:
            raise ValueError(f"need bracket >= eta >= 2, got bracket {bracket}, eta {eta}")
        self.bracket, self.eta, self.random_fraction, self.top = bracket, eta, random_fraction, top
        self.min_points, self.candidates = min_points, candidates
        self.cheap: dict[int, float] = {}        # 12-epoch validation accuracy
        self.full: dict[int, float] = {}         # target accuracy
        self._pending: list[int] = []            # this bracket's cheaply evaluated cells

    # ---- the model -----------------------------------------------------------------
    def _observations(self) -> dict[int, float]:
        return self.full if len(self.full) >= self.min_points else self.cheap

    def _densities(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(6, 5) op probabilities per edge among the good and the other observations."""
        obs = self._observations()
        if len(obs) < self.min_points:
            return None
        rows = np.array(list(obs), dtype=np.int64)
        y = np.array([obs[int(r)] for r in rows])
        n_good = max(1, int(np.ceil(self.top * len(rows))))
        order = np.argsort(-y, kind="stable")
        good, bad = rows[order[:n_good]], rows[order[n_good:]]

        def density(cells: np.ndarray) -> np.ndarray:
            counts = np.ones((NUM_EDGES, NUM_OPS))                          # Laplace smoothing
            for e in range(NUM_EDGES):
                counts[e] += np.bincount(self.cells.ops[cells, e], minlength=NUM_OPS)
            return counts / counts.sum(axis=1, keepdims=True)

        return density(good), density(bad)

    def _propose(self, n: int) -> list[int]:
        """``n`` new cells (neither cheaply nor fully evaluated), model-based or random."""
        model = self._densities()
        out: list[int] = []
        tries = 0
        while len(out) < n and tries < 100 * n:
            tries += 1
            if model is None or self.rng.random() < self.random_fraction:
                cell = int(self.rng.integers(len(self.cells)))
            else:
                l, g = model
                ops = np.stack([self.rng.choice(NUM_OPS, size=self.candidates, p=l[e]) for e in range(NUM_EDGES)],
                               axis=1)                                        # candidates, 6
                ratio = (np.log(l[np.arange(NUM_EDGES), ops]) - np.log(g[np.arange(NUM_EDGES), ops])).sum(axis=1)
                cells = self.cells.index_of(ops)
                fresh = [int(c) for c in cells[np.argsort(-ratio, kind="stable")] if self._new(int(c), out)]
                if not fresh:
                    continue
                cell = fresh[0]
            if self._new(cell, out):
                out.append(cell)
        return out

    def _new(self, cell: int, taken: list[int]) -> bool:
        return cell not in self.cheap and cell not in self.full and cell not in taken

    # ---- ask / tell ------------------------------------------------------------------
    def ask(self) -> list[int | Cheap]:
        if self._pending and all(c in self.cheap for c in self._pending):
            best = sorted(self._pending, key=lambda c: -self.cheap[c])[:self.bracket // self.eta]
            self._pending = []
            promoted = [c for c in best if c not in self.full]
            if promoted:
                return promoted
        self._pending = self._propose(self.bracket)
        return [Cheap(c) for c in self._pending]

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            if isinstance(i, Cheap):
                self.cheap[i.index] = float(v[self.problem.cheap])
            else:
                self.full[int(i)] = float(v[self.problem.accuracy])

    def protocol(self) -> dict:
        return {"fidelities": f"{self.problem.cheap} (12 epochs) -> {self.problem.accuracy} (200 epochs)",
                "bracket": f"{self.bracket} cheap -> best {self.bracket // self.eta} trained (eta {self.eta})",
                "model": f"TPE, factorised categorical densities, top {self.top:.0%}, "
                         f"{self.random_fraction:.0%} random proposals"}
