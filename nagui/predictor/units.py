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


def _log(v: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(v > 0, v, np.nan))


def _logit(v: np.ndarray) -> np.ndarray:
    p = np.clip(v / 100.0, _LOGIT_EPS, 1 - _LOGIT_EPS)
    return np.log(p / (1 - p))


def _percent(v: np.ndarray) -> np.ndarray:
    return 100.0 / (1.0 + np.exp(-v))


# transform -> (forward: own units -> modelled, inverse: modelled -> own, slope: d inverse / d modelled)
_MAPS = {
    "identity": (lambda v: v, lambda v: v, np.ones_like),
    "log": (_log, np.exp, np.exp),
    "logit": (_logit, _percent, lambda v: _percent(v) * (1 - _percent(v) / 100.0)),
}


def _maps(kind: str):
    return _MAPS.get(kind, _MAPS["identity"])     # as before: an unrecorded transform is the identity


TRANSFORMS = tuple(_MAPS)


def forward(values: np.ndarray, kind: str) -> np.ndarray:
    """Values in the objective's own units -> modelled units (NaN where undefined)."""
    return _maps(kind)[0](np.asarray(values, dtype=np.float64))


def inverse(values: np.ndarray, kind: str) -> np.ndarray:
    """Modelled units -> the objective's own units."""
    return _maps(kind)[1](np.asarray(values, dtype=np.float64))


def slope(values: np.ndarray, kind: str) -> np.ndarray:
    """d inverse / d value at ``values`` (turns a std in modelled units into own units)."""
    return _maps(kind)[2](np.asarray(values, dtype=np.float64))
