import numpy as np
import pytest
import torch
from torch.nn import functional as F

from nagui.diffusion import (ConstraintError, Constraints, InfeasibleConstraintsError, Problem, ProblemError,
                             Sampler, parse_latency_limit, parse_preferences, spread_preferences)
from nagui.diffusion.evaluate import distribution_distance, front_metrics, generation_metrics, validity
from nagui.diffusion.objectives import PredictorObjective, TableObjective, soft_cell_encoding
from nagui.diffusion.problem import build_guidance
from nagui.diffusion.sampler import FeasibleDecoder, polish
from nagui.predictor.encoding import FEATURES


def test_table_objective_is_the_exact_expectation(tables):
    flops = tables.column("flops")
    obj = TableObjective("flops", flops, 6, 5, log=False)
    cells = tables.space.all_indices
    # on one-hot cells: each cell's own (normalised) value
    v = obj.value(F.one_hot(cells[:100], 5).float())
    assert np.allclose(v.numpy() * obj.std + obj.mean, flops[:100], rtol=1e-5)
    # on a factorised distribution: the expectation over all 15,625 cells
    p = torch.softmax(torch.randn(3, 6, 5, generator=torch.Generator().manual_seed(0)), -1)
    probs = torch.ones(3, 15625)
    for i in range(6):
        probs = probs * p[:, i, cells[:, i]]
    brute = (probs.double() @ torch.tensor(flops)).numpy()
    assert np.allclose(obj.value(p).detach().numpy() * obj.std + obj.mean, brute, rtol=1e-4)
    with pytest.raises(ValueError, match="missing values"):
        TableObjective("latency@raspi4", tables.column("latency@raspi4"), 6, 5)


def test_predictor_objective_needs_noise_aware(tiny_predictor, bench):
    from nagui.predictor.ensemble import Predictor, TrainConfig

    x = soft_cell_encoding(torch.full((2, 6, 5), 0.2))
    assert x.shape == (2, 8, FEATURES) and torch.allclose(x[:, 1:-1].sum(-1), torch.ones(2, 6))
    obj = PredictorObjective(tiny_predictor, "test_acc@cifar10")
    assert obj.maximise and obj.value(torch.full((2, 6, 5), 0.2)).shape == (2,)
    plain = Predictor.fit([bench.arch(i) for i in range(20)], {"test_acc@cifar10": bench.table["test_acc@cifar10"][:20]},
                          train_config=TrainConfig(members=1, epochs=1))
    with pytest.raises(ValueError, match="noise-aware"):
        PredictorObjective(plain, "test_acc@cifar10")


def test_preferences():
    w = spread_preferences(7, 2)
    assert w.shape == (7, 2) and np.allclose(w.sum(1), 1) and (w > 0).all()
    assert w[0, 0] < w[-1, 0]                         # the rays sweep from one objective to the other
    assert spread_preferences(5, 3).shape == (5, 3)
    assert np.allclose(parse_preferences(["3,1"], 2), [[0.75, 0.25]])
    for bad, msg in (("1,2,3", "3 weight"), ("a,b", "comma-separated numbers"), ("-1,2", ">= 0"), ("0,0", "not all 0")):
        with pytest.raises(ValueError, match=msg):
            parse_preferences([bad], 2)


def test_problem_parsing():
    p = Problem.parse("cifar100", "test_acc,raspi4,flops")
    assert p.objectives == ("test_acc@cifar100", "latency@raspi4", "flops")
    assert p.costs == ("latency@raspi4", "flops")
    for ds, objs, msg in (("mnist", "test_acc", "unknown dataset 'mnist'"), ("cifar10", "test_acc,speed", "unknown objective 'speed'"),
                          ("cifar10", "flops", "exactly one accuracy"), ("cifar10", "test_acc,flops,flops", "repeat")):
        with pytest.raises(ProblemError, match=msg):
            Problem.parse(ds, objs)


def test_constraints_parse_and_explain(tables):
    assert parse_latency_limit("raspi4=5") == ("raspi4", 5.0)
    for bad, msg in (("raspi4", "DEVICE=MS"), ("toaster=5", "unknown device 'toaster'"), ("raspi4=fast", "'fast' is not a number"),
                     ("raspi4=-1", "positive")):
        with pytest.raises(ConstraintError, match=msg):
            parse_latency_limit(bad)
    with pytest.raises(ConstraintError, match="unknown op"):
        Constraints(forbidden_ops=("conv_7x7",))
    with pytest.raises(ConstraintError, match="both forbidden and required"):
        Constraints(forbidden_ops=("none",), required_ops=("none",))
    c = Constraints(max_flops=60, max_latency=("raspi4=5",), forbidden_ops=("avg_pool_3x3",))
    feasible = c.feasible(tables)
    flat = np.nonzero(feasible)[0]
    assert (tables.column("flops")[flat] <= 60).all() and (tables.column("latency@raspi4")[flat] <= 5).all()
    assert not (tables.space.all_indices.numpy()[flat] == 4).any()
    with pytest.raises(InfeasibleConstraintsError, match=r"Relax 'flops <= 5' to >= 7.94"):
        Constraints(max_flops=5).feasible(tables)


def test_feasible_decoder_never_leaves_the_feasible_set():
    rng = np.random.default_rng(0)
    feasible = rng.random(15625) < 0.01
    decoder = FeasibleDecoder(feasible, 6, 5)
    p0 = torch.softmax(torch.randn(500, 6, 5), -1)
    p0[:, 0] = F.one_hot(torch.zeros(500, dtype=torch.long), 5).float()   # even when p0 insists on one op
    cells = decoder(p0, torch.Generator().manual_seed(0))
    flat = (cells * torch.tensor([5 ** 5, 5 ** 4, 125, 25, 5, 1])).sum(1).numpy()
    assert feasible[flat].all()
    # p0 sure of an infeasible op, a denormal on another: still a feasible pick
    p0 = torch.zeros(200, 6, 5)
    p0[:, :, 0] = 1.0
    p0[:, 5, 2] = 1e-45
    only = np.zeros(15625, dtype=bool)
    only[[1, 3]] = True                     # cells ...0001 and ...0003
    cells = FeasibleDecoder(only, 6, 5)(p0, torch.Generator().manual_seed(0))
    assert set(cells[:, 5].tolist()) <= {1, 3} and (cells[:, :5] == 0).all()


def test_guided_sampling_with_constraints(tiny_model, tiny_predictor, tables, bench):
    problem = Problem.parse("cifar10", "test_acc,flops")
    constraints = Constraints(max_flops=60, forbidden_ops=("avg_pool_3x3",), required_ops=("nor_conv_3x3",))
    guidance, feasible = build_guidance(problem, tiny_predictor, tables, constraints, scale=100)
    sampler = Sampler(tiny_model, steps=8)
    out = sampler.sample(64, guidance, seed=3, feasible=feasible, polish_sweeps=2)
    flat = tables.space.flat_index(out.indices).numpy()
    assert validity(out.archs) == 1.0
    assert constraints.satisfied(flat, tables).all()
    assert out.preferences.shape == (64, 2) and out.raw_indices.shape == (64, 6)
    # same seed, same samples; another seed, other samples
    again = sampler.sample(64, guidance, seed=3, feasible=feasible, polish_sweeps=2)
    assert torch.equal(again.indices, out.indices)
    assert not torch.equal(sampler.sample(64, guidance, seed=4, feasible=feasible, polish_sweeps=2).indices, out.indices)
    metrics = generation_metrics(out, problem.objectives, tables, bench, constraints)
    assert metrics["constraint_satisfaction"] == 1.0 and 0 < metrics["hv_ratio"] <= 1.0


def test_guidance_moves_samples_towards_the_preference(tiny_model, tiny_predictor, tables):
    problem = Problem.parse("cifar10", "test_acc,flops")
    cheap, _ = build_guidance(problem, tiny_predictor, tables, scale=100, preferences=np.array([[0.05, 0.95]]))
    sampler = Sampler(tiny_model, steps=8)
    unguided = sampler.sample(128, None, seed=0)
    guided = sampler.sample(128, cheap, seed=0, polish_sweeps=0)
    flops = tables.column("flops")
    mean = lambda s: flops[tables.space.flat_index(s.indices).numpy()].mean()  # noqa: E731
    assert mean(guided) < 0.6 * mean(unguided)


def test_polish_raises_scores_and_separates_duplicates(tiny_predictor, tables):
    problem = Problem.parse("cifar10", "test_acc,flops")
    guidance, feasible = build_guidance(problem, tiny_predictor, tables, scale=100)
    cells = torch.randint(0, 5, (1, 6)).repeat(32, 1)            # 32 copies of one cell
    w = torch.tensor(guidance.front_preferences(32), dtype=torch.float32)
    out = polish(cells, guidance, w, tables.space, torch.as_tensor(feasible), sweeps=3)
    with torch.no_grad():
        before = guidance.score(F.one_hot(cells, 5).float(), w)
        after = guidance.score(F.one_hot(out, 5).float(), w)
    ids = tables.space.canonical_ids[tables.space.flat_index(out)]
    assert len(torch.unique(ids)) > 20                              # duplicates had to move
    assert float(after.mean()) > float(before.mean())


def test_metrics_on_known_sets(bench, tables):
    front_rows = bench.pareto_front(["test_acc@cifar10", "flops"])
    flat = np.argsort(tables.table_row)[front_rows]
    m = front_metrics(flat, ["test_acc@cifar10", "flops"], tables, bench)
    assert m["hv_ratio"] == pytest.approx(1.0) and m["on_front"] == 1.0 and m["within_0.5"] == 1.0
    x = torch.randint(0, 5, (500, 6))
    assert distribution_distance(x, x, 5) == {"tv_nodes": 0.0, "tv_counts": 0.0}
    far = distribution_distance(torch.zeros(500, 6, dtype=torch.long), x, 5)
    assert far["tv_nodes"] > 0.7


def test_table_objective_looks_up_concrete_cells_as_its_expectation_would():
    """Concrete (one-hot) cells take a lookup path; it must equal the exact expectation."""
    import torch

    from nagui.diffusion.objectives import TableObjective

    values = np.random.default_rng(0).uniform(1, 100, 5 ** 6)
    term = TableObjective("flops", values, 6, 5)
    cells = torch.randint(0, 5, (64, 6), generator=torch.Generator().manual_seed(0))
    p = torch.nn.functional.one_hot(cells, 5).float()
    looked_up = term.value(p)
    soft = p * (1 - 1e-6) + 1e-6 / 5                       # not one-hot: the einsum path
    assert torch.allclose(looked_up, term.value(soft), atol=1e-3)
    flat = (cells * 5 ** torch.arange(5, -1, -1)).sum(1).numpy()
    assert np.allclose(looked_up.numpy(), (np.log(values[flat]) - term.mean) / term.std, atol=1e-5)
