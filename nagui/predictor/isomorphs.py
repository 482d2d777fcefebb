"""Training copies of labelled cells: the other cells of their isomorphism class.

Cells of one class (NB201's rule, :func:`nagui.space.iso_key`: 6,466 classes) compute the
same function, so an accuracy measured on one of them is a label for every one. Adding up
to ``copies`` unlabelled class members per labelled cell, with its accuracy, teaches the
model that the order of parallel branches and dead ops do not change accuracy:
Kendall tau 0.753 -> 0.782 at 128 labelled cells (``valid_acc@cifar10-valid``,
BENCHMARKS.md). Costs (latency) are not copied: dead ops still run on a device.

:func:`class_members` serves the other half: a cell's accuracy is predicted as the mean
over (up to 8) members of its class, so equivalent cells get one prediction.
"""
from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy.sparse import csr_matrix

from ..space import OPS, Arch, iso_key
from ..space.flat import NUM_EDGES, all_op_indices, flat_index


# Unlabelled members of each labelled cell's isomorphism class that train with its accuracy
# (default), and the rows that labelled cells and copies fill at most. 7 copies in 2,048 rows
# ranked better than 3 in 1,024 (the full batch the copies were first measured in) at 128,
# 256 and 1,000 labels, every seed (issue #16, BENCHMARKS.md); a fit's time grows with its rows.
ISOMORPH_COPIES = 7
COPY_ROWS = 2048
# larger sets get no copies: at 1,000 cells one copy each gave τ +0.009 for fits 1.5x longer,
# past issue #16's 60 s for a 1,000-cell fit on 2 cores (61 s against 41 s)
MAX_CELLS_WITH_COPIES = 512


def copies_per_cell(n_cells: int, copies: int) -> int:
    """Copies per labelled cell when ``n_cells`` are labelled: ``copies``, or fewer where the
    labelled cells and their copies would fill more than :data:`COPY_ROWS` rows, and none
    above :data:`MAX_CELLS_WITH_COPIES` cells."""
    if n_cells > MAX_CELLS_WITH_COPIES:
        return 0
    return max(0, min(copies, (COPY_ROWS - n_cells) // max(n_cells, 1)))


@lru_cache(maxsize=1)
def _classes() -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Class id of every op-index combination (row = base-5 number) and each class's rows."""
    keys = [iso_key(Arch(ops)) for ops in itertools.product(OPS, repeat=NUM_EDGES)]   # flat-index order
    ids = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    class_of = np.array([ids[k] for k in keys])
    order = np.argsort(class_of, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(class_of))[:-1])
    return class_of, tuple(members)


def _row(arch: Arch) -> int:
    return int(flat_index(np.asarray(arch.indices)))


def _arch(row: int) -> Arch:
    return Arch.from_indices(all_op_indices()[row].tolist())


def isomorph_copies(archs: Sequence[Arch], copies: int, seed: int = 0) -> tuple[list[Arch], np.ndarray]:
    """Up to ``copies`` members of each cell's class that are not among ``archs``, drawn at
    random (seeded). Returns the copies and, for each, the position of its labelled cell."""
    if copies < 0:
        raise ValueError(f"copies must be >= 0, got {copies}")
    if not copies:
        return [], np.zeros(0, dtype=int)
    class_of, members = _classes()
    rows = [_row(a) for a in archs]
    labelled = set(rows)
    rng = np.random.default_rng(seed)
    out, source = [], []
    for i, row in enumerate(rows):
        others = [int(r) for r in members[class_of[row]] if int(r) not in labelled]
        if not others:
            continue
        for r in rng.permutation(others)[:copies]:
            out.append(_arch(int(r)))
            source.append(i)
    return out, np.array(source, dtype=int)


def class_members(archs: Sequence[Arch], cap: int = 8, with_cells: bool = True):
    """For class-mean predictions, one batch of cells to run: ``indices`` (u, 6) holds up to
    ``cap`` members of each cell's class and, ``with_cells``, every cell of ``archs``;
    ``average`` is a sparse (n, u) matrix taking each cell's class mean and ``own`` (n,) each
    cell's position (-1 where the batch does not hold the cell itself). Without the cells,
    all 15,625 cells need 10,311 rows instead of 15,625."""
    class_of, members = _classes()
    cells = flat_index(np.array([a.indices for a in archs], dtype=np.int64).reshape(-1, 6))
    classes, class_pos = np.unique(class_of[cells], return_inverse=True)     # each cell's class, as a position
    chosen = [members[c][:cap] for c in classes]
    union = np.unique(np.concatenate([cells if with_cells else cells[:0], *chosen]))
    own = np.searchsorted(union, cells)
    if not with_cells:
        own = np.where(union[np.minimum(own, len(union) - 1)] == cells, own, -1)
    columns = [np.searchsorted(union, group) for group in chosen]           # per class, once
    sizes = np.array([len(group) for group in chosen])[class_pos]
    average = csr_matrix((np.repeat(1.0 / sizes, sizes),
                          (np.repeat(np.arange(len(cells)), sizes), np.concatenate([columns[k] for k in class_pos]))),
                         shape=(len(cells), len(union)))
    indices = all_op_indices()[union]
    return indices, average, own
