"""Random search: distinct cells uniformly at random."""
from __future__ import annotations

import numpy as np

from ..problem import Problem
from .strategy import FixedOrder, SearchContext


class RandomSearch(FixedOrder):
    name = "random"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext):
        self.order = rng.permutation(len(context.cells)).tolist()
