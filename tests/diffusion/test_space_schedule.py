import numpy as np
import pytest
import torch

from nagui.diffusion.schedule import CategoricalSchedule, GaussianSchedule, make_schedule
from nagui.space.cell_space import NB201CellSpace, SearchSpace
from nagui.space import Arch, iso_key


@pytest.fixture(scope="module")
def space():
    return NB201CellSpace()


def test_space_round_trip_and_flat_order(space):
    assert isinstance(space, SearchSpace)
    cells = space.all_indices
    assert cells.shape == (15625, 6)
    assert torch.equal(space.flat_index(cells), torch.arange(15625))
    archs = space.from_indices(cells[[0, 7, 15624]])
    assert archs[0] == Arch(("none",) * 6) and archs[2] == Arch(("avg_pool_3x3",) * 6)
    assert torch.equal(space.to_indices(archs), cells[[0, 7, 15624]])
    assert torch.equal(space.to_indices([a.to_str() for a in archs]), cells[[0, 7, 15624]])


def test_canonical_ids_and_unique_training_set(space):
    ids = space.canonical_ids
    assert int(ids.max()) + 1 == 6466                # NB201's published class count
    unique = space.training_set("unique")
    assert len(unique) == 6466
    keys = {iso_key(a) for a in space.from_indices(unique)}
    assert len(keys) == 6466
    assert len(space.training_set("all")) == 15625
    with pytest.raises(ValueError, match="unknown training set 'most'"):
        space.training_set("most")


def test_node_adjacency_is_the_ops_dag(space):
    a = space.node_adjacency()
    assert a.shape == (6, 6)
    # op on edge 0->1 (node 0) feeds the ops leaving node 1: edges 1->2 (node 2), 1->3 (node 4)
    assert set(np.nonzero(a[0])[0]) == {2, 4}
    assert np.triu(a, 1).sum() == a.sum()             # a DAG in this order


def test_categorical_noise_marginals():
    sched = CategoricalSchedule(5)
    x0 = torch.randint(0, 5, (4000, 6), generator=torch.Generator().manual_seed(0))
    clean = sched.noise(x0, torch.zeros(4000))
    assert torch.equal(clean.argmax(-1), x0)
    noisy = sched.noise(x0, torch.ones(4000), generator=torch.Generator().manual_seed(1))
    kept = (noisy.argmax(-1) == x0).float().mean()
    assert abs(float(kept) - 0.2) < 0.02              # pure noise: uniform over 5 ops


def test_categorical_step_is_a_posterior():
    sched = CategoricalSchedule(5)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randint(0, 5, (2000, 6), generator=gen)
    p0 = torch.nn.functional.one_hot(x0, 5).float()
    x_t = sched.noise(x0, torch.full((2000,), 0.6), generator=gen)
    # with a certain p0, stepping to s = 0+ recovers x0
    x_s = sched.step(x_t, 0.6, 1e-4, p0, generator=gen)
    assert (x_s.argmax(-1) == x0).float().mean() > 0.99
    # from t to a nearby s the sample mostly stays: one-hot in, one-hot out
    x_s = sched.step(x_t, 0.6, 0.55, p0, generator=gen)
    assert torch.all(x_s.sum(-1) == 1)
    assert (x_s.argmax(-1) == x_t.argmax(-1)).float().mean() > 0.7


def test_gaussian_schedule_shapes_and_limits():
    sched = GaussianSchedule(5)
    x0 = torch.randint(0, 5, (8, 6))
    x = sched.noise(x0, torch.zeros(8))
    assert torch.allclose(x, 2 * torch.nn.functional.one_hot(x0, 5).float() - 1, atol=1e-5)
    p0 = torch.nn.functional.one_hot(x0, 5).float()
    x_s = sched.step(sched.prior(8, 6), 0.5, 0.0, p0)
    assert torch.allclose(x_s, 2 * p0 - 1, atol=1e-4)    # s = 0: the clean one-hot
    assert make_schedule("gaussian", 5).name == "gaussian"
    with pytest.raises(ValueError, match="unknown schedule 'uniformish'"):
        make_schedule("uniformish", 5)
