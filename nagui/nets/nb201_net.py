"""The NB201 network: stem, 3 stages of N cells (C, 2C, 4C channels) joined by residual
reduction blocks, then BN-ReLU-global-average-pool-linear."""
from __future__ import annotations

import torch
from torch import nn

from ..space import Arch, NetConfig
from .cell import InferCell, ResNetBasicblock


class NB201Network(nn.Module):
    """``pruned=True`` leaves out every op that cannot affect a cell's output (for export)."""

    def __init__(self, arch: Arch, config: NetConfig = NetConfig(), pruned: bool = False):
        super().__init__()
        self.arch, self.config = arch, config
        c, n = config.channels, config.cells_per_stage
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        cells: list[nn.Module] = []
        c_prev = c
        for stage, c_stage in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                cells.append(ResNetBasicblock(c_prev, c_stage, 2))
            cells.extend(InferCell(arch, c_stage, pruned=pruned) for _ in range(n))
            c_prev = c_stage
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 3, H, W) -> logits (B, classes)
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        x = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(x)


def build_network(arch: Arch | str, config: NetConfig = NetConfig(), pruned: bool = False) -> NB201Network:
    return NB201Network(Arch.parse(arch), config, pruned=pruned)
