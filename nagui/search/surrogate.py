"""The target accuracy of every cell, predicted from the source tasks and refitted on the
target cells a run has trained.

Features are the source datasets' columns (z-scored; never the target's): their 200-epoch
test accuracy and, where a run's context holds them, their 12-epoch accuracies. With no
target label the prediction is the mean of the features (the naive transfer score, unit
free). Every ``fit`` solves a ridge regression of the trained cells' accuracies on the
features, shrunk towards those equal weights (the prior is worth ``prior_cells`` cells),
so a handful of labels re-weights the sources without overfitting them. ``std`` is the
shrunk residual spread: one number for every cell, in target units.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..predictor.transfer import _shrunk_weights


def zscore_columns(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n_cells, S): each column z-scored; a missing value becomes the column's minimum."""
    if not columns:
        raise ValueError("a transfer surrogate needs at least one source column")
    out = []
    for name, v in columns.items():
        v = np.asarray(v, dtype=np.float64)
        if not np.isfinite(v).any():
            raise ValueError(f"source column {name!r} has no values")
        v = np.where(np.isfinite(v), v, np.nanmin(v))
        out.append((v - v.mean()) / (v.std() or 1.0))
    return np.stack(out, axis=1)


class TransferSurrogate:
    def __init__(self, sources: Mapping[str, np.ndarray], prior_cells: float = 3.0):
        self.names = list(sources)
        self.features = zscore_columns(sources)
        self.prior = np.full(len(self.names), 1.0 / len(self.names))
        self.prior_cells = prior_cells
        self.weights, self.offset = self.prior.copy(), 0.0
        self.mean, self.scale, self.std = 0.0, 1.0, 1.0
        self.labelled = 0

    def fit(self, indices: Sequence[int], values: Sequence[float]) -> "TransferSurrogate":
        """Refit on every target label known so far (NB201 indices and accuracies)."""
        idx = np.asarray(indices, dtype=np.int64)
        y = np.asarray(values, dtype=np.float64)
        if idx.shape != y.shape:
            raise ValueError(f"fit needs one value per cell, got {idx.shape} cells and {y.shape} values")
        keep = np.isfinite(y)
        idx, y = idx[keep], y[keep]
        self.labelled = len(y)
        if len(y) < 2 or y.std() == 0:
            self.weights, self.offset = self.prior.copy(), 0.0
            self.mean, self.scale, self.std = (float(y.mean()) if len(y) else 0.0), 1.0, 1.0
            if len(y):                         # one label: anchor the prior's level at it
                self.offset = -float(self.features[idx[0]] @ self.prior)
            return self
        self.mean, self.scale = float(y.mean()), float(y.std())
        yz = (y - self.mean) / self.scale
        self.weights, self.offset = _shrunk_weights(self.features[idx], yz, self.prior, self.prior_cells)
        residual = yz - (self.features[idx] @ self.weights + self.offset)
        self.std = float(self.scale * np.sqrt((residual @ residual + self.prior_cells) / (len(y) + self.prior_cells)))
        return self

    def predict(self) -> np.ndarray:
        """(n_cells,) predicted target accuracy (unit free until two labels are known)."""
        return self.mean + self.scale * (self.features @ self.weights + self.offset)
