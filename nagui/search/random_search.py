"""Random search: distinct cells uniformly at random."""
from __future__ import annotations

import numpy as np

from .problem import SearchProblem
from .strategy import SearchContext


class RandomSearch:
    name = "random"

    def __init__(self, problem: SearchProblem, rng: np.random.Generator, context: SearchContext):
        self.order = rng.permutation(len(context.cells))
        self.next = 0

    def ask(self) -> list[int]:
        self.next += 1
        return [int(self.order[self.next - 1])]

    def tell(self, indices, values) -> None:
        pass
