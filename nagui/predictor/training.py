"""Training the members of the predictor ensemble: the configuration and the loop (MSE on
the labelled objectives, a pairwise ranking term, the free flops/params task), for the
members of one kind at once."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..progress import Report, cancel_point, quiet
from .noise import soft_marginal
from .stacked import stack_parameters, stacked_forward, unstack_into


FULL_BATCH = 1024   # the batch size of the full-batch schedule before issue #16's mini-batches
FULL_BATCH_MAX_STEPS = 2400   # its step bound, kept by the schedules measured with it (guidance,
                              # the transfer bench): the batch then stays FULL_BATCH on all cells


@dataclass(frozen=True)
class TrainConfig:
    members: int = 4            # members per model kind (each leaves out its own fold of the cells)
    epochs: int = 100           # passes over the labelled cells
    batch_size: int = 32        # labelled cells per step (mini-batches: BENCHMARKS.md, issue #16)
    max_steps: int = 1200       # per member: a larger set gets larger batches instead of more steps
                                # (never fewer than one step per epoch), and a learning rate scaled
                                # by sqrt(batch / batch_size) (2400 and no scaling before 2026-12-08:
                                # the same tau, fits up to 1.7x faster; BENCHMARKS.md, issue #16)
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


def holdout_folds(n_cells: int, cfg: TrainConfig, n_kinds: int) -> int:
    """How many folds the labelled cells are split into (0: no member leaves any out). One
    fold per member (``cfg.members`` x ``n_kinds``) where each fold gets at least 2 cells,
    else one per member of a kind (the members of different kinds then share folds), else
    none. Per-member folds let each member train on 7/8 of the labels instead of 3/4 (issue
    #16: τ +0.007 at 128 and 256 labels, every seed better; BENCHMARKS.md)."""
    if not cfg.holdout or cfg.members < 2 or n_cells < 2 * cfg.members:
        return 0
    return cfg.members * n_kinds if n_cells >= 2 * cfg.members * n_kinds else cfg.members


def rank_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Logistic loss on the order of every pair with different targets. (n,), (n,) -> scalar
    (0 without such a pair)."""
    return member_rank_loss(pred[None], target[None], torch.ones_like(pred[None], dtype=torch.bool))[0]


def batch_size_for(rows: int, cfg: TrainConfig) -> int:
    """Cells per step for a member training on ``rows`` cells: ``cfg.batch_size``, or larger
    where ``epochs`` passes in such batches would take more than ``cfg.max_steps`` steps (with
    the defaults, 128 labelled cells and their isomorph copies train in batches of 32, 1,000
    cells in batches of 63: each member trains on 750 of them)."""
    return max(cfg.batch_size, math.ceil(rows * cfg.epochs / cfg.max_steps))


def learning_rate_for(batch_size: int, cfg: TrainConfig) -> float:
    """``cfg.lr``, scaled by sqrt(batch_size / cfg.batch_size) where :func:`batch_size_for`
    made the batch larger than ``cfg.batch_size`` (fewer, larger steps move as far)."""
    return cfg.lr * math.sqrt(max(batch_size, cfg.batch_size) / cfg.batch_size)


def adamw(params: Iterable[torch.Tensor], cfg: TrainConfig, lr: float | None = None) -> torch.optim.AdamW:
    """AdamW over some parameters (learning rate ``lr``, default ``cfg.lr``), in one fused kernel
    where torch has one for their device (CPU and CUDA): the update is the same, the optimiser's
    share of a step on 2 CPU cores falls from ~4.6 to ~1.4 ms (a GIN member, 160 cells)."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point for p in params)
    return torch.optim.AdamW(params, lr=cfg.lr if lr is None else lr, weight_decay=cfg.weight_decay,
                             fused=fused or None)


def member_rank_loss(pred: torch.Tensor, target: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """:func:`rank_loss` of each member over its known cells: (M, B) each -> (M,), 0 for a
    member without a pair of known cells with different targets."""
    pairs = torch.sign(target[:, :, None] - target[:, None, :])
    mask = (pairs != 0) & known[:, :, None] & known[:, None, :]
    losses = F.softplus(-pairs * (pred[:, :, None] - pred[:, None, :])) * mask
    return losses.sum(dim=(1, 2)) / mask.sum(dim=(1, 2)).clamp(min=1)


def train_members(models: Sequence[nn.Module], xs: Sequence[torch.Tensor], ys: Sequence[torch.Tensor],
                  pool_x: torch.Tensor, pool_z: torch.Tensor, free_cols: list[int], cfg: TrainConfig,
                  noise_aware: bool, rngs: Sequence[np.random.Generator], progress: Report = quiet) -> None:
    """Train members of one kind in place, together (:mod:`.stacked`: one batched network, one
    optimiser over the stacked parameters; every member's loss depends on its own parameters
    only, so each trains as it would alone). Member m trains on xs[m] (n_m, 8, T) and ys[m]
    (n_m, J; normalised, NaN for missing) with its own random stream ``rngs[m]``; all take the
    steps and batch size of the largest set (a smaller set is padded with rows of weight 0).
    ``progress`` hears of the steps 20 times in all."""
    if not (len(models) == len(xs) == len(ys) == len(rngs)) or not models:
        raise ValueError(f"need one data set and one random stream per member: {len(models)} members, "
                         f"{len(xs)} inputs, {len(ys)} labels, {len(rngs)} streams")
    params = stack_parameters(models)
    sizes = [x.shape[0] for x in xs]
    batch_size = batch_size_for(max(sizes), cfg)
    opt = adamw(params.values(), cfg, lr=learning_rate_for(batch_size, cfg))
    width = min(batch_size, max(sizes))                  # rows of each member in a step
    total = cfg.epochs * max(1, math.ceil(max(sizes) / batch_size))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
    known = [torch.isfinite(y) for y in ys]
    labels = [torch.nan_to_num(y) for y in ys]
    labelled_cols = [j for j in range(ys[0].shape[1]) if j not in free_cols and any(k[:, j].any() for k in known)]
    gens = [torch.Generator().manual_seed(int(rng.integers(2 ** 31))) for rng in rngs]
    pad = [torch.arange(width) < n for n in sizes]        # which of a member's rows are real
    model = models[0]
    for m in models:
        m.train()
    for step in range(total):
        cancel_point()
        rows = [torch.randperm(n, generator=g)[:width] for n, g in zip(sizes, gens)]
        rows = [torch.cat([r, r.new_zeros(width - len(r))]) for r in rows]
        xb = torch.stack([x[r] for x, r in zip(xs, rows)])                              # M, W, 8, T
        yb = torch.stack([y[r] for y, r in zip(labels, rows)])                          # M, W, J
        kb = torch.stack([k[r] & p[:, None] for k, r, p in zip(known, rows, pad)])      # M, W, J
        picks = torch.stack([torch.randint(0, pool_x.shape[0], (cfg.aux_batch,), generator=g) for g in gens])
        inputs = torch.cat([xb, pool_x[picks]], dim=1) if cfg.aux_weight else xb        # M, W (+ A), 8, T
        tb = None
        if noise_aware:
            tb = torch.stack([torch.rand(inputs.shape[1], generator=g) for g in gens])
            inputs = soft_marginal(inputs.flatten(0, 1), tb.flatten()).view(inputs.shape)
        both = stacked_forward(model, params, inputs, tb)                               # M, W (+ A), J
        out = both[:, :width]
        loss = (((out - yb) ** 2 * kb).sum(dim=(1, 2)) / kb.sum(dim=(1, 2)).clamp(min=1)).sum()
        if cfg.rank_weight:
            ranked = slice(0, cfg.rank_pairs)            # rows are in random order: a random subset
            for j in labelled_cols:
                loss = loss + cfg.rank_weight * member_rank_loss(out[:, ranked, j], yb[:, ranked, j],
                                                                 kb[:, ranked, j]).sum() / len(labelled_cols)
        if cfg.aux_weight:
            aux = ((both[:, width:][:, :, free_cols] - pool_z[picks]) ** 2).mean(dim=(1, 2))
            loss = loss + cfg.aux_weight * aux.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % max(1, total // 20) == 0:
            progress(f"training {len(models)} members together: step {step + 1}/{total}", (step + 1) / total)
    unstack_into(models, params)
    for m in models:
        m.eval()
