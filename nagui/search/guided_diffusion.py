"""Ours: predictor-guided diffusion whose predictor is refitted on every result it is told.

The predictor is a :class:`~.surrogate.TransferSurrogate`: the target accuracy of every
cell predicted from the source datasets' accuracies (never the target's), refitted on
every target cell the run has trained. Each ask guides the diffusion prior with it (its
predicted accuracy of every cell as a table objective, plus the problem's free costs,
with preferences spread along the predicted front), and trains the unseen samples it
rates best: one at a time for the first ``first`` cells, then ``batch`` at a time.

- one objective: the samples of highest predicted accuracy;
- several: first the predicted front's accuracy end (the cheapest of the samples rated
  most accurate), then the samples that add the most hypervolume, greedily, to the cells
  trained so far (at their true values), on the predicted front's scale.

On a table the guided samples only choose among cells, so a sample set that brings
fewer unseen cells than wanted is topped up from the predictor's ranking of the rest.
"""
from __future__ import annotations

import numpy as np

from ..diffusion.guidance import Guidance
from ..diffusion.objectives import TableObjective
from ..diffusion.sampler import Sampler
from ..pareto import Objective, greedy_hypervolume, non_dominated, to_minimisation
from ..problem import Problem
from .strategy import SearchContext
from .surrogate import TransferSurrogate


# The first cell a multi-objective run trains is the predicted front's accuracy end (the
# cheapest sample rated within this many points of the best one), then the cells that add
# the most hypervolume: the greedy hypervolume alone (reference point 1.1) leaves the
# accuracy end for late, since an extreme point adds little volume. None: greedy only.
ANCHOR_MARGIN: float | None = 0.0


class GuidedDiffusion:
    name = "ours"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 samples: int = 64, scale: float = 100.0, first: int = 10, batch: int = 5,
                 anchor_margin: float | None = ANCHOR_MARGIN):
        self.model = context.models()["diffusion"]
        self.problem, self.rng, self.samples, self.scale = problem, rng, samples, scale
        self.first, self.batch, self.anchor_margin = first, batch, anchor_margin
        self.surrogate = TransferSurrogate(context.sources)
        self.tables = context.cell_tables()
        space = self.tables.space
        self.cost_terms = [TableObjective(c, self.tables.guide_values(c), space.num_nodes, space.num_categories)
                           for c in problem.costs]
        self.objectives = [Objective.parse(o) for o in problem.objectives]
        costs = np.stack([context.free[c] for c in problem.costs], axis=1) if problem.multi else None
        self.costs = None if costs is None else to_minimisation(costs, self.objectives[1:])
        self.trained: dict[int, float] = {}
        self.canonical = context.table["canonical_id"].to_numpy()
        self.trained_classes: set = set()

    def _guidance(self, predicted: np.ndarray):
        space = self.tables.space
        flat = predicted[self.tables.table_row]                                   # space order
        acc = TableObjective(self.problem.accuracy, flat, space.num_nodes, space.num_categories, log=False)
        return Guidance([acc] + self.cost_terms, scale=self.scale).calibrate(space)

    def _samples(self, predicted: np.ndarray) -> np.ndarray:
        """Distinct unseen NB201 indices from one guided batch."""
        out = Sampler(self.model).sample(self.samples, self._guidance(predicted),
                                         seed=int(self.rng.integers(2**31 - 1)))
        rows = self.tables.table_row[self.tables.space.flat_index(out.indices).numpy()]
        return np.array([r for r in dict.fromkeys(rows.tolist()) if self._new(r)], dtype=np.int64)

    def _new(self, row: int) -> bool:
        """Not trained, nor isomorphic to a trained cell (the same network)."""
        return row not in self.trained and self.canonical[row] not in self.trained_classes

    def ask(self) -> list[int]:
        self.surrogate.fit(list(self.trained), list(self.trained.values()))
        predicted = self.surrogate.predict()
        want = 1 if len(self.trained) < self.first else self.batch
        rows = self._samples(predicted)
        if not self.problem.multi:
            picked = rows[np.argsort(-predicted[rows], kind="stable")][:want].tolist()
        elif not self.trained and self.anchor_margin is not None and len(rows):
            picked = [self._accuracy_end(predicted, rows)]
        else:
            picked = rows[self._by_hypervolume(predicted, rows, want)].tolist()
        if len(picked) < want:                       # top up from the predictor's ranking
            for i in np.argsort(-predicted, kind="stable"):
                if len(picked) == want:
                    break
                if self._new(int(i)) and int(i) not in picked:
                    picked.append(int(i))
        return picked

    def _accuracy_end(self, predicted: np.ndarray, rows: np.ndarray) -> int:
        """The front's accuracy end among the samples: of those the predictor rates within
        ``anchor_margin`` points of the best sample, the cheapest (first cost)."""
        near = rows[predicted[rows] >= predicted[rows].max() - self.anchor_margin]
        return int(near[np.argmin(self.costs[near, 0])])

    def _by_hypervolume(self, predicted: np.ndarray, rows: np.ndarray, want: int) -> list[int]:
        f_pred = np.concatenate([-predicted[:, None], self.costs], axis=1)
        front = f_pred[non_dominated(f_pred)]
        ideal, nadir = front.min(axis=0), front.max(axis=0)
        seen = np.array(list(self.trained), dtype=np.int64)
        base = np.concatenate([-np.array(list(self.trained.values()))[:, None], self.costs[seen]], axis=1)
        return greedy_hypervolume(f_pred[rows], want, ideal, nadir, base=base[np.isfinite(base).all(axis=1)])

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            self.trained.setdefault(int(i), float(v[self.problem.accuracy]))
            self.trained_classes.add(self.canonical[int(i)])

    def protocol(self) -> dict:
        return {"predictor": "transfer surrogate (ridge on the source columns, refitted on every trained cell)",
                "features": self.surrogate.names, "target_labels_seen": len(self.trained),
                "diffusion_prior": "unconditional, trained on the cells' structure only"}


class AccuracyGuidedDiffusion(GuidedDiffusion):
    """DiffusionNAG-style: the same prior and predictor, guided by predicted accuracy alone
    whatever the problem's costs, training the samples of highest predicted accuracy
    (DiffusionNAG generates with accuracy guidance, then trains its top-k generated cells)."""

    name = "diffusionnag"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext, **kwargs):
        super().__init__(Problem(problem.dataset, (problem.accuracy,)), rng, context, **kwargs)

    def protocol(self) -> dict:
        return {**super().protocol(), "guidance": "predicted accuracy only (costs ignored)"}
