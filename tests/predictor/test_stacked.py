"""Members of one kind trained together as one batched network: the same outputs, the same training."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nagui.predictor.encoding import encode_indices
from nagui.predictor.model import ModelConfig, build_member
from nagui.predictor.noise import soft_marginal
from nagui.predictor.stacked import stack_parameters, stacked_forward, unstack_into
from nagui.predictor.training import TrainConfig, member_rank_loss, rank_loss, train_members
from nagui.space import all_op_indices

CELLS = encode_indices(all_op_indices()[::97])       # 162 real cells, every kind of op


@pytest.mark.parametrize("noise_aware", [False, True])
@pytest.mark.parametrize("kind", ["gin", "dag-exec"])
def test_stacked_forward_is_each_members_own_forward(kind, noise_aware):
    config = ModelConfig(("test_acc@cifar10", "flops", "params"), hidden=16, noise_aware=noise_aware)
    torch.manual_seed(0)
    members = [build_member(config, kind) for _ in range(3)]
    x = torch.stack([CELLS[:40], CELLS[40:80], CELLS[80:120]])                   # 3 members, 40 cells each
    t = torch.rand(3, 40) if noise_aware else None
    if noise_aware:
        x = soft_marginal(x.flatten(0, 1), t.flatten()).view(x.shape)
    stacked = stacked_forward(members[0], stack_parameters(members), x, t)
    for m, member in enumerate(members):
        own = member(x[m], None if t is None else t[m])
        assert torch.allclose(stacked[m], own, atol=1e-5), (kind, m)


def test_members_trained_together_end_as_each_trained_alone():
    config = ModelConfig(("test_acc@cifar10", "flops", "params"), hidden=16)
    cfg = TrainConfig(epochs=3, batch_size=16)
    pool_z = torch.randn(len(CELLS), 2)
    labels = [torch.randn(60, 3), torch.randn(60, 3)]
    labels[1][:20, 0] = float("nan")                   # a missing label is skipped, not learnt as 0
    data = [CELLS[:60], CELLS[60:120]]

    def fresh(seed):
        torch.manual_seed(seed)
        return build_member(config, "dag-exec")

    together = [fresh(1), fresh(2)]
    train_members(together, data, labels, CELLS, pool_z, [1, 2], cfg, False,
                  [np.random.default_rng(1), np.random.default_rng(2)])
    for m, seed in enumerate((1, 2)):
        alone = fresh(seed)
        train_members([alone], [data[m]], [labels[m]], CELLS, pool_z, [1, 2], cfg, False,
                      [np.random.default_rng(seed)])
        for (name, a), b in zip(together[m].state_dict().items(), alone.state_dict().values()):
            assert torch.allclose(a, b, atol=1e-5), (m, name)
        assert not torch.equal(together[m].op_forward, fresh(seed).op_forward)   # it did train


def test_a_smaller_set_is_padded_with_rows_that_weigh_nothing():
    config = ModelConfig(("test_acc@cifar10", "flops", "params"), hidden=8)
    cfg = TrainConfig(epochs=2, batch_size=64, aux_weight=0.0)
    members = [build_member(config, "gin") for _ in range(2)]
    before = [[p.detach().clone() for p in m.parameters()] for m in members]
    y_none = torch.full((10, 3), float("nan"))         # member 1: 10 rows, none labelled
    train_members(members, [CELLS[:50], CELLS[50:60]], [torch.randn(50, 3), y_none], CELLS,
                  torch.zeros(len(CELLS), 2), [1, 2], cfg, False, [np.random.default_rng(0)] * 2)
    # member 1 saw no label and no free task: its gradients were 0, only the weight decay
    # (a factor of 1 - 3e-7 over the 2 steps) moved its weights; member 0 learnt
    for p, q in zip(members[1].parameters(), before[1]):
        assert torch.allclose(p, q, rtol=1e-6, atol=0)
    assert not torch.allclose(members[0].embed.weight, before[0][0], rtol=1e-3)
    with pytest.raises(ValueError, match="one data set and one random stream per member"):
        train_members(members, [CELLS[:50]], [torch.randn(50, 3)], CELLS, torch.zeros(len(CELLS), 2), [1, 2],
                      cfg, False, [np.random.default_rng(0)])


def test_stacking_needs_one_kind_and_writes_back_what_it_read():
    config = ModelConfig(("a",), hidden=8)
    with pytest.raises(ValueError, match="one kind"):
        stack_parameters([build_member(config, "gin"), build_member(config, "dag-exec")])
    members = [build_member(config, "gin") for _ in range(2)]
    params = stack_parameters(members)
    with torch.no_grad():
        params["embed.bias"][1] += 1.0
    unstack_into(members, params)
    assert torch.equal(members[1].embed.bias, params["embed.bias"][1]) and not torch.equal(
        members[0].embed.bias, members[1].embed.bias)


def test_member_rank_loss_is_each_members_rank_loss_over_its_known_cells():
    pred, target = torch.randn(2, 12), torch.randn(2, 12)
    known = torch.ones(2, 12, dtype=torch.bool)
    known[1, 8:] = False
    got = member_rank_loss(pred, target, known)
    assert torch.allclose(got[0], rank_loss(pred[0], target[0]))
    assert torch.allclose(got[1], rank_loss(pred[1, :8], target[1, :8]))
    assert rank_loss(pred[0], torch.zeros(12)) == 0      # no pair with different targets
