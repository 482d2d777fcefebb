"""The NAS-Bench-201 cell: operations, edges and every representation of one cell.

A cell is a DAG of 4 nodes (0 = input, 3 = output); each of the 6 edges i -> j (i < j)
carries one of 5 operations. Representations, all convertible into each other:

- official string  ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (edges in NB201 string order),
- op indices       6 ints into :data:`OPS`, same edge order,
- NASLib tuple     6 ints in NASLib's op codes and NASLib's edge order,
- one-hot          DiffusionNAG's ops-on-nodes graph: 8 nodes (input, 6 edge ops,
                   output) x :data:`NODE_TYPES`, with the fixed adjacency :data:`ADJACENCY`,
- PyG ``Data``     the same graph for torch-geometric.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import NaguiError
# torch and torch_geometric are imported inside to_pyg only: `nagui --help` imports this module
# and stays fast.

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Edges (source node, target node) in the order the official string lists them.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_NODES = 4

# NASLib: op code -> op name, and its edge order (0->1, 0->2, 0->3, 1->2, 1->3, 2->3).
NASLIB_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
_NASLIB_TO_STRING_POS = tuple(EDGES.index(e) for e in NASLIB_EDGES)

# Ops-on-nodes graph used by DiffusionNAG: node 0 = input, 1..6 = the edges' ops, 7 = output.
NODE_TYPES: tuple[str, ...] = ("input", "output") + OPS
NUM_GRAPH_NODES = 8


def _ops_graph_adjacency() -> np.ndarray:
    adj = np.zeros((NUM_GRAPH_NODES, NUM_GRAPH_NODES), dtype=np.int64)
    for k, (src, dst) in enumerate(EDGES):
        op_node = k + 1
        if src == 0:
            adj[0, op_node] = 1
        else:  # fed by every op whose edge ends at `src`
            for m, (_, d) in enumerate(EDGES):
                if d == src:
                    adj[m + 1, op_node] = 1
        if dst == NUM_NODES - 1:
            adj[op_node, NUM_GRAPH_NODES - 1] = 1
    return adj


ADJACENCY: np.ndarray = _ops_graph_adjacency()
ADJACENCY.setflags(write=False)

_TOKEN = re.compile(r"^(?P<op>[^~|+]*)~(?P<src>[^~|+]*)$")


class InvalidArchError(NaguiError, ValueError):
    """An architecture description that is not a valid NB201 cell.

    ``token`` is the offending piece of input, ``position`` where it stood (0-based
    token / element position), ``allowed`` what would have been accepted there.
    """

    def __init__(self, message: str, *, token: object = None, position: int | None = None,
                 allowed: Sequence[object] | None = None):
        super().__init__(message)
        self.token = token
        self.position = position
        self.allowed = tuple(allowed) if allowed is not None else None


_OP_INDEX = {op: i for i, op in enumerate(OPS)}


@dataclass(frozen=True, slots=True)
class Arch:
    """One NB201 cell, immutable and hashable: the op name on each edge, string order."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.ops, tuple):
            raise InvalidArchError(f"Arch.ops must be a tuple of {len(EDGES)} op names, got {type(self.ops).__name__}",
                                   token=self.ops)
        if len(self.ops) != len(EDGES):
            raise InvalidArchError(f"an NB201 cell has {len(EDGES)} edges, got {len(self.ops)} ops: {self.ops!r}",
                                   token=self.ops, allowed=(len(EDGES),))
        for pos, op in enumerate(self.ops):
            if op not in OPS:
                raise InvalidArchError(
                    f"unknown op {op!r} at edge {pos} ({EDGES[pos][0]}->{EDGES[pos][1]}); allowed: {', '.join(OPS)}",
                    token=op, position=pos, allowed=OPS)

    # ---- constructors -------------------------------------------------------------
    @classmethod
    def from_str(cls, text: str) -> "Arch":
        """Parse the official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        if not isinstance(text, str):
            raise InvalidArchError(f"an arch string must be str, got {type(text).__name__}", token=text)
        s = text.strip()
        nodes = s.split("+")
        if len(nodes) != NUM_NODES - 1:
            raise InvalidArchError(
                f"invalid arch string {text!r}: expected {NUM_NODES - 1} node groups separated by '+', "
                f"got {len(nodes)}; form: |op~0|+|op~0|op~1|+|op~0|op~1|op~2|",
                token=text, allowed=("|op~0|+|op~0|op~1|+|op~0|op~1|op~2|",))
        ops: list[str] = []
        position = 0
        for node, group in enumerate(nodes, start=1):
            if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
                raise InvalidArchError(
                    f"invalid arch string {text!r}: node {node} group {group!r} must start and end with '|'",
                    token=group, position=position)
            tokens = group[1:-1].split("|")
            if len(tokens) != node:
                raise InvalidArchError(
                    f"invalid arch string {text!r}: node {node} needs {node} inputs (op~0 .. op~{node - 1}), "
                    f"got {len(tokens)} in {group!r}", token=group, position=position, allowed=(node,))
            for src, token in enumerate(tokens):
                m = _TOKEN.match(token)
                if m is None:
                    raise InvalidArchError(
                        f"invalid token {token!r} at position {position} (node {node}, input {src}): expected 'op~{src}'",
                        token=token, position=position, allowed=tuple(f"{op}~{src}" for op in OPS))
                op, src_text = m.group("op"), m.group("src")
                if op not in OPS:
                    raise InvalidArchError(
                        f"invalid token {token!r} at position {position}: unknown op {op!r}; allowed: {', '.join(OPS)}",
                        token=token, position=position, allowed=OPS)
                if src_text != str(src):
                    raise InvalidArchError(
                        f"invalid token {token!r} at position {position}: node {node}'s input {src} must read "
                        f"'~{src}', got '~{src_text}'", token=token, position=position, allowed=(src,))
                ops.append(op)
                position += 1
        return cls(tuple(ops))

    @classmethod
    def from_indices(cls, indices: Sequence[int]) -> "Arch":
        """From 6 op indices into :data:`OPS`, edges in string order."""
        return cls(tuple(_lookup(indices, OPS, "op index")))

    @classmethod
    def from_naslib(cls, codes: Sequence[int] | str) -> "Arch":
        """From NASLib's tuple: codes {0: skip, 1: none, 2: conv3x3, 3: conv1x1, 4: avgpool},
        edges (0->1, 0->2, 0->3, 1->2, 1->3, 2->3). A string like ``'(0, 2, 3, 2, 3, 1)'`` works too."""
        if isinstance(codes, str):
            body = codes.strip().strip("()[]")
            try:
                codes = [int(t) for t in body.split(",") if t.strip()]
            except ValueError:
                raise InvalidArchError(f"invalid NASLib tuple {codes!r}: expected 6 integers", token=codes) from None
        names = _lookup(codes, NASLIB_OPS, "NASLib op code")
        ops = [""] * len(EDGES)
        for naslib_pos, name in enumerate(names):
            ops[_NASLIB_TO_STRING_POS[naslib_pos]] = name
        return cls(tuple(ops))

    @classmethod
    def parse(cls, value: "Arch | str | Sequence[int]") -> "Arch":
        """Accept an Arch, an official string, or 6 op indices."""
        if isinstance(value, Arch):
            return value
        if isinstance(value, str):
            return cls.from_str(value)
        if isinstance(value, (tuple, list, np.ndarray)):
            return cls.from_indices(value)
        raise InvalidArchError(f"cannot read an arch from {type(value).__name__}: {value!r}", token=value)

    # ---- representations ----------------------------------------------------------
    def to_str(self) -> str:
        groups, k = [], 0
        for node in range(1, NUM_NODES):
            groups.append("|" + "|".join(f"{self.ops[k + src]}~{src}" for src in range(node)) + "|")
            k += node
        return "+".join(groups)

    def __str__(self) -> str:
        return self.to_str()

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(map(_OP_INDEX.__getitem__, self.ops))

    def to_naslib(self) -> tuple[int, ...]:
        return tuple(NASLIB_OPS.index(self.ops[_NASLIB_TO_STRING_POS[p]]) for p in range(len(EDGES)))

    def node_types(self) -> tuple[str, ...]:
        return ("input",) + self.ops + ("output",)

    def onehot(self) -> np.ndarray:
        """(8, len(NODE_TYPES)) float32 one-hot of the ops-on-nodes graph; pair with :data:`ADJACENCY`."""
        x = np.zeros((NUM_GRAPH_NODES, len(NODE_TYPES)), dtype=np.float32)
        for node, kind in enumerate(self.node_types()):
            x[node, NODE_TYPES.index(kind)] = 1.0
        return x

    @classmethod
    def from_onehot(cls, x: np.ndarray) -> "Arch":
        x = np.asarray(x)
        if x.shape != (NUM_GRAPH_NODES, len(NODE_TYPES)):
            raise InvalidArchError(f"one-hot must have shape {(NUM_GRAPH_NODES, len(NODE_TYPES))}, got {x.shape}",
                                   token=x.shape)
        kinds = [NODE_TYPES[i] for i in x.argmax(axis=1)]
        if kinds[0] != "input" or kinds[-1] != "output":
            raise InvalidArchError(f"one-hot node 0 must be 'input' and node 7 'output', got {kinds[0]!r}, {kinds[-1]!r}",
                                   token=kinds)
        return cls(tuple(kinds[1:-1]))

    def to_pyg(self):
        """torch_geometric ``Data(x=(8, 7) one-hot, edge_index=(2, E))``."""
        import torch
        from torch_geometric.data import Data

        src, dst = np.nonzero(ADJACENCY)
        return Data(x=torch.from_numpy(self.onehot()),
                    edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
                    num_nodes=NUM_GRAPH_NODES)


def _lookup(values: Sequence[int], table: Sequence[str], what: str) -> list[str]:
    try:
        values = list(values)
    except TypeError:
        raise InvalidArchError(f"expected {len(EDGES)} {what}s, got {values!r}", token=values) from None
    if len(values) != len(EDGES):
        raise InvalidArchError(f"expected {len(EDGES)} {what}s, got {len(values)}: {values!r}",
                               token=values, allowed=(len(EDGES),))
    names = []
    for pos, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 0 <= int(v) < len(table):
            raise InvalidArchError(
                f"invalid {what} {v!r} at position {pos}; allowed: "
                + ", ".join(f"{i}={name}" for i, name in enumerate(table)),
                token=v, position=pos, allowed=tuple(range(len(table))))
        names.append(table[int(v)])
    return names
