"""Differentiable objectives of a *distribution* over graphs, for guidance.

The sampler holds, for every sample, a factorised distribution ``p`` (B, N, K) over the
clean graph (one categorical per node). An objective maps ``p`` to a value (B,) in
normalised units (larger = more of the metric: higher accuracy, higher latency) that is
differentiable w.r.t. ``p``; on a one-hot ``p`` it is the objective of that graph.

- :class:`PredictorObjective`: one head of a noise-aware :class:`Predictor` (its
  normalised output), fed the soft cell encoding. This is what must be learnt
  (accuracy on the target task).
- :class:`TableObjective`: a quantity known for every cell of an enumerable space
  (FLOPs, params — computed; device latencies — measured, free in the benchmark) in log
  units, z-scored; its value on ``p`` is the exact expectation under ``p``.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from ..objectives import Objective
from ..predictor.encoding import FEATURES, NUM_NODES
from ..predictor.output_cache import cached_outputs
from ..space import NODE_TYPES, OPS, flat_index

_OP_TYPE = torch.tensor([NODE_TYPES.index(op) for op in OPS])


class GuidanceObjective(Protocol):
    name: str
    maximise: bool

    def value(self, p: torch.Tensor) -> torch.Tensor:
        """(B, N, K) distribution -> (B,) normalised value, differentiable."""

    def values_on_cells(self, cells: torch.Tensor, k: int) -> torch.Tensor:
        """(n, N) category indices of concrete cells -> (n,) the same values, no gradient."""


def soft_cell_encoding(p: torch.Tensor) -> torch.Tensor:
    """(B, 6, 5) op distribution of NB201 cells -> (B, 8, FEATURES) raw (noise-aware) encoding."""
    b = p.shape[0]
    x = p.new_zeros(b, NUM_NODES, FEATURES)
    x[:, 0, NODE_TYPES.index("input")] = 1.0
    x[:, -1, NODE_TYPES.index("output")] = 1.0
    x[:, 1:-1, _OP_TYPE.to(p.device)] = p
    return x


class PredictorObjective:
    """One objective of a noise-aware predictor, evaluated at noise level 0 on ``p``."""

    def __init__(self, predictor, name: str):
        if not predictor.model_config.noise_aware:
            raise ValueError("guidance needs a noise-aware predictor (trained on soft encodings): "
                             "fit it with noise_aware=True")
        if name not in predictor.objectives:
            raise KeyError(f"no objective {name!r}; the guiding predictor has {list(predictor.objectives)}")
        self.predictor, self.name = predictor, name
        self.col = predictor.objectives.index(name)
        self.maximise = Objective.parse(name).maximise

    def value(self, p: torch.Tensor) -> torch.Tensor:
        x = soft_cell_encoding(p)
        t = torch.zeros(p.shape[0], device=p.device)
        if not (torch.is_grad_enabled() and p.requires_grad):
            # no gradient needed (scoring many cells): cache-sized chunks, about 2x faster
            return self.predictor._member_outputs(x, t).mean(0)[:, self.col]
        return self.predictor.normalised_output(x, t)[:, self.col]

    def values_on_cells(self, cells: torch.Tensor, k: int) -> torch.Tensor:
        """Every head on these cells, computed once per predictor and set of cells and kept
        on disk (:mod:`nagui.predictor.output_cache`): calibrating on all 15,625 cells is
        then a file read for every later call with the same guiding predictor."""
        x = soft_cell_encoding(torch.nn.functional.one_hot(cells, k).float())
        t = torch.zeros(x.shape[0])
        out = cached_outputs(self.predictor.members, x,
                             lambda: self.predictor._member_outputs(x, t).mean(0).numpy())
        return torch.from_numpy(out[:, self.col])


class TableObjective:
    """Expected log value under ``p`` of a quantity tabulated over all configurations.

    ``values``: (K**N,) in row-major order of the node categories (the space's
    ``enumerate()`` order); NaN entries must be filled by the caller."""

    def __init__(self, name: str, values: np.ndarray, num_nodes: int, num_categories: int, log: bool = True):
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (num_categories ** num_nodes,):
            raise ValueError(f"{name}: need {num_categories ** num_nodes} values, got {v.shape}")
        if not np.isfinite(v).all():
            raise ValueError(f"{name}: the table has {int((~np.isfinite(v)).sum())} missing values; fill them first")
        v = np.log(v) if log else v
        self.name, self.maximise = name, Objective.parse(name).maximise
        self.mean, self.std = float(v.mean()), float(v.std() or 1.0)
        self.n, self.k = num_nodes, num_categories
        self.table = torch.tensor((v - self.mean) / self.std, dtype=torch.float32)

    def value(self, p: torch.Tensor) -> torch.Tensor:
        table = self.table.to(p.device)
        if not p.requires_grad and bool(((p == 0) | (p == 1)).all()) and bool((p.sum(-1) == 1).all()):
            # concrete cells (calibration, the corrector): look them up, no expectation needed
            return table[flat_index(p.argmax(-1), self.k)]
        out = table.reshape(self.k, -1)                                   # K, K**(N-1)
        out = torch.einsum("bk,kr->br", p[:, 0], out)                     # B, K**(N-1)
        for i in range(1, self.n):
            out = torch.einsum("bk,bkr->br", p[:, i], out.reshape(p.shape[0], self.k, -1))
        return out[:, 0]

    def values_on_cells(self, cells: torch.Tensor, k: int) -> torch.Tensor:
        return self.table[flat_index(cells, self.k)]
