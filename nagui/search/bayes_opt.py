"""Bayesian optimisation with the ensemble predictor (BANANAS-style, White et al., 2021).

The surrogate is nagui's own :class:`~nagui.predictor.ensemble.Predictor`, a deep
ensemble of cell GNNs, fitted from scratch on the target accuracies of every cell the
run has trained (nothing else: no source task). The first ``initial`` cells are random;
then each ask refits it and trains the ``batch`` unseen candidates of best acquisition.
Candidates, as in BANANAS: every one-op mutation of the ``parents`` best trained cells
(for several objectives: the trained cells of lowest non-domination rank) plus
``random_candidates`` random cells.

- one objective: expected improvement over the best accuracy so far (``"ei"``) or the
  upper confidence bound mean + 2 std (``"ucb"``), from the ensemble's mean and
  calibrated spread;
- several (ParEGO, Knowles 2006): each cell of the batch draws its own weight vector;
  the augmented Chebyshev scalarisation of (predicted accuracy, log free costs),
  normalised by the ideal and nadir points of the predicted front, is computed per
  member, and the cell with the best
  expected improvement of it over the trained cells is taken.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm

from ..pareto import Objective, ideal_and_span, non_dominated, nondomination_ranks, to_minimisation
from ..predictor.encoding import encode_indices
from ..predictor.ensemble import Predictor, TrainConfig
from ..predictor.training import FULL_BATCH
from ..problem import Problem
from ..space import Arch
from .strategy import SearchContext

ACQUISITIONS = ("ei", "ucb")
BO_RANK_WEIGHT = 1.0   # the surrogate's pairwise ranking weight, as the search benchmarks measured it


def expected_improvement(mu: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """E[max(y - best, 0)] for y ~ N(mu, sd) (maximisation)."""
    sd = np.maximum(sd, 1e-9)
    z = (mu - best) / sd
    return (mu - best) * norm.cdf(z) + sd * norm.pdf(z)


class BayesianOptimisation:
    name = "bo"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 initial: int = 10, batch: int = 10, acquisition: str = "ei", members: int = 3, epochs: int = 30,
                 parents: int = 10, random_candidates: int = 500):
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {ACQUISITIONS}, got {acquisition!r}")
        self.problem, self.rng, self.cells = problem, rng, context.cells
        self.initial, self.batch, self.acquisition = initial, batch, acquisition
        self.members, self.epochs = members, epochs
        self.parents, self.random_candidates = parents, random_candidates
        self.objectives = [Objective.parse(o) for o in problem.objectives]
        costs = np.stack([context.free[c] for c in problem.costs], axis=1) if problem.multi else None
        self.costs = None if costs is None else to_minimisation(costs, self.objectives[1:])
        self.trained: dict[int, float] = {}

    def _random(self, n: int) -> list[int]:
        out: list[int] = []
        for i in self.rng.permutation(len(self.cells)):
            if int(i) not in self.trained:
                out.append(int(i))
                if len(out) == n:
                    break
        return out

    def _candidates(self) -> np.ndarray:
        rows = np.array(list(self.trained), dtype=np.int64)
        if self.problem.multi:
            acc = np.array([self.trained[int(r)] for r in rows])
            f = np.concatenate([-acc[:, None], self.costs[rows]], axis=1)
            order = np.lexsort((-acc, nondomination_ranks(np.where(np.isfinite(f), f, 1e12))))
        else:
            order = np.argsort(-np.array([self.trained[int(r)] for r in rows]), kind="stable")
        parents = rows[order[:self.parents]]
        pool = np.concatenate([self.cells.neighbours(int(p)) for p in parents]
                              + [self.rng.choice(len(self.cells), self.random_candidates, replace=False)])
        pool = np.unique(pool)
        return pool[~np.isin(pool, rows)]

    def _member_predictions(self, candidates: np.ndarray) -> np.ndarray:
        """(M, n) accuracy of each candidate predicted by each ensemble member."""

        rows = list(self.trained)
        values = np.array([self.trained[r] for r in rows])
        archs = [Arch.from_indices(self.cells.ops[r].tolist()) for r in rows]
        config = TrainConfig(members=self.members, epochs=self.epochs, aux_weight=0.0, aux_batch=1,
                             rank_weight=BO_RANK_WEIGHT, batch_size=FULL_BATCH, seed=int(self.rng.integers(2**31 - 1)))
        with torch.random.fork_rng():
            # no isomorph copies and ranking weight 1: the search benchmarks' timings and results
            # were measured so (TrainConfig's default weight 3 and mini-batches came later, issue #16)
            predictor = Predictor.fit(archs, {self.problem.accuracy: values}, train_config=config,
                                      isomorph_copies=0)
        x = encode_indices(self.cells.ops[candidates], split_dead=True)
        col = predictor.objectives.index(self.problem.accuracy)
        out = predictor._member_outputs(x).numpy()[:, :, col].astype(np.float64)
        return predictor.to_units(out, self.problem.accuracy)

    def ask(self) -> list[int]:
        if len(self.trained) < self.initial:
            return self._random(self.initial - len(self.trained))
        candidates = self._candidates()
        preds = self._member_predictions(candidates)
        if not self.problem.multi:
            mu, sd = preds.mean(0), preds.std(0)
            if self.acquisition == "ei":
                score = expected_improvement(mu, sd, max(self.trained.values()))
            else:
                score = mu + 2.0 * sd
            return [int(candidates[i]) for i in np.argsort(-score, kind="stable")[:self.batch]]
        return [int(candidates[i]) for i in self._parego(preds, candidates)]

    def _parego(self, preds: np.ndarray, candidates: np.ndarray) -> list[int]:
        """Positions in ``candidates`` of the batch, one random weight vector each."""
        seen = np.array(list(self.trained), dtype=np.int64)
        acc_seen = np.array([self.trained[int(i)] for i in seen])
        with np.errstate(divide="ignore", invalid="ignore"):
            cost = np.log(np.where(self.costs > 0, self.costs, np.nan))
        f_mean = np.concatenate([-np.concatenate([preds.mean(0), acc_seen])[:, None],
                                 cost[np.concatenate([candidates, seen])]], axis=1)
        front = f_mean[non_dominated(f_mean)]                                     # the predicted front
        lo, span = ideal_and_span(front)
        cost_n = (cost[candidates] - lo[1:]) / span[1:]
        cost_n = np.where(np.isfinite(cost_n), cost_n, np.inf)                   # a missing cost is never chosen
        acc_n = (-preds - lo[0]) / span[0]                                        # M, n
        f = np.concatenate([acc_n[..., None], np.broadcast_to(cost_n, acc_n.shape + (cost_n.shape[1],))], axis=2)
        f_seen = np.concatenate([((-acc_seen - lo[0]) / span[0])[:, None], (cost[seen] - lo[1:]) / span[1:]], axis=1)
        f_seen = f_seen[np.isfinite(f_seen).all(axis=1)]
        picked: list[int] = []
        for _ in range(min(self.batch, len(candidates))):
            w = self.rng.dirichlet(np.ones(len(self.objectives)))
            s = -(np.max(w * f, axis=2) + 0.05 * (w * f).sum(axis=2))           # M, n: to maximise
            with np.errstate(invalid="ignore"):
                mu, sd = s.mean(0), s.std(0)
            ok = np.isfinite(mu)
            score = np.full(len(mu), -np.inf)
            if self.acquisition == "ei":
                best = float(np.max(-(np.max(w * f_seen, axis=1) + 0.05 * (w * f_seen).sum(axis=1))))
                score[ok] = expected_improvement(mu[ok], sd[ok], best)
            else:
                score[ok] = mu[ok] + 2.0 * sd[ok]
            score[picked] = -np.inf
            picked.append(int(np.argmax(score)))
        return picked

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            self.trained.setdefault(int(i), float(v[self.problem.accuracy]))
