"""Local search (White et al., 2020): from the best cell so far, train its unseen
neighbours in random order; move as soon as one is better; restart at a random cell at a
local optimum. Single objective."""
from __future__ import annotations

import numpy as np

from ..problem import Problem
from .strategy import SearchContext, SingleObjectiveStrategy


class LocalSearch(SingleObjectiveStrategy):
    name = "local"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext):
        super().__init__(problem, rng, context)
        self.seen: dict[int, float] = {}
        self.centre: int | None = None
        self.frontier: list[int] = []

    def _restart(self) -> int:
        while True:
            i = int(self.rng.integers(len(self.cells)))
            if i not in self.seen:
                return i

    def ask(self) -> list[int]:
        while self.frontier and self.frontier[-1] in self.seen:
            self.frontier.pop()
        if self.centre is None or not self.frontier:
            self.centre, self.frontier = None, []
            return [self._restart()]
        return [self.frontier.pop()]

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            i, acc = int(i), v[self.problem.accuracy]
            self.seen[i] = acc
            if self.centre is None or acc > self.seen[self.centre]:
                self.centre = i
                self.frontier = [int(n) for n in self.rng.permutation(self.cells.neighbours(i))]
