"""Pareto fronts and the hypervolume ratio, on hand-made points and on the real table."""
from __future__ import annotations

import numpy as np
import pytest

from nagui.pareto import Objective, hypervolume_ratio, non_dominated, to_minimisation


def test_objective_directions():
    assert Objective.parse("test_acc@cifar10").maximise and Objective.parse("valid_acc_12ep@cifar100").maximise
    assert not Objective.parse("latency@raspi4").maximise and not Objective.parse("flops").maximise


def test_non_dominated_on_hand_made_points():
    f = np.array([[1, 5], [2, 2], [3, 1], [3, 3], [np.nan, 0], [5, 5]])
    assert non_dominated(f).tolist() == [0, 1, 2]


def test_hypervolume_ratio():
    front = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    assert hypervolume_ratio(front, front) == pytest.approx(1.0)
    assert hypervolume_ratio(front[:1], front) < hypervolume_ratio(front[:2], front) < 1.0
    assert hypervolume_ratio(np.array([[2.0, 2.0]]), front) == 0.0  # beyond the reference point
    with pytest.raises(ValueError, match="points must be"):
        hypervolume_ratio(np.zeros((2, 3)), front)


def test_to_minimisation_negates_maximised():
    f = to_minimisation(np.array([[90.0, 10.0]]), [Objective("acc"), Objective("flops")])
    assert f.tolist() == [[-90.0, 10.0]]


@pytest.mark.parametrize("acc, cost, size", [("test_acc@cifar10", "flops", 21), ("test_acc@cifar10", "params", 13),
                                             ("test_acc@cifar100", "flops", 18), ("test_acc@cifar100", "params", 14),
                                             ("test_acc@ImageNet16-120", "flops", 18),
                                             ("test_acc@ImageNet16-120", "params", 13)])
def test_true_front_sizes_match_reference(bench, acc, cost, size):
    front = bench.pareto_front([acc, cost])
    assert len(front) == size
    assert bench.table[acc].idxmax() in front


def test_true_front_scores_one_and_random_cells_less(bench):
    objs = [Objective.parse("test_acc@cifar10"), Objective.parse("flops")]
    f = to_minimisation(bench.table[["test_acc@cifar10", "flops"]].to_numpy(), objs)
    front = f[bench.pareto_front(["test_acc@cifar10", "flops"])]
    assert hypervolume_ratio(front, front) == pytest.approx(1.0)
    sample = f[np.random.default_rng(0).choice(len(f), 50, replace=False)]
    assert 0.5 < hypervolume_ratio(sample, front) < 1.0


def test_hypervolume_2d_of_hand_made_sets():
    """Two boxes against (1.1, 1.1) overlap in a 0.6 x 0.6 square: 0.66 + 0.66 - 0.36; a NaN
    point is absent, and a set of only NaN points has no volume."""
    from nagui.pareto import hypervolume_2d

    two = np.array([[0.0, 0.5], [0.5, 0.0]])
    with_nan = np.array([[0.0, 0.5], [np.nan, np.nan]])
    empty = np.full((2, 2), np.nan)
    hv = hypervolume_2d(np.stack([two, with_nan, empty]))
    np.testing.assert_allclose(hv, [0.96, 1.1 * 0.6, 0.0])
