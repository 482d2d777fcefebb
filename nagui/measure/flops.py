"""FLOPs and parameters of NB201 networks, in NB201's convention.

NB201's published FLOPs (MFLOPs, per image) count more than convolution and linear
multiply-adds. Fitted against the official values in NASLib's subset they are exactly
linear in the op counts, and these rules reproduce them:

==================  =====================================================
module              counted
==================  =====================================================
Conv2d, Linear      multiply-adds (no bias term)
ReLU                1 per input element
BatchNorm2d         2 per input element (normalise + affine)
AvgPool2d           kernel_h * kernel_w per output element (NB201's rule)
AdaptiveAvgPool2d   1 per input element
==================  =====================================================

The one remaining difference is a constant (2H+1)*C per network from the final
global pooling (1,088 FLOPs on CIFAR-10, 0.014% of the smallest cell) that no
plain counting rule reproduces; ``bench/flops_vs_naslib.py`` reports it.
Parameters are all parameters of the network, dead branches included, as NB201 counts.

Two paths give the same numbers: :func:`thop_cost` runs thop with the rules above on a
real network; :func:`nagui.space.macro.analytic_cost` / ``table_cost`` use closed forms,
fast enough for all 15,625 cells at once. Tests prove the two equal.
"""
from __future__ import annotations

import warnings

import torch
from thop import profile
from torch import nn

from ..nets import build_network
from ..space import Arch, NetConfig
from ..space.macro import Cost, analytic_cost, op_cost_table, table_cost

__all__ = ["NB201_COUNT_RULES", "Cost", "analytic_cost", "op_cost_table", "table_cost", "thop_cost",
           "thop_cost_of_module"]


def _relu(m, x, y):
    m.total_ops += torch.DoubleTensor([x[0].numel()])


def _batchnorm(m, x, y):
    m.total_ops += torch.DoubleTensor([2 * x[0].numel()])


def _avgpool(m, x, y):
    k = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size, m.kernel_size)
    m.total_ops += torch.DoubleTensor([y.numel() * k[0] * k[1]])


def _global_pool(m, x, y):
    m.total_ops += torch.DoubleTensor([x[0].numel()])


NB201_COUNT_RULES = {nn.ReLU: _relu, nn.BatchNorm2d: _batchnorm, nn.AvgPool2d: _avgpool,
                     nn.AdaptiveAvgPool2d: _global_pool}


def thop_cost_of_module(net: nn.Module, input_hw: int = 32) -> Cost:
    """Count one module with thop and the NB201 rules; per image (batch 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = net.eval()
        flops, params = profile(net, inputs=(torch.zeros(1, 3, input_hw, input_hw),),
                                custom_ops=NB201_COUNT_RULES, verbose=False)
    # thop leaves total_ops/total_params buffers behind; drop them so the net stays clean
    for module in net.modules():
        for name in ("total_ops", "total_params"):
            if name in module._buffers:
                del module._buffers[name]
    return Cost(flops=float(flops) / 1e6, params=float(params) / 1e6)


def thop_cost(arch: Arch | str, config: NetConfig = NetConfig(), input_hw: int = 32) -> Cost:
    """FLOPs/params of the full (unpruned) NB201 network, as NB201 counts them, via thop."""
    return thop_cost_of_module(build_network(arch, config), input_hw)


