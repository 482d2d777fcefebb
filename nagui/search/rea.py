"""Regularized evolution (Real et al., 2019): tournament selection, one-op mutation, the
oldest member dies. Single objective (the target accuracy)."""
from __future__ import annotations

from collections import deque

import numpy as np

from ..problem import Problem
from .strategy import SearchContext, require_single_objective


class RegularizedEvolution:
    name = "rea"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 population: int = 10, sample: int = 3):
        require_single_objective(problem, "rea")
        self.problem, self.rng, self.cells = problem, rng, context.cells
        self.population_size, self.sample = population, sample
        self.population: deque[tuple[int, float]] = deque()
        self.initial = rng.permutation(len(self.cells))[:population].tolist()

    def ask(self) -> list[int]:
        if self.initial:
            return [int(self.initial.pop())]
        pick = self.rng.choice(len(self.population), min(self.sample, len(self.population)), replace=False)
        parent = max((self.population[i] for i in pick), key=lambda m: m[1])[0]
        return [self.cells.mutate(parent, self.rng)]

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            self.population.append((int(i), v[self.problem.accuracy]))
            if len(self.population) > self.population_size:
                self.population.popleft()
