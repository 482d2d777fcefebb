"""Search strategies on the real table: budgets, reproducibility, and known results."""
from __future__ import annotations

import numpy as np
import pytest

from nagui.search.cells import CellIndex
from nagui.search.guided_diffusion import GuidedDiffusion
from nagui.search.harness import SINGLE_OBJECTIVE, STRATEGIES, make_context, run_many, run_search
from nagui.problem import Problem
from nagui.search.problem import BudgetExhausted, Oracle, front_values
from nagui.space import Arch


@pytest.fixture(scope="module")
def table(bench):
    return bench.table


@pytest.fixture(scope="module")
def cells(table):
    return CellIndex(table)


def test_cell_index_round_trips_and_neighbours_differ_by_one_op(table, cells):
    assert (cells.index_of(cells.ops) == np.arange(len(table))).all()
    assert Arch.from_indices(cells.ops[3731].tolist()).to_str() == table.at[3731, "arch"]
    nb = cells.neighbours(3731)
    assert len(nb) == 24 and len(set(nb.tolist())) == 24
    assert ((cells.ops[nb] != cells.ops[3731]).sum(axis=1) == 1).all()


def test_oracle_counts_distinct_trained_cells_and_stops_at_the_budget(table):
    oracle = Oracle(table, Problem.parse("cifar10", "test_acc,flops"), budget=2)
    a = oracle.evaluate(5)
    assert oracle.evaluate(5) == a and oracle.trained == 1            # a repeat is free
    oracle.evaluate(7)
    with pytest.raises(BudgetExhausted, match="budget of 2"):
        oracle.evaluate(9)
    assert [q.index for q in oracle.queries] == [5, 7] and [q.trained for q in oracle.queries] == [1, 2]
    with pytest.raises(ValueError, match="what the budget pays for"):
        oracle.free("test_acc@cifar10")


@pytest.mark.parametrize("strategy", sorted(set(STRATEGIES) - {"ours", "diffusionnag"}))  # those: small models below
def test_every_strategy_spends_exactly_its_budget_reproducibly(table, strategy):
    problem = Problem.parse("cifar10", "test_acc")
    context = make_context(table, problem)
    a = run_search(table, problem, strategy, 30, seed=3, context=context)
    b = run_search(table, problem, strategy, 30, seed=3, context=context)
    cheap = [q for q in a.queries if q.fidelity == "cheap"]          # only bohb asks for them
    assert len(a.trained) + len(cheap) == len(a.queries) and len({q.index for q in a.trained}) == len(a.trained)
    assert 30 - 1 < a.queries[-1].spent <= 30 + 1e-9 and (len(a.trained) == 30) == (strategy != "bohb")
    assert [(q.index, q.fidelity) for q in a.queries] == [(q.index, q.fidelity) for q in b.queries]
    best = a.best_so_far()
    assert (np.diff(best) >= 0).all() and best[-1] == max(q.values["test_acc@cifar10"] for q in a.trained)
    assert a.protocol["target_labels"].startswith("only the cells this run trained")


def test_naive_transfer_finds_the_cifar10_optimum_at_rank_6(table):
    """The issue's reference: ordering by the other datasets' mean z-scored accuracy puts
    the CIFAR-10 optimum 6th (ImageNet16-120's 20th)."""
    for dataset, rank in (("cifar10", 6), ("ImageNet16-120", 20)):
        problem = Problem.parse(dataset, "test_acc")
        run = run_search(table, problem, "transfer", 25)
        best = table[problem.accuracy].max()
        assert int(np.argmax(run.best_so_far() >= best - 0.1)) + 1 == rank
        assert "test_acc@" + dataset not in run.protocol["transfer_sources"]


def test_multi_objective_transfer_and_hypervolume(table):
    problem = Problem.parse("cifar10", "test_acc,flops")
    front = front_values(table, problem)
    runs = run_many(table, problem, "transfer", 20, seeds=[0, 1], processes=2)
    hv = runs[0].hv_at(front, [5, 20])
    assert 0 < hv[0] <= hv[1] <= 1 and hv[1] > 0.9
    rand = run_search(table, problem, "random", 20, seed=0).hv_at(front, [20])[0]
    assert rand < hv[1]


def test_single_objective_strategies_refuse_several_objectives(table):
    problem = Problem.parse("cifar10", "test_acc,flops")
    for name in SINGLE_OBJECTIVE:
        with pytest.raises(ValueError, match="one objective"):
            run_search(table, problem, name, 5)
    with pytest.raises(ValueError, match="unknown strategy 'magic'"):
        run_search(table, problem, "magic", 5)


def test_multi_objective_evolution_improves_with_budget(table):
    """NSGA-II (pymoo) and MO-REA on CIFAR-10 acc-FLOPs: the issue's NSGA-II reference is
    HV about 0.76 at 20 and 0.96 at 300 trained architectures."""
    problem = Problem.parse("cifar10", "test_acc,flops")
    front = front_values(table, problem)
    for name in ("nsga2", "mo-rea"):
        runs = run_many(table, problem, name, 300, seeds=[0, 1], processes=2)
        hv = np.mean([r.hv_at(front, [20, 300]) for r in runs], axis=0)
        assert 0.6 < hv[0] < hv[1] and hv[1] > 0.92
        assert all(len({q.index for q in r.queries}) == 300 for r in runs)


def test_ours_refits_on_what_it_is_told_and_spends_the_budget(table, tiny_model):
    """Guided diffusion (a small real prior) searching CIFAR-100: 12 distinct cells, one
    per ask then batches; its predictor saw only the other datasets and the cells it trained."""
    problem = Problem.parse("cifar100", "test_acc")
    context = make_context(table, problem, models={"diffusion": tiny_model})
    run = run_search(table, problem, "ours", 12, seed=0, context=context)
    assert len(run.queries) == 12 and len({q.index for q in run.queries}) == 12
    assert len(set(table["canonical_id"].to_numpy()[[q.index for q in run.queries]])) == 12   # no isomorphic repeat
    model = run.protocol["model"]
    assert model["target_labels_seen"] == 12
    assert model["features"] and not any(f.endswith("@cifar100") for f in model["features"])
    again = run_search(table, problem, "ours", 12, seed=0, context=context)
    assert [q.index for q in again.queries] == [q.index for q in run.queries]
    mo = Problem.parse("cifar100", "test_acc,flops")
    mo_context = make_context(table, mo, models={"diffusion": tiny_model})
    run = run_search(table, mo, "ours", 6, seed=1, context=mo_context)
    assert len({q.index for q in run.queries}) == 6
    # its first cell is the predicted front's accuracy end: among the samples rated best, the cheapest
    ours = GuidedDiffusion(mo, np.random.default_rng(0), mo_context)
    predicted, rows = np.zeros(len(table)), np.array([10, 20, 30, 40])
    predicted[rows] = [70.0, 73.0, 73.0, 60.0]
    flops = table["flops"].to_numpy()
    assert ours._accuracy_end(predicted, rows) == (20 if flops[20] <= flops[30] else 30)
    ours.anchor_margin = 5.0                  # a wider margin also admits the 70% sample
    assert ours._accuracy_end(predicted, rows) == int(rows[:3][np.argmin(flops[rows[:3]])])


def test_bo_parego_improves_on_its_random_start(table):
    """BO with the ensemble predictor (ParEGO on acc-FLOPs): the refitted batches add
    hypervolume to the 10 random cells it starts from, and never re-ask a trained cell."""
    problem = Problem.parse("cifar10", "test_acc,flops")
    front = front_values(table, problem)
    run = run_search(table, problem, "bo", 30, seed=0)
    hv = run.hv_at(front, [10, 30])
    assert len({q.index for q in run.queries}) == 30 and hv[1] > hv[0] + 0.05
    with pytest.raises(ValueError, match="acquisition must be one of"):
        STRATEGIES["bo"](problem, np.random.default_rng(0), make_context(table, problem), acquisition="pi")


def _thread_counts(_):
    import sklearn.gaussian_process  # noqa: F401  (what GP-UCB loads in a worker, after the fork)
    from threadpoolctl import threadpool_info

    return {info["filepath"].rsplit("/", 1)[-1]: info["num_threads"] for info in threadpool_info()}


def test_forked_search_workers_run_every_thread_pool_with_one_thread():
    """run_many's workers share the cores: a BLAS or OpenMP pool loaded after the limit was
    set would run at the machine's width in each worker (GP-UCB ran 3x slower that way)."""
    import multiprocessing as mp

    from nagui.search.harness import _one_thread_each

    with mp.get_context("fork").Pool(2, initializer=_one_thread_each) as pool:
        counts = pool.map(_thread_counts, range(2))
    for worker in counts:
        assert worker, "threadpoolctl found no thread pool in the worker"
        assert set(worker.values()) == {1}, worker
