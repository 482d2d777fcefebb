"""Score a sub-network on images: re-estimate its BatchNorm statistics, then top-1 accuracy.

Shared by training (the held-out check after each epoch) and profiling (every measured
mask). BatchNorm statistics kept by the super-network are a mixture over masks and fit
none of them, so a sub-network is always recalibrated on training images before it is
scored.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ..nets.supernet import BlockMask, SuperNetwork, extract_subnetwork
from ..progress import cancel_point
from .images import ImageSet, batches, normalise

EVAL_BATCH = 500


def _device_of(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


@torch.no_grad()
def recalibrate_bn(net: nn.Module, images, batch_size: int = 250) -> None:
    """Reset every BatchNorm's running statistics and re-estimate them (cumulative mean)
    on ``images`` in train mode; leaves ``net`` in eval mode."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    net.train()
    dev = _device_of(net)
    for x, _ in batches(images, batch_size, shuffle=False):
        cancel_point()
        net(normalise(x.to(dev)))
    net.eval()


@torch.no_grad()
def accuracy(net: nn.Module, images, batch_size: int = 250) -> float:
    correct = 0
    dev = _device_of(net)
    for x, y in batches(images, batch_size, shuffle=False):
        cancel_point()
        correct += int((net(normalise(x.to(dev))).argmax(1).cpu() == y).sum())
    return 100.0 * correct / len(images)


@torch.no_grad()
def batch_stats_accuracy(net: nn.Module, images, batch_size: int = EVAL_BATCH) -> float:
    """Top-1 accuracy (%) with BatchNorm normalising by each test batch's own statistics (no
    running statistics: NB201's one-shot baselines score sub-networks this way). ``net``
    is scored on a copy, so its running statistics stay as they are."""
    net = copy.deepcopy(net)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.track_running_stats = False
            m.running_mean = m.running_var = None
    net.eval()                      # BN without running statistics uses the batch's, also in eval mode
    return accuracy(net, images, batch_size)


@torch.no_grad()
def recalibrated_accuracy(model: SuperNetwork, mask: BlockMask, calibration: ImageSet, heldout: ImageSet,
                          device: torch.device) -> float:
    """Held-out top-1 accuracy (%) of ``mask``'s standalone sub-network with its BN statistics
    re-estimated on ``calibration`` — what profiling measures. The running statistics the
    super-network keeps are a mixture over masks and fit none of them (eval-mode accuracy
    with them can sit at chance while the recalibrated one is 70%+)."""
    sub = extract_subnetwork(model, mask).to(device)
    recalibrate_bn(sub, calibration, EVAL_BATCH)
    return accuracy(sub, heldout, EVAL_BATCH)


__all__ = ["EVAL_BATCH", "accuracy", "batch_stats_accuracy", "recalibrate_bn", "recalibrated_accuracy"]
