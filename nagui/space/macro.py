"""The NB201 macro skeleton around the cell, and its cost in closed form.

Stem (3x3 conv + BN), 3 stages of N cells with C, 2C, 4C channels joined by residual
reduction blocks, then BN-ReLU-global-average-pool-linear. :class:`NetConfig` sets C,
N and the number of classes; :func:`analytic_cost` and :func:`table_cost` give FLOPs
(NB201's counting convention, see :mod:`nagui.measure.flops`) and parameters without
building a network — numpy only, fast enough for all 15,625 cells at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nb201 import OPS, Arch


@dataclass(frozen=True)
class NetConfig:
    channels: int = 16       # C: channels of the first stage (NB201: 16)
    cells_per_stage: int = 5  # N: normal cells per stage (NB201: 5)
    num_classes: int = 10    # 10 for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120

    def __post_init__(self) -> None:
        for name in ("channels", "cells_per_stage", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"NetConfig.{name} must be a positive int, got {value!r}")


@dataclass(frozen=True)
class Cost:
    flops: float   # MFLOPs per image, NB201 convention
    params: float  # millions of parameters


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
    flops, params = table_cost(np.array([Arch.parse(arch).indices]), config, input_hw)
    return Cost(float(flops[0]), float(params[0]))


def table_cost(op_indices: np.ndarray, config: NetConfig = NetConfig(), input_hw: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`analytic_cost`: op_indices (n, 6) into OPS -> (flops (n,), params (n,)).

    Sums are rounded to 6 decimals: the counts are integers, so cells with equal counts
    get exactly equal values (ties matter to Pareto fronts) instead of float noise."""
    base, per_op = op_cost_table(config, input_hw)
    op_flops = np.array([per_op[op].flops for op in OPS])
    op_params = np.array([per_op[op].params for op in OPS])
    idx = np.asarray(op_indices)
    return (np.round(base.flops + op_flops[idx].sum(axis=1), 6),
            np.round(base.params + op_params[idx].sum(axis=1), 6))
