"""The super-network drawn with Plotly: its super-cell under a block mask, and its macro
skeleton (stem, cell slots, reductions, head) left to right.

As in :mod:`.cell_graph`, the ``*_data`` / ``*_layout`` functions return plain data (tested
without pixels) and the ``*_figure`` functions turn it into a ``go.Figure``. Edge styles:
``on`` is the super-cell's op (op colour, solid), ``skip`` is the identity in its place
(skip colour, dashed), ``none`` is removed (faint dotted, "off"); an edge that cannot
affect the output is grey (dead). Torch is imported only to parse a mask given as text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import plotly.graph_objects as go

from ..space import EDGES, Arch, live_edges
from .cell_graph import (DEAD_COLOR, OP_COLORS, SHORT_OPS, DrawnEdge, DrawnGraph, add_nodes,
                         cell_graph_data, dag_layout, edge_annotations, edge_path)

if TYPE_CHECKING:  # pragma: no cover
    from ..nets.supernet import BlockMask, SuperNetSpec

EDGE_STATES = ("on", "skip", "none")  # as nagui.nets.supernet.EDGE_STATES (not imported: it pulls in torch)
STATE_WORDS = {"on": "on", "skip": "skip", "none": "off"}
STAGE_COLORS = ("#4c78a8", "#f58518", "#54a24b")
FIXED_BLOCK_COLOR = "#6c757d"
OFF_COLOR = "#b0b0b0"


# ------------------------------------------------------------------------- super-cell
@dataclass(frozen=True)
class SuperEdgeSpec(DrawnEdge):
    """``label`` always holds the state word (on / skip / off); ``op`` is the sub-cell's."""
    super_op: str       # the super-cell's op on this edge
    state: str          # canonical state: "on" | "skip" | "none" (as BlockMask.canonical)
    hover: str

    @property
    def name(self) -> str:
        return f"{self.src}→{self.dst}"

    @property
    def state_word(self) -> str:
        return STATE_WORDS[self.state]

    @property
    def off(self) -> bool:
        return self.state == "none"


@dataclass(frozen=True)
class SuperCellGraph(DrawnGraph):
    """``edges`` are :class:`SuperEdgeSpec`."""
    super_cell: Arch
    states: tuple[str, ...]   # canonical edge states
    sub_cell: Arch

    @property
    def dead_edges(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.edges if e.dead)


def _edge_states(mask) -> tuple[str, ...]:
    """Edge states from a BlockMask, its text, the edge part of its text, or 6 states."""
    if mask is None:
        return ("on",) * len(EDGES)
    if isinstance(mask, str):
        text = mask.strip()
        states = tuple(s.strip() for s in text.split("|")[0].split(","))
    elif hasattr(mask, "edges") and hasattr(mask, "slots"):
        states = tuple(mask.edges)
    else:
        states = tuple(mask)
    if len(states) != len(EDGES) or any(s not in EDGE_STATES for s in states):
        raise ValueError(f"a mask needs {len(EDGES)} edge states from {', '.join(EDGE_STATES)} in NB201's edge "
                         f"order, got {mask!r}")
    return states


def _canonical(super_op: str, state: str) -> tuple[str, str]:
    """(canonical state, effective op) of one edge."""
    op = "skip_connect" if state == "skip" else "none" if state == "none" else super_op
    return {"skip_connect": "skip", "none": "none"}.get(op, "on"), op


def _edge_style(super_op: str, state: str, live: bool) -> tuple[str, str, str, float, float]:
    """(label, color, dash, width, opacity)."""
    short = SHORT_OPS[super_op]
    if state == "none":
        return "off", OP_COLORS["none"], "dot", 1.5, 0.6
    if state == "skip" and super_op == "skip_connect":   # the super-op itself: drawn like "on"
        label, color, dash, width = "skip", OP_COLORS["skip_connect"], "solid", 3.0
    elif state == "skip":
        off = "" if super_op == "none" else f"\n{short} off"
        label, color, dash, width = f"skip{off}", OP_COLORS["skip_connect"], "dash", 2.5
    else:
        label, color, dash, width = f"{short}\non", OP_COLORS[super_op], "solid", 3.0
    if not live:
        return label + (", dead" if "\n" in label else "\ndead"), DEAD_COLOR, "dash", 2.0, 0.8
    return label, color, dash, width, 1.0


def supercell_graph_data(super_cell: Arch | str, mask: "BlockMask | str | Sequence[str] | None" = None
                         ) -> SuperCellGraph:
    """Each of the six super-cell edges with its super-op, its state under ``mask`` (all on
    when None) and its drawing style. ``mask``: a BlockMask, its text, or six edge states."""
    if not isinstance(super_cell, Arch):
        super_cell = Arch.parse(super_cell)
    given = _edge_states(mask)
    pairs = [_canonical(op, s) for op, s in zip(super_cell.ops, given)]
    states = tuple(p[0] for p in pairs)
    sub_cell = Arch(tuple(p[1] for p in pairs))
    live = live_edges(sub_cell)
    nodes = cell_graph_data(super_cell).nodes
    edges = []
    for k, ((src, dst), super_op, state, alive) in enumerate(zip(EDGES, super_cell.ops, states, live)):
        label, color, dash, width, opacity = _edge_style(super_op, state, alive)
        what = {"on": f"on: {super_op}", "skip": "switched to skip (identity)",
                "none": "off (removed)"}[state]
        if state == "skip" and super_op in ("skip_connect", "none"):
            what = "skip (identity)"
        hover = f"edge {src}→{dst}: super-op {super_op}; {what}"
        if not alive and state != "none":
            hover += " (cannot affect the output)"
        edges.append(SuperEdgeSpec(position=k, src=src, dst=dst, super_op=super_op, state=state,
                                   op=sub_cell.ops[k], live=alive, **edge_path(src, dst), label=label, hover=hover,
                                   color=color, dash=dash, width=width, opacity=opacity))
    return SuperCellGraph(super_cell=super_cell, states=states, sub_cell=sub_cell, nodes=nodes, edges=tuple(edges))


def supercell_figure(super_cell: Arch | str, mask: "BlockMask | str | Sequence[str] | None" = None, *,
                     height: int = 340, title: str | None = None) -> go.Figure:
    """The super-cell under ``mask``. Each edge trace is named ``"src→dst"`` and carries its
    state in ``meta`` (a dict) and ``customdata`` (the state per point)."""
    graph = supercell_graph_data(super_cell, mask)
    fig = go.Figure()
    annotations = []
    for e in graph.edges:
        meta = {"edge": e.name, "state": e.state, "state_word": e.state_word, "super_op": e.super_op,
                "op": e.op, "live": e.live}
        fig.add_trace(go.Scatter(x=e.xs, y=e.ys, mode="lines", name=e.name, meta=meta,
                                 customdata=[e.state] * len(e.xs),
                                 line=dict(color=e.color, dash=e.dash, width=e.width), opacity=e.opacity,
                                 hoverinfo="text", hovertext=e.hover, showlegend=False))
        annotations += edge_annotations(e, e.hover, label_name=f"label {e.name}")
    annotations += add_nodes(fig, graph.nodes)
    if not graph.output_connected:
        annotations.append(dict(x=0.5, y=0.02, xref="paper", yref="paper", showarrow=False,
                                text="output disconnected: this mask computes nothing",
                                font=dict(size=12, color="#d62728")))
    return dag_layout(fig, annotations, height, title)


# ---------------------------------------------------------------------- macro skeleton
@dataclass(frozen=True)
class MacroBlock:
    kind: str                 # "stem" | "cell" | "reduction" | "head"
    stage: int | None         # cells: 1..3; reductions: the stage they lead into (2 or 3)
    slot: int | None          # 1..slots for cells
    x: float
    y: float
    label: str                # drawn in the box: "stem", "cell 1.2", "off", "reduce 2", "pool + fc"
    state: str                # "on" | "off" (only cell slots can be off)
    channels: int             # output channels
    hover: str

    @property
    def key(self) -> str:
        """A stable id: "stem", "cell 1.2", "reduction 2", "head"."""
        if self.kind == "cell":
            return f"cell {self.stage}.{self.slot}"
        if self.kind == "reduction":
            return f"reduction {self.stage - 1}"
        return self.kind


@dataclass(frozen=True)
class MacroLayout:
    slots: tuple[tuple[bool, ...], ...]
    blocks: tuple[MacroBlock, ...]

    def depth(self) -> tuple[int, ...]:
        return tuple(sum(s) for s in self.slots)


def _slot_states(spec: "SuperNetSpec", mask) -> tuple[tuple[bool, ...], ...]:
    if mask is None:
        return tuple((True,) * n for n in spec.slots)
    if isinstance(mask, str):
        from ..nets.supernet import BlockMask  # deferred on purpose: torch only for a mask given as text
        mask = BlockMask.parse(mask)
    slots = tuple(tuple(bool(b) for b in s) for s in mask.slots)
    if len(slots) != len(spec.slots) or any(len(g) != n for g, n in zip(slots, spec.slots)):
        raise ValueError(f"the mask's slots {[len(s) for s in slots]} do not match the super-network's "
                         f"{list(spec.slots)} cells per stage")
    return slots


def macro_layout(spec: "SuperNetSpec", mask: "BlockMask | str | None" = None) -> MacroLayout:
    """Blocks left to right: stem, stage-1 slots, reduction, stage-2 slots, reduction,
    stage-3 slots, head. A slot is ``off`` when ``mask`` disables it (all on when None)."""
    slots = _slot_states(spec, mask)
    c = spec.channels
    widths = (c, 2 * c, 4 * c)
    scale = ("full", "1/2", "1/4")
    blocks: list[MacroBlock] = []

    def add(kind, stage, slot, label, state, channels, hover):
        blocks.append(MacroBlock(kind=kind, stage=stage, slot=slot, x=float(len(blocks)), y=0.0, label=label,
                                 state=state, channels=channels, hover=hover))

    add("stem", None, None, "stem", "on", c, f"stem: 3×3 conv + BN, 3 → {c} channels (C = {c})")
    for s, (given, width) in enumerate(zip(slots, widths), start=1):
        if s > 1:
            add("reduction", s, None, f"reduce {s - 1}", "on", width,
                f"reduction {s - 1}: residual block, stride 2, {widths[s - 2]} → {width} channels "
                f"(resolution halves to {scale[s - 1]})")
        for i, on in enumerate(given, start=1):
            if on:
                add("cell", s, i, f"cell {s}.{i}", "on", width,
                    f"cell {s}.{i}: the sub-cell at {width} channels ({['C', '2C', '4C'][s - 1]}), "
                    f"{scale[s - 1]} resolution; stage {s} slot {i}")
            else:
                add("cell", s, i, "off", "off", width,
                    f"slot {s}.{i} off: replaced by the identity (no compute); stage {s} runs at {width} channels")
    add("head", None, None, "pool + fc", "on", spec.num_classes,
        f"head: BN + ReLU, global average pool, linear {4 * c} → {spec.num_classes} classes")
    return MacroLayout(slots=slots, blocks=tuple(blocks))


def macro_figure(spec: "SuperNetSpec", mask: "BlockMask | str | None" = None, *, height: int = 220) -> go.Figure:
    """Boxes for the blocks of :func:`macro_layout`, joined by arrows. On slots are coloured
    by stage and read "cell s.i"; off slots are grey, dashed and read "off". A hidden
    marker trace "blocks" carries each block's key (customdata) and state (meta)."""
    layout = macro_layout(spec, mask)
    half_w, half_h = 0.42, 0.32
    n = len(layout.blocks)
    font_size = 12 if n <= 12 else 10 if n <= 16 else 9
    shapes, annotations = [], []
    for b in layout.blocks:
        if b.kind == "cell" and b.state == "on":
            fill, line, dash = STAGE_COLORS[b.stage - 1], STAGE_COLORS[b.stage - 1], "solid"
            text_color = "white"
        elif b.kind == "cell":
            fill, line, dash, text_color = "rgba(0,0,0,0)", OFF_COLOR, "dash", "#8a8a8a"
        else:
            fill, line, dash, text_color = "#e9ecef", FIXED_BLOCK_COLOR, "solid", "#31333f"
        shapes.append(dict(type="rect", xref="x", yref="y", x0=b.x - half_w, x1=b.x + half_w, y0=b.y - half_h,
                           y1=b.y + half_h, fillcolor=fill, line=dict(color=line, width=1.5, dash=dash),
                           layer="below", name=b.key))
        annotations.append(dict(x=b.x, y=b.y, xref="x", yref="y", text=b.label, showarrow=False,
                                font=dict(size=font_size, color=text_color), hovertext=b.hover))
    for a, b in zip(layout.blocks, layout.blocks[1:]):
        annotations.append(dict(x=b.x - half_w, y=b.y, ax=a.x + half_w, ay=a.y, xref="x", yref="y", axref="x",
                                ayref="y", showarrow=True, arrowhead=2, arrowsize=1, arrowwidth=1.2,
                                arrowcolor="#6c757d", text=""))
    # stage captions above the stages' slots
    for s, width in enumerate((spec.channels, 2 * spec.channels, 4 * spec.channels), start=1):
        xs = [b.x for b in layout.blocks if b.kind == "cell" and b.stage == s]
        annotations.append(dict(x=(xs[0] + xs[-1]) / 2, y=half_h + 0.08, xref="x", yref="y", showarrow=False,
                                yanchor="bottom", text=f"stage {s} · {width} ch",
                                font=dict(size=11, color=STAGE_COLORS[s - 1])))
    fig = go.Figure(go.Scatter(
        x=[b.x for b in layout.blocks], y=[b.y for b in layout.blocks], mode="markers", name="blocks",
        marker=dict(size=30, symbol="square", opacity=0), customdata=[b.key for b in layout.blocks],
        meta={"states": {b.key: b.state for b in layout.blocks}},
        hovertext=[b.hover for b in layout.blocks], hoverinfo="text", showlegend=False))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), shapes=shapes, annotations=annotations,
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(visible=False, range=[-0.6, n - 0.4], fixedrange=True),
        yaxis=dict(visible=False, range=[-0.6, 0.75], fixedrange=True),
        hovermode="closest", dragmode=False,
    )
    return fig


__all__ = ["MacroBlock", "MacroLayout", "SuperCellGraph", "SuperEdgeSpec", "macro_figure", "macro_layout",
           "supercell_figure", "supercell_graph_data"]
