"""Canonical form of NB201 cells.

Two steps:

1. :func:`prune` — an operation that cannot affect the cell's output becomes ``none``:
   its edge starts at a node the input cannot reach, or ends at a node that cannot
   reach the output (``none`` edges carry nothing). A cell whose output is
   disconnected prunes to all-``none``.
2. :func:`iso_key` — NB201's own isomorphism rule (``to_unique_str(consider_zero=True)``):
   the 15,625 cells fall into 6,466 classes, NB201's published count. The table's
   ``canonical_id`` uses it.
3. :func:`functional_key` — the strict rule: prune, then drop zero terms. Cells that
   compute the same function share a key: 5,390 classes. (Pruning, then NB201's rule,
   gives 6,285: NB201's rule keeps some dead branches apart.)
"""
from __future__ import annotations

from .nb201 import EDGES, NUM_NODES, Arch

ZERO = "#"


def live_edges(arch: Arch) -> tuple[bool, ...]:
    """For each edge, whether its op can affect the output."""
    carries = [op != "none" for op in arch.ops]
    reach_from_input = {0}
    for node in range(1, NUM_NODES):
        if any(carries[k] and dst == node and src in reach_from_input for k, (src, dst) in enumerate(EDGES)):
            reach_from_input.add(node)
    reach_output = {NUM_NODES - 1}
    for node in range(NUM_NODES - 2, -1, -1):
        if any(carries[k] and src == node and dst in reach_output for k, (src, dst) in enumerate(EDGES)):
            reach_output.add(node)
    return tuple(carries[k] and src in reach_from_input and dst in reach_output
                 for k, (src, dst) in enumerate(EDGES))


def prune(arch: Arch) -> Arch:
    """The same cell with every op that cannot affect the output set to ``none``."""
    live = live_edges(arch)
    return Arch(tuple(op if alive else "none" for op, alive in zip(arch.ops, live)))


def is_output_connected(arch: Arch) -> bool:
    return any(live_edges(arch))


def iso_key(arch: Arch) -> str:
    """NB201's own isomorphism key, ``to_unique_str(consider_zero=True)``: 6,466 classes.

    ``skip_connect`` passes its input's expression through, a ``none`` op or a zero
    input gives the zero term ``#``, and each node's terms are sorted, so the order of
    parallel branches does not matter. Zero terms stay in a sum (``#+(0)@op``), which
    is why NB201 counts more classes than :func:`functional_key`.
    """
    return _output_expression(arch.ops, keep_zero_terms=True)


def functional_key(arch: Arch) -> str:
    """Key shared by exactly the cells that compute the same function (up to weights).

    Like :func:`iso_key`, on the pruned cell, with zero terms dropped from sums: 5,390
    classes. Stricter than NB201's rule, which keeps dead branches apart.
    """
    return _output_expression(prune(arch).ops, keep_zero_terms=False)


def _output_expression(ops: tuple[str, ...], keep_zero_terms: bool) -> str:
    """The output node's expression: each node the sorted sum of its inputs' terms,
    ``(input)@op`` (``skip_connect`` passes the input through); a ``none`` op or a zero
    input gives the zero term ``#``, kept in the sum or dropped (a node left with no term
    is zero)."""
    exprs = {0: "0"}
    for node in range(1, NUM_NODES):
        terms = []
        for k, (src, dst) in enumerate(EDGES):
            if dst != node:
                continue
            op, inp = ops[k], exprs[src]
            if op == "none" or inp == ZERO:
                if keep_zero_terms:
                    terms.append(ZERO)
                continue
            terms.append(inp if op == "skip_connect" else f"({inp})@{op}")
        exprs[node] = "+".join(sorted(terms)) if terms else ZERO
    return exprs[NUM_NODES - 1]


