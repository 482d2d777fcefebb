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
real network; :func:`analytic_cost` / :func:`table_cost` use closed forms, fast
enough for all 15,625 cells at once. Tests prove the two equal.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..nets import NetConfig, build_network
from ..space import OPS, Arch


@dataclass(frozen=True)
class Cost:
    flops: float   # MFLOPs per image, NB201 convention
    params: float  # millions of parameters


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
    from thop import profile

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


def _check_input_hw(input_hw: int) -> None:
    if not isinstance(input_hw, int) or input_hw < 4 or input_hw % 4:
        raise ValueError(f"input_hw must be a positive multiple of 4 (two stride-2 reductions), got {input_hw!r}")


def op_cost_table(config: NetConfig = NetConfig(), input_hw: int = 32) -> tuple[Cost, dict[str, Cost]]:
    """Closed form: (cost of everything outside the cells, cost of one edge op summed over all cells)."""
    _check_input_hw(input_hw)
    c, n, k = config.channels, config.cells_per_stage, config.num_classes
    chans = [c, 2 * c, 4 * c]
    sizes = [input_hw, input_hw // 2, input_hw // 4]
    area = [h * h for h in sizes]

    flops = 9 * 3 * c * area[0] + 2 * c * area[0]                  # stem conv + BN
    params = 9 * 3 * c + 2 * c
    for s in (1, 2):                                                # reduction blocks
        ci, co, a_in, a = chans[s - 1], chans[s], area[s - 1], area[s]
        flops += ci * a_in + 9 * ci * co * a + 2 * co * a            # conv_a: ReLU, conv 3x3/2, BN
        flops += co * a + 9 * co * co * a + 2 * co * a               # conv_b
        flops += 4 * ci * a + ci * co * a                            # shortcut: avgpool 2x2, conv 1x1
        params += 9 * ci * co + 2 * co + 9 * co * co + 2 * co + ci * co
    e_last = chans[2] * area[2]
    flops += 2 * e_last + e_last + e_last + chans[2] * k             # lastact BN, ReLU, GAP, linear
    params += 2 * chans[2] + chans[2] * k + k
    base = Cost(flops / 1e6, params / 1e6)

    per_op: dict[str, Cost] = {}
    for op in OPS:
        f = p = 0
        for s in range(3):
            cs, a = chans[s], area[s]
            e = cs * a
            if op == "nor_conv_1x1":
                f += n * (cs * cs * a + 3 * e)
                p += n * (cs * cs + 2 * cs)
            elif op == "nor_conv_3x3":
                f += n * (9 * cs * cs * a + 3 * e)
                p += n * (9 * cs * cs + 2 * cs)
            elif op == "avg_pool_3x3":
                f += n * 9 * e
            elif op in ("none", "skip_connect"):
                pass
            else:
                raise ValueError(f"unknown op {op!r}")
        per_op[op] = Cost(f / 1e6, p / 1e6)
    return base, per_op


def analytic_cost(arch: Arch | str, config: NetConfig = NetConfig(), input_hw: int = 32) -> Cost:
    arch = Arch.parse(arch)
    base, per_op = op_cost_table(config, input_hw)
    return Cost(base.flops + sum(per_op[op].flops for op in arch.ops),
                base.params + sum(per_op[op].params for op in arch.ops))


def table_cost(op_indices: np.ndarray, config: NetConfig = NetConfig(), input_hw: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`analytic_cost`: op_indices (n, 6) into OPS -> (flops (n,), params (n,))."""
    base, per_op = op_cost_table(config, input_hw)
    op_flops = np.array([per_op[op].flops for op in OPS])
    op_params = np.array([per_op[op].params for op in OPS])
    idx = np.asarray(op_indices)
    return base.flops + op_flops[idx].sum(axis=1), base.params + op_params[idx].sum(axis=1)
