"""The super-network's drawings as data: its super-cell under a block mask, and its macro
skeleton (stem, cell slots, reductions, head) left to right.

As in :mod:`.cell_graph`, :func:`supercell_graph_data` and :func:`macro_layout` return plain
data (tested without pixels); :mod:`.diagram_svg` draws them. Edge styles:
``on`` is the super-cell's op (op colour, solid), ``skip`` is the identity in its place
(skip colour, dashed), ``none`` is removed (faint dotted, "off"); an edge that cannot
affect the output is grey (dead). Torch is imported only to parse a mask given as text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from ..space import EDGES, Arch, live_edges
from .cell_graph import DEAD_COLOR, OP_COLORS, SHORT_OPS, DrawnEdge, DrawnGraph, cell_graph_data, edge_path

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


__all__ = ["MacroBlock", "MacroLayout", "SuperCellGraph", "SuperEdgeSpec", "macro_layout", "supercell_graph_data"]
