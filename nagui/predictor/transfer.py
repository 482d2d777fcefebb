"""Few-shot transfer: pretrain on source tasks, adapt to a target task from k labelled cells.

Protocol (stated in every result's ``protocol``): the pretrained model sees source-task
labels only (e.g. CIFAR-100 and ImageNet16-120 accuracy); the target head sees exactly the
k target cells given to :func:`adapt`, nothing else of the target task.

- k = 0: the target head is the average of the source heads, i.e. the mean of the
  z-scored source predictions, mapped to target units with the sources' average
  statistics (only the ranking is meaningful).
- k > 0, ``mode="heads"`` (default): the target head becomes an affine map of the source
  heads (level, scale and weights), fitted on the k cells by ridge regression shrunk
  towards the equal weights of k = 0 (prior worth ``prior_cells`` cells), in logit units
  for an accuracy (:mod:`.units`; raw units overshoot the best cells). The trunk is
  untouched. Its interval is jackknife+-calibrated (k >= 3): leave-one-out refits of the
  map give held-out residuals (the conformal scale) and the map's covariance, which
  widens the interval of cells far from the k labelled ones (:mod:`.calibration`).
- k > 0, ``mode="finetune"``: every member is fine-tuned on the k cells (MSE + ranking
  loss) while a batch of source cells per step keeps the source heads from drifting.
  On CIFAR-10 this lowered τ for k <= 20 (BENCHMARKS.md), hence not the default.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ..space import Arch
from . import units
from .calibration import IntervalModel, calibrated, conservative
from .encoding import encode
from .ensemble import FREE_OBJECTIVES, Predictor, TrainConfig
from .training import rank_loss
from .model import ModelConfig

MIN_CALIBRATION_LABELS = 3   # leave-one-out needs a map fitted on >= 2 cells


def pretrain(archs: Sequence[Arch], source_targets: Mapping[str, Sequence[float]],
             train_config: TrainConfig = TrainConfig(), **fit_kwargs) -> Predictor:
    """A predictor of the source objectives (source labels only)."""
    protocol = {"stage": "pretrain", "sources": list(source_targets), "source_cells": len(archs),
                "target_labels_seen": 0}
    return Predictor.fit(archs, source_targets, train_config=train_config, protocol=protocol, **fit_kwargs)


def naive_transfer_score(source_values: Mapping[str, Sequence[float]]) -> np.ndarray:
    """Mean of the z-scored source values per cell: the baseline any transfer must beat."""
    z = [(np.asarray(v, float) - np.nanmean(v)) / np.nanstd(v) for v in source_values.values()]
    return np.nanmean(np.stack(z), axis=0)


def adapt(pretrained: Predictor, target: str, archs: Sequence[Arch] = (), values: Sequence[float] = (),
          *, mode: str = "heads", prior_cells: float = 3.0, steps: int = 150, lr: float = 1e-3,
          source_archs: Sequence[Arch] = (), source_values: Mapping[str, Sequence[float]] | None = None,
          seed: int = 0) -> Predictor:
    """A predictor with a new ``target`` head, adapted from ``len(archs)`` = k labelled cells."""
    archs = [Arch.parse(a) for a in archs]
    values = np.asarray(values, dtype=np.float64)
    if len(archs) != len(values):
        raise ValueError(f"adapt needs one target value per cell, got {len(archs)} cells and {len(values)} values")
    if target in pretrained.objectives:
        raise ValueError(f"target {target!r} is already a head of the pretrained predictor")
    sources = [o for o in pretrained.objectives if o not in FREE_OBJECTIVES]
    if not sources:
        raise ValueError("the pretrained predictor has no source objective to transfer from")
    src_cols = [pretrained.objectives.index(o) for o in sources]
    objectives = tuple(sources) + (target,) + FREE_OBJECTIVES
    config = replace(pretrained.model_config, objectives=objectives)

    if mode not in ("heads", "finetune"):
        raise ValueError(f"mode must be 'heads' or 'finetune', got {mode!r}")
    # target statistics: from the k cells (in logit units for an accuracy) when there are
    # enough, else the sources' average (k = 0, 1: only the ranking is meaningful then)
    kind = units.default_transform(target)
    if len(values) >= 2 and np.nanstd(values) > 0:
        if units.is_accuracy(target):
            kind = "logit"
        values_t = units.forward(values, kind)
        t_mean, t_std = float(np.nanmean(values_t)), float(np.nanstd(values_t))
    else:
        values_t = values
        t_mean, t_std = float(pretrained.norm_mean[src_cols].mean()), float(pretrained.norm_std[src_cols].mean())
    order = [pretrained.objectives.index(o) for o in sources]
    free = [pretrained.objectives.index(o) for o in FREE_OBJECTIVES]
    norm_mean = np.concatenate([pretrained.norm_mean[order], [t_mean], pretrained.norm_mean[free]])
    norm_std = np.concatenate([pretrained.norm_std[order], [t_std], pretrained.norm_std[free]])
    transforms = [pretrained.transforms[c] for c in order] + [kind] + [pretrained.transforms[c] for c in free]

    weights = np.full(len(src_cols), 1.0 / len(src_cols))
    offset = 0.0
    target_interval = conservative(f"not calibrated: k = {len(archs)} target labels (< {MIN_CALIBRATION_LABELS})",
                                   len(archs))
    if len(archs) and mode == "heads":
        member_src = pretrained.cell_outputs(archs)[:, :, src_cols]                       # M, k, n_src
        z_src = member_src.mean(0)                                                         # k, n_src
        y_z = (values_t - t_mean) / t_std
        prior = weights
        weights, offset = _shrunk_weights(z_src, y_z, prior, prior_cells)
        if len(archs) >= MIN_CALIBRATION_LABELS:
            target_interval = _jackknife_interval(z_src, y_z, prior, prior_cells, member_src, sources)
    elif len(archs):
        target_interval = conservative("not calibrated: fine-tuned members (use mode='heads' for a calibrated "
                                       "interval)", len(archs))
    intervals = ([pretrained.intervals[c] for c in order] + [target_interval]
                 + [pretrained.intervals[c] for c in free])
    members = [_with_target_head(m, config, src_cols, order, free, weights, offset) for m in pretrained.members]
    if len(archs) and mode == "finetune":
        x = encode(archs, split_dead=not config.noise_aware)
        y = torch.tensor((values_t - t_mean) / t_std, dtype=torch.float32)
        sx = sy = None
        if source_values is not None and len(source_archs):
            sx = encode([Arch.parse(a) for a in source_archs], split_dead=not config.noise_aware)
            sv = np.stack([np.asarray(source_values[o], float) for o in sources], axis=1)
            sy = torch.tensor((sv - pretrained.norm_mean[order]) / pretrained.norm_std[order], dtype=torch.float32)
        for i, member in enumerate(members):
            _fine_tune(member, x, y, len(sources), sx, sy, steps, lr, seed * 7919 + i)
    protocol = {**pretrained.protocol, "stage": "adapted", "target": target, "k": len(archs),
                "target_labels_seen": len(archs), "target_archs": [a.to_str() for a in archs],
                "mode": mode if len(archs) else "k0: mean of source heads",
                "source_weights": dict(zip(sources, np.round(weights, 4).tolist()))}
    return Predictor(config, pretrained.train_config, members, norm_mean, norm_std, intervals, protocol, transforms)


def _jackknife_interval(z_src: np.ndarray, y_z: np.ndarray, prior: np.ndarray, prior_cells: float,
                        member_src: np.ndarray, sources: list[str]) -> IntervalModel:
    """Jackknife+ over the k labels: refit the affine map without each cell, take its
    residual on that cell, and the covariance of the k refits' [weights, offset]."""
    k = len(y_z)
    refits, residuals, spreads = [], [], []
    for i in range(k):
        keep = np.arange(k) != i
        w, b = _shrunk_weights(z_src[keep], y_z[keep], prior, prior_cells)
        refits.append(np.append(w, b))
        residuals.append(y_z[i] - (z_src[i] @ w + b))
        spreads.append(max(float((member_src[:, i] @ w + b).std()), 1e-3))
    refits = np.array(refits)
    cov = (k - 1) * np.cov(refits.T, bias=True).reshape(len(prior) + 1, len(prior) + 1)
    base = IntervalModel(sources=tuple(sources), map_cov=tuple(tuple(float(v) for v in row) for row in cov))
    return calibrated(np.array(residuals), np.array(spreads), z_src, base,
                      method=f"jackknife+ (split conformal on {k} leave-one-out residuals of the affine map)")


def _shrunk_weights(z_src: np.ndarray, y: np.ndarray, prior: np.ndarray, prior_cells: float) -> tuple[np.ndarray, float]:
    """argmin ||y - z_src w - b||^2 + prior_cells * ||w - prior||^2 (b free)."""
    zc = z_src - z_src.mean(0)
    yc = y - y.mean()
    a = zc.T @ zc + prior_cells * np.eye(len(prior))
    w = np.linalg.solve(a, zc.T @ yc + prior_cells * prior)
    return w, float(y.mean() - z_src.mean(0) @ w)


def _with_target_head(member: nn.Module, config: ModelConfig, src_cols: list[int], order: list[int],
                      free: list[int], weights: np.ndarray, offset: float) -> nn.Module:
    """Copy of a member with heads [sources..., target, free...]; target = sum_i w_i * source head i + offset."""
    new = copy.deepcopy(member)
    old_heads = list(member.heads)
    target_head = nn.Linear(old_heads[0].in_features, 1)
    w = torch.tensor(weights, dtype=torch.float32)
    with torch.no_grad():
        target_head.weight.copy_(torch.einsum("s,sij->ij", w, torch.stack([old_heads[c].weight for c in src_cols])))
        target_head.bias.copy_(torch.einsum("s,si->i", w, torch.stack([old_heads[c].bias for c in src_cols])) + offset)
    new.heads = nn.ModuleList([copy.deepcopy(old_heads[c]) for c in order] + [target_head]
                              + [copy.deepcopy(old_heads[c]) for c in free])
    new.config = config
    return new.eval()


def _fine_tune(model: nn.Module, x: torch.Tensor, y: torch.Tensor, target_col: int, sx, sy, steps: int, lr: float,
               seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    model.train()
    t = torch.zeros(x.shape[0]) if model.config.noise_aware else None
    for _ in range(steps):
        out = model(x, t)[:, target_col]
        loss = ((out - y) ** 2).mean()
        if len(y) > 1:
            loss = loss + rank_loss(out, y)
        if sx is not None:
            pick = torch.randint(0, sx.shape[0], (min(256, sx.shape[0]),), generator=gen)
            st = torch.zeros(len(pick)) if model.config.noise_aware else None
            loss = loss + ((model(sx[pick], st)[:, :target_col] - sy[pick]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
