"""`nagui bench search` end to end on a small budget: tables, curves, the talk's table."""
from __future__ import annotations

import csv
import json
import os

import pytest

from bench_scripts import load_bench_script
from nagui.app_server import CHROMIUM



def load_bench():
    return load_bench_script("search.py")


def test_bench_search_writes_tables_curves_and_the_talks_table(tmp_path, data_dir, capsys):
    out = tmp_path / "res"
    png = os.path.exists(CHROMIUM)
    rc = load_bench().main(["--datasets", "cifar10", "--problems", "test_acc,test_acc+flops", "--budget", "12",
                            "--seeds", "2", "--strategies", "random,transfer,ours,bohb", "--processes", "2",
                            "--data-dir", str(data_dir), "--out", str(out)] + ([] if png else ["--no-png"]))
    assert rc == 0
    md = (out / "summary.md").read_text()
    assert "### cifar10, test_acc@cifar10" in md and "### cifar10, test_acc@cifar10+flops" in md
    assert "| table truth | | 83.95 | 52.49 | 48.13 |" in md.replace("83.94", "83.95").replace("48.12", "48.13")
    assert "Targets (issue #7) for ours" in md
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert {(r["objectives"], r["strategy"]) for r in rows} == {
        (o, s) for o in ("test_acc@cifar10", "test_acc@cifar10+flops") for s in ("random", "transfer", "ours")} | {
        ("test_acc@cifar10", "bohb")}                                            # bohb: one objective only
    transfer = next(r for r in rows if r["strategy"] == "transfer" and r["objectives"] == "test_acc@cifar10")
    assert transfer["to_0.1"] == "6.0" and transfer["best@10"].startswith("94.41")   # the reference's rank 6
    queries = list(csv.DictReader(open(out / "queries.csv")))
    assert len([q for q in queries if q["strategy"] != "bohb"]) == 2 * 3 * 2 * 12
    assert {q["fidelity"] for q in queries if q["strategy"] == "bohb"} == {"cheap", "full"}
    # search minutes: transfer's first cell is within 0.5 of the optimum, so its time is that
    # cell's NB201 training time plus the (tiny) compute measured here
    first = next(q for q in queries if q["strategy"] == "transfer" and q["objectives"] == "test_acc@cifar10")
    train_s = bench_table(data_dir).at[int(first["index"]), "train_s@cifar10-valid"]
    assert float(transfer["min_to_0.5"]) == pytest.approx(train_s / 60, abs=0.05)
    assert "setup of ours: diffusion prior training" in md and "not counted: super-network training" in md
    assert "### DiffusionNAG's Table 2, side by side" in md
    assert "| random | " in md and "| 93.70 ± 0.36 | > 500 |" in md            # published, beside ours
    assert "| HEBO | not run: the hebo package" in md
    protocol = json.loads((out / "protocol.json").read_text())
    assert "test_acc@cifar10" not in protocol["cifar10 test_acc@cifar10"]["transfer"]["transfer_sources"]
    curves = sorted(p.name for p in (out / "curves").iterdir())
    assert "cifar10_test_acc-cifar10.html" in curves and "plotly.min.js" in curves
    if png:
        assert "cifar10_test_acc-cifar10-flops.png" in curves
        assert (out / "curves" / "cifar10_test_acc-cifar10-flops.png").stat().st_size > 10_000


def bench_table(data_dir):
    from nagui.data import Benchmark

    return Benchmark.load(data_dir).table


def test_bench_search_refuses_unknown_strategies(tmp_path, capsys):
    assert load_bench().main(["--strategies", "random,magic", "--out", str(tmp_path)]) == 2
    assert "unknown strategy magic" in capsys.readouterr().err
