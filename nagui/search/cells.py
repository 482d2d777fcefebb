"""NB201 cells as op-index rows, in the table's index order, with their neighbours."""
from __future__ import annotations

import numpy as np

from ..space import NUM_CONFIGS, NUM_EDGES, NUM_OPS, Arch, flat_index


class CellIndex:
    """``ops[i]``: the 6 op indices of NB201 cell i; ``index_of`` maps rows back."""

    def __init__(self, table):
        self.ops = np.array([Arch.from_str(s).indices for s in table["arch"]], dtype=np.int64)
        self._by_flat = np.empty(NUM_CONFIGS, dtype=np.int64)
        self._by_flat[flat_index(self.ops)] = np.arange(len(self.ops))

    def __len__(self) -> int:
        return len(self.ops)

    def index_of(self, ops: np.ndarray) -> np.ndarray:
        return self._by_flat[flat_index(np.asarray(ops, dtype=np.int64))]

    def neighbours(self, index: int) -> np.ndarray:
        """The 24 cells one op change away."""
        rows = np.repeat(self.ops[index][None], NUM_EDGES * NUM_OPS, axis=0)
        edge = np.repeat(np.arange(NUM_EDGES), NUM_OPS)
        rows[np.arange(len(rows)), edge] = np.tile(np.arange(NUM_OPS), NUM_EDGES)
        out = self.index_of(rows)
        return out[out != index]

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """One random op change."""
        return int(rng.choice(self.neighbours(index)))
