"""Pick a sub-network from profiled masks: the most accurate one inside the limits, or a
plain "infeasible" answer naming the nearest option and what to relax by how much.

Records are the dicts :mod:`nagui.supernet.profile` writes: ``accuracy`` (%),
``latency_ms``, ``flops`` (M), ``params`` (M). Selection is numpy over a few hundred
rows: well under a millisecond, so sliders can call it on every move.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import NaguiError
from ..objectives import Objective
from ..pareto import record_front, record_matrix

# (record key, how it is limited, unit) — the order constraints are reported in; a maximised
# objective gets a lower limit, a cost an upper one, each in its objective's unit
LIMITS = tuple((key, "min" if Objective.parse(key).maximise else "max", Objective.parse(key).unit)
               for key in ("latency_ms", "flops", "params", "accuracy"))
LIMIT_WORDS = {"latency_ms": "latency", "flops": "FLOPs", "params": "params", "accuracy": "held-out accuracy"}


class SelectionError(NaguiError, ValueError):
    """Limits that are not numbers, or nothing profiled to choose from."""


@dataclass(frozen=True)
class Limits:
    max_latency_ms: float | None = None
    max_flops: float | None = None
    max_params: float | None = None
    min_accuracy: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_latency_ms", "max_flops", "max_params", "min_accuracy"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v)):
                raise SelectionError(f"{name} must be a finite number or unset, got {v!r}")
            if v is not None and name.startswith("max") and v <= 0:
                raise SelectionError(f"{name} must be > 0, got {v!r}")

    def bounds(self) -> list[tuple[str, str, float, str]]:
        values = {"latency_ms": self.max_latency_ms, "flops": self.max_flops, "params": self.max_params,
                  "accuracy": self.min_accuracy}
        return [(key, kind, float(values[key]), unit) for key, kind, unit in LIMITS if values[key] is not None]

    def describe(self) -> str:
        parts = [f"{key} {'<=' if kind == 'max' else '>='} {limit:g} {unit}" for key, kind, limit, unit in self.bounds()]
        return ", ".join(parts) or "no limits"

    def exceeded(self, record: dict) -> list[str]:
        """The limits ``record`` misses, one phrase each ("latency 0.412 ms > 0.3 ms"); [] when it meets all."""
        out = []
        for key, kind, limit, unit in self.bounds():
            value = record.get(key)
            missed = value is None or not np.isfinite(value) or (value > limit if kind == "max" else value < limit)
            if missed:
                shown = "unknown" if value is None or not np.isfinite(value) else f"{value:.4g} {unit}"
                out.append(f"{LIMIT_WORDS[key]} {shown} {'>' if kind == 'max' else '<'} {limit:g} {unit}")
        return out


@dataclass
class Selection:
    best: dict | None                       # the chosen record (None when infeasible)
    feasible: int                           # how many profiled masks meet every limit
    nearest: dict | None = None             # when infeasible: the option closest to the limits
    relax: list[dict] = field(default_factory=list)   # per violated limit: key, limit, needed, by
    alone: list[dict] = field(default_factory=list)   # relaxing ONE limit alone: key, limit, needed, mask
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.best is not None


def select(records: Sequence[dict], limits: Limits) -> Selection:
    """The most accurate record within ``limits`` (ties: lower latency, then FLOPs)."""
    if not records:
        raise SelectionError("no profiled sub-networks to choose from: run `nagui supernet profile` first")
    keys = [k for k, _, _ in LIMITS]
    m = record_matrix(records, keys)
    bounds = limits.bounds()
    # relative violation of each limit, 0 when met (NaN values never meet a limit)
    violation = np.zeros((len(records), len(bounds)))
    for j, (key, kind, limit, _) in enumerate(bounds):
        v = m[:, keys.index(key)]
        gap = (v - limit) if kind == "max" else (limit - v)
        violation[:, j] = np.where(np.isfinite(v), np.maximum(gap, 0.0) / max(abs(limit), 1e-9), np.inf)
    ok = (violation == 0).all(axis=1)
    acc, lat, flops = m[:, 3], m[:, 0], m[:, 1]
    if ok.any():
        idx = np.nonzero(ok)[0]
        order = np.lexsort((np.nan_to_num(flops[idx], nan=np.inf), np.nan_to_num(lat[idx], nan=np.inf),
                            -np.nan_to_num(acc[idx], nan=-np.inf)))
        best = records[int(idx[order[0]])]
        return Selection(best, int(ok.sum()), message=f"{int(ok.sum())} of {len(records)} sub-networks meet "
                                                      f"{limits.describe()}; the most accurate is chosen")
    total = violation.sum(axis=1)
    near = int(np.argmin(total))
    relax = []
    for j, (key, kind, limit, unit) in enumerate(bounds):
        if violation[near, j] > 0:
            needed = float(m[near, keys.index(key)])
            relax.append({"key": key, "kind": kind, "limit": limit, "needed": needed, "by": abs(needed - limit),
                          "unit": unit})
    words = "; ".join(f"{'raise' if r['kind'] == 'max' else 'lower'} {r['key']} {'<=' if r['kind'] == 'max' else '>='}"
                      f" {r['limit']:g} to {r['needed']:.4g} {r['unit']} (by {r['by']:.3g})" for r in relax)
    # relaxing one limit alone: the smallest change to it that makes some record feasible
    alone = []
    for j, (key, kind, limit, unit) in enumerate(bounds):
        others = np.delete(violation, j, axis=1)
        cand = np.nonzero((others == 0).all(axis=1) & np.isfinite(violation[:, j]))[0]
        if len(cand):
            i = int(cand[np.argmin(violation[cand, j])])
            alone.append({"key": key, "kind": kind, "limit": limit, "needed": float(m[i, keys.index(key)]),
                          "unit": unit, "mask": records[i]["mask"]})
    message = (f"infeasible: no profiled sub-network meets {limits.describe()}. The nearest feasible option is "
               f"{records[near]['mask']} ({_summary(records[near])}): {words}")
    if alone:
        message += ". Or relax one limit alone: " + "; ".join(
            f"{a['key']} {'<=' if a['kind'] == 'max' else '>='} {a['needed']:.4g} {a['unit']} ({a['mask']})"
            for a in alone)
    return Selection(None, 0, records[near], relax, message=message, alone=alone)


def _summary(r: dict) -> str:
    return (f"accuracy {r.get('accuracy', float('nan')):.2f}%, latency {r.get('latency_ms', float('nan')):.3f} ms, "
            f"{r.get('flops', float('nan')):.2f} MFLOPs, {r.get('params', float('nan')):.3f} M params")


def pareto_set(records: Sequence[dict], objectives: Sequence[str] = ("accuracy", "latency_ms", "flops")) -> list[dict]:
    """The non-dominated records (accuracy maximised, the costs minimised)."""
    return record_front(records, objectives)


__all__ = ["LIMITS", "Limits", "Selection", "SelectionError", "pareto_set", "select"]
