"""Edge labels of the cell and super-cell drawings never cover a node circle or each other,
at the narrowest width the pages draw them (Deploy's left column, about 320 px)."""
from __future__ import annotations

import itertools

import pytest

from nagui.space import OPS
from nagui.viz.cell_graph import NODE_RIM, NODE_SIZE, cell_figure, cell_graph_data, label_lift, label_size
from nagui.viz.supernet_graph import EDGE_STATES, supercell_graph_data

WIDTH, HEIGHT = 320, 340          # the figure's size in the narrowest column; height as drawn


def _to_px(fig, x, y):
    """Data coordinates -> pixels (origin bottom left) inside the figure's plot area."""
    layout = fig.layout
    (x0, x1), (y0, y1) = layout.xaxis.range, layout.yaxis.range
    m = layout.margin
    plot_w, plot_h = WIDTH - m.l - m.r, HEIGHT - m.t - m.b
    return m.l + (x - x0) / (x1 - x0) * plot_w, m.b + (y - y0) / (y1 - y0) * plot_h


def _overlaps(graph, fig) -> list[str]:
    radius = NODE_SIZE / 2 + NODE_RIM
    boxes = []
    for e in graph.edges:
        cx, cy = _to_px(fig, e.label_x, e.label_y)
        cy += label_lift(e)
        w, h = label_size(e.label)
        boxes.append((f"{e.src}->{e.dst} {e.label!r}", cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2))
    problems = []
    for name, left, right, bottom, top in boxes:
        for n in graph.nodes:
            nx, ny = _to_px(fig, n.x, n.y)
            dx = max(left - nx, 0, nx - right)
            dy = max(bottom - ny, 0, ny - top)
            if dx * dx + dy * dy < radius * radius:
                problems.append(f"label {name} covers node {n.node}")
    for a, b in itertools.combinations(boxes, 2):
        if a[1] < b[2] and b[1] < a[2] and a[3] < b[4] and b[3] < a[4]:
            problems.append(f"labels {a[0]} and {b[0]} overlap")
    return problems


@pytest.mark.parametrize("op", OPS)
def test_cell_labels_clear_the_nodes_for_every_op_live_or_dead(op):
    for arch_ops in [(op,) * 6, (op, "none", "none", "none", "none", "none"),      # 0->1 dead unless op is live
                     (op, op, "none", "none", "none", op)]:
        from nagui.space import Arch

        graph = cell_graph_data(Arch(arch_ops))
        assert _overlaps(graph, cell_figure(Arch(arch_ops))) == []


@pytest.mark.parametrize("super_op", OPS)
def test_supercell_labels_clear_the_nodes_in_every_state(super_op):
    from nagui.space import Arch
    from nagui.viz import supercell_figure

    cell = Arch((super_op,) * 6)
    for state in EDGE_STATES:
        for masked in [(state,) * 6, (state, "on", "none", "on", "on", "none")]:
            graph = supercell_graph_data(cell, masked)
            assert _overlaps(graph, supercell_figure(cell, masked)) == [], masked
