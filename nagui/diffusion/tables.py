"""Table values of every NB201 cell in the diffusion space's order.

:class:`NB201CellSpace` enumerates cells in row-major order of their op indices, the
benchmark table in NB201's order; :class:`CellTables` holds the columns the engine needs
(accuracies for evaluation, free costs for guidance and constraints) re-ordered to the
space's order. Computed objectives (FLOPs, params, ...) exist without the table.
"""
from __future__ import annotations

import numpy as np

from ..data.benchmark import DEVICES
from ..objectives import Objective, computed_columns, computed_kinds
from ..predictor.device import device_basis
from ..space.cell_space import NB201CellSpace


class CellTables:
    """``bench``: a :class:`~nagui.data.Benchmark`, or anything with its ``table`` and
    ``op_indices`` (a search hands over those two only); None: computed columns only."""

    def __init__(self, bench=None, space: NB201CellSpace | None = None):
        self.space = space or NB201CellSpace()
        self.bench = bench
        self.table_row = None                     # flat order -> table row
        if bench is None:
            self._columns: dict[str, np.ndarray] = computed_columns(self.space.all_indices.numpy())
        else:
            flat = self.space.flat_index(bench.op_indices).numpy()
            self.table_row = np.empty(len(flat), dtype=np.int64)
            self.table_row[flat] = np.arange(len(flat))
            # the table holds the same computed columns (made by computed_columns): reorder
            # them; a kind registered after the table was built is computed here
            self._columns = {k.name: (bench.table[k.name].to_numpy(np.float64)[self.table_row]
                                      if k.name in bench.table.columns else
                                      np.asarray(k.compute(self.space.all_indices.numpy()), dtype=np.float64))
                             for k in computed_kinds()}
        self._computed = tuple(self._columns)

    def column(self, name: str) -> np.ndarray:
        """(15625,) values of a table column in the space's order (NaN where missing)."""
        if name not in self._columns:
            if self.bench is None:
                raise KeyError(f"{name!r} needs the NB201 table (load a Benchmark); without it only "
                               f"{', '.join(self._computed)}")
            if name not in self.bench.table.columns:
                raise KeyError(f"unknown metric {name!r}; known: {', '.join(self.bench.metrics)}")
            self._columns[name] = self.bench.table[name].to_numpy(np.float64)[self.table_row]
        return self._columns[name]

    def guide_values(self, name: str) -> np.ndarray:
        """(15625,) values of an objective for guidance and coverage: the column itself, or
        for a device measurement, the column with its missing values filled."""
        device = Objective.parse(name).device
        return self.filled_latency(device) if device else self.column(name)

    def filled_latency(self, device: str) -> np.ndarray:
        """Latency on ``device`` with the table's missing values (artefacts) filled by a
        regression on the other devices (for guidance only; constraints use the raw column)."""
        key = f"latency@{device}:filled"
        if key not in self._columns:
            if device not in DEVICES:
                raise KeyError(f"unknown device {device!r}; known: {', '.join(DEVICES)}")
            if self.bench is None:
                raise KeyError(f"latency@{device} needs the NB201 table")
            basis = device_basis(self.bench.table)
            self._columns[key] = np.exp(basis[:, DEVICES.index(device)])[self.table_row]
        return self._columns[key]
