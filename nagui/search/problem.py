"""A search problem and the oracle that answers it.

The budget counts *trained architectures*: distinct cells whose target accuracy was
looked up. FLOPs, params and device latencies are free (computed or measured once for
every cell), so a strategy may read them for any cell at no cost.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..pareto import Objective, non_dominated, to_minimisation


class BudgetExhausted(RuntimeError):
    """A strategy asked for a new cell after the budget was spent."""


@dataclass(frozen=True)
class SearchProblem:
    dataset: str
    objectives: tuple[str, ...]            # table columns; the first is the target accuracy

    @classmethod
    def parse(cls, dataset: str, objectives: str = "test_acc") -> "SearchProblem":
        from ..diffusion.problem import Problem

        p = Problem.parse(dataset, objectives)
        return cls(p.dataset, tuple(p.objectives))

    @property
    def accuracy(self) -> str:
        return self.objectives[0]

    @property
    def costs(self) -> tuple[str, ...]:
        return self.objectives[1:]

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    def describe(self) -> str:
        return f"{self.dataset}: {' vs '.join(self.objectives)}"


@dataclass
class Query:
    trained: int                 # distinct cells trained so far, this one included
    index: int                   # NB201 index
    values: dict                 # objective -> value
    seconds: float               # wall time since the search started


@dataclass
class Oracle:
    """Answers objective values of NB201 cells, counting distinct accuracy look-ups."""

    table: object                          # the Benchmark's pandas table
    problem: SearchProblem
    budget: int
    queries: list[Query] = field(default_factory=list)
    _seen: dict = field(default_factory=dict)
    _start: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if not isinstance(self.budget, int) or self.budget < 1:
            raise ValueError(f"budget must be a positive int, got {self.budget!r}")
        self._values = self.table[list(self.problem.objectives)].to_numpy(np.float64)

    @property
    def trained(self) -> int:
        return len(self._seen)

    @property
    def left(self) -> int:
        return self.budget - self.trained

    def free(self, name: str) -> np.ndarray:
        """A free column (a cost) for every cell, in NB201 index order."""
        if name == self.problem.accuracy:
            raise ValueError(f"{name} is what the budget pays for; query cells to learn it")
        return self.table[name].to_numpy(np.float64)

    def evaluate(self, index: int) -> dict:
        """The objectives of one cell; a cell seen before costs nothing again."""
        index = int(index)
        if index in self._seen:
            return self._seen[index]
        if self.trained >= self.budget:
            raise BudgetExhausted(f"budget of {self.budget} trained architectures is spent")
        row = self._values[index]
        values = {name: float(v) for name, v in zip(self.problem.objectives, row)}
        self._seen[index] = values
        self.queries.append(Query(self.trained, index, values, time.perf_counter() - self._start))
        return values


def true_front(table, problem: SearchProblem) -> np.ndarray:
    """The true front of the problem in minimisation form (rows with missing values excluded)."""
    objs = [Objective.parse(o) for o in problem.objectives]
    f = to_minimisation(table[list(problem.objectives)].to_numpy(np.float64), objs)
    return f[non_dominated(f)]
