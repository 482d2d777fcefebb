"""What an objective is, decided in one place: its kind, direction, unit and where its value comes from.

Objectives are named in the table convention ``<metric>@<dataset or device>``
(``test_acc@cifar10``, ``latency@raspi4``, ``flops``). Sub-network records use short
names (``accuracy``, ``latency_ms``, ``flops``, ``params``); they resolve to the same kinds.

A :class:`Kind` says whether more is better, the unit, and where a value comes from
(:data:`SOURCES`):

- ``learnt``: labels in the NB201 table (accuracies). For a cell without a label a
  predictor estimates it; guidance uses the predictor's soft-encoding head.
- ``device``: measured once per cell on a device and tabulated (HW-NAS-Bench latencies).
- ``computed``: nagui computes it for any cell from its ops (``Kind.compute``); the table
  gets it as a column and guidance takes its exact expectation over a soft cell.
- ``table``: another tabulated quantity (NB201's training time).
- ``measured``: measured here, live, on a built network (sub-network records).

Adding an objective kind is one entry in :data:`KINDS` (plus, for a computed kind, the
function that computes it). Everything else (the table's columns and their docs, the
command line, the Generate page's choices, guidance, fronts, axis titles) asks this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .measure.memory import table_memory_mb
from .space import table_cost

SOURCES = ("learnt", "device", "computed", "table", "measured", "other")
ACCURACY_ALIASES = ("test_acc", "acc", "accuracy")


def _flops(op_indices: np.ndarray) -> np.ndarray:
    return table_cost(op_indices)[0]


def _params(op_indices: np.ndarray) -> np.ndarray:
    return table_cost(op_indices)[1]


@dataclass(frozen=True)
class Kind:
    """One kind of objective. ``matches(metric)`` recognises its metric names (the part
    before ``@``, lower case); ``compute`` maps (n, 6) op indices to (n,) values."""

    name: str
    maximise: bool
    unit: str
    source: str
    title: str                                   # axis title without unit, e.g. "FLOPs"
    matches: Callable[[str], bool] = field(repr=False)
    compute: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    doc: str = ""                                # what a computed column holds (the table's column docs)
    transform: str = "identity"                  # the units a predictor models it in (nagui.predictor.units):
                                                 # "log" for positive costs spanning orders of magnitude

    @property
    def is_cost(self) -> bool:
        return not self.maximise


def _is_accuracy_metric(m: str) -> bool:
    return m in ("accuracy", "acc") or m.endswith("_acc") or "_acc_" in m or m.startswith("acc")


# Order matters: the first kind whose ``matches`` accepts a metric is its kind.
KINDS: tuple[Kind, ...] = (
    Kind("accuracy", True, "%", "learnt", "accuracy", _is_accuracy_metric),
    Kind("flops", False, "MFLOPs", "computed", "FLOPs", lambda m: "flop" in m, _flops,
         "MFLOPs per 32x32 image, NB201 convention, CIFAR-10 network", "log"),
    Kind("params", False, "M params", "computed", "Params", lambda m: m.startswith("param"), _params,
         "parameters (M), CIFAR-10 network", "log"),
    Kind("latency", False, "ms", "device", "Latency", lambda m: "latency" in m, transform="log"),
    Kind("memory", False, "MB", "computed", "Memory",
         lambda m: "mem" in m or m.endswith("_mb") or m.endswith("_bytes"), table_memory_mb,
         "peak activation memory (MB) at inference, batch 1, float32, CIFAR-10 network (liveness estimate)", "log"),
    Kind("train_time", False, "s", "table", "Training time", lambda m: m == "train_s"),
)
OTHER = Kind("other", False, "", "other", "", lambda m: True)
def kind_of(column: str) -> Kind:
    """The kind of a column or record field (:data:`OTHER` when no kind recognises it)."""
    metric = column.split("@")[0].lower()
    return next((k for k in KINDS if k.matches(metric)), OTHER)


@dataclass(frozen=True)
class Objective:
    """A named objective and everything that follows from its name."""

    name: str

    @classmethod
    def parse(cls, name: str) -> "Objective":
        return cls(str(name).strip())

    @property
    def kind(self) -> Kind:
        return kind_of(self.name)

    @property
    def metric(self) -> str:
        return self.name.split("@")[0]

    @property
    def where(self) -> str:
        """The dataset or device after ``@`` ("" when none)."""
        return self.name.partition("@")[2]

    @property
    def maximise(self) -> bool:
        return self.kind.maximise

    @property
    def unit(self) -> str:
        return self.kind.unit

    @property
    def is_cost(self) -> bool:
        return self.kind.is_cost

    @property
    def is_accuracy(self) -> bool:
        return self.kind.name == "accuracy"

    @property
    def learnt(self) -> bool:
        """Must be learnt from labels (a predictor estimates it for unlabelled cells)."""
        return self.kind.source == "learnt"

    @property
    def device(self) -> str | None:
        """The device of a tabulated device measurement (``latency@raspi4`` -> ``raspi4``)."""
        return self.where if self.kind.source == "device" and self.where else None


def computed_kinds() -> tuple[Kind, ...]:
    """The kinds nagui computes for any cell; each is a table column named after the kind."""
    return tuple(k for k in KINDS if k.compute is not None)


def computed_columns(op_indices: np.ndarray) -> dict[str, np.ndarray]:
    """Every computed objective of the cells ``op_indices`` (n, 6): column name -> (n,) values."""
    idx = np.asarray(op_indices)
    return {k.name: np.asarray(k.compute(idx), dtype=np.float64) for k in computed_kinds()}


def maximise(column: str) -> bool:
    return kind_of(column).maximise


__all__ = ["ACCURACY_ALIASES", "KINDS", "OTHER", "SOURCES", "Kind", "Objective", "computed_columns", "computed_kinds",
           "kind_of", "maximise"]
