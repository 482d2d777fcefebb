"""Multi-objective regularized evolution: REA whose tournament prefers the sampled member
of the lowest non-domination rank within the population (ties: random)."""
from __future__ import annotations

import numpy as np

from ..pareto import Objective, nondomination_ranks, to_minimisation
from ..problem import Problem
from .strategy import AgingEvolution, SearchContext


class MultiObjectiveREA(AgingEvolution):
    name = "mo-rea"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 population: int = 10, sample: int = 3):
        self.objectives = [Objective.parse(o) for o in problem.objectives]
        super().__init__(rng, context, population, sample)

    def fitness(self, values: dict) -> np.ndarray:
        return to_minimisation(np.array([[values[o.name] for o in self.objectives]]), self.objectives)[0]

    def winner(self, sampled: np.ndarray) -> int:
        f = np.array([m[1] for m in self.population])
        ranks = nondomination_ranks(np.where(np.isfinite(f), f, 1e12))
        return min(sampled, key=lambda i: (ranks[i], self.rng.random()))
