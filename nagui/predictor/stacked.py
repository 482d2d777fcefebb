"""The members of one kind as one network with a leading member axis, for training them together.

A member's step on 2 CPU cores is mostly the cost of launching ~200 small kernels (a GIN
member: 12 ms on 64 cells, 19 ms on 256). Stacking M members' parameters along a new first
axis and running each layer as one batched product launches each kernel once for all M:
4 members take a step in 19 ms (GIN) and 36 ms (DAG-execution) on 64 cells each, against
4 x 12 and 4 x 22 ms one after another, and a fit is ~2.5x faster (BENCHMARKS.md, issue #16).
Training only: prediction runs each member's own ``forward``.

:func:`stack_parameters` reads the members' parameters into ``{name: (M, *shape)}`` leaf
tensors under their own names, :func:`stacked_forward` computes every member's output from
them, exactly as the member's own ``forward`` does (``tests/predictor/test_stacked.py``), and
:func:`unstack_into` writes the trained values back. Members stay plain modules everywhere
else: checkpoints, prediction and guidance do not change.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .encoding import NUM_NODES
from .model import CellGNN, DagExecNet, noise_features

Params = dict[str, torch.Tensor]


def stack_parameters(members: Sequence[nn.Module]) -> Params:
    """``{name: (M, *shape)}`` copies of the members' parameters, leaf tensors that need grad."""
    kinds = {type(m) for m in members}
    if len(kinds) != 1 or not members:
        raise ValueError(f"stack members of one kind, got {sorted(k.__name__ for k in kinds)}")
    named = [dict(m.named_parameters()) for m in members]
    return {name: torch.stack([p[name].detach() for p in named]).requires_grad_(True) for name in named[0]}


@torch.no_grad()
def unstack_into(members: Sequence[nn.Module], params: Params) -> None:
    """Write member m's slice of each stacked parameter back into member m."""
    for m, member in enumerate(members):
        for name, p in member.named_parameters():
            p.copy_(params[name][m])


def _linear(p: Params, name: str, x: torch.Tensor) -> torch.Tensor:
    """nn.Linear ``name`` of every member: x (M, ..., in) -> (M, ..., out)."""
    w, b = p[f"{name}.weight"], p[f"{name}.bias"]                          # (M, out, in), (M, out)
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    return torch.baddbmm(b[:, None, :], flat, w.transpose(1, 2)).view(*x.shape[:-1], w.shape[1])


def _mlp(p: Params, name: str, x: torch.Tensor) -> torch.Tensor:
    """model._mlp ``name``: Linear, ReLU, Linear."""
    return _linear(p, f"{name}.2", torch.relu(_linear(p, f"{name}.0", x)))


def _layer_norm(p: Params, name: str, x: torch.Tensor) -> torch.Tensor:
    """nn.LayerNorm ``name`` (default eps) of every member over the last axis of x (M, ..., H)."""
    shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
    normed = F.layer_norm(x, x.shape[-1:])
    return normed * p[f"{name}.weight"].view(shape) + p[f"{name}.bias"].view(shape)


def _node_embeddings(model: nn.Module, p: Params, x: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    """model.node_embeddings of every member: x (M, B, 8, F), t (M, B) -> (M, B, 8, H)."""
    h = _linear(p, "embed", x)
    if model.noise is not None:
        if t is None:
            raise ValueError("these members are noise-aware: pass the noise level t (M, B)")
        features = noise_features(t.reshape(-1), model.config.hidden).view(*t.shape, -1)
        h = h + _mlp(p, "noise", features)[:, :, None, :]
    return h


def _gin_cells(model: CellGNN, p: Params, x: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    h = _node_embeddings(model, p, x, t)                                   # M, B, 8, H
    members = h.shape[0]
    for layer in range(model.config.layers):
        rounds = []
        for direction, adj in (("forward", model.adj_in), ("backward", model.adj_out)):
            conv = f"{direction}_convs.{layer}"
            eps = p[f"{conv}.eps"].view(members, 1, 1, 1)
            rounds.append(torch.relu(_mlp(p, f"{conv}.nn", (1 + eps) * h + torch.matmul(adj, h))))
        h = _layer_norm(p, f"norms.{layer}", h + rounds[0] + rounds[1])
    return torch.cat([h[:, :, -1], h.mean(dim=2)], dim=2)                  # M, B, 2H


def _dag_pass(model: DagExecNet, p: Params, e: torch.Tensor, x: torch.Tensor, direction: str,
              inputs: list[list[int]], levels: list[list[int]]) -> torch.Tensor:
    """DagExecNet._run of every member: states (M, B, 8, H). A node's input is the plain sum
    of its predecessors' gated states (the adjacency is 0/1), and the per-type maps act as one
    product of the type-weighted inputs, ``(x (x) agg) @ [W_1; ...; W_F]``: the dense product
    without the (F, H) intermediate and the tiny batched products that reduced it."""
    members, batch, _, h = e.shape
    ops = p[f"op_{direction}"]                                              # M, F, H_out, H_in
    features = ops.shape[1]
    stacked_ops = ops.transpose(2, 3).reshape(members, features * h, h)     # M, F * H_in, H_out
    zero = e.new_zeros(members, batch, h)
    states, gated = [zero] * NUM_NODES, [zero] * NUM_NODES
    for level in levels:
        if not any(inputs[i] for i in level):     # the pass's source: nothing flows in, the maps give 0
            out = _layer_norm(p, f"norm_{direction}", e[:, :, level])
        else:
            agg = torch.stack([sum((gated[j] for j in inputs[i][1:]), gated[inputs[i][0]]) if inputs[i] else zero
                               for i in level], 2)                                         # M, B, L, H
            weighted = (x[:, :, level, :, None] * agg[:, :, :, None, :]).view(members, -1, features * h)
            applied = torch.bmm(weighted, stacked_ops).view(members, batch, len(level), h)
            out = _layer_norm(p, f"norm_{direction}", torch.relu(applied) + e[:, :, level])
        gate_out = torch.sigmoid(_linear(p, f"gate_{direction}", out)) * out
        for k, i in enumerate(level):
            states[i], gated[i] = out[:, :, k], gate_out[:, :, k]
    return torch.stack(states, 2)


def _dag_cells(model: DagExecNet, p: Params, x: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    e = _node_embeddings(model, p, x, t)
    fw = _dag_pass(model, p, e, x, "forward", model.inputs_forward, model.levels_forward)
    bw = _dag_pass(model, p, e + fw, x, "backward", model.inputs_backward, model.levels_backward)
    return torch.cat([fw[:, :, -1], bw[:, :, 0]], dim=2)                   # M, B, 2H


def stacked_forward(model: nn.Module, p: Params, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
    """Every member's ``forward``: x (M, B, 8, F) [+ t (M, B)] -> (M, B, n_objectives).
    ``model`` is one of the members (it gives the kind, the config and the fixed buffers);
    its ``training`` flag switches the trunk's dropout, as in the member."""
    cells = {CellGNN: _gin_cells, DagExecNet: _dag_cells}[type(model)](model, p, x, t)
    z = F.dropout(torch.relu(_mlp(p, "trunk.0", cells)), model.config.dropout, model.training)
    return torch.cat([_linear(p, f"heads.{j}", z) for j in range(len(model.config.objectives))], dim=2)
