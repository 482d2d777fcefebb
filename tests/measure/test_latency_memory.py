"""ONNX export of the pruned network, onnxruntime and eager latency, memory estimate."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from nagui.measure.latency import (LatencyConfig, eager_latency, export_onnx, measure_latency, ort_latency,
                                   ort_session)
from nagui.measure.memory import cell_peak_tensors, peak_activation_bytes
from nagui.nets import build_network
from nagui.space import Arch

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
DEAD = "|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"


def _op_counts(model_bytes):
    ops = [n.op_type for n in onnx.load_from_string(model_bytes).graph.node]
    return {t: ops.count(t) for t in set(ops)}


def test_export_removes_dead_ops():
    full = _op_counts(export_onnx(build_network(DEAD)))
    pruned = _op_counts(export_onnx(build_network(DEAD, pruned=True)))
    # 15 cells: the 3x3 conv on 0->1 cannot reach the output; none ops (x*0) are gone too
    assert full.get("Mul", 0) >= 15 and pruned.get("Mul", 0) == 0
    assert full["Conv"] - pruned["Conv"] == 15


def test_onnxruntime_matches_torch():
    net = build_network(BEST_C10, pruned=True).eval()
    x = torch.randn(2, 3, 32, 32)
    session = ort_session(export_onnx(net, batch_size=2))
    out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(out, net(x).numpy(), rtol=1e-4, atol=1e-4)


def test_latency_statistics():
    report = measure_latency(BEST_C10, config=LatencyConfig(runs=30, warmup=3))
    for r in (report.ort, report.eager):
        assert r.runs == 30 and 0 < r.p50_ms <= r.p90_ms
    assert report.onnx_nodes > 0 and report.export_s > 0


def test_bigger_batch_takes_longer():
    model = export_onnx(build_network(BEST_C10, pruned=True), batch_size=16)
    big = ort_latency(model, LatencyConfig(batch_size=16, runs=30, warmup=2))
    small = ort_latency(export_onnx(build_network(BEST_C10, pruned=True)), LatencyConfig(runs=30, warmup=2))
    assert big.p50_ms > small.p50_ms
    assert eager_latency(build_network(BEST_C10), LatencyConfig(runs=5, warmup=1)).p50_ms > 0


def test_disconnected_network_is_timed_too():
    report = measure_latency("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", config=LatencyConfig(runs=30, warmup=1))
    assert report.ort.runs == 30


@pytest.mark.parametrize("field, value", [("runs", 0), ("threads", 0), ("batch_size", -1), ("warmup", 1.5)])
def test_latency_config_validation(field, value):
    with pytest.raises(ValueError, match=field):
        LatencyConfig(**{field: value})


def test_memory_estimate():
    all_conv = Arch(("nor_conv_3x3",) * 6)
    assert cell_peak_tensors(all_conv) == 6
    assert cell_peak_tensors(Arch(("none",) * 6)) == 2
    one = peak_activation_bytes(all_conv)
    assert one == 6 * 16 * 32 * 32 * 4  # six 16x32x32 float32 tensors in a first-stage cell
    assert peak_activation_bytes(all_conv, batch_size=8) == 8 * one
    assert peak_activation_bytes(Arch(("skip_connect",) * 6)) < one
