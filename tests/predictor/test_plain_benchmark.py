"""The plain-predictor benchmark: any table column as the target, and interval coverage on
all held-out cells and on the best 5% of them (where users look)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nagui.predictor.ensemble import TrainConfig
from nagui.predictor.evaluate import interval_coverage, run_plain

REPO = Path(__file__).resolve().parents[2]


def test_interval_coverage_counts_all_and_the_best_five_percent():
    truth = np.arange(100, dtype=float)
    lo, hi = truth - 1, truth + 1
    hi[95:] = truth[95:] - 0.5                                   # the best 5 are all missed
    scored = np.ones(100, bool)
    acc = interval_coverage(truth, lo, hi, scored, higher_is_better=True)
    assert acc == {"coverage90": 0.95, "coverage90_top5": 0.0, "top5_cells": 5}
    cost = interval_coverage(truth, lo, hi, scored, higher_is_better=False)   # for a cost the best are the lowest
    assert cost["coverage90_top5"] == 1.0
    scored[99] = False
    assert interval_coverage(truth, lo, hi, scored, True)["coverage90"] == pytest.approx(95 / 99)


def test_any_table_column_can_be_the_target(bench):
    records = run_plain(bench, "cifar10", [30], [0], extra_objectives=(), train_config=TrainConfig(members=2, epochs=5),
                        baselines=False, target="valid_acc@cifar10-valid")
    (rec,) = records
    assert rec["objective"] == "valid_acc@cifar10-valid" and rec["train_cells"] == 30
    assert -1 <= rec["kendall_tau"] <= 1 and 0 <= rec["coverage90"] <= 1 and 0 <= rec["coverage90_top5"] <= 1
    assert rec["top5_cells"] > 700                                # 5% of the 15,595 held-out cells
    with pytest.raises(ValueError, match="unknown objective 'valid_acc@cifar11'"):
        run_plain(bench, "cifar10", [30], [0], target="valid_acc@cifar11")


def test_the_bench_command_refuses_an_unknown_objective(data_dir):
    r = subprocess.run([sys.executable, "-m", "nagui", "bench", "predictor", "--objective", "acc@nowhere",
                        "--train-sizes", "20", "--seeds", "1"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode != 0 and "unknown objective 'acc@nowhere'" in r.stderr and "Traceback" not in r.stderr
