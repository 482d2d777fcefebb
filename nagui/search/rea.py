"""Regularized evolution (Real et al., 2019): tournament selection, one-op mutation, the
oldest member dies. Single objective (the target accuracy)."""
from __future__ import annotations

import numpy as np

from ..problem import Problem
from .strategy import AgingEvolution, SearchContext, require_single_objective


class RegularizedEvolution(AgingEvolution):
    name = "rea"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 population: int = 10, sample: int = 3):
        require_single_objective(problem, self.name)
        self.problem = problem
        super().__init__(rng, context, population, sample)

    def fitness(self, values: dict) -> float:
        return values[self.problem.accuracy]

    def winner(self, sampled: np.ndarray) -> int:
        return max(sampled, key=lambda i: self.population[i][1])
