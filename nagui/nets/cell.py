"""NB201 building blocks (torch modules only), faithful to the official ``TinyNetwork`` parts."""
from __future__ import annotations

import torch
from torch import nn

from ..space import EDGES, Arch, live_edges


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv2d (no bias) -> BatchNorm2d."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0):
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
                         nn.BatchNorm2d(c_out))


class Zero(nn.Module):
    """The ``none`` op: zeros of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One edge operation of a normal cell (stride 1, channels in == out)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {name!r}")


class InferCell(nn.Module):
    """A normal NB201 cell: node j = sum over i < j of op_{i->j}(node i); returns node 3.

    With ``pruned=True`` only live edges (ops that can affect the output) get a module
    and are computed; a cell whose output is disconnected returns zeros.
    """

    def __init__(self, arch: Arch, channels: int, pruned: bool = False):
        super().__init__()
        self.arch = arch
        keep = live_edges(arch) if pruned else (True,) * len(EDGES)
        self.edge_ids = [k for k, alive in enumerate(keep) if alive]
        self.edges = nn.ModuleList(make_op(arch.ops[k], channels) for k in self.edge_ids)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        for module, k in zip(self.edges, self.edge_ids):
            src, dst = EDGES[k]
            inp = nodes[src]
            if inp is None:  # only in a pruned cell, where a dead source has no live edges out
                continue
            out = module(inp)
            nodes[dst] = out if nodes[dst] is None else nodes[dst] + out
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class ResNetBasicblock(nn.Module):
    """The reduction block between stages: two ReLUConvBN 3x3 plus an avg-pool + 1x1 conv shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                                        nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))
