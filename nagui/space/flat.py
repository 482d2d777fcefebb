"""The flat index of a cell: its op indices read as one base-``num_categories`` number
(the first edge most significant).

Every "all cells" array in nagui (the diffusion space's order, the computed tables, the
coverage tables) is in flat-index order: row ``r`` is the cell whose op indices are the
digits of ``r``. The NB201 table has its own order; ``Arch.indices`` of its rows map to it.
Works on numpy arrays and torch tensors alike.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .nb201 import EDGES, OPS

NUM_OPS = len(OPS)
NUM_EDGES = len(EDGES)
NUM_CONFIGS = NUM_OPS ** NUM_EDGES          # 15,625 op assignments (NB201's table has one row each)


def place_values(length: int = NUM_EDGES, num_categories: int = NUM_OPS) -> np.ndarray:
    """The weight of each digit: (num_categories ** (length-1), ..., num_categories, 1)."""
    return num_categories ** np.arange(length - 1, -1, -1, dtype=np.int64)


def flat_index(op_indices, num_categories: int = NUM_OPS):
    """(..., L) op indices -> (...) flat indices; a torch tensor in, a torch tensor out."""
    place = place_values(op_indices.shape[-1], num_categories)
    if hasattr(op_indices, "new_tensor"):                       # a torch tensor, on its own device
        return (op_indices * op_indices.new_tensor(place)).sum(-1)
    return np.asarray(op_indices, dtype=np.int64) @ place


@lru_cache(maxsize=1)
def all_op_indices() -> np.ndarray:
    """(NUM_CONFIGS, NUM_EDGES) op indices of every cell, in flat-index order (read-only)."""
    digits = (np.arange(NUM_CONFIGS)[:, None] // place_values()) % NUM_OPS
    digits.setflags(write=False)
    return digits


__all__ = ["NUM_CONFIGS", "NUM_EDGES", "NUM_OPS", "all_op_indices", "flat_index", "place_values"]
