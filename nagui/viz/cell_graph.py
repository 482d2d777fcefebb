"""The NB201 cell drawn as a DAG: its geometry and styles.

:func:`cell_graph_data` computes everything the drawing needs (node positions, one
polyline per edge, label positions and styles) as plain data, so it can be tested
without looking at pixels; :func:`nagui.viz.diagram_svg.cell_svg` draws it.

Layout: nodes 0 (input) .. 3 (output) left to right on a line. Edges between
neighbours (0->1, 1->2, 2->3) are straight; 0->2 arcs above, 1->3 below, 0->3 arcs
high above. Styles: a live op is a solid line coloured by op; a ``none`` edge is a
faint dotted line; an op that cannot affect the output (dead, see
:func:`nagui.space.live_edges`) is grey and dashed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..space import EDGES, Arch, live_edges
from ..space.nb201 import NUM_NODES

OP_COLORS: dict[str, str] = {
    "skip_connect": "#2ca02c",
    "nor_conv_1x1": "#1f77b4",
    "nor_conv_3x3": "#d62728",
    "avg_pool_3x3": "#9467bd",
    "none": "#c7c7c7",
}
DEAD_COLOR = "#9a9a9a"
NODE_COLOR = "#31333f"
NODE_NAMES = ("input", "", "", "output")
SHORT_OPS = {"nor_conv_3x3": "conv3x3", "nor_conv_1x1": "conv1x1", "avg_pool_3x3": "avgpool",
             "skip_connect": "skip", "none": "none"}

# Label geometry, in pixels. A label is the op's short name and, on a second smaller line,
# a note ("dead", "on", ...). Labels of the straight edges (neighbouring nodes) are lifted
# above the line so they clear the node circles at any figure width; the others sit on
# their arc, away from every node.
NODE_SIZE, NODE_RIM = 36, 2
LABEL_FONT, NOTE_FONT, LABEL_PAD = 11, 10, 2
LINE_HEIGHT, CHAR_WIDTH = 1.3, 0.62          # of the font size (generous for a sans-serif)
CLEARANCE = 3

# Peak height of each edge's arc (0 = straight), by (src, dst).
ARC_HEIGHT: dict[tuple[int, int], float] = {(0, 1): 0.0, (1, 2): 0.0, (2, 3): 0.0,
                                            (0, 2): 0.55, (1, 3): -0.55, (0, 3): 1.0}
CURVE_POINTS = 41


@dataclass(frozen=True)
class NodeSpec:
    node: int
    x: float
    y: float
    label: str  # drawn inside the node
    caption: str  # drawn under it ("input" / "output" / "")


@dataclass(frozen=True)
class DrawnEdge:
    """Where and how one edge is drawn (a cell's edges and a super-cell's share it)."""
    position: int  # index into Arch.ops / EDGES
    src: int
    dst: int
    op: str  # the op computed on this edge
    live: bool  # the op can affect the output
    xs: tuple[float, ...]  # polyline from src to dst
    ys: tuple[float, ...]
    label_x: float
    label_y: float
    label: str  # what is drawn: the op's short name, then "\n" and a note when there is one
    color: str
    dash: str  # line style: "solid" | "dash" | "dot"
    width: float
    opacity: float

    @property
    def dead(self) -> bool:
        """A real op (not ``none``, not switched off) that cannot affect the output."""
        return not self.live and self.op != "none"


def edge_path(src: int, dst: int) -> dict:
    """The polyline of edge ``src -> dst`` and its label's place (DrawnEdge's fields)."""
    xs, ys = _curve(float(src), float(dst), ARC_HEIGHT[(src, dst)])
    mid = len(xs) // 2
    return {"xs": tuple(float(v) for v in xs), "ys": tuple(float(v) for v in ys),
            "label_x": float(xs[mid]), "label_y": float(ys[mid])}


@dataclass(frozen=True)
class EdgeSpec(DrawnEdge):
    @property
    def is_none(self) -> bool:
        return self.op == "none"


@dataclass(frozen=True)
class DrawnGraph:
    """The nodes and edges of a drawn cell (a cell's graph and a super-cell's share it)."""
    nodes: tuple[NodeSpec, ...]
    edges: tuple[DrawnEdge, ...]

    @property
    def output_connected(self) -> bool:
        return any(e.live for e in self.edges)


@dataclass(frozen=True)
class CellGraph(DrawnGraph):
    arch: Arch


def _curve(x0: float, x1: float, height: float, n: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic Bezier from (x0, 0) to (x1, 0) peaking at ``height`` halfway."""
    t = np.linspace(0.0, 1.0, n)
    cx, cy = (x0 + x1) / 2, 2 * height  # control point: the curve's peak is cy / 2
    xs = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t ** 2 * x1
    ys = 2 * (1 - t) * t * cy
    return xs, ys


def cell_graph_data(arch: Arch | str) -> CellGraph:
    """Positions, polylines, labels and styles of the cell's DAG."""
    if not isinstance(arch, Arch):
        arch = Arch.parse(arch)
    live = live_edges(arch)
    nodes = tuple(NodeSpec(node=n, x=float(n), y=0.0, label=str(n), caption=NODE_NAMES[n])
                  for n in range(NUM_NODES))
    edges = []
    for k, ((src, dst), op, alive) in enumerate(zip(EDGES, arch.ops, live)):
        if op == "none":
            color, dash, width, opacity, label = OP_COLORS["none"], "dot", 1.5, 0.6, "none"
        elif not alive:
            color, dash, width, opacity, label = DEAD_COLOR, "dash", 2.0, 0.8, f"{SHORT_OPS[op]}\ndead"
        else:
            color, dash, width, opacity, label = OP_COLORS[op], "solid", 3.0, 1.0, SHORT_OPS[op]
        edges.append(EdgeSpec(position=k, src=src, dst=dst, op=op, live=alive, **edge_path(src, dst), label=label,
                              color=color, dash=dash, width=width, opacity=opacity))
    return CellGraph(arch=arch, nodes=nodes, edges=tuple(edges))


def label_size(label: str) -> tuple[float, float]:
    """(width, height) in pixels of a drawn edge label (an upper estimate)."""
    name, _, note = label.partition("\n")
    width = max(len(name) * LABEL_FONT, len(note) * NOTE_FONT) * CHAR_WIDTH
    height = (LABEL_FONT + (NOTE_FONT if note else 0)) * LINE_HEIGHT
    return width + 2 * LABEL_PAD, height + 2 * LABEL_PAD


def label_lift(e) -> float:
    """Pixels a label is drawn above its anchor: a straight edge's clears the node circles."""
    if max(abs(y) for y in e.ys) > 1e-9:
        return 0.0
    return NODE_SIZE / 2 + NODE_RIM + CLEARANCE + label_size(e.label)[1] / 2
