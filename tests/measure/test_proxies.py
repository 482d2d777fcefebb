"""Zero-cost proxies on real cells and real CIFAR-10 images."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kendalltau

from nagui.measure.proxies import PROXIES, cell_proxies
from nagui.space import NetConfig

SMALL = NetConfig(channels=8, cells_per_stage=1, num_classes=10)
BEST_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
EMPTY_CELL = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(scope="module")
def batch(images_root):
    from nagui.supernet.images import load_image_folder, normalise

    images = load_image_folder(images_root, "train", limit_per_class=4)
    return normalise(images.images[:32])


def test_every_proxy_scores_a_real_cell_and_repeats_with_its_seed(batch):
    first = cell_proxies(BEST_CELL, batch, SMALL, seed=3)
    assert set(first) == set(PROXIES) and all(math.isfinite(v) for v in first.values())
    assert cell_proxies(BEST_CELL, batch, SMALL, seed=3) == first


def test_a_cell_whose_output_ignores_the_input_scores_lowest(batch):
    empty = cell_proxies(EMPTY_CELL, batch, SMALL)
    assert empty["jacov"] == -math.inf and empty["synflow"] < cell_proxies(BEST_CELL, batch, SMALL)["synflow"]


def test_unknown_proxy_is_refused_by_name(batch):
    with pytest.raises(ValueError, match="unknown proxies \\['grasp'\\]"):
        cell_proxies(BEST_CELL, batch, SMALL, names=("nwot", "grasp"))


def test_nwot_ranks_cells_like_the_table_without_a_label(bench, batch):
    """NASWOT on 40 random cells of an untrained 8-channel network already orders them
    like their trained CIFAR-10 accuracy (measured on 2,000 cells: tau 0.58)."""
    idx = np.random.default_rng(7).choice(len(bench), 40, replace=False)
    scores = np.array([cell_proxies(bench.arch(int(i)), batch, SMALL, names=("nwot",))["nwot"] for i in idx])
    scores[~np.isfinite(scores)] = scores[np.isfinite(scores)].min() - 1
    truth = bench.table["valid_acc@cifar10-valid"].to_numpy()[idx]
    assert kendalltau(scores, truth)[0] > 0.3
