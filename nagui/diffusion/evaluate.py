"""How good a batch of generated cells is, judged by the table's truth.

- validity: the share of samples that decode to a well-formed cell (round trip through
  the official string);
- uniqueness: distinct isomorphism classes / samples;
- novelty: the share of distinct samples that are not in the diffusion training set;
- on_front / within_0.5: the share of distinct samples that are on the true Pareto front
  (their objective values are a front point's), and whose accuracy is within 0.5 points
  of the best front accuracy at no more cost;
- hv_ratio: hypervolume of the samples' true values / the true front's (pymoo, true-front
  normalisation, :func:`nagui.pareto.hypervolume_ratio`);
- constraint_satisfaction: the share of samples meeting every hard constraint;
- distribution distances (:func:`distribution_distance`) for unguided samples.
"""
from __future__ import annotations

import numpy as np
import torch

from ..pareto import Objective, hypervolume_ratio, non_dominated, to_minimisation
from ..space import Arch


def validity(archs) -> float:
    ok = 0
    for a in archs:
        try:
            ok += Arch.from_str(a.to_str()) == a
        except Exception:  # noqa: BLE001 - any failure to round-trip counts as invalid
            pass
    return ok / max(len(archs), 1)


def front_metrics(flat: np.ndarray, objectives, tables, bench, feasible: np.ndarray | None = None) -> dict:
    """on_front, within_0.5 (of distinct cells) and the HV ratio, from the table's truth.
    With ``feasible`` (bool, space order) the true front is that of the feasible cells."""
    objs = [Objective.parse(o) for o in objectives]
    rows = tables.table_row[np.asarray(flat, dtype=np.int64)]
    values = to_minimisation(bench.table.loc[rows, list(objectives)].to_numpy(np.float64), objs)
    if feasible is None:
        front_rows = bench.pareto_front(list(objectives))
    else:
        cand = np.sort(tables.table_row[np.nonzero(feasible)[0]])
        f_all = to_minimisation(bench.table.loc[cand, list(objectives)].to_numpy(np.float64), objs)
        front_rows = cand[non_dominated(f_all)]
    front = to_minimisation(bench.table.loc[front_rows, list(objectives)].to_numpy(np.float64), objs)
    acc = [j for j, o in enumerate(objs) if o.maximise][0]
    costs = [j for j in range(len(objs)) if j != acc]
    distinct = np.unique(values[np.isfinite(values).all(1)], axis=0)
    on = near = 0
    for v in distinct:
        on += bool(np.any(np.all(np.isclose(front, v, rtol=0, atol=1e-9), axis=1)))
        cheaper = np.all(front[:, costs] <= v[costs] + 1e-9, axis=1)
        gap = (v[acc] - front[cheaper, acc].min()) if cheaper.any() else 0.0   # minimisation: -acc
        near += bool(gap <= 0.5 + 1e-9)
    n = max(len(distinct), 1)
    return {"hv_ratio": hypervolume_ratio(values, front), "on_front": on / n, "within_0.5": near / n,
            "distinct_points": len(distinct), "true_front_size": len(front_rows)}


def distribution_distance(samples: torch.Tensor, reference: torch.Tensor, num_categories: int) -> dict:
    """Total-variation distances between two sets of (n, N) category tensors:
    ``tv_nodes`` mean over nodes of the TV of each node's category distribution,
    ``tv_counts`` mean over categories of the TV of how many nodes take it (0..N)."""
    def node_marginals(x):
        return torch.stack([torch.bincount(x[:, i], minlength=num_categories) for i in range(x.shape[1])]).double() \
            / len(x)

    def counts(x):
        c = torch.stack([(x == k).sum(1) for k in range(num_categories)], dim=1)      # n, K
        return torch.stack([torch.bincount(c[:, k], minlength=x.shape[1] + 1) for k in range(num_categories)]
                           ).double() / len(x)

    tv_nodes = 0.5 * (node_marginals(samples) - node_marginals(reference)).abs().sum(1).mean()
    tv_counts = 0.5 * (counts(samples) - counts(reference)).abs().sum(1).mean()
    return {"tv_nodes": float(tv_nodes), "tv_counts": float(tv_counts)}


def generation_metrics(samples, objectives, tables, bench, constraints=None, train_set: torch.Tensor | None = None,
                       feasible: np.ndarray | None = None) -> dict:
    """Every metric of a :class:`~nagui.diffusion.sampler.Samples` batch (``feasible``: the
    constraints' feasible set when the caller has it already)."""
    space = tables.space
    flat = space.flat_index(samples.indices).numpy()
    canon = space.canonical_ids.numpy()[flat]
    distinct_flat = np.unique(flat)
    out = {"n": len(flat), "validity": validity(samples.archs), "uniqueness": len(np.unique(canon)) / len(flat)}
    if train_set is not None:
        seen = set(space.flat_index(train_set).tolist())
        out["novelty"] = float(np.mean([f not in seen for f in distinct_flat]))
    constrained = constraints is not None and not constraints.empty
    if constrained and feasible is None:
        feasible = constraints.feasible(tables)
    out.update(front_metrics(flat, objectives, tables, bench, feasible if constrained else None))
    if constrained:
        out["constraint_satisfaction"] = float(feasible[flat].mean())
        out["front"] = "true front of the feasible cells"
    out["sample_s"] = samples.sample_s
    return out
