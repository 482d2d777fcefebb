"""How well a super-cell's sub-cells cover a Pareto front.

A super-cell offers, on each edge, its own op or the op switched down to ``skip_connect``
or ``none``: up to 3^6 = 729 sub-cells, each an NB201 cell. Its *coverage* is the
hypervolume of its sub-cells' (accuracy, cost) points divided by the hypervolume of the
front it is measured against — the project's HV ratio (``nagui.pareto``: normalised by
that front's ideal and nadir, reference point 1.1). Two objectives only; the 2-D
hypervolume (``nagui.pareto.hypervolume_2d``) is computed for all 15,625 super-cells at
once in numpy (about 1 s).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..pareto import Objective, hypervolume_2d, ideal_and_span, non_dominated, to_minimisation
from ..space import NUM_EDGES, flat_index

DOWN_STATES = {"both": (0, 1), "none": (0,), "skip": (1,)}      # OPS indices: none = 0, skip_connect = 1


def sub_cell_table(super_ops: np.ndarray, down: str = "both") -> np.ndarray:
    """(S, 6) super-cells' op indices -> (S, 3^6) flat indices (row-major over op indices,
    the diffusion space's order) of their sub-cells; repeats where an edge is already down."""
    if down not in DOWN_STATES:
        raise ValueError(f"down must be one of {', '.join(DOWN_STATES)}, got {down!r}")
    ops = np.atleast_2d(np.asarray(super_ops, dtype=np.int64))
    downs = DOWN_STATES[down]
    choices = np.stack([ops] + [np.full_like(ops, d) for d in downs], axis=-1)      # S, 6, k
    combos = np.array(list(itertools.product(range(len(downs) + 1), repeat=NUM_EDGES)))
    sub = np.stack([choices[:, e, combos[:, e]] for e in range(NUM_EDGES)], axis=-1)  # S, k^6, 6
    return flat_index(sub)


class CoverageScorer:
    """Coverage of super-cells for one (accuracy, cost) problem, given both objectives'
    values for every cell (flat order). The front it measures against is the
    non-dominated set of ``values`` (the true front for table values, the predicted one
    for predictions)."""

    def __init__(self, values: np.ndarray, objectives: tuple[str, str]):
        if len(objectives) != 2:
            raise ValueError(f"coverage is measured for one accuracy and one cost, got {len(objectives)} objectives")
        objs = [Objective.parse(o) for o in objectives]
        f = to_minimisation(np.asarray(values, dtype=np.float64), objs)
        front = f[non_dominated(f)]
        self.objectives = tuple(objectives)
        self.ideal, span = ideal_and_span(front)
        self.nadir = front.max(axis=0)
        self.normalised = (f - self.ideal) / span
        self.front_flat = non_dominated(f)
        self.front_hv = float(hypervolume_2d(self.normalised[self.front_flat][None])[0])

    def ratio(self, super_ops: np.ndarray, down: str = "both", chunk: int = 2048) -> np.ndarray:
        """(S,) HV ratio of each super-cell's sub-cells against this scorer's front."""
        ops = np.atleast_2d(np.asarray(super_ops))
        out = np.empty(len(ops))
        for s in range(0, len(ops), chunk):
            flat = sub_cell_table(ops[s:s + chunk], down)
            out[s:s + chunk] = hypervolume_2d(self.normalised[flat]) / self.front_hv
        return out
