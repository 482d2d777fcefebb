"""The interface every search strategy implements (ask/tell).

A strategy is made once per run with the problem, a seeded generator and a
:class:`SearchContext` (free columns, cell neighbourhoods, and what a strategy may know
besides the target: source datasets' accuracies for transfer). ``ask`` returns NB201
indices to train next; ``tell`` hands back their objective values. A multi-fidelity
strategy may ask for :class:`Cheap` cells: their 12-epoch validation accuracy, at a
fraction of the cost (:data:`.problem.CHEAP_SHARE`).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Protocol

import numpy as np

from ..diffusion.tables import CellTables
from .cells import CellIndex


@dataclass(frozen=True)
class Cheap:
    """Ask for a cell's cheap fidelity (12 epochs) instead of training it fully."""
    index: int


@dataclass
class SearchContext:
    table: object                                     # the NB201 table (a strategy reads free columns only)
    cells: CellIndex
    free: dict[str, np.ndarray]                       # cost column -> values for every cell
    sources: dict[str, np.ndarray] = field(default_factory=dict)   # other datasets' accuracies (transfer)
    protocol: dict = field(default_factory=dict)      # what each model was pretrained on
    load_models: Callable[[], dict] | None = None     # the diffusion prior, on demand
    _models: dict | None = None
    _cell_tables: object | None = None

    def models(self) -> dict:
        if self._models is None:
            if self.load_models is None:
                raise ValueError("this strategy needs the diffusion prior and the pretrained predictor")
            self._models = self.load_models()
        return self._models

    def cell_tables(self):
        """The table's columns in the diffusion space's order (built once, shared by runs)."""
        if self._cell_tables is None:
            self._cell_tables = CellTables(SimpleNamespace(table=self.table, op_indices=self.cells.ops))
        return self._cell_tables


class Strategy(Protocol):
    name: str

    def ask(self) -> list[int | Cheap]:
        """Cells to train next (at least one)."""

    def tell(self, indices: list[int | Cheap], values: list[dict]) -> None:
        """Their objective values (for a Cheap cell: its cheap fidelity)."""


class FixedOrder:
    """A strategy that trains cells in an order fixed up front (``self.order``)."""

    name = "fixed-order"
    order: list[int]

    def ask(self) -> list[int]:
        self._next = getattr(self, "_next", 0) + 1
        return [int(self.order[self._next - 1])]

    def tell(self, indices, values) -> None:
        pass


def require_single_objective(problem, strategy: str) -> None:
    """Refuse a multi-objective problem for a strategy that optimises one objective."""
    if problem.multi:
        raise ValueError(f"{strategy} optimises one objective; use a multi-objective strategy for "
                         f"{problem.describe()}")


class SingleObjectiveStrategy:
    """The base of a strategy that optimises the target accuracy alone: it refuses a
    multi-objective problem and keeps the problem, the seeded generator and the cells."""

    name = "single-objective"

    def __init__(self, problem, rng: np.random.Generator, context: SearchContext):
        require_single_objective(problem, self.name)
        self.problem, self.rng, self.cells = problem, rng, context.cells


class AgingEvolution:
    """Regularized evolution's loop (Real et al., 2019): a random initial population, then
    a tournament over a random sample of it whose winner is mutated at one op; the oldest
    member dies. Subclasses say what a member's fitness is and which sampled member wins."""

    name = "aging-evolution"

    def __init__(self, rng: np.random.Generator, context: SearchContext, population: int, sample: int):
        self.rng, self.cells = rng, context.cells
        self.population_size, self.sample = population, sample
        self.population: deque[tuple[int, object]] = deque()
        self.initial = rng.permutation(len(self.cells))[:population].tolist()

    def fitness(self, values: dict):
        """A trained cell's objective values -> what the tournament compares."""
        raise NotImplementedError

    def winner(self, sampled: np.ndarray) -> int:
        """The position in ``self.population`` of the sampled member that is mutated next."""
        raise NotImplementedError

    def ask(self) -> list[int]:
        if self.initial:
            return [int(self.initial.pop())]
        pick = self.rng.choice(len(self.population), min(self.sample, len(self.population)), replace=False)
        return [self.cells.mutate(self.population[self.winner(pick)][0], self.rng)]

    def tell(self, indices, values) -> None:
        for i, v in zip(indices, values):
            self.population.append((int(i), self.fitness(v)))
            if len(self.population) > self.population_size:
                self.population.popleft()
