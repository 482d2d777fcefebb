"""Ranking sub-cells against the table (BN recalibrated and batch statistics) and the
recipe study's scoring, on a tiny super-network trained on the real CIFAR-10 JPEGs."""
from __future__ import annotations

import math

import pytest
import torch

from nagui.nets.supernet import BlockMask, SuperNetSpec
from nagui.supernet.checkpoint import load_supernet
from nagui.supernet.config import SupernetTrainConfig
from nagui.supernet.evaluation import accuracy, batch_stats_accuracy, recalibrate_bn
from nagui.supernet.images import first_per_class, load_image_folder
from nagui.supernet.ranking import RANK_COLUMN, STANDALONE_COLUMN, against_table, full_depth_masks, score_masks
from nagui.supernet.trainer import train_supernet

CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"
SPEC = SuperNetSpec(CELL, (1, 1, 1), 4)
PROGRESSIVE = SupernetTrainConfig(epochs=2, batch_size=32, lr=0.05, train_per_class=20, heldout=20, seed=1,
                                  largest_only=0.4, full_depth_only=0.3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, images_root):
    home = tmp_path_factory.mktemp("xdg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(home))
        mp.setenv("OMP_NUM_THREADS", "1")
        run = tmp_path_factory.mktemp("progressive")
        summary = train_supernet(run, SPEC, PROGRESSIVE, data_root=images_root)
        model, meta = load_supernet(run)
        test = first_per_class(load_image_folder(images_root, "test"), 10)
        train = first_per_class(load_image_folder(images_root, "train", limit_per_class=30), 10)
        yield model, meta, summary, train, test


def test_a_progressive_run_records_its_recipe_and_device(trained):
    _, meta, summary, _, _ = trained
    assert summary["complete"] and meta["recipe"] == "progressive"
    assert meta["config"]["largest_only"] == 0.4 and "(cpu, " in meta["device"]


def test_batch_statistics_accuracy_leaves_the_running_statistics_alone(trained):
    model, _, _, train, test = trained
    from nagui.nets.supernet import extract_subnetwork

    sub = extract_subnetwork(model, BlockMask.largest(SPEC))
    recalibrate_bn(sub, train, 50)
    before = {k: v.clone() for k, v in sub.state_dict().items()}
    acc = batch_stats_accuracy(sub, test, 50)
    assert 0 <= acc <= 100
    assert all(torch.equal(before[k], v) for k, v in sub.state_dict().items())
    assert accuracy(sub, test, 50) == accuracy(sub, test, 50)          # still evaluates with its own stats


def test_full_depth_sub_cells_are_scored_against_the_table(trained, bench):
    model, _, _, train, test = trained
    masks = full_depth_masks(model)
    assert masks and all(m.depth() == SPEC.slots for m in masks)
    assert len({m.sub_cell(SPEC).to_str() for m in masks}) == len(masks)     # one per distinct sub-cell
    few = masks[:6]
    records = score_masks(model, few, train, test)
    assert [r["mask"] for r in records] == [m.to_str() for m in few]
    assert all(0 <= r["acc_recalibrated"] <= 100 and 0 <= r["acc_batch_stats"] <= 100 and r["images"] == 100
               for r in records)
    summary = against_table(records, bench)
    assert summary["cells"] == 6 and 1 <= summary["front_cells"] <= 6
    assert -1 <= summary["tau_recalibrated"] <= 1 and -1 <= summary["tau_batch_stats"] <= 1
    table = [bench.lookup(r["cell"]) for r in records]
    gaps = [float(t[STANDALONE_COLUMN]) - r["acc_recalibrated"] for t, r in zip(table, records)]
    assert summary["gap_mean_recalibrated"] == pytest.approx(sum(gaps) / len(gaps), abs=0.01)
    assert summary["gap_worst_recalibrated"] == pytest.approx(max(gaps), abs=0.01)
    assert all(r[RANK_COLUMN] == float(t[RANK_COLUMN]) for r, t in zip(records, table))
    assert against_table(records[:2], bench) == {"cells": 2}
    assert not math.isnan(summary["front_gap_worst_recalibrated"])
