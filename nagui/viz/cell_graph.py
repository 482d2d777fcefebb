"""The NB201 cell drawn as a DAG with Plotly.

:func:`cell_graph_data` computes everything the drawing needs (node positions, one
polyline per edge, label positions and styles) as plain data, so it can be tested
without looking at pixels; :func:`cell_figure` turns it into a ``go.Figure``.

Layout: nodes 0 (input) .. 3 (output) left to right on a line. Edges between
neighbours (0->1, 1->2, 2->3) are straight; 0->2 arcs above, 1->3 below, 0->3 arcs
high above. Styles: a live op is a solid line coloured by op; a ``none`` edge is a
faint dotted line; an op that cannot affect the output (dead, see
:func:`nagui.space.live_edges`) is grey and dashed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

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
LINE_HEIGHT, CHAR_WIDTH = 1.3, 0.62          # of the font size (generous for Plotly's sans-serif)
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
    dash: str  # plotly dash style: "solid" | "dash" | "dot"
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


def _label_html(label: str) -> str:
    name, _, note = label.partition("\n")
    return name + (f"<br><span style='font-size:{NOTE_FONT}px'>{note}</span>" if note else "")


def edge_annotations(e, hover: str, label_name: str | None = None) -> list[dict]:
    """The arrowhead at the target node (stopped at its rim) and the label of one drawn edge
    (anything with xs, ys, width, color, opacity, label_x, label_y, label, live)."""
    tail = len(e.xs) - 6
    arrow = dict(x=e.xs[-1], y=e.ys[-1], ax=e.xs[tail], ay=e.ys[tail], xref="x", yref="y", axref="x", ayref="y",
                 showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=max(e.width * 0.6, 1.2),
                 arrowcolor=e.color, standoff=NODE_SIZE / 2 + 1, text="", opacity=e.opacity)
    label = dict(x=e.label_x, y=e.label_y, xref="x", yref="y", text=_label_html(e.label), showarrow=False,
                 yshift=label_lift(e), font=dict(size=LABEL_FONT, color=e.color if e.live else DEAD_COLOR),
                 bgcolor="rgba(255,255,255,0.9)", borderpad=LABEL_PAD, hovertext=hover)
    if label_name is not None:
        label["name"] = label_name
    return [arrow, label]


def add_nodes(fig: go.Figure, nodes) -> list[dict]:
    """The node trace ("nodes"); returns the caption annotations (input / output)."""
    fig.add_trace(go.Scatter(
        x=[n.x for n in nodes], y=[n.y for n in nodes], mode="markers+text",
        marker=dict(size=NODE_SIZE, color=NODE_COLOR, line=dict(color="white", width=NODE_RIM)),
        text=[n.label for n in nodes], textposition="middle center",
        textfont=dict(color="white", size=15), hoverinfo="text",
        hovertext=[f"node {n.node}" + (f" ({n.caption})" if n.caption else "") for n in nodes],
        showlegend=False, name="nodes"))
    return [dict(x=n.x, y=n.y, xref="x", yref="y", text=f"<b>{n.caption}</b>", showarrow=False, yshift=-30,
                 font=dict(size=12, color=NODE_COLOR)) for n in nodes if n.caption]


def dag_layout(fig: go.Figure, annotations: list[dict], height: int, title: str | None) -> go.Figure:
    """Axes hidden and fixed around the four nodes, no drag: the layout of every cell DAG."""
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        title=dict(text=title) if title else None,
        annotations=annotations, plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(visible=False, range=[-0.35, NUM_NODES - 1 + 0.35], fixedrange=True),
        yaxis=dict(visible=False, range=[-0.8, 1.15], fixedrange=True),
        hovermode="closest", dragmode=False,
    )
    return fig


def cell_figure(arch: Arch | str, *, height: int = 340, title: str | None = None) -> go.Figure:
    """A Plotly figure of the cell (see the module docstring for the drawing rules)."""
    graph = cell_graph_data(arch)
    fig = go.Figure()
    annotations = []
    for e in graph.edges:
        hover = f"edge {e.src}→{e.dst}: {e.op}" + ("" if e.live or e.is_none else " (cannot affect the output)")
        fig.add_trace(go.Scatter(x=e.xs, y=e.ys, mode="lines", name=f"{e.src}→{e.dst}",
                                 line=dict(color=e.color, dash=e.dash, width=e.width), opacity=e.opacity,
                                 hoverinfo="text", hovertext=hover, showlegend=False))
        annotations += edge_annotations(e, hover)
    annotations += add_nodes(fig, graph.nodes)
    return dag_layout(fig, annotations, height, title)
