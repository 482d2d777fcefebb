"""The talk table's methods (REINFORCE, BOHB, GP-UCB, DiffusionNAG-style) and search cost in time."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nagui.search import cost
from nagui.search.cells import NUM_OPS
from nagui.search.harness import STRATEGIES, make_context, run_many, run_search
from nagui.problem import Problem
from nagui.search.problem import CHEAP_SHARE, Oracle
from nagui.space import OPS


@pytest.fixture(scope="module")
def table(bench):
    return bench.table


@pytest.fixture(scope="module")
def cifar10(table):
    problem = Problem.parse("cifar10", "test_acc")
    return problem, make_context(table, problem), float(table[problem.accuracy].max())


def test_reinforce_policy_moves_towards_rewarded_ops(table, cifar10):
    """100 rewards shift the factorised policy away from uniform, towards 3x3 convolutions
    (the op of every top NB201 cell), and a collapsed policy still trains new cells."""
    problem, context, _ = cifar10
    search = STRATEGIES["reinforce"](problem, np.random.default_rng(0), context)
    assert np.allclose(search.probabilities(), 1 / NUM_OPS)
    oracle = Oracle(table, problem, 100)
    while oracle.left > 0:
        asked = search.ask()
        search.tell(asked, [oracle.evaluate(i) for i in asked])
    p = search.probabilities()
    assert np.allclose(p.sum(axis=1), 1) and p[:, OPS.index("nor_conv_3x3")].mean() > 0.3
    assert p[:, OPS.index("none")].mean() < 1 / NUM_OPS
    greedy = STRATEGIES["reinforce"](problem, np.random.default_rng(1), context, lr=5.0)   # collapses at once
    oracle = Oracle(table, problem, 40)
    while oracle.left > 0:
        asked = greedy.ask()
        assert asked[0] not in greedy.rewards
        greedy.tell(asked, [oracle.evaluate(i) for i in asked])
    assert greedy.probabilities().max(axis=1).min() > 0.9 and len({q.index for q in oracle.queries}) == 40
    with pytest.raises(ValueError, match="one objective"):
        STRATEGIES["reinforce"](Problem.parse("cifar10", "test_acc,flops"), np.random.default_rng(0), context)


def test_bohb_promotes_the_best_of_each_bracket_on_12_epoch_accuracy(table, cifar10):
    """Brackets of 9 cheap (12-epoch) evaluations, then the best 3 of them trained fully;
    the budget counts a cheap evaluation as 12/200 of a trained architecture."""
    problem, context, optimum = cifar10
    run = run_search(table, problem, "bohb", 30, seed=0, context=context)
    cheap_col = problem.cheap
    assert cheap_col == "valid_acc_12ep@cifar10" and CHEAP_SHARE == pytest.approx(0.06)
    q = run.queries
    assert [x.fidelity for x in q[:12]] == ["cheap"] * 9 + ["full"] * 3
    first = {x.index: x.values[cheap_col] for x in q[:9]}
    best3 = sorted(first, key=lambda i: -first[i])[:3]
    assert sorted(x.index for x in q[9:12]) == sorted(best3)
    n_cheap = sum(x.fidelity == "cheap" for x in q)
    assert run.queries[-1].spent == pytest.approx(len(run.trained) + CHEAP_SHARE * n_cheap)
    assert all(x.values[cheap_col] == table.at[x.index, cheap_col] for x in q if x.fidelity == "cheap")
    runs = run_many(table, problem, "bohb", 100, seeds=range(5), processes=2, context=context)
    reached = [r.spent_to_reach(optimum - 0.5) for r in runs]
    assert sum(np.isfinite(reached)) >= 4                   # measured: 5 of 5 (random search: 3 of 5)


def test_gp_ucb_fits_a_gp_and_trains_distinct_classes(table, cifar10):
    problem, context, optimum = cifar10
    search = STRATEGIES["gp-ucb"](problem, np.random.default_rng(0), context)
    oracle = Oracle(table, problem, 40)
    canonical = table["canonical_id"].to_numpy()
    while oracle.left > 0:
        asked = search.ask()
        if len(search.trained) >= search.initial:
            assert len(asked) == search.batch and len(set(canonical[asked])) == search.batch
        search.tell(asked, [oracle.evaluate(i) for i in asked[:int(oracle.left)]])
    score = search.ucb()
    top = np.argsort(-score)[:50]
    assert score.shape == (len(table),) and np.isfinite(score).all()
    assert np.median(table[problem.accuracy].to_numpy()[top]) > 92.0    # the GP ranks good cells first
    assert "Gaussian" in search.protocol()["surrogate"]


def test_accuracy_guided_diffusion_ignores_costs(table, tiny_model):
    problem = Problem.parse("cifar10", "test_acc,flops")
    context = make_context(table, problem, models={"diffusion": tiny_model})
    run = run_search(table, problem, "diffusionnag", 6, seed=0, context=context)
    assert len({q.index for q in run.queries}) == 6
    assert run.protocol["model"]["guidance"].startswith("predicted accuracy only")
    assert all("flops" in q.values for q in run.queries)         # the oracle still reports the problem's costs


def test_search_time_adds_training_own_compute_and_setup(table, cifar10, tmp_path, tiny_model):
    problem, context, _ = cifar10
    run = run_search(table, problem, "bohb", 5, seed=0, context=context)
    train = cost.train_seconds(table, "cifar10")
    assert train[0] == pytest.approx(1444.2186, abs=1e-3)
    total = cost.search_seconds(run, train, setup=100.0)
    by_hand = 100.0 + sum(train[q.index] * (CHEAP_SHARE if q.fidelity == "cheap" else 1) for q in run.queries)
    assert total[-1] == pytest.approx(by_hand + run.queries[-1].seconds)
    assert (np.diff(total) > 0).all()
    first_full = next(k for k, q in enumerate(run.queries) if q.fidelity == "full")
    assert cost.minutes_to_reach(run, 0.0, train, 100.0) == pytest.approx(total[first_full] / 60)
    assert np.isnan(cost.minutes_to_reach(run, 101.0, train))
    assert cost.train_seconds(table, "cifar100")[0] == pytest.approx(2 * train[0])
    assert cost.train_seconds(table, "ImageNet16-120")[0] == pytest.approx(151_700 * 256 / 25_000 / 1024 * train[0])
    with pytest.raises(ValueError, match="no training-time rule"):
        cost.train_seconds(table, "mnist")

    assert cost.setup_seconds("random", {"diffusion": tiny_model}).seconds == 0.0
    ours = cost.setup_seconds("ours", {"diffusion": tiny_model})
    assert ours.parts["diffusion prior training"] == tiny_model.info["train_s"] > 0
    assert any("super-network" in m for m in ours.missing)
    record = tmp_path / "provenance.json"
    record.write_text(json.dumps({"train_s": 3600.0, "device": "NVIDIA H200", "epochs": 200}))
    ours = cost.setup_seconds("ours", {"diffusion": tiny_model}, supernet=record)
    assert ours.seconds == pytest.approx(3600.0 + tiny_model.info["train_s"]) and not ours.missing
    assert "H200" in ours.sources["super-network training"]
    assert "super-network training" not in cost.setup_seconds("diffusionnag", {"diffusion": tiny_model}, record).parts
    record.write_text("{}")
    with pytest.raises(ValueError, match="not a super-network provenance record"):
        cost.setup_seconds("ours", {"diffusion": tiny_model}, supernet=record)
