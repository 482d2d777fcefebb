"""The benchmark table on the real NB201 files, checked against REFERENCE.md's figures."""
from __future__ import annotations

import numpy as np
import pytest

from nagui.data import COLUMN_DOCS, DATASETS, DEVICES, METRIC_COLUMNS, column
from nagui.space import Arch, InvalidArchError

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_one_table_with_every_column(bench):
    t = bench.table
    assert len(t) == 15625 and list(t.index[:3]) == [0, 1, 2]
    assert set(METRIC_COLUMNS) <= set(t.columns)
    assert len(DEVICES) == 27 and "raspi4" in DEVICES and "titanx_1" in DEVICES
    for name in ["test_acc@cifar10", "test_acc@cifar100", "test_acc@ImageNet16-120", "valid_acc@cifar10-valid",
                 "test_acc@cifar10-valid", "test_acc_12ep@cifar10", "valid_acc_12ep@ImageNet16-120",
                 "latency@raspi4", "latency@titanx_1", "flops", "params"]:
        assert name in t.columns and name in COLUMN_DOCS
    assert t["arch"].is_unique


@pytest.mark.parametrize("dataset, best, index", [("cifar10", 94.41, 3731), ("cifar100", 73.66, 2778),
                                                  ("ImageNet16-120", 47.33, 81)])
def test_optima_match_reference(bench, dataset, best, index):
    col = bench.table[column("test_acc", dataset)]
    assert col.idxmax() == index
    assert col.max() == pytest.approx(best, abs=0.005)


def test_reference_cost_figures(bench):
    t = bench.table
    assert t["flops"].min() == pytest.approx(7.94, abs=0.005) and t["flops"].max() == pytest.approx(222.86, abs=0.005)
    assert t["params"].min() == pytest.approx(0.0733, abs=5e-5) and t["params"].max() == pytest.approx(1.5315, abs=5e-5)
    assert t.at[3731, "flops"] == pytest.approx(124.13, abs=0.005) and t.at[3731, "params"] == pytest.approx(0.858, abs=5e-4)
    for threshold, cheapest in ((94.0, 83.95), (93.5, 52.49), (93.0, 48.13), (90.0, 13.60)):
        assert t.loc[t["test_acc@cifar10"] >= threshold, "flops"].min() == pytest.approx(cheapest, abs=0.01)


def test_cifar10_valid_is_the_three_seed_mean(bench):
    assert bench.table["valid_acc@cifar10-valid"].max() == pytest.approx(91.607, abs=0.001)


def test_train_seconds_are_nb201s_own_per_cell(bench):
    """NAS-Landscapes' train-all-time, aligned by arch string: its first row is this cell."""
    t = bench.table
    i = bench.index_of("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    assert t.at[i, "train_s@cifar10-valid"] == pytest.approx(1444.2186, abs=1e-4)
    s = t["train_s@cifar10-valid"]
    assert s.notna().all() and 500 < s.min() < s.median() < s.max() < 3500
    assert np.corrcoef(s.rank(), t["flops"].rank())[0, 1] > 0.8          # bigger cells train longer


def test_near_zero_latencies_are_missing(bench):
    t = bench.table
    assert bench.latency_artefacts["raspi4"] == t["latency@raspi4"].isna().sum() > 250
    assert bench.latency_artefacts["pixel3"] > 250
    assert bench.latency_artefacts["titanx_1"] == 0
    for dev in DEVICES:
        values = t[column("latency", dev)].dropna()
        assert (values >= 0.09 * values.median()).all()  # the cut was at 10% of the median with them


def test_sources_are_aligned_by_arch_string(bench):
    # 12-epoch and 200-epoch accuracies of the same cell must agree in rank (Kendall ~.6-.7 in REFERENCE)
    t = bench.table[bench.table["output_connected"]]
    rho = np.corrcoef(t["test_acc_12ep@cifar10"].rank(), t["test_acc@cifar10"].rank())[0, 1]
    assert rho > 0.7
    rho = np.corrcoef(t["valid_acc@cifar10-valid"].rank(), t["test_acc@cifar10"].rank())[0, 1]
    assert rho > 0.9
    rho = np.corrcoef(t["latency@gold_6226"].rank(), t["flops"].rank())[0, 1]
    assert rho > 0.5


def test_query_by_string_arch_or_index_and_count(bench):
    bench.counter.reset()
    a = Arch.from_str(BEST_C10)
    assert bench.query(BEST_C10, "test_acc@cifar10") == pytest.approx(94.41)
    assert bench.query(a, ["flops", "params"])["params"] == pytest.approx(0.858426)
    assert bench.query(3731)["arch"] == BEST_C10
    assert bench.counter.count == 1 and bench.counter.calls == 3
    bench.query(0)
    assert bench.counter.count == 2
    bench.lookup(5)  # lookups for display do not count
    assert bench.counter.count == 2
    bench.counter.reset()
    assert bench.counter.count == 0


def test_query_errors_are_specific(bench):
    with pytest.raises(InvalidArchError, match="out of range 0..15624"):
        bench.query(15625)
    with pytest.raises(InvalidArchError, match="unknown op 'conv'"):
        bench.query("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(KeyError, match="unknown metric 'accuracy'"):
        bench.query(0, "accuracy")


def test_lookup_gives_plain_python_values(bench):
    row = bench.lookup(BEST_C10)
    assert row["index"] == 3731 and isinstance(row["flops"], float) and isinstance(row["output_connected"], bool)
    disconnected = int(bench.table.index[~bench.table["output_connected"]][0])
    assert bench.lookup(disconnected)["latency@raspi4"] is None or isinstance(bench.lookup(disconnected)["latency@raspi4"], float)


def test_datasets_constant():
    assert DATASETS == ("cifar10", "cifar100", "ImageNet16-120")
