"""This machine as a new latency device, adapted few-shot from the 27 known devices.

HELP's idea: a device is described by how it times reference cells, and a new device is
a combination of known ones. Here the basis is the 27 device latencies of the benchmark
table (log ms; raspi4/pixel3 artefacts filled from the other devices), log FLOPs and
params of the full network, and — because nagui times the *pruned* network, where dead
ops cost nothing — log FLOPs/params of the pruned cell and its live op counts. The new
device's head is a ridge regression of its log latency on that basis, fitted on k cells
measured on this machine (``latency@local``). Leave-one-out error on those k cells picks
the regularisation *and* the feature group (known devices + cost, cost only, known
devices only): on this machine's onnxruntime timings the pruned-cost group wins, since
the 27 devices timed full networks. Protocol: only the k measured cells of the new
device are seen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.benchmark import DEVICES, column
from ..space import OPS, Arch, prune, table_cost

LOCAL = "latency@local"
N_DEVICES = len(DEVICES)
# column groups of device_basis(): 27 device latencies, then full-network cost, then pruned-cell cost
FEATURE_GROUPS: dict[str, slice] = {
    "devices+cost": slice(0, None),
    "cost": slice(N_DEVICES, None),
    "devices": slice(0, N_DEVICES),
}


def device_basis(table: pd.DataFrame) -> np.ndarray:
    """(n_cells, 27 + 8) basis; NaN latency artefacts are filled by a regression on the
    complete devices, so every cell has a full row."""
    lat = np.log(table[[column("latency", d) for d in DEVICES]].to_numpy(np.float64))
    complete = ~np.isnan(lat).any(axis=0)
    full = lat[:, complete]
    design = np.column_stack([np.ones(len(full)), full])
    for j in np.nonzero(~complete)[0]:
        ok = ~np.isnan(lat[:, j])
        coef, *_ = np.linalg.lstsq(design[ok], lat[ok, j], rcond=None)
        lat[~ok, j] = design[~ok] @ coef
    idx = np.array([Arch.from_str(s).indices for s in table["arch"]])
    pruned = np.array([prune(Arch.from_indices(row)).indices for row in idx])
    live_flops, live_params = table_cost(pruned)
    live_counts = np.stack([(pruned == k).sum(axis=1) for k in range(1, len(OPS))], axis=1)  # skip 'none'
    return np.column_stack([lat, np.log(table["flops"].to_numpy()), np.log(table["params"].to_numpy()),
                            np.log(live_flops), np.log(live_params), live_counts])


def _ridge(z: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights (intercept first) and the hat matrix of ridge regression (intercept unpenalised)."""
    zc = np.column_stack([np.ones(len(z)), z])
    penalty = alpha * np.eye(zc.shape[1])
    penalty[0, 0] = 0.0
    inv = np.linalg.solve(zc.T @ zc + penalty, zc.T)
    return inv @ y, zc @ inv


@dataclass
class DeviceHead:
    """Ridge head on a standardised group of basis columns; predicts ms."""

    columns: slice
    group: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float
    loo_mse: float
    k: int

    @classmethod
    def fit(cls, basis_rows: np.ndarray, latency_ms: np.ndarray, groups: dict[str, slice] | None = None,
            alphas: np.ndarray = np.logspace(-3, 3, 25)) -> "DeviceHead":
        """``groups``: candidate column groups (default :data:`FEATURE_GROUPS`, or all columns
        when the basis is not device_basis()'s shape); leave-one-out picks group and alpha."""
        x_all = np.asarray(basis_rows, np.float64)
        y = np.log(np.asarray(latency_ms, np.float64))
        if len(y) < 3:
            raise ValueError(f"need at least 3 measured cells to adapt to a new device, got {len(y)}")
        if not np.all(np.isfinite(y)):
            raise ValueError("measured latencies must be positive and finite")
        if groups is None:
            groups = FEATURE_GROUPS if x_all.shape[1] == N_DEVICES + 8 else {"all": slice(0, None)}
        best = None
        for group, cols in groups.items():
            x = x_all[:, cols]
            mean, scale = x.mean(axis=0), x.std(axis=0)
            scale = np.where(scale > 1e-12, scale, 1.0)
            z = (x - mean) / scale
            for alpha in alphas:  # leave-one-out error of ridge, in closed form
                _, hat = _ridge(z, y, alpha)
                resid = (y - hat @ y) / np.clip(1 - np.diag(hat), 1e-6, None)
                err = float(np.mean(resid ** 2))
                if best is None or err < best[0]:
                    best = (err, group, cols, alpha, mean, scale, z)
        err, group, cols, alpha, mean, scale, z = best
        w, _ = _ridge(z, y, alpha)
        return cls(cols, group, mean, scale, w[1:], float(w[0]), float(alpha), err, len(y))

    def predict(self, basis_rows: np.ndarray) -> np.ndarray:
        z = (np.asarray(basis_rows, np.float64)[:, self.columns] - self.mean) / self.scale
        return np.exp(z @ self.coef + self.intercept)
