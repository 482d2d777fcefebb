"""A problem: a dataset and the objectives traded on it, parsed once.

Objectives are named as on the command line: ``test_acc`` (the dataset's test accuracy,
maximised), a computed cost (``flops``, ``params``, ... :func:`nagui.objectives.computed_kinds`),
``latency@DEVICE`` (or just ``DEVICE``); costs are minimised. The accuracy comes first in
:attr:`Problem.objectives`, the costs follow in the order given. The predictor, guided
generation, the search harness, super-network building and the pages all use this class.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .data.benchmark import DATASETS, DEVICES, column
from .errors import NaguiError
from .objectives import ACCURACY_ALIASES, Objective, computed_kinds


class ProblemError(NaguiError, ValueError):
    """An unknown dataset or objective."""


def cost_objectives() -> list[str]:
    """Every cost a problem can trade accuracy against: the computed ones, then each device's latency."""
    return [k.name for k in computed_kinds()] + [column("latency", d) for d in DEVICES]


def parse_objective(name: str, dataset: str) -> str:
    """Command-line objective -> table column."""
    name = name.strip()
    if name in ACCURACY_ALIASES or name == column("test_acc", dataset):
        return column("test_acc", dataset)
    computed = [k.name for k in computed_kinds()]
    if name in computed:
        return name
    device = Objective.parse(name).device or name
    if device in DEVICES:
        return column("latency", device)
    raise ProblemError(f"unknown objective {name!r}; use test_acc, {', '.join(computed)}, latency@DEVICE or DEVICE "
                       f"(devices: {', '.join(DEVICES)})")


@dataclass(frozen=True)
class Problem:
    dataset: str
    objectives: tuple[str, ...]      # table columns: the target accuracy first, then the costs

    @classmethod
    def parse(cls, dataset: str, objectives: str | Sequence[str] = "test_acc") -> "Problem":
        if dataset not in DATASETS:
            raise ProblemError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
        names = objectives.split(",") if isinstance(objectives, str) else list(objectives)
        cols = tuple(parse_objective(n, dataset) for n in names if n.strip())
        if not cols:
            raise ProblemError("give at least one objective, e.g. test_acc,flops")
        if len(set(cols)) != len(cols):
            raise ProblemError(f"objectives repeat: {list(cols)}")
        accs = [c for c in cols if Objective.parse(c).is_accuracy]
        if len(accs) != 1:
            raise ProblemError(f"objectives need exactly one accuracy (test_acc), got {list(cols)}")
        return cls(dataset, tuple(accs) + tuple(c for c in cols if c not in accs))

    @property
    def accuracy(self) -> str:
        """The target accuracy: the objective that has to be learnt (or trained for)."""
        return self.objectives[0]

    @property
    def costs(self) -> tuple[str, ...]:
        return self.objectives[1:]

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def cheap(self) -> str:
        """The cheap fidelity of the target: validation accuracy after 12 epochs."""
        return column("valid_acc_12ep", self.dataset)

    def describe(self) -> str:
        return f"{self.dataset}: {' vs '.join(self.objectives)}"


__all__ = ["Problem", "ProblemError", "cost_objectives", "parse_objective"]
