"""Training one member of the predictor ensemble: the configuration and the loop
(MSE on the labelled objectives, a pairwise ranking term, the free flops/params task)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..progress import cancel_point
from .noise import soft_marginal


FULL_BATCH = 1024   # the batch size of the full-batch schedule before issue #16's mini-batches


@dataclass(frozen=True)
class TrainConfig:
    members: int = 4            # ensemble size (each member leaves out 1/members of the cells)
    epochs: int = 100           # passes over the labelled cells
    batch_size: int = 32        # labelled cells per step (mini-batches: BENCHMARKS.md, issue #16)
    max_steps: int = 2400       # per member: a larger set gets larger batches instead of more steps
                                # (never fewer than one step per epoch)
    lr: float = 2e-3
    weight_decay: float = 1e-4
    rank_weight: float = 3.0    # weight of the pairwise ranking loss (BENCHMARKS.md, issue #16)
    rank_pairs: int = 512       # cells per step entering the ranking loss (bounds its cost)
    aux_weight: float = 0.2     # weight of the free flops/params task on all cells
    aux_batch: int = 32         # cells per step for it (128 before 2026-12-07: the same τ, BENCHMARKS.md)
    holdout: bool = True        # each member leaves out one fold (needed for calibration)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("members", "epochs", "batch_size", "max_steps", "rank_pairs", "aux_batch"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive int, got {value!r}")


def rank_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Logistic loss on the order of every pair with different targets. (n,), (n,) -> scalar."""
    diff_p = pred[:, None] - pred[None, :]
    sign = torch.sign(target[:, None] - target[None, :])
    mask = sign != 0
    if not mask.any():
        return pred.sum() * 0.0
    return F.softplus(-sign * diff_p)[mask].mean()


def batch_size_for(rows: int, cfg: TrainConfig) -> int:
    """Cells per step for a member training on ``rows`` cells: ``cfg.batch_size``, or larger
    where ``epochs`` passes in such batches would take more than ``cfg.max_steps`` steps (a
    fit on all 15,625 cells takes as many steps as one on 256, in batches of ~490)."""
    return max(cfg.batch_size, math.ceil(rows * cfg.epochs / cfg.max_steps))


def adamw(model: nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW over a member's parameters, in one fused kernel where torch has one for their
    device (CPU and CUDA): the update is the same, the optimiser's share of a step on 2 CPU
    cores falls from ~4.6 to ~1.4 ms (a GIN member, 160 cells)."""
    params = list(model.parameters())
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point for p in params)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused or None)


def train_member(model: nn.Module, x: torch.Tensor, y: torch.Tensor, pool_x: torch.Tensor, pool_z: torch.Tensor,
                  free_cols: list[int], cfg: TrainConfig, noise_aware: bool, rng: np.random.Generator) -> None:
    """Train one member in place. x (n, 8, T), y (n, J) normalised with NaN for missing."""
    opt = adamw(model, cfg)
    n = x.shape[0]
    batch_size = batch_size_for(n, cfg)
    steps_per_epoch = max(1, math.ceil(n / batch_size))
    total = cfg.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
    known = torch.isfinite(y)
    y0 = torch.nan_to_num(y)
    labelled_cols = [j for j in range(y.shape[1]) if j not in free_cols and known[:, j].any()]
    gen = torch.Generator().manual_seed(int(rng.integers(2 ** 31)))
    model.train()
    for step in range(total):
        cancel_point()
        rows = torch.randperm(n, generator=gen)[:batch_size] if n > batch_size else torch.arange(n)
        xb, yb, kb = x[rows], y0[rows], known[rows]
        tb = None
        if noise_aware:
            tb = torch.rand(len(rows), generator=gen)
            xb = soft_marginal(xb, tb)
        if cfg.aux_weight:   # the free task's cells ride in the same forward pass (one call, not two)
            pick = torch.randint(0, pool_x.shape[0], (cfg.aux_batch,), generator=gen)
            px, pt = pool_x[pick], None
            if noise_aware:
                pt = torch.rand(len(pick), generator=gen)
                px = soft_marginal(px, pt)
            both = model(torch.cat([xb, px]), None if tb is None else torch.cat([tb, pt]))
            out, aux_out = both[:len(rows)], both[len(rows):]                    # B, J and aux_batch, J
        else:
            out = model(xb, tb)                                                   # B, J
        loss = ((out - yb) ** 2 * kb).sum() / kb.sum().clamp(min=1)
        if cfg.rank_weight:
            for j in labelled_cols:
                idx = torch.nonzero(kb[:, j]).flatten()
                if len(idx) > cfg.rank_pairs:
                    idx = idx[torch.randperm(len(idx), generator=gen)[: cfg.rank_pairs]]
                if len(idx) > 1:
                    loss = loss + cfg.rank_weight * rank_loss(out[idx, j], yb[idx, j]) / len(labelled_cols)
        if cfg.aux_weight:
            loss = loss + cfg.aux_weight * ((aux_out[:, free_cols] - pool_z[pick]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
