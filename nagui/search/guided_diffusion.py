"""Ours: predictor-guided diffusion whose predictor is refitted on every result it is told.

The guiding predictor starts as the transfer base (pretrained on the other datasets'
accuracies, never the target's) and is re-adapted to the target on every cell the run
has trained. Each ask samples a batch from the diffusion prior guided by it (accuracy
alone, or the problem's objectives along the predicted front) and trains the unseen
samples the predictor ranks best: one at a time for the first 10, then 5 at a time.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..pareto import Objective, non_dominated, to_minimisation
from ..space import Arch
from .problem import SearchProblem
from .strategy import SearchContext


class GuidedDiffusion:
    name = "ours"

    def __init__(self, problem: SearchProblem, rng: np.random.Generator, context: SearchContext,
                 samples: int = 64, scale: float = 100.0):
        from ..diffusion.problem import Problem
        from ..diffusion.tables import CellTables

        models = context.models()
        self.model, self.base = models["diffusion"], models["pretrained"]
        self.problem, self.rng, self.samples, self.scale = problem, rng, samples, scale
        self.diffusion_problem = Problem.parse(problem.dataset, ",".join(problem.objectives))
        self.tables = CellTables(SimpleNamespace(table=context.table))
        self.archs: list[Arch] = []
        self.values: list[float] = []
        self.seen: set[int] = set()
        self.table_arch = context.table["arch"]

    def _predictor(self):
        from ..predictor.transfer import adapt

        return adapt(self.base, self.problem.accuracy, self.archs, self.values, seed=len(self.archs))

    def ask(self) -> list[int]:
        from ..diffusion.problem import build_guidance
        from ..diffusion.sampler import Sampler

        predictor = self._predictor()
        guidance, feasible = build_guidance(self.diffusion_problem, predictor, self.tables, scale=self.scale)
        out = Sampler(self.model).sample(self.samples, guidance, seed=int(self.rng.integers(2**31 - 1)),
                                         feasible=feasible)
        rows = self.tables.table_row[self.tables.space.flat_index(out.indices).numpy()]
        rows = np.array([r for r in dict.fromkeys(rows.tolist()) if r not in self.seen], dtype=np.int64)
        want = 1 if len(self.seen) < 10 else 5
        if len(rows) == 0:                                   # every sample was trained already
            rows = self.rng.permutation(np.setdiff1d(np.arange(len(self.table_arch)), list(self.seen)))[:want]
            return rows.tolist()
        pred = predictor.predict([Arch.from_str(self.table_arch[r]) for r in rows])
        acc = pred[self.problem.accuracy]
        if not self.problem.multi:
            order = np.argsort(-acc, kind="stable")
        else:                                                # predicted non-dominated first
            objs = [Objective.parse(o) for o in self.problem.objectives]
            costs = [self.tables.bench.table[c].to_numpy(np.float64)[rows] for c in self.problem.costs]
            f = to_minimisation(np.stack([acc] + costs, axis=1), objs)
            first = non_dominated(np.where(np.isfinite(f), f, 1e12))
            order = np.concatenate([first[np.argsort(-acc[first])],
                                    np.setdiff1d(np.argsort(-acc, kind="stable"), first, assume_unique=True)])
            order = np.array(list(dict.fromkeys(order.tolist())))
        return rows[order[:want]].tolist()

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            if int(i) not in self.seen:
                self.seen.add(int(i))
                self.archs.append(Arch.from_str(self.table_arch[int(i)]))
                self.values.append(v[self.problem.accuracy])
