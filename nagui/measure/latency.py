"""Latency of NB201 networks: onnxruntime on the CPU, and PyTorch eager for comparison.

The ONNX export uses the *pruned* network (:class:`nagui.nets.NB201Network` with
``pruned=True``): ``none`` ops and ops that cannot reach a cell's output are not in
the graph at all, so the exported model computes only what matters.
"""
from __future__ import annotations

import io
import logging
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from ..nets import NetConfig, build_network
from ..space import Arch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LatencyConfig:
    batch_size: int = 1   # images per run
    threads: int = 1      # intra-op threads (onnxruntime and torch)
    warmup: int = 10      # runs discarded before timing
    runs: int = 30        # timed runs (>= 30 for a stable median/p90)
    input_hw: int = 32    # input height = width

    def __post_init__(self) -> None:
        for name, low in (("batch_size", 1), ("threads", 1), ("warmup", 0), ("runs", 1), ("input_hw", 4)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"LatencyConfig.{name} must be an int >= {low}, got {value!r}")


@dataclass(frozen=True)
class LatencyResult:
    p50_ms: float
    p90_ms: float
    mean_ms: float
    runs: int

    def as_dict(self) -> dict:
        return asdict(self)


def summarise(samples_ms: list[float]) -> LatencyResult:
    a = np.asarray(samples_ms, dtype=np.float64)
    return LatencyResult(p50_ms=float(np.median(a)), p90_ms=float(np.percentile(a, 90)),
                         mean_ms=float(a.mean()), runs=len(a))


def _time_runs(fn, warmup: int, runs: int) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def export_onnx(net: nn.Module, input_hw: int = 32, batch_size: int = 1, dynamic_batch: bool = False) -> bytes:
    """Serialise a network to ONNX bytes (opset 17); the input shape is fixed unless
    ``dynamic_batch`` leaves the batch axis free (files a user deploys)."""
    net = net.eval()
    buffer = io.BytesIO()
    example = torch.zeros(batch_size, 3, input_hw, input_hw)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (example,), buffer, input_names=["images"], output_names=["logits"],
                          opset_version=17, dynamo=False,
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None)
    return buffer.getvalue()


def ort_session(model_bytes: bytes, threads: int = 1):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, sess_options=options, providers=["CPUExecutionProvider"])


def ort_latency(model_bytes: bytes, config: LatencyConfig = LatencyConfig()) -> LatencyResult:
    session = ort_session(model_bytes, config.threads)
    x = np.random.default_rng(0).standard_normal((config.batch_size, 3, config.input_hw, config.input_hw),
                                                 dtype=np.float32)
    # A cell whose output is disconnected makes the whole network constant: the exporter
    # folds it and the graph has no input left. That is the honest cost, so time it as is.
    feed = {session.get_inputs()[0].name: x} if session.get_inputs() else {}
    return summarise(_time_runs(lambda: session.run(None, feed), config.warmup, config.runs))


def eager_latency(net: nn.Module, config: LatencyConfig = LatencyConfig()) -> LatencyResult:
    net = net.eval()
    x = torch.randn(config.batch_size, 3, config.input_hw, config.input_hw,
                    generator=torch.Generator().manual_seed(0))
    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        with torch.inference_mode():
            samples = _time_runs(lambda: net(x), config.warmup, config.runs)
    finally:
        torch.set_num_threads(previous)
    return summarise(samples)


@dataclass(frozen=True)
class LatencyReport:
    ort: LatencyResult
    eager: LatencyResult
    export_s: float
    onnx_nodes: int


def measure_latency(arch: Arch | str, net_config: NetConfig = NetConfig(),
                    config: LatencyConfig = LatencyConfig()) -> LatencyReport:
    """Export the pruned network, time it in onnxruntime, and time the same network eagerly."""
    net = build_network(arch, net_config, pruned=True)
    start = time.perf_counter()
    model_bytes = export_onnx(net, config.input_hw, config.batch_size)
    export_s = time.perf_counter() - start
    nodes = len(onnx.load_from_string(model_bytes).graph.node)
    return LatencyReport(ort=ort_latency(model_bytes, config), eager=eager_latency(net, config),
                         export_s=export_s, onnx_nodes=nodes)
