"""This machine as a new latency device, adapted few-shot from the 27 known devices.

HELP's idea: a device is described by how it times reference cells, and a new device is
a combination of known ones. Here the basis is the 27 device latencies of the benchmark
table (log ms; raspi4/pixel3 artefacts filled from the other devices) plus log FLOPs and
params, and the new device's head is a ridge regression of its log latency on that basis,
fitted on k cells measured on this machine (``latency@local``) with the regularisation
chosen by leave-one-out. Protocol: only the k measured cells of the new device are seen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.benchmark import DEVICES, column

LOCAL = "latency@local"


def device_basis(table: pd.DataFrame) -> np.ndarray:
    """(n_cells, 27 + 2) log-latency basis; NaN artefacts are filled by a regression on the
    complete devices, so every cell has a full row."""
    lat = np.log(table[[column("latency", d) for d in DEVICES]].to_numpy(np.float64))
    complete = ~np.isnan(lat).any(axis=0)
    full = lat[:, complete]
    design = np.column_stack([np.ones(len(full)), full])
    for j in np.nonzero(~complete)[0]:
        ok = ~np.isnan(lat[:, j])
        coef, *_ = np.linalg.lstsq(design[ok], lat[ok, j], rcond=None)
        lat[~ok, j] = design[~ok] @ coef
    return np.column_stack([lat, np.log(table["flops"].to_numpy()), np.log(table["params"].to_numpy())])


@dataclass
class DeviceHead:
    """Ridge head on the standardised device basis; predicts ms."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float
    k: int

    @classmethod
    def fit(cls, basis_rows: np.ndarray, latency_ms: np.ndarray,
            alphas: np.ndarray = np.logspace(-3, 3, 25)) -> "DeviceHead":
        x = np.asarray(basis_rows, np.float64)
        y = np.log(np.asarray(latency_ms, np.float64))
        if len(y) < 3:
            raise ValueError(f"need at least 3 measured cells to adapt to a new device, got {len(y)}")
        if not np.all(np.isfinite(y)):
            raise ValueError("measured latencies must be positive and finite")
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        z = (x - mean) / scale
        best = None
        for alpha in alphas:  # leave-one-out error of ridge, in closed form
            zc = np.column_stack([np.ones(len(z)), z])
            penalty = alpha * np.eye(zc.shape[1])
            penalty[0, 0] = 0.0
            hat = zc @ np.linalg.solve(zc.T @ zc + penalty, zc.T)
            resid = (y - hat @ y) / np.clip(1 - np.diag(hat), 1e-6, None)
            err = float(np.mean(resid ** 2))
            if best is None or err < best[0]:
                best = (err, alpha)
        alpha = best[1]
        zc = np.column_stack([np.ones(len(z)), z])
        penalty = alpha * np.eye(zc.shape[1])
        penalty[0, 0] = 0.0
        w = np.linalg.solve(zc.T @ zc + penalty, zc.T @ y)
        return cls(mean, scale, w[1:], float(w[0]), float(alpha), len(y))

    def predict(self, basis_rows: np.ndarray) -> np.ndarray:
        z = (np.asarray(basis_rows, np.float64) - self.mean) / self.scale
        return np.exp(z @ self.coef + self.intercept)
