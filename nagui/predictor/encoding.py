"""Cells as model inputs: (n, 8, FEATURES) node features of the ops-on-nodes graph.

Every NB201 cell has the same 8-node DAG (:data:`nagui.space.ADJACENCY`: input, the 6
edge ops, output); only the node features differ:

- ``len(NODE_TYPES)`` one-hot (or soft) channels: the node's type in the *pruned* cell
  (an op that cannot affect the output reads ``none``, see :func:`nagui.space.prune`),
- ``len(OPS)`` "dead op" channels: the op an edge carries when it is dead (else 0).

Accuracy depends on live ops only, while FLOPs, params and the measured latency of the
full network count dead ops too; this split gives the model both without making it
learn liveness. Noise-aware use (soft encodings of raw cells) leaves the dead-op
channels 0.

Encoding is vectorised: liveness of all 5**6 op combinations is computed once.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import numpy as np
import torch

from ..space import ADJACENCY, NODE_TYPES, OPS, Arch, all_op_indices, flat_index, live_edges

NUM_NODES = ADJACENCY.shape[0]
NUM_TYPES = len(NODE_TYPES)
FEATURES = NUM_TYPES + len(OPS)
DEAD = slice(NUM_TYPES, FEATURES)    # the dead-op channels
OP_NODES = slice(1, NUM_NODES - 1)   # the 6 nodes that carry an edge's op (input/output are fixed)
_OP_TYPE = np.array([NODE_TYPES.index(op) for op in OPS])


@lru_cache(maxsize=1)
def _live_table() -> np.ndarray:
    """(5**6, 6) liveness of every op-index combination, row = base-5 number of the indices.
    An edge's liveness depends only on which edges carry ``none``: the 2**6 patterns are
    computed once and looked up (0.5 s of Python for every cell before, a process's first
    prediction paid it)."""
    some_op = next(op for op in OPS if op != "none")
    patterns = np.array([live_edges(Arch(tuple("none" if (code >> k) & 1 else some_op for k in range(6))))
                         for code in range(2 ** 6)], dtype=np.float32)            # bit k: edge k is none
    codes = (all_op_indices() == OPS.index("none")) @ (1 << np.arange(6))
    return patterns[codes]


def encode_indices(op_indices: np.ndarray, split_dead: bool = True) -> torch.Tensor:
    """(n, 6) op indices into OPS -> (n, 8, FEATURES) float32.

    ``split_dead=False`` encodes the raw cell (every op as it is, no dead-op channels):
    the form a noise-aware model sees."""
    idx = np.asarray(op_indices, dtype=np.int64).reshape(-1, 6)
    n = idx.shape[0]
    x = np.zeros((n, NUM_NODES, FEATURES), dtype=np.float32)
    x[:, 0, NODE_TYPES.index("input")] = 1.0
    x[:, -1, NODE_TYPES.index("output")] = 1.0
    rows = np.repeat(np.arange(n), 6)
    nodes = np.tile(np.arange(1, 7), n)
    if split_dead:
        live = _live_table()[flat_index(idx)].astype(bool).ravel()           # n*6
        shown = np.where(live, idx.ravel(), OPS.index("none"))
        x[rows, nodes, _OP_TYPE[shown]] = 1.0
        dead_rows = ~live & (idx.ravel() != OPS.index("none"))
        x[rows[dead_rows], nodes[dead_rows], NUM_TYPES + idx.ravel()[dead_rows]] = 1.0
    else:
        x[rows, nodes, _OP_TYPE[idx].ravel()] = 1.0
    return torch.from_numpy(x)


def encode(archs: Iterable[Arch], split_dead: bool = True) -> torch.Tensor:
    """Encodings (n, 8, FEATURES) of cells (see :func:`encode_indices`)."""
    return encode_indices(np.array([a.indices for a in archs], dtype=np.int64).reshape(-1, 6), split_dead)


def adjacency(reverse: bool = False) -> torch.Tensor:
    """(1, 8, 8) float adjacency for dense message passing, row i = in-neighbours of node i
    (``reverse``: out-neighbours, i.e. messages flow against the DAG's edges)."""
    a = torch.from_numpy(ADJACENCY.astype(np.float32))
    return (a if reverse else a.T).unsqueeze(0).contiguous()
