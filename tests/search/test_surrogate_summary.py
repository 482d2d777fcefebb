"""The transfer surrogate, greedy hypervolume selection and the benchmark's summaries."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from nagui.pareto import greedy_hypervolume
from nagui.search.harness import make_context, run_search
from nagui.problem import Problem
from nagui.search.summary import Reach, cheapest_above, reached, true_cheapest_above
from nagui.search.surrogate import TransferSurrogate, zscore_columns


@pytest.fixture(scope="module")
def table(bench):
    return bench.table


def test_surrogate_starts_as_naive_transfer_and_learns_the_weights_from_labels(table):
    sources = {c: table[c].to_numpy() for c in ("test_acc@cifar100", "test_acc@ImageNet16-120")}
    s = TransferSurrogate(sources)
    z = zscore_columns(sources)
    assert np.allclose(s.predict(), z.mean(axis=1))                    # k = 0: the mean z-score
    rng = np.random.default_rng(0)
    idx = rng.choice(len(table), 40, replace=False)
    y = 70 + 3 * z[idx, 1]                                             # labels that follow ImageNet16-120 only
    s.fit(idx, y)
    assert s.weights[1] > s.weights[0] and s.labelled == 40
    assert spearmanr(s.predict(), z[:, 1]).statistic > spearmanr(z.mean(axis=1), z[:, 1]).statistic
    assert abs(s.predict()[idx].mean() - y.mean()) < 0.5               # in target units once labelled
    with pytest.raises(ValueError, match="one value per cell"):
        s.fit([1, 2], [90.0])
    with pytest.raises(ValueError, match="no values"):
        TransferSurrogate({"x": np.full(5, np.nan)})


def test_greedy_hypervolume_takes_the_points_that_add_most():
    pts = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.9], [0.45, 0.55]])
    ideal, nadir = np.zeros(2), np.ones(2)
    first = greedy_hypervolume(pts, 1, ideal, nadir)
    assert first == [2]                                                # the knee adds the most on its own
    three = greedy_hypervolume(pts, 3, ideal, nadir)
    assert three[0] == 2 and set(three[1:]) == {0, 1}
    assert greedy_hypervolume(pts, 2, ideal, nadir, base=pts[[2]]) == [0, 1]
    dominated_only = greedy_hypervolume(pts[[3]], 1, ideal, nadir, base=pts[[2]])
    assert dominated_only == [0]                                       # nothing adds volume: nearest the ideal


def test_cheapest_cell_above_a_threshold_matches_the_reference(table):
    """REFERENCE.md: 83.95 / 52.49 / 48.13 MFLOPs above 94.0 / 93.5 / 93.0 on CIFAR-10."""
    truth = [true_cheapest_above(table, "test_acc@cifar10", "flops", t) for t in (94.0, 93.5, 93.0)]
    assert np.allclose(truth, [83.95, 52.49, 48.13], atol=0.01)
    problem = Problem.parse("cifar10", "test_acc,flops")
    run = run_search(table, problem, "transfer", 30, context=make_context(table, problem))
    found = cheapest_above([run], "test_acc@cifar10", "flops", table, 93.0)
    trained = [q.index for q in run.queries if q.values["test_acc@cifar10"] >= 93.0]
    assert found[0] == table["flops"].to_numpy()[trained].min() >= truth[2]


def test_reach_counts_and_text():
    assert reached(np.array([90, 93, 94.4]), 94.3) == 3 and np.isnan(reached(np.array([90.0]), 94))
    r = Reach(0.1, np.array([3.0, np.nan, 5.0]))
    assert np.isnan(r.mean) and r.text(100) == "4.0 (2/3 runs)"
    assert Reach(0.1, np.array([2.0, 4.0])).text(100) == "3.0" and Reach(0.1, np.array([np.nan])).text(50) == "> 50"
