"""Multi-objective regularized evolution: REA whose tournament prefers the sampled member
of the lowest non-domination rank within the population (ties: random)."""
from __future__ import annotations

from collections import deque

import numpy as np
from ..pareto import Objective, nondomination_ranks, to_minimisation
from ..problem import Problem
from .strategy import SearchContext


class MultiObjectiveREA:
    name = "mo-rea"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 population: int = 10, sample: int = 3):
        self.rng, self.cells = rng, context.cells
        self.objectives = [Objective.parse(o) for o in problem.objectives]
        self.population_size, self.sample = population, sample
        self.population: deque[tuple[int, np.ndarray]] = deque()
        self.initial = rng.permutation(len(self.cells))[:population].tolist()

    def ask(self) -> list[int]:
        if self.initial:
            return [int(self.initial.pop())]
        f = np.array([m[1] for m in self.population])
        ranks = nondomination_ranks(np.where(np.isfinite(f), f, 1e12))
        pick = self.rng.choice(len(self.population), min(self.sample, len(self.population)), replace=False)
        best = min(pick, key=lambda i: (ranks[i], self.rng.random()))
        return [self.cells.mutate(self.population[best][0], self.rng)]

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            f = to_minimisation(np.array([[v[o.name] for o in self.objectives]]), self.objectives)[0]
            self.population.append((int(i), f))
            if len(self.population) > self.population_size:
                self.population.popleft()
