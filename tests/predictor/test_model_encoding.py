"""Encodings, the GNN's shapes and gradients, and the noise used for guidance."""
from __future__ import annotations

import pytest
import torch

from nagui.predictor.encoding import DEAD, FEATURES, NUM_TYPES, encode, encode_indices
from nagui.predictor.model import GROUPED_ROWS, DagExecNet, ModelConfig, build_member, member_kind
from nagui.noise_schedule import alpha_bar
from nagui.predictor.noise import sample_noisy, soft_marginal
from nagui.space import NODE_TYPES, Arch, prune

DEAD_CONV = Arch.from_str("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|")


def test_encoding_splits_dead_ops():
    x = encode([DEAD_CONV])[0]
    assert x.shape == (8, FEATURES)
    # edge 0->1 holds a dead 3x3 conv: its type reads none, the dead-op channel names the conv
    assert NODE_TYPES[int(x[1, :NUM_TYPES].argmax())] == "none"
    assert x[1, DEAD].tolist() == [0, 0, 0, 1, 0]
    # types equal the pruned cell's one-hot
    assert torch.equal(x[:, :NUM_TYPES], torch.from_numpy(prune(DEAD_CONV).onehot()))
    raw = encode([DEAD_CONV], split_dead=False)[0]
    assert torch.equal(raw[:, :NUM_TYPES], torch.from_numpy(DEAD_CONV.onehot())) and raw[:, DEAD].sum() == 0


def test_liveness_and_isomorphism_tables_of_all_cells_match_the_per_cell_rules():
    """The liveness table is looked up from the 64 patterns of ``none`` edges and the class
    table built without per-cell checks: both equal the per-cell rules on every cell."""
    from nagui.predictor.encoding import _live_table
    from nagui.predictor.isomorphs import _classes
    from nagui.space import iso_key, live_edges
    from nagui.space.flat import all_op_indices
    cells = [Arch.from_indices(row) for row in all_op_indices().tolist()]
    assert _live_table().tolist() == [[float(v) for v in live_edges(a)] for a in cells]
    class_of, members = _classes()
    keys = [iso_key(a) for a in cells]
    assert len(members) == len(set(keys)) == 6466
    first = {}
    for cls, key in zip(class_of.tolist(), keys):
        assert first.setdefault(cls, key) == key                  # one key per class ...
    assert len(set(first.values())) == len(first)                  # ... and one class per key


def test_vectorised_encoding_matches_per_cell():
    archs = [DEAD_CONV, Arch(("nor_conv_3x3",) * 6), Arch(("none",) * 6)]
    assert torch.equal(encode(archs), torch.cat([encode([a]) for a in archs]))
    assert torch.equal(encode_indices([a.indices for a in archs]), encode(archs))


@pytest.mark.parametrize("kind", ["gin", "dag-exec"])
def test_model_shapes_and_gradient_wrt_encoding(kind):
    model = build_member(ModelConfig(("test_acc@cifar10", "latency@raspi4", "flops"), hidden=16, layers=2), kind)
    x = encode([DEAD_CONV] * 3).requires_grad_(True)
    out = model(x)
    assert out.shape == (3, 3)
    out[:, 0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(2, 8, 3))


@pytest.mark.parametrize("kind", ["gin", "dag-exec"])
def test_noise_aware_model_needs_t(kind):
    model = build_member(ModelConfig(("a",), hidden=16, noise_aware=True), kind)
    x = encode([DEAD_CONV], split_dead=False)
    with pytest.raises(ValueError, match="noise level"):
        model(x)
    assert model(x, torch.tensor([0.3])).shape == (1, 1)


def test_model_config_validation():
    with pytest.raises(ValueError, match="distinct"):
        ModelConfig(("a", "a"))
    with pytest.raises(ValueError, match="hidden"):
        ModelConfig(("a",), hidden=0)
    cfg = ModelConfig(("a", "b"), hidden=8)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown ModelConfig fields"):
        ModelConfig.from_dict({**cfg.to_dict(), "heads": 3})
    with pytest.raises(ValueError, match="member_kinds must be distinct names among"):
        ModelConfig(("a",), member_kinds=("gin", "transformer"))
    mixed = ModelConfig(("a",), member_kinds=("gin", "dag-exec"))
    assert ModelConfig.from_dict(mixed.to_dict()) == mixed
    # a config written before member kinds existed describes GIN members
    old = {k: v for k, v in cfg.to_dict().items() if k != "member_kinds"}
    assert ModelConfig.from_dict(old).member_kinds == ("gin",)
    assert [member_kind(mixed, i, 6) for i in range(6)] == ["gin"] * 3 + ["dag-exec"] * 3


def _dag_exec_node_by_node(model: DagExecNet, x: torch.Tensor) -> torch.Tensor:
    """DAG-exec, written plainly: one node at a time in topological order, each taking the
    gated sum of its predecessors' states (the reference for the level-batched forward)."""
    def run(e, ops, gate, norm, adj, order):
        states, gated = {}, {}
        for i in order:
            inputs = torch.nonzero(adj[i]).flatten().tolist()
            agg = sum((gated[j] for j in inputs), torch.zeros(x.shape[0], e.shape[-1]))
            w = torch.einsum("bf,fhk->bhk", x[:, i], ops)                       # W(x_i) = sum_t x_i[t] W_t
            states[i] = norm(torch.relu(torch.einsum("bhk,bk->bh", w, agg)) + e[:, i])
            gated[i] = torch.sigmoid(gate(states[i])) * states[i]
        return torch.stack([states[i] for i in range(8)], 1)

    e = model.embed(x)
    fw = run(e, model.op_forward, model.gate_forward, model.norm_forward, model.adj_in, range(8))
    bw = run(e + fw, model.op_backward, model.gate_backward, model.norm_backward, model.adj_out, range(7, -1, -1))
    z = model.trunk(torch.cat([fw[:, -1], bw[:, 0]], 1))
    return torch.cat([head(z) for head in model.heads], 1)


def test_dag_exec_levels_run_the_cell_in_topological_order():
    model = DagExecNet(ModelConfig(("a", "b"), hidden=12))
    # NB201's ops-on-nodes DAG: input; edges 0->1, 0->2, 0->3; 1->2, 1->3; 2->3; output
    assert model.levels_forward == [[0], [1, 2, 4], [3, 5], [6], [7]]
    assert model.levels_backward == [[7], [4, 5, 6], [2, 3], [1], [0]]
    x = encode([DEAD_CONV, Arch(("nor_conv_3x3",) * 6), Arch(("none",) * 6)])
    torch.testing.assert_close(model(x), _dag_exec_node_by_node(model, x))
    # a cell's output does not depend on the other cells of its batch
    torch.testing.assert_close(model(x)[1:2], model(x[1:2]))


def test_dag_exec_large_batches_apply_each_type_only_to_its_nodes():
    """Batches of at least GROUPED_ROWS rows take the grouped product (predicting all cells):
    the same outputs as the node-by-node reference, for concrete and for soft encodings."""
    model = DagExecNet(ModelConfig(("a",), hidden=12)).eval()
    cells = [DEAD_CONV, Arch(("nor_conv_3x3",) * 6), Arch(("none",) * 6),
             Arch(("skip_connect", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3", "skip_connect"))]
    x = encode(cells * (GROUPED_ROWS // len(cells)))
    assert x.shape[0] >= GROUPED_ROWS
    soft = soft_marginal(encode(cells * (GROUPED_ROWS // len(cells)), split_dead=False), torch.full((x.shape[0],), 0.4))
    with torch.no_grad():
        for batch in (x, soft):
            torch.testing.assert_close(model(batch), _dag_exec_node_by_node(model, batch))
            torch.testing.assert_close(model(batch)[:3], model(batch[:3]))     # the dense path on 3 cells


def test_dag_exec_large_batches_without_gradients_predict_as_with_them():
    """Predicting many cells takes DAG-execution's node-major path without gradients (state
    buffers written level by level): the same outputs as the path guidance differentiates,
    for concrete and for soft encodings, with and without a noise level."""
    cells = [DEAD_CONV, Arch(("nor_conv_3x3",) * 6), Arch(("none",) * 6),
             Arch(("skip_connect", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3", "skip_connect"))]
    x = encode(cells * (GROUPED_ROWS // len(cells)))
    soft = soft_marginal(encode(cells * (GROUPED_ROWS // len(cells)), split_dead=False), torch.full((x.shape[0],), 0.4))
    t = torch.linspace(0, 1, x.shape[0])
    for noise_aware, batch in ((False, x), (False, soft), (True, soft)):
        torch.manual_seed(0)
        model = DagExecNet(ModelConfig(("a", "b"), hidden=12, noise_aware=noise_aware)).eval()
        tt = t if noise_aware else None
        with torch.enable_grad():
            reference = model(batch, tt).detach()
        with torch.inference_mode():
            torch.testing.assert_close(model(batch, tt), reference)


def test_noise_marginal():
    x0 = encode([DEAD_CONV], split_dead=False).repeat(4, 1, 1)
    t = torch.tensor([0.0, 0.3, 0.7, 1.0])
    q = soft_marginal(x0, t)
    assert torch.allclose(q[:, :, :NUM_TYPES].sum(-1), torch.ones(4, 8))
    assert torch.allclose(q[0], x0[0])                           # t = 0: clean
    assert torch.allclose(q[3, 1:7, 2:NUM_TYPES], torch.full((6, 5), 0.2), atol=1e-6)  # t = 1: uniform over ops
    assert torch.equal(q[:, 0], x0[:, 0]) and torch.equal(q[:, 7], x0[:, 7])  # input/output fixed
    assert alpha_bar(torch.tensor([0.0]))[0] == 1 and alpha_bar(torch.tensor([1.0]))[0] < 1e-6
    hard = sample_noisy(x0, t, generator=torch.Generator().manual_seed(0))
    assert torch.equal(hard[:, :, :NUM_TYPES].sum(-1), torch.ones(4, 8)) and torch.equal(hard[0], x0[0])


def test_dense_gin_round_matches_pyg_weights_and_outputs():
    """nagui's own dense GIN round is PyG's DenseGINConv(train_eps=True): the same parameter
    names (saved predictors load), the same weights from a seed and the same outputs."""
    from torch_geometric.nn import DenseGINConv as PygDenseGINConv

    from nagui.predictor.encoding import adjacency
    from nagui.predictor.model import DenseGINConv, _mlp

    torch.manual_seed(3)
    theirs = PygDenseGINConv(_mlp(16, 16, 16), train_eps=True)
    torch.manual_seed(3)
    ours = DenseGINConv(_mlp(16, 16, 16))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(torch.equal(ours.state_dict()[k], theirs.state_dict()[k]) for k in ours.state_dict())
    with torch.no_grad():
        ours.eps.fill_(0.25)
        theirs.eps.fill_(0.25)
    x = torch.randn(5, 8, 16)
    for adj in (adjacency(), adjacency(reverse=True)):
        assert torch.equal(ours(x, adj), theirs(x, adj))


def test_predictor_import_leaves_torch_geometric_out():
    """The CLI's start-up: importing the predictor must not pull in torch_geometric (~1.5 s)."""
    import subprocess
    import sys

    code = "import sys, nagui.predictor.model, nagui.diffusion; print('torch_geometric' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
