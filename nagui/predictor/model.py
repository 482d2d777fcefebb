"""The predictor networks: models over the cell DAG with one output head per objective.

``ModelConfig.member_kinds`` names the member models of an ensemble (issue #16, BENCHMARKS.md):
``gin`` (:class:`CellGNN`, below) and ``dag-exec`` (:class:`DagExecNet`: the cell run as a
program, node after node in topological order). An ensemble of both ranks better than
either alone: their errors differ.

GIN:

    x (B, 8, F) node features (one-hot or soft types + live flag)  [+ noise level t (B,)]
      -> linear embedding                         # B, 8, H
      -> L x (GIN forward  +  GIN backward)      # messages along and against the DAG edges
      -> readout [output node ; mean over nodes] # B, 2H
      -> trunk MLP                               # B, H
      -> one linear head per objective           # B, n_objectives

Outputs are in normalised units (each objective z-scored with its training statistics;
:class:`nagui.predictor.ensemble.Predictor` converts back). Everything is differentiable
w.r.t. ``x``, which guidance uses.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .encoding import FEATURES, NUM_NODES, adjacency


MODEL_KINDS = ("gin", "dag-exec")
# the member kinds of a plain predictor (fitted on table labels; the Predictor page, `nagui
# predictor train`, `nagui bench predictor`): both ranked better than GIN alone (BENCHMARKS.md,
# issue #16). Guidance, BO and transfer pretraining keep GIN members, as they were measured.
PLAIN_MEMBER_KINDS = ("gin", "dag-exec")


@dataclass(frozen=True)
class ModelConfig:
    objectives: tuple[str, ...]          # names of the table convention, one head each
    hidden: int = 64                     # width of node embeddings and trunk
    layers: int = 3                      # message-passing rounds (each: forward + backward GIN)
    noise_aware: bool = False            # take a noise level t in [0, 1] as input (guidance)
    dropout: float = 0.0
    member_kinds: tuple[str, ...] = ("gin",)   # member models, kind-major (see member_kind)

    def __post_init__(self) -> None:
        if not self.objectives or len(set(self.objectives)) != len(self.objectives):
            raise ValueError(f"objectives must be a non-empty list of distinct names, got {self.objectives!r}")
        bad = [k for k in self.member_kinds if k not in MODEL_KINDS]
        if not self.member_kinds or bad or len(set(self.member_kinds)) != len(self.member_kinds):
            raise ValueError(f"ModelConfig.member_kinds must be distinct names among {list(MODEL_KINDS)}, "
                             f"got {list(self.member_kinds)!r}")
        for name in ("hidden", "layers"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive int, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["objectives"] = list(self.objectives)
        d["member_kinds"] = list(self.member_kinds)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown ModelConfig fields {sorted(unknown)}; known: {sorted(known)}")
        # checkpoints written before issue #16's member kinds hold GIN members only (the default)
        return cls(**{**d, "objectives": tuple(d["objectives"]),
                      "member_kinds": tuple(d.get("member_kinds", ("gin",)))})


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))


def noise_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of a noise level t in [0, 1]: (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32, device=t.device) * (-math.log(1000.0) / max(half - 1, 1)))
    angles = t.float()[:, None] * 1000.0 * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def node_embeddings(model: nn.Module, x: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    """A member's node embeddings (B, 8, H): its ``embed`` of the checked encodings (B, 8, F),
    plus its ``noise`` MLP of the noise level t (B,) when it is noise-aware."""
    if x.dim() != 3 or x.shape[1:] != (NUM_NODES, FEATURES):
        raise ValueError(f"expected encodings of shape (B, {NUM_NODES}, {FEATURES}), got {tuple(x.shape)}")
    h = model.embed(x)
    if model.noise is not None:
        if t is None:
            raise ValueError("this predictor is noise-aware: pass the noise level t (B,)")
        h = h + model.noise(noise_features(t, model.config.hidden))[:, None, :]
    return h


class DenseGINConv(nn.Module):
    """One dense GIN round, ``mlp((1 + eps) * x + adj @ x)``, over a batch (B, N, F) and an
    adjacency (N, N) or (B, N, N). The same computation, parameter names (``nn``, ``eps``)
    and initialisation as PyG's ``DenseGINConv(train_eps=True)``, whose import (about 1.5 s,
    it pulls in ``torch._dynamo``) every CLI call used to pay for eight lines."""

    def __init__(self, mlp: nn.Module, eps: float = 0.0):
        super().__init__()
        self.nn = mlp
        self.eps = nn.Parameter(torch.full((1,), float(eps)))
        for layer in mlp.children():   # re-drawn as PyG does, so a seed gives the same weights
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self.nn((1 + self.eps) * x + torch.matmul(adj, x))


class CellGNN(nn.Module):
    # cells per chunk when predicting many: all 15,625 cells take 0.16-0.23 s in chunks of
    # 1,024 on 2 cores, 0.34 s in one (the chunk stays in cache)
    inference_chunk = 1024

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        h = config.hidden
        self.embed = nn.Linear(FEATURES, h)
        # Dense GIN: the graph is the same 8-node DAG for every cell, so a shared (8, 8)
        # adjacency broadcast over the batch beats scatter-based message passing.
        self.forward_convs = nn.ModuleList(DenseGINConv(_mlp(h, h, h)) for _ in range(config.layers))
        self.backward_convs = nn.ModuleList(DenseGINConv(_mlp(h, h, h)) for _ in range(config.layers))
        self.register_buffer("adj_in", adjacency(), persistent=False)
        self.register_buffer("adj_out", adjacency(reverse=True), persistent=False)
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(config.layers))
        self.noise = _mlp(h, h, h) if config.noise_aware else None
        self.trunk = nn.Sequential(_mlp(2 * h, h, h), nn.ReLU(), nn.Dropout(config.dropout))
        self.heads = nn.ModuleList(nn.Linear(h, 1) for _ in config.objectives)

    def embed_cells(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 8, F) [+ t (B,)] -> (B, H) cell embeddings."""
        h = node_embeddings(self, x, t)                                   # B, 8, H
        for fwd, bwd, norm in zip(self.forward_convs, self.backward_convs, self.norms):
            h = norm(h + torch.relu(fwd(h, self.adj_in)) + torch.relu(bwd(h, self.adj_out)))  # B, 8, H
        readout = torch.cat([h[:, -1], h.mean(dim=1)], dim=1)            # B, 2H
        return self.trunk(readout)                                        # B, H

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        z = self.embed_cells(x, t)
        return torch.cat([head(z) for head in self.heads], dim=1)         # B, n_objectives


class DagExecNet(nn.Module):
    """The cell run as a program over node states, once along the DAG and once against it.

    Node i's state is ``LayerNorm(relu(W(x_i) @ agg_i) + e_i)``: ``agg_i`` is a gated sum of
    its predecessors' states, ``W(x_i) = sum_t x_i[t] W_t`` an (H, H) map weighted by the
    node's (possibly soft) type, and ``e_i`` its embedding. An op acts on what flows into
    it, as in the network the cell describes, where GIN's rounds sum neighbours. The
    backward pass starts from ``e + forward states``; readout is [output node after the
    forward pass ; input node after the backward pass].
    """

    # all 15,625 cells on 2 cores: 0.59 s in chunks of 1,024, 0.40 s of 4,096 (fewer rounds
    # of the per-type products; BENCHMARKS.md, issue #16); since the node-major path, chunks
    # of 1,024 to 4,096 cells predict all cells within the noise of each other
    inference_chunk = 4096

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        h = config.hidden
        self.embed = nn.Linear(FEATURES, h)
        self.op_forward = nn.Parameter(torch.randn(FEATURES, h, h) / h ** 0.5)
        self.op_backward = nn.Parameter(torch.randn(FEATURES, h, h) / h ** 0.5)
        self.gate_forward = nn.Linear(h, h)
        self.gate_backward = nn.Linear(h, h)
        self.norm_forward = nn.LayerNorm(h)
        self.norm_backward = nn.LayerNorm(h)
        self.register_buffer("adj_in", adjacency()[0], persistent=False)       # row i = in-neighbours of i
        self.register_buffer("adj_out", adjacency(reverse=True)[0], persistent=False)
        self.inputs_forward = [torch.nonzero(row).flatten().tolist() for row in self.adj_in]   # predecessors
        self.inputs_backward = [torch.nonzero(row).flatten().tolist() for row in self.adj_out]
        self.levels_forward = _levels(self.inputs_forward)
        self.levels_backward = _levels(self.inputs_backward)
        self.noise = _mlp(h, h, h) if config.noise_aware else None
        self.trunk = nn.Sequential(_mlp(2 * h, h, h), nn.ReLU(), nn.Dropout(config.dropout))
        self.heads = nn.ModuleList(nn.Linear(h, 1) for _ in config.objectives)

    def _run(self, e: torch.Tensor, x: torch.Tensor, ops: torch.Tensor, gate: nn.Module, norm: nn.Module,
             adj: torch.Tensor, levels: list[list[int]]) -> torch.Tensor:
        """States (B, 8, H) of one pass; the nodes of a level (same longest path from the
        start) run together: NB201's 8 nodes form 5 levels."""
        batch, _, h = e.shape
        ops_flat = ops.permute(2, 0, 1).reshape(h, -1)          # (H_in, F * H_out)
        zero = torch.zeros(batch, h, dtype=e.dtype, device=e.device)
        states, gated = [zero] * NUM_NODES, [zero] * NUM_NODES
        for level in levels:
            agg = torch.einsum("ln,bnh->blh", adj[level], torch.stack(gated, 1))             # B, L, H
            if batch * len(level) >= GROUPED_ROWS and not torch.is_grad_enabled():
                applied = _apply_by_type(agg, x[:, level], ops)                             # B, L, H
            else:
                mapped = (agg @ ops_flat).view(batch, len(level), FEATURES, h)              # B, L, F, H
                applied = torch.einsum("blf,blfh->blh", x[:, level], mapped)
            out = norm(torch.relu(applied) + e[:, level])
            gate_out = torch.sigmoid(gate(out)) * out
            for k, i in enumerate(level):
                states[i], gated[i] = out[:, k], gate_out[:, k]
        return torch.stack(states, 1)

    def _run_node_major(self, e: torch.Tensor, x: torch.Tensor, ops: torch.Tensor, gate: nn.Module,
                        norm: nn.Module, adj: torch.Tensor, levels: list[list[int]]) -> torch.Tensor:
        """:meth:`_run` for large batches without gradients, node-major: e (8, B, H) and
        x (8, B, F) in, states (8, B, H) out. The states live in two buffers written level by
        level (no stack of all nodes per level), a level's nodes aggregate with one product
        over the buffer, and each type's map runs only on its nodes (:func:`_apply_by_type`)."""
        nodes, batch, h = e.shape
        states, gated = torch.empty_like(e), torch.zeros_like(e)
        for level in levels:
            at = torch.tensor(level, device=e.device)
            if not adj[level].any():            # the pass's source: nothing flows in, the maps give 0
                out = norm(e.index_select(0, at))
            else:
                agg = (adj[level] @ gated.view(nodes, -1)).view(len(level), batch, h)             # L, B, H
                applied = _apply_by_type(agg, x.index_select(0, at), ops)                         # L, B, H
                out = norm(torch.relu_(applied) + e.index_select(0, at))
            states.index_copy_(0, at, out)
            gated.index_copy_(0, at, torch.sigmoid(gate(out)).mul_(out))
        return states

    def _embed_node_major(self, x: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
        e = node_embeddings(self, x, t).transpose(0, 1).contiguous()           # 8, B, H
        xn = x.transpose(0, 1).contiguous()                                    # 8, B, F
        fw = self._run_node_major(e, xn, self.op_forward, self.gate_forward, self.norm_forward, self.adj_in,
                                  self.levels_forward)
        bw = self._run_node_major(e.add_(fw), xn, self.op_backward, self.gate_backward, self.norm_backward,
                                  self.adj_out, self.levels_backward)
        return self.trunk(torch.cat([fw[-1], bw[0]], dim=1))

    def embed_cells(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 8, F) [+ t (B,)] -> (B, H) cell embeddings."""
        if x.shape[0] >= NODE_MAJOR_CELLS and not torch.is_grad_enabled():
            return self._embed_node_major(x, t)
        e = node_embeddings(self, x, t)                                   # B, 8, H
        fw = self._run(e, x, self.op_forward, self.gate_forward, self.norm_forward, self.adj_in,
                       self.levels_forward)
        bw = self._run(e + fw, x, self.op_backward, self.gate_backward, self.norm_backward, self.adj_out,
                       self.levels_backward)
        return self.trunk(torch.cat([fw[:, -1], bw[:, 0]], dim=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        z = self.embed_cells(x, t)
        return torch.cat([head(z) for head in self.heads], dim=1)         # B, n_objectives


# rows (cells x nodes of a level) from which DagExecNet applies each type's map only to the
# nodes of that type: a concrete cell's node has one or two of the F types, so the dense
# product computes ~F/2 times the work needed (predicting all 15,625 cells: BENCHMARKS.md,
# issue #16). Below it the one dense product has less overhead. Only without gradients: the
# grouped product gives no gradient to the zero entries of x, which guidance may ask for.
GROUPED_ROWS = 512
# cells from which DagExecNet predicts node-major without gradients (a level of two nodes then
# holds GROUPED_ROWS rows); every level of that path takes the grouped product
NODE_MAJOR_CELLS = GROUPED_ROWS // 2


def _apply_by_type(agg: torch.Tensor, x: torch.Tensor, ops: torch.Tensor) -> torch.Tensor:
    """``sum_f x[..., f] * (agg[...] @ ops[f].T)`` for agg (..., H) and x (..., F), computing
    each type's product only on the rows where its weight is non-zero (all rows for soft
    encodings): the rows are gathered once in type order, each type's block is one product
    written in place, and the blocks are added back to their rows at once."""
    h_in, h_out = agg.shape[-1], ops.shape[-2]
    flat_agg, flat_x = agg.reshape(-1, h_in), x.reshape(-1, x.shape[-1])
    rows, types = torch.nonzero(flat_x, as_tuple=True)
    order = torch.argsort(types, stable=True)               # the rows of each type, one after another
    rows, types = rows[order], types[order]
    weights = flat_x[rows, types]
    gathered = flat_agg.index_select(0, rows)
    products = torch.empty(len(rows), h_out, dtype=agg.dtype, device=agg.device)
    start = 0
    for f, count in enumerate(torch.bincount(types, minlength=flat_x.shape[-1]).tolist()):
        if count:
            torch.mm(gathered[start:start + count], ops[f].T, out=products[start:start + count])
            start += count
    if not bool((weights == 1).all()):                      # soft encodings weigh each type
        products.mul_(weights[:, None])
    out = torch.zeros(flat_agg.shape[0], h_out, dtype=agg.dtype, device=agg.device)
    return out.index_add_(0, rows, products).view(*agg.shape[:-1], h_out)


def _levels(inputs: list[list[int]]) -> list[list[int]]:
    """Nodes grouped by their longest path from a source, given each node's predecessors."""
    depth: dict[int, int] = {}
    while len(depth) < len(inputs):
        for i, before in enumerate(inputs):
            if i not in depth and all(j in depth for j in before):
                depth[i] = 1 + max((depth[j] for j in before), default=-1)
    return [[i for i in sorted(depth) if depth[i] == d] for d in range(max(depth.values()) + 1)]


def member_kind(config: ModelConfig, index: int, n_members: int) -> str:
    """The kind of member ``index`` of ``n_members``: kind-major, an equal share each
    (members 0..3 GIN and 4..7 DAG-exec for kinds (gin, dag-exec) and 8 members)."""
    return config.member_kinds[index * len(config.member_kinds) // n_members]


def build_member(config: ModelConfig, kind: str) -> nn.Module:
    """A fresh member model of one kind."""
    return {"gin": CellGNN, "dag-exec": DagExecNet}[kind](config)
