"""Pareto fronts and the hypervolume ratio, as every part of nagui reports them.

Plain functions over an ``(n, m)`` array in minimisation form: maximised objectives are
negated once, at the edge (:func:`to_minimisation`). The hypervolume ratio of a point set
normalises every objective by the TRUE front's ideal (0) and nadir (1) points, uses the
reference point (1.1, ..., 1.1), and divides by the true front's own hypervolume, so
the true front scores exactly 1.0. Hypervolume and non-dominated sorting are pymoo's.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .objectives import Objective
# pymoo is imported inside the functions that use it: `nagui --help` imports this module and
# stays fast.

REFERENCE = 1.1


def to_minimisation(values: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """(n, m) values in each objective's own direction -> (n, m) all-minimisation."""
    f = np.asarray(values, dtype=np.float64).copy()
    if f.ndim != 2 or f.shape[1] != len(objectives):
        raise ValueError(f"values must be (n, {len(objectives)}) for {len(objectives)} objectives, got {f.shape}")
    for j, o in enumerate(objectives):
        if o.maximise:
            f[:, j] = -f[:, j]
    return f


def table_minimisation(table, objectives: Sequence[str | Objective]) -> np.ndarray:
    """(n, m) all-minimisation values of a table's objective columns (a clear KeyError for
    a column the table lacks)."""
    objs = [o if isinstance(o, Objective) else Objective.parse(o) for o in objectives]
    missing = [o.name for o in objs if o.name not in table.columns]
    if missing:
        raise KeyError(f"unknown column(s) {missing}; known: {', '.join(map(str, table.columns))}")
    return to_minimisation(table[[o.name for o in objs]].to_numpy(np.float64), objs)


def true_front(table, objectives: Sequence[str | Objective]) -> np.ndarray:
    """Row positions of the table's non-dominated rows over ``objectives`` (accuracies
    maximised, costs minimised; rows with a missing value excluded). The one true-front
    function: the benchmark, the search harness and the figures all use it."""
    return non_dominated(table_minimisation(table, objectives))


def record_matrix(records: Sequence[Mapping], keys: Sequence[str]) -> np.ndarray:
    """(n, len(keys)) float values of dict records (NaN where a key is missing or None)."""
    return np.array([[np.nan if r.get(k) is None else float(r[k]) for k in keys] for r in records],
                    dtype=np.float64).reshape(len(records), len(keys))


def record_front(records: Sequence[Mapping], objectives: Sequence[str]) -> list:
    """The non-dominated dict records over ``objectives`` (their keys), in input order."""
    if not records:
        return []
    f = to_minimisation(record_matrix(records, objectives), [Objective.parse(k) for k in objectives])
    return [records[i] for i in non_dominated(f)]


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of a minimisation array (rows with NaN never are)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    f = np.asarray(f, dtype=np.float64)
    ok = np.nonzero(np.isfinite(f).all(axis=1))[0]
    if len(ok) == 0:
        return np.array([], dtype=np.int64)
    front = NonDominatedSorting().do(f[ok], only_non_dominated_front=True)
    return np.sort(ok[np.asarray(front, dtype=np.int64)])


def nondomination_ranks(f: np.ndarray) -> np.ndarray:
    """Each row's non-domination rank in a finite minimisation array: 0 for the Pareto
    front, 1 for the front of what is left, and so on."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    ranks = np.empty(len(f), dtype=np.int64)
    for r, front in enumerate(NonDominatedSorting().do(np.asarray(f, dtype=np.float64))):
        ranks[front] = r
    return ranks


def ideal_and_span(front: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ideal point of a minimisation ``front`` and each objective's span over it (1 where
    the front is flat): ``(f - ideal) / span`` puts the front in [0, 1]."""
    ideal, nadir = front.min(axis=0), front.max(axis=0)
    return ideal, np.where(nadir > ideal, nadir - ideal, 1.0)


def hypervolume_ratio(points: np.ndarray, true_front: np.ndarray) -> float:
    """HV of ``points`` / HV of ``true_front``, both minimisation, normalised by the true front."""
    from pymoo.indicators.hv import HV

    front = np.asarray(true_front, dtype=np.float64)
    pts = np.asarray(points, dtype=np.float64)
    if front.ndim != 2 or len(front) == 0:
        raise ValueError(f"true_front must be a non-empty (n, m) array, got shape {front.shape}")
    if pts.ndim != 2 or pts.shape[1] != front.shape[1]:
        raise ValueError(f"points must be (n, {front.shape[1]}), got shape {pts.shape}")
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        return 0.0
    ideal, span = ideal_and_span(front)
    indicator = HV(ref_point=np.full(front.shape[1], REFERENCE))
    return float(indicator((pts - ideal) / span) / indicator((front - ideal) / span))


def hypervolume_2d(points: np.ndarray, reference: float = REFERENCE) -> np.ndarray:
    """(R, K, 2) normalised minimisation points -> (R,) hypervolume of each row against
    (reference, reference); NaN points count as absent. Many 2-D sets at once in numpy (the
    super-cells' coverage scores 15,625 of them in about 1 s); pymoo's HV does one set."""
    f = np.where(np.isfinite(points), points, reference)
    f = np.minimum(f, reference)
    order = np.argsort(f[..., 0], axis=1, kind="stable")
    x = np.take_along_axis(f[..., 0], order, 1)
    y = np.minimum.accumulate(np.take_along_axis(f[..., 1], order, 1), axis=1)
    x_next = np.concatenate([x[:, 1:], np.full((len(f), 1), reference)], axis=1)
    return ((x_next - x) * (reference - y)).sum(1)


def greedy_hypervolume(candidates: np.ndarray, k: int, ideal: np.ndarray, nadir: np.ndarray,
                       base: np.ndarray | None = None) -> list[int]:
    """Up to ``k`` rows of ``candidates`` (minimisation) chosen one at a time, each adding the
    most hypervolume to ``base`` plus the rows chosen before it (objectives normalised by
    ``ideal`` -> 0 and ``nadir`` -> 1, reference point 1.1). Once nothing adds volume, the
    rest follow in order of their distance to the ideal point."""
    from pymoo.indicators.hv import HV

    c = np.asarray(candidates, dtype=np.float64)
    span = np.where(np.asarray(nadir) > np.asarray(ideal), np.asarray(nadir) - np.asarray(ideal), 1.0)
    cn = (c - ideal) / span
    cn = np.where(np.isfinite(cn), cn, 1e6)
    chosen_pts = [] if base is None or len(base) == 0 else list((np.asarray(base, dtype=np.float64) - ideal) / span)
    indicator = HV(ref_point=np.full(c.shape[1], REFERENCE))
    left = [i for i in range(len(c)) if (cn[i] < REFERENCE).all()]
    picked: list[int] = []
    current = indicator(np.array(chosen_pts)) if chosen_pts else 0.0
    while left and len(picked) < k:
        gains = [indicator(np.array(chosen_pts + [cn[i]])) - current for i in left]
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            break
        picked.append(left.pop(j))
        chosen_pts.append(cn[picked[-1]])
        current += gains[j]
    rest = [i for i in np.argsort(np.linalg.norm(np.clip(cn, 0, None), axis=1), kind="stable") if i not in picked]
    return picked + [int(i) for i in rest[:k - len(picked)]]
