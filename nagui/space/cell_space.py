"""What the diffusion model generates: a :class:`SearchSpace` of graphs with a fixed
topology and one categorical choice per variable node.

The engine (schedule, denoiser, sampler, guidance) only sees integer tensors
``(n, num_nodes)`` of category indices, soft versions ``(n, num_nodes, num_categories)``
and the node adjacency; the space turns them into architectures and back. Every index
tensor decodes to a valid architecture, which is why sampling needs no rejection.

:class:`NB201CellSpace` is the NAS-Bench-201 cell: the 6 edges of the 4-node DAG carry
one of 5 ops; as a graph, the 6 ops are nodes (between a fixed input and output node)
and ``ADJACENCY`` connects them. It is small enough to enumerate (5**6 = 15,625 cells),
which lets cost objectives and hard constraints be exact.
"""
from __future__ import annotations

from functools import cache, cached_property
from typing import Protocol, Sequence, runtime_checkable

import numpy as np
import torch

from .canonical import iso_key
from .flat import all_op_indices, flat_index
from .nb201 import ADJACENCY, OPS, Arch


@runtime_checkable
class SearchSpace(Protocol):
    name: str
    num_nodes: int                 # variable nodes the model generates
    num_categories: int            # choices per node

    def node_adjacency(self) -> np.ndarray:
        """(num_nodes, num_nodes) 0/1, [i, j] = 1 if node i feeds node j."""

    def to_indices(self, archs: Sequence) -> torch.Tensor:
        """Architectures -> (n, num_nodes) long."""

    def from_indices(self, idx: torch.Tensor) -> list:
        """(n, num_nodes) long -> architectures (always valid)."""

    def canonical_key(self, arch) -> str:
        """Equal for architectures that are the same graph."""

    def enumerate(self) -> torch.Tensor | None:
        """Every configuration (N, num_nodes) in row-major order, or None if too many."""

    def forbidden_categories(self, names: Sequence[str]) -> list[int]:
        """Category indices of the named choices (e.g. ops) a constraint forbids."""


class NB201CellSpace:
    """The NAS-Bench-201 cell: 6 op nodes, 5 ops each, in the string's edge order."""

    name = "nb201-cell"
    num_nodes = 6
    num_categories = len(OPS)

    def node_adjacency(self) -> np.ndarray:
        return ADJACENCY[1:-1, 1:-1].astype(np.float32)

    def to_indices(self, archs: Sequence) -> torch.Tensor:
        return torch.tensor([Arch.parse(a).indices for a in archs], dtype=torch.long).reshape(-1, self.num_nodes)

    def from_indices(self, idx: torch.Tensor) -> list[Arch]:
        idx = torch.as_tensor(idx).reshape(-1, self.num_nodes)
        return [Arch.from_indices(row) for row in idx.tolist()]

    def canonical_key(self, arch) -> str:
        return iso_key(Arch.parse(arch))

    def forbidden_categories(self, ops) -> list[int]:
        return [OPS.index(op) for op in ops]

    def enumerate(self) -> torch.Tensor:
        return self.all_indices

    @cached_property
    def all_indices(self) -> torch.Tensor:
        """(15625, 6): row r is the cell whose op indices are the base-5 digits of r (not
        the NB201 table's order; :meth:`flat_index` of a table's cells maps between them)."""
        return torch.from_numpy(all_op_indices().astype(np.int64))   # a copy: the numpy table is read-only

    def flat_index(self, idx: torch.Tensor) -> torch.Tensor:
        """(n, 6) -> (n,) row of :attr:`all_indices`."""
        return flat_index(torch.as_tensor(idx), self.num_categories)

    @property
    def canonical_ids(self) -> torch.Tensor:
        """(15625,) id of each configuration's isomorphism class (NB201's rule)."""
        return _nb201_canonical_ids()

    def training_set(self, which: str = "unique") -> torch.Tensor:
        """Cells to train the diffusion prior on: ``all`` 15,625, or ``unique``: the first
        cell of each of NB201's 6,466 isomorphism classes (no duplicated graphs)."""
        if which == "all":
            return self.all_indices
        if which == "unique":
            ids = self.canonical_ids
            first = torch.full((int(ids.max()) + 1,), len(ids), dtype=torch.long)
            first = first.scatter_reduce(0, ids, torch.arange(len(ids)), reduce="amin")
            return self.all_indices[first.sort().values]
        raise ValueError(f"unknown training set {which!r}; choose 'unique' or 'all'")


@cache
def _nb201_canonical_ids() -> torch.Tensor:
    """Computed once per process (15,625 canonical forms), whichever space instance asks."""
    ids: dict[str, int] = {}
    cells = all_op_indices().tolist()
    return torch.tensor([ids.setdefault(iso_key(Arch.from_indices(c)), len(ids)) for c in cells])
