"""The units each objective is modelled in (before z-scoring), and the way back.

- ``log`` for costs (latency, FLOPs, params): positive, spanning orders of magnitude.
- ``logit`` for an accuracy in percent: bounded by 0 and 100, and far from linear between
  datasets near the top (an affine map of CIFAR-100/ImageNet16-120 predictions overshoots
  CIFAR-10's best cells by 2.4 points in raw units, by 0.3 in logit units: BENCHMARKS.md).
  The transfer target head uses it; predictions can never pass 100%.
- ``identity`` for everything else (and accuracy heads of checkpoints written before the
  transform was recorded).
"""
from __future__ import annotations

import numpy as np

from ..objectives import Objective

TRANSFORMS = ("identity", "log", "logit")
_LOGIT_EPS = 1e-6   # accuracies of exactly 0 or 100 % stay finite


def is_cost(objective: str) -> bool:
    return Objective.parse(objective).is_cost


def is_accuracy(objective: str) -> bool:
    return Objective.parse(objective).is_accuracy


def default_transform(objective: str) -> str:
    """The transform an objective gets unless a caller asks for another one."""
    return Objective.parse(objective).kind.transform


def check_transform(kind: str) -> str:
    if kind not in TRANSFORMS:
        raise ValueError(f"unknown transform {kind!r}; choose one of {TRANSFORMS}")
    return kind


def forward(values: np.ndarray, kind: str) -> np.ndarray:
    """Values in the objective's own units -> modelled units (NaN where undefined)."""
    v = np.asarray(values, dtype=np.float64)
    if kind == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.where(v > 0, v, np.nan))
    if kind == "logit":
        p = np.clip(v / 100.0, _LOGIT_EPS, 1 - _LOGIT_EPS)
        return np.log(p / (1 - p))
    return v


def inverse(values: np.ndarray, kind: str) -> np.ndarray:
    """Modelled units -> the objective's own units."""
    v = np.asarray(values, dtype=np.float64)
    if kind == "log":
        return np.exp(v)
    if kind == "logit":
        return 100.0 / (1.0 + np.exp(-v))
    return v


def slope(values: np.ndarray, kind: str) -> np.ndarray:
    """d inverse / d value at ``values`` (turns a std in modelled units into own units)."""
    v = np.asarray(values, dtype=np.float64)
    if kind == "log":
        return np.exp(v)
    if kind == "logit":
        p = 1.0 / (1.0 + np.exp(-v))
        return 100.0 * p * (1 - p)
    return np.ones_like(v)
