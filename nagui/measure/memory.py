"""Peak activation memory of an NB201 network at inference, estimated by liveness.

Model: blocks run one after another; inside a cell the live edges run in string
order. A node's tensor lives from its first write to its last read (the cell input
until its last outgoing live edge, node 3 until the cell ends); an op holds its
temporaries while it runs (ReLU-conv-BN: ReLU output + conv output, pooling: its
output). Weights are not counted. float32, ``batch_size`` images.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..space import EDGES, Arch, NetConfig, all_op_indices, flat_index, live_edges

BYTES_PER_ELEMENT = 4
_OP_TEMPORARIES = {"nor_conv_1x1": 2, "nor_conv_3x3": 2, "avg_pool_3x3": 1, "skip_connect": 0, "none": 0}


def cell_peak_tensors(arch: Arch) -> int:
    """Peak number of cell-sized tensors alive at once while one pruned cell runs."""
    live = [k for k, alive in enumerate(live_edges(arch)) if alive]
    if not live:
        return 2  # input + the zeros it returns
    last_read = {EDGES[k][0]: step for step, k in enumerate(live)}
    first_write: dict[int, int] = {}
    for step, k in enumerate(live):
        first_write.setdefault(EDGES[k][1], step)
    peak = 0
    for step, k in enumerate(live):
        held = int(step <= last_read.get(0, -1))                   # the cell input
        for node in (1, 2, 3):
            if node in first_write and first_write[node] < step:  # written by an earlier edge
                held += int(node == 3 or step <= last_read.get(node, -1))
        peak = max(peak, held + _OP_TEMPORARIES[arch.ops[k]] + 1)  # + temporaries + op output
    return peak


def _stage_peaks(config: NetConfig, input_hw: int) -> tuple[list[int], int]:
    """Elements per cell-sized tensor of each stage, and the largest peak outside the cells."""
    c = config.channels
    stage_elems = [c * input_hw ** 2, 2 * c * (input_hw // 2) ** 2, 4 * c * (input_hw // 4) ** 2]
    image = 3 * input_hw ** 2
    peaks = [image + 2 * stage_elems[0]]                           # stem: image, conv out, BN out
    for s in range(1, len(stage_elems)):  # reduction block: input, ReLU/conv temporaries, branch and shortcut outputs
        peaks.append(stage_elems[s - 1] * 2 + 3 * stage_elems[s])
    peaks.append(stage_elems[2] * 2 + 4 * c + config.num_classes)  # lastact + pooled + logits
    return stage_elems, max(peaks)


def peak_activation_bytes(arch: Arch | str, config: NetConfig = NetConfig(), input_hw: int = 32,
                          batch_size: int = 1) -> int:
    stage_elems, outside = _stage_peaks(config, input_hw)
    cells = cell_peak_tensors(Arch.parse(arch)) * max(stage_elems)
    return max(outside, cells) * BYTES_PER_ELEMENT * batch_size


@lru_cache(maxsize=1)
def _all_cell_peaks() -> np.ndarray:
    """:func:`cell_peak_tensors` of every cell, in flat-index order."""
    return np.array([cell_peak_tensors(Arch.from_indices(row)) for row in all_op_indices().tolist()])


def table_memory_mb(op_indices: np.ndarray, config: NetConfig = NetConfig(), input_hw: int = 32) -> np.ndarray:
    """Vectorised :func:`peak_activation_bytes` in MB (2**20 bytes), batch 1: (n, 6) op indices -> (n,)."""
    stage_elems, outside = _stage_peaks(config, input_hw)
    cells = _all_cell_peaks()[flat_index(np.asarray(op_indices, dtype=np.int64))] * max(stage_elems)
    return np.maximum(outside, cells) * BYTES_PER_ELEMENT / 2 ** 20
