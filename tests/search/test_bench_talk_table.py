"""`nagui bench talk-table`: the talk's table (search time, deployed cost) on a small budget."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench_scripts import load_bench_script
from nagui.data import Benchmark

REPO = Path(__file__).resolve().parents[2]


def load_bench():
    return load_bench_script("talk_table.py")


def test_talk_table_rows_match_the_runs_queries(tmp_path, data_dir, capsys):
    out = tmp_path / "talk"
    rc = load_bench().main(["--seeds", "2", "--budget", "12", "--processes", "2", "--data-dir", str(data_dir),
                            "--out", str(out)])
    assert rc == 0
    md = (out / "talk_table.md").read_text()
    assert "| | ours | diffusionnag | reinforce | talk: Ours | talk: DiffusionNAG | talk: best RL methods |" in md
    assert "| search time to within 0.5 of the optimum (min) |" in md and "| 23.6 | 544 | > 2000 |" in md
    assert "deployed at >= 93.5%: latency raspi4 (ms)" in md and "#### Targets for ours, cifar10" in md
    assert "another setting" in md and "setup of ours: diffusion prior training" in md
    table = Benchmark.load(data_dir).table
    train = table["train_s@cifar10-valid"].to_numpy()
    records = json.loads((out / "talk_table.json").read_text())["records"]
    assert [r["strategy"] for r in records] == ["ours", "diffusionnag", "reinforce"]
    for r in records:
        assert r["seeds"] == 2 and len(r["minutes_budget"]) == 2
        # 12 trained cells at NB201's training time at least (plus setup and compute measured here)
        assert all(m * 60 >= 12 * train.min() for m in r["minutes_budget"])
        for t, runs in r["thresholds"].items():
            for x in runs:
                if x is not None:
                    assert x["accuracy"] >= float(t) and x["mflops"] == pytest.approx(table.at[x["index"], "flops"])
                    assert x["minutes_to_first"] <= max(r["minutes_budget"]) + 1e-6
    ours = records[0]
    assert ours["problem"] == "cifar10: test_acc@cifar10 vs flops"
    rows = list(csv.DictReader(open(out / "talk_table.csv")))
    assert len(rows) == 3 * 2 and {r["strategy"] for r in rows} == {"ours", "diffusionnag", "reinforce"}
    assert np.isclose(float(rows[0]["best_accuracy"]), ours["best_accuracy"][0])


def test_talk_table_bad_input_is_one_line(tmp_path, data_dir):
    r = subprocess.run([sys.executable, "-m", "nagui", "bench", "talk-table", "--devices", "toaster",
                        "--data-dir", str(data_dir), "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2 and "unknown device toaster" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "nagui", "bench", "talk-table", "--datasets", "mnist"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2 and "unknown dataset mnist" in r.stderr
