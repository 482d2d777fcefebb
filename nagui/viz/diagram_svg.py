"""The cell, super-cell and macro-network diagrams as inline SVG.

They are static drawings: no axes, no zoom, nothing to click. As Plotly charts each cost the
browser 50-120 ms per draw on 2 cores (annotations are Plotly's slowest part), and the
Deploy page redraws two of them on every slider move; as SVG they cost a few milliseconds.
The geometry and styles come from :mod:`.cell_graph` and :mod:`.supernet_graph`
(``*_data`` / ``macro_layout``), so these functions only place what those compute.

Each drawing is one ``<svg data-diagram="cell|supercell|macro">`` on a single line (it is
shown through Markdown, where a blank or indented line would end the HTML block). Every
edge is a ``<g data-edge="0→1" data-op=... data-state=...>`` and every macro block a
``<g data-block="cell 1.2" data-state="on|off">``, each with a ``<title>`` the browser shows
on hover. The drawing keeps its proportions: it shrinks with a narrow column and grows at
most to ``DAG_MAX_SCALE`` / ``MACRO_MAX_SCALE`` times its design width.
"""
from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Sequence

from ..space import Arch
from .cell_graph import (DEAD_COLOR, LABEL_FONT, LABEL_PAD, LINE_HEIGHT, NODE_COLOR, NODE_RIM, NODE_SIZE, NOTE_FONT,
                         DrawnGraph, cell_graph_data, label_lift, label_size)
from .supernet_graph import FIXED_BLOCK_COLOR, OFF_COLOR, STAGE_COLORS, macro_layout, supercell_graph_data

if TYPE_CHECKING:  # pragma: no cover
    from ..nets.supernet import BlockMask, SuperNetSpec

DAG_WIDTH, DAG_HEIGHT, TITLE_HEIGHT = 360, 300, 28
DAG_X_RANGE, DAG_Y_RANGE = (-0.35, 3.35), (-0.8, 1.15)     # the data range drawn, as the Plotly figure had
MACRO_STEP, MACRO_BOX_W, MACRO_BOX_H, MACRO_HEIGHT = 64, 54, 44, 120   # up to 12 blocks; 56 / 48 beyond
DAG_MAX_SCALE, MACRO_MAX_SCALE = 1.35, 1.1
FONT = "font-family=\"'Source Sans Pro', 'Source Sans 3', sans-serif\""
DASHES = {"solid": None, "dash": "7 4", "dot": "2 3"}
ARROW_LEN, ARROW_HALF_W = 9.0, 4.5


def _svg(kind: str, width: float, height: float, body: list[str], label: str, max_scale: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" data-diagram="{kind}" role="img" aria-label="{escape(label)}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" preserveAspectRatio="xMidYMid meet" '
            f'style="max-width:{width * max_scale:.0f}px;display:block;margin:0 auto" {FONT}>'
            + "".join(body) + "</svg>")


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


# ------------------------------------------------------------------------------- DAGs
class _DagFrame:
    """Data coordinates of a cell drawing -> SVG pixels (y down)."""

    def __init__(self, top: float) -> None:
        self.top = top
        (self.x0, self.x1), (self.y0, self.y1) = DAG_X_RANGE, DAG_Y_RANGE
        self.plot_h = DAG_HEIGHT - 10 - top

    def px(self, x: float, y: float) -> tuple[float, float]:
        return ((x - self.x0) / (self.x1 - self.x0) * DAG_WIDTH,
                self.top + (self.y1 - y) / (self.y1 - self.y0) * self.plot_h)


def _arrowhead(points: list[tuple[float, float]], color: str, opacity: float) -> str:
    """A filled triangle whose tip touches the target node's rim."""
    (tx, ty) = points[-1]
    stop = NODE_SIZE / 2 + 1
    # walk back from the end to the point `stop` pixels away: the tip; direction from further back
    tip = base_dir = None
    for (ax, ay) in reversed(points[:-1]):
        d = math.hypot(tx - ax, ty - ay)
        if tip is None and d >= stop:
            tip = (tx + (ax - tx) * stop / d, ty + (ay - ty) * stop / d)
        if tip is not None and d >= stop + ARROW_LEN:
            base_dir = (tip[0] - ax, tip[1] - ay)
            break
    if tip is None:
        return ""
    if base_dir is None:
        base_dir = (tip[0] - points[0][0], tip[1] - points[0][1])
    norm = math.hypot(*base_dir) or 1.0
    ux, uy = base_dir[0] / norm, base_dir[1] / norm
    bx, by = tip[0] - ux * ARROW_LEN, tip[1] - uy * ARROW_LEN
    corners = [tip, (bx - uy * ARROW_HALF_W, by + ux * ARROW_HALF_W), (bx + uy * ARROW_HALF_W, by - ux * ARROW_HALF_W)]
    pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in corners)
    return f'<polygon points="{pts}" fill="{color}" opacity="{opacity}"/>'


def _edge_label(cx: float, cy: float, label: str, color: str) -> str:
    """The label box (white, 90% opaque) and its one or two lines, centred on (cx, cy)."""
    w, h = label_size(label)
    name, _, note = label.partition("\n")
    one_line = f"{name} / {note}" if note else name
    out = [f'<rect data-label="{escape(one_line)}" x="{_fmt(cx - w / 2)}" y="{_fmt(cy - h / 2)}" width="{_fmt(w)}" '
           f'height="{_fmt(h)}" rx="2" fill="#ffffff" fill-opacity="0.9"/>']
    first = cy - h / 2 + LABEL_PAD + LABEL_FONT * LINE_HEIGHT / 2
    out.append(f'<text x="{_fmt(cx)}" y="{_fmt(first)}" text-anchor="middle" dominant-baseline="central" '
               f'font-size="{LABEL_FONT}" fill="{color}">{escape(name)}</text>')
    if note:
        second = first + (LABEL_FONT + NOTE_FONT) * LINE_HEIGHT / 2
        out.append(f'<text x="{_fmt(cx)}" y="{_fmt(second)}" text-anchor="middle" dominant-baseline="central" '
                   f'font-size="{NOTE_FONT}" fill="{color}">{escape(note)}</text>')
    return "".join(out)


def _dag_svg(kind: str, graph: DrawnGraph, edges_attrs: Sequence[dict], hovers: Sequence[str], title: str | None,
             warning: str | None = None) -> str:
    top = TITLE_HEIGHT if title else 10
    frame = _DagFrame(top)
    body = []
    if title:
        body.append(f'<text x="8" y="{TITLE_HEIGHT / 2 + 2:.0f}" dominant-baseline="central" font-size="15" '
                    f'fill="{NODE_COLOR}">{escape(title)}</text>')
    labels = []
    for e, attrs, hover in zip(graph.edges, edges_attrs, hovers):
        points = [frame.px(x, y) for x, y in zip(e.xs, e.ys)]
        d = "M" + " L".join(f"{_fmt(x)} {_fmt(y)}" for x, y in points)
        dash = DASHES[e.dash]
        data = " ".join(f'data-{k}="{escape(str(v))}"' for k, v in attrs.items())
        body.append(f'<g {data}><title>{escape(hover)}</title>'
                    f'<path d="{d}" fill="none" stroke="{e.color}" stroke-width="{e.width}" opacity="{e.opacity}"'
                    + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"
                    + _arrowhead(points, e.color, e.opacity) + "</g>")
        cx, cy = frame.px(e.label_x, e.label_y)
        labels.append(f'<g><title>{escape(hover)}</title>'
                      + _edge_label(cx, cy - label_lift(e), e.label, e.color if e.live else DEAD_COLOR) + "</g>")
    body += labels   # above every edge, as Plotly drew annotations above traces
    for n in graph.nodes:
        x, y = frame.px(n.x, n.y)
        hover = f"node {n.node}" + (f" ({n.caption})" if n.caption else "")
        body.append(f'<g data-node="{n.node}"><title>{escape(hover)}</title>'
                    f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{NODE_SIZE / 2}" fill="{NODE_COLOR}" stroke="#ffffff" '
                    f'stroke-width="{NODE_RIM}"/><text x="{_fmt(x)}" y="{_fmt(y)}" text-anchor="middle" '
                    f'dominant-baseline="central" font-size="15" fill="#ffffff">{escape(n.label)}</text>')
        if n.caption:
            body.append(f'<text x="{_fmt(x)}" y="{_fmt(y + 30)}" text-anchor="middle" dominant-baseline="central" '
                        f'font-size="12" font-weight="bold" fill="{NODE_COLOR}">{escape(n.caption)}</text>')
        body.append("</g>")
    if warning:
        body.append(f'<text x="{DAG_WIDTH / 2:.0f}" y="{DAG_HEIGHT - 8}" text-anchor="middle" font-size="12" '
                    f'fill="#d62728">{escape(warning)}</text>')
    return _svg(kind, DAG_WIDTH, DAG_HEIGHT, body, title or f"{kind} diagram", DAG_MAX_SCALE)


def cell_svg(arch: Arch | str, *, title: str | None = None) -> str:
    """The NB201 cell as a DAG (the drawing rules of :mod:`.cell_graph`)."""
    graph = cell_graph_data(arch)
    hovers = [f"edge {e.src}→{e.dst}: {e.op}" + ("" if e.live or e.is_none else " (cannot affect the output)")
              for e in graph.edges]
    attrs = [{"edge": f"{e.src}→{e.dst}", "op": e.op, "live": str(e.live).lower()} for e in graph.edges]
    return _dag_svg("cell", graph, attrs, hovers, title)


def supercell_svg(super_cell: Arch | str, mask: "BlockMask | str | Sequence[str] | None" = None, *,
                  title: str | None = None) -> str:
    """The super-cell under ``mask`` (all on when None): each edge's ``data-state`` is its
    canonical state (on / skip / none), ``data-op`` the op it computes."""
    graph = supercell_graph_data(super_cell, mask)
    attrs = [{"edge": e.name, "state": e.state, "super-op": e.super_op, "op": e.op, "live": str(e.live).lower()}
             for e in graph.edges]
    warning = None if graph.output_connected else "output disconnected: this mask computes nothing"
    return _dag_svg("supercell", graph, attrs, [e.hover for e in graph.edges], title, warning)


# ----------------------------------------------------------------------------- macro
def macro_svg(spec: "SuperNetSpec", mask: "BlockMask | str | None" = None) -> str:
    """Boxes for the blocks of :func:`.supernet_graph.macro_layout` left to right, joined by
    arrows. On slots are coloured by stage and read "cell s.i"; off slots are grey, dashed
    and read "off"; stage captions above their slots."""
    layout = macro_layout(spec, mask)
    n = len(layout.blocks)
    step, box_w = (MACRO_STEP, MACRO_BOX_W) if n <= 12 else (MACRO_STEP - 8, MACRO_BOX_W - 6)
    width = n * step + 8
    font = 12 if n <= 12 else 10
    mid_y = MACRO_HEIGHT / 2 + 10

    def cx(b) -> float:
        return 4 + step / 2 + b.x * step

    body = []
    for a, b in zip(layout.blocks, layout.blocks[1:]):
        x0, x1 = cx(a) + box_w / 2, cx(b) - box_w / 2
        body.append(f'<line x1="{_fmt(x0)}" y1="{_fmt(mid_y)}" x2="{_fmt(x1 - 4)}" y2="{_fmt(mid_y)}" stroke="#6c757d" '
                    f'stroke-width="1.2"/><polygon points="{_fmt(x1)},{_fmt(mid_y)} {_fmt(x1 - 5)},{_fmt(mid_y - 3.5)} '
                    f'{_fmt(x1 - 5)},{_fmt(mid_y + 3.5)}" fill="#6c757d"/>')
    for b in layout.blocks:
        if b.kind == "cell" and b.state == "on":
            fill, line, dash, text_color = STAGE_COLORS[b.stage - 1], STAGE_COLORS[b.stage - 1], None, "#ffffff"
        elif b.kind == "cell":
            fill, line, dash, text_color = "none", OFF_COLOR, "5 3", "#8a8a8a"
        else:
            fill, line, dash, text_color = "#e9ecef", FIXED_BLOCK_COLOR, None, "#31333f"
        x, y = cx(b) - box_w / 2, mid_y - MACRO_BOX_H / 2
        body.append(f'<g data-block="{escape(b.key)}" data-state="{b.state}"><title>{escape(b.hover)}</title>'
                    f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{box_w}" height="{MACRO_BOX_H}" rx="3" '
                    f'fill="{fill}" stroke="{line}" stroke-width="1.5"' + (f' stroke-dasharray="{dash}"' if dash else "")
                    + f'/><text x="{_fmt(cx(b))}" y="{_fmt(mid_y)}" text-anchor="middle" dominant-baseline="central" '
                    f'font-size="{font}" fill="{text_color}">{escape(b.label)}</text></g>')
    for s, channels in enumerate((spec.channels, 2 * spec.channels, 4 * spec.channels), start=1):
        xs = [cx(b) for b in layout.blocks if b.kind == "cell" and b.stage == s]
        body.append(f'<text x="{_fmt((xs[0] + xs[-1]) / 2)}" y="{_fmt(mid_y - MACRO_BOX_H / 2 - 9)}" '
                    f'text-anchor="middle" font-size="11" fill="{STAGE_COLORS[s - 1]}">stage {s} · {channels} ch</text>')
    return _svg("macro", width, MACRO_HEIGHT, body, "the super-network's blocks", MACRO_MAX_SCALE)


__all__ = ["cell_svg", "macro_svg", "supercell_svg"]
