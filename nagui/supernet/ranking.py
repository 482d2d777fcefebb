"""How well a trained super-network's shared weights rank its sub-cells, against the table.

Every distinct full-depth sub-cell (every slot on, so it is an NB201 cell with a table
entry) is scored on images, usually the untouched CIFAR-10 test split, two ways:
BatchNorm statistics re-estimated per sub-network on training images (what profiling and
Deploy do), and BatchNorm with each test batch's own statistics (NB201's one-shot
baselines). :func:`against_table` then gives Kendall τ against the table's 3-seed mean
(``test_acc@cifar10-valid``) and the gap to the same cell trained alone for 200 epochs
(``test_acc@cifar10``): what weight sharing costs.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import kendalltau

from ..nets.supernet import BlockMask, SuperNetwork, extract_subnetwork
from ..pareto import Objective, non_dominated, to_minimisation
from ..progress import Report, quiet
from .evaluation import EVAL_BATCH, accuracy, batch_stats_accuracy, recalibrate_bn
from .images import ImageSet
from .profile import masks_to_profile

RANK_COLUMN = "test_acc@cifar10-valid"      # NB201's 3-seed mean (NAS-Landscapes), the ranking truth
STANDALONE_COLUMN = "test_acc@cifar10"      # the same cell trained alone for 200 epochs (train+valid)


def full_depth_masks(model: SuperNetwork) -> list[BlockMask]:
    """One mask per distinct full-depth sub-cell of ``model``'s spec."""
    spec = model.spec
    return [m for m in masks_to_profile(spec) if m.depth() == spec.slots]


@torch.no_grad()
def score_masks(model: SuperNetwork, masks: list[BlockMask], calibration: ImageSet, images: ImageSet,
                device: torch.device | str = "cpu", progress: Report = quiet) -> list[dict]:
    """For each mask: its sub-cell and top-1 accuracy (%) on ``images``, BN recalibrated on
    ``calibration`` and with batch statistics."""
    records = []
    for i, mask in enumerate(masks):
        sub = extract_subnetwork(model, mask).to(device)
        batch = batch_stats_accuracy(sub, images, EVAL_BATCH)
        recalibrate_bn(sub, calibration, EVAL_BATCH)
        records.append({"mask": mask.to_str(), "cell": mask.sub_cell(model.spec).to_str(),
                        "full_depth": mask.depth() == model.spec.slots,
                        "acc_recalibrated": round(accuracy(sub, images, EVAL_BATCH), 3),
                        "acc_batch_stats": round(batch, 3), "images": len(images)})
        progress(f"{i + 1}/{len(masks)} masks scored", (i + 1) / len(masks))
    return records


def against_table(records: list[dict], bench) -> dict:
    """Kendall τ (vs the 3-seed table mean) and the gap to standalone training (table minus
    shared-weight, in points: mean and worst) over the full-depth records, and over those on
    the sub-cells' own (table accuracy, FLOPs) front, for both BN modes."""
    rows = [r for r in records if r["full_depth"]]
    out = {"cells": len(rows)}
    if len(rows) < 3:
        return out
    truth = np.array([float(bench.lookup(r["cell"])[RANK_COLUMN]) for r in rows])
    alone = np.array([float(bench.lookup(r["cell"])[STANDALONE_COLUMN]) for r in rows])
    for r, t, a in zip(rows, truth, alone):
        r[RANK_COLUMN], r[STANDALONE_COLUMN] = float(t), float(a)
    flops = np.array([float(bench.lookup(r["cell"])["flops"]) for r in rows])
    front = non_dominated(to_minimisation(np.stack([alone, flops], 1),
                                          [Objective(STANDALONE_COLUMN), Objective("flops")]))
    out["front_cells"] = len(front)
    for mode in ("recalibrated", "batch_stats"):
        acc = np.array([r[f"acc_{mode}"] for r in rows])
        gap = alone - acc
        out[f"tau_{mode}"] = round(float(kendalltau(acc, truth).statistic), 4)
        out[f"gap_mean_{mode}"] = round(float(gap.mean()), 2)
        out[f"gap_worst_{mode}"] = round(float(gap.max()), 2)
        out[f"front_gap_mean_{mode}"] = round(float(gap[front].mean()), 2)
        out[f"front_gap_worst_{mode}"] = round(float(gap[front].max()), 2)
    return out


__all__ = ["RANK_COLUMN", "STANDALONE_COLUMN", "against_table", "full_depth_masks", "score_masks"]
