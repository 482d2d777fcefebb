"""A search problem and the oracle that answers it.

The budget counts *trained architectures*: distinct cells whose target accuracy was
looked up. FLOPs, params and device latencies are free (computed or measured once for
every cell), so a strategy may read them for any cell at no cost.

Multi-fidelity strategies may also ask for a cell's *cheap* fidelity: its validation
accuracy after 12 epochs (``valid_acc_12ep@<dataset>``), which costs 12/200 of a trained
architecture (:data:`CHEAP_SHARE`, the share of the 200-epoch training it takes). The
budget then counts both, in trained-architecture equivalents (:attr:`Oracle.spent`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..data.benchmark import QueryCounter
from ..errors import NaguiError
from ..pareto import non_dominated, table_minimisation
from ..problem import Problem


CHEAP_EPOCHS, FULL_EPOCHS = 12, 200
CHEAP_SHARE = CHEAP_EPOCHS / FULL_EPOCHS       # a cheap evaluation's cost, in trained architectures


class BudgetExhausted(NaguiError, RuntimeError):
    """A strategy asked for a new cell after the budget was spent (the harness stops the run
    there; the message says how much was spent)."""


@dataclass
class Query:
    trained: int                 # distinct cells trained (full fidelity) so far, this one included
    index: int                   # NB201 index
    values: dict                 # objective -> value (cheap: the cheap fidelity's column -> value)
    seconds: float               # wall time since the search started
    fidelity: str = "full"       # "full" (200 epochs) or "cheap" (12 epochs)
    spent: float = 0.0           # budget spent so far, this query included (trained-architecture equivalents)


@dataclass
class Oracle:
    """Answers objective values of NB201 cells, counting distinct accuracy look-ups (the
    benchmark's own :class:`QueryCounter`) and the budget they spend."""

    table: object                          # the Benchmark's pandas table
    problem: Problem
    budget: int
    queries: list[Query] = field(default_factory=list)
    counter: QueryCounter = field(default_factory=QueryCounter)
    _seen: dict = field(default_factory=dict)
    _cheap: dict = field(default_factory=dict)
    _start: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if not isinstance(self.budget, int) or self.budget < 1:
            raise ValueError(f"budget must be a positive int, got {self.budget!r}")
        self._values = self.table[list(self.problem.objectives)].to_numpy(np.float64)
        self._cheap_values: np.ndarray | None = None

    @property
    def trained(self) -> int:
        return self.counter.count

    @property
    def spent(self) -> float:
        """Budget spent: trained architectures plus CHEAP_SHARE per cheap evaluation."""
        return self.trained + CHEAP_SHARE * len(self._cheap)

    @property
    def left(self) -> float:
        return self.budget - self.spent

    def _charge(self, cost: float) -> None:
        if self.spent + cost > self.budget + 1e-9:
            raise BudgetExhausted(f"budget of {self.budget} trained architectures is spent "
                                  f"({self.spent:.2f} used)")

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
        self._charge(1.0)
        self.counter.record(index)
        row = self._values[index]
        values = {name: float(v) for name, v in zip(self.problem.objectives, row)}
        self._seen[index] = values
        self.queries.append(Query(self.trained, index, values, time.perf_counter() - self._start, "full",
                                  self.spent))
        return values

    def evaluate_cheap(self, index: int) -> dict:
        """The cheap fidelity of one cell (12-epoch validation accuracy), at CHEAP_SHARE of
        a trained architecture; a cell seen before at this fidelity costs nothing again."""
        index = int(index)
        if index in self._cheap:
            return self._cheap[index]
        self._charge(CHEAP_SHARE)
        if self._cheap_values is None:
            if self.problem.cheap not in self.table.columns:
                raise ValueError(f"the table has no cheap fidelity {self.problem.cheap!r} for {self.problem.dataset}")
            self._cheap_values = self.table[self.problem.cheap].to_numpy(np.float64)
        values = {self.problem.cheap: float(self._cheap_values[index])}
        self._cheap[index] = values
        self.queries.append(Query(self.trained, index, values, time.perf_counter() - self._start, "cheap",
                                  self.spent))
        return values


def front_values(table, problem: Problem) -> np.ndarray:
    """The true front of the problem in minimisation form (rows with missing values excluded)."""
    f = table_minimisation(table, problem.objectives)
    return f[non_dominated(f)]
