"""The cell DAG as data: positions, edges, labels, styles (drawn by tests/viz/test_diagram_svg.py)."""

import pytest

from nagui.space import EDGES, Arch
from nagui.viz import cell_graph_data

# 0->1 conv3x3, 0->2 none, 1->2 avg_pool, 0->3 skip, 1->3 none, 2->3 none:
# node 2 reaches nowhere (2->3 is none), so avg_pool on 1->2 is dead.
DEAD_ARCH = Arch(("nor_conv_3x3", "none", "avg_pool_3x3", "skip_connect", "none", "none"))
BEST = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_nodes_left_to_right():
    g = cell_graph_data(DEAD_ARCH)
    assert [n.node for n in g.nodes] == [0, 1, 2, 3]
    xs = [n.x for n in g.nodes]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert g.nodes[0].caption == "input" and g.nodes[3].caption == "output"


def test_edges_labels_and_dead_flags():
    g = cell_graph_data(DEAD_ARCH)
    assert len(g.edges) == 6
    assert [(e.src, e.dst) for e in g.edges] == list(EDGES)
    assert [e.op for e in g.edges] == list(DEAD_ARCH.ops)
    assert [e.label for e in g.edges] == ["conv3x3\ndead", "none", "avgpool\ndead", "skip", "none", "none"]
    assert [e.live for e in g.edges] == [False, False, False, True, False, False]
    # 0->1 conv feeds node 1, whose only way out is through dead node 2 -> also dead
    assert [e.dead for e in g.edges] == [True, False, True, False, False, False]
    assert [e.is_none for e in g.edges] == [False, True, False, False, True, True]
    live = g.edges[3]
    assert live.dash == "solid" and live.opacity == 1.0
    for e in g.edges:
        if e.is_none:
            assert e.dash == "dot" and e.opacity < 1
        elif e.dead:
            assert e.dash == "dash" and e.color == "#9a9a9a"
    assert g.output_connected


def test_edge_polylines_join_their_nodes():
    g = cell_graph_data(BEST)
    pos = {n.node: (n.x, n.y) for n in g.nodes}
    for e in g.edges:
        assert (e.xs[0], e.ys[0]) == pytest.approx(pos[e.src])
        assert (e.xs[-1], e.ys[-1]) == pytest.approx(pos[e.dst])
        # the label sits on the edge, between its nodes
        assert pos[e.src][0] < e.label_x < pos[e.dst][0]
    assert all(e.live for e in g.edges)
    # no two edges share a label position (labels would overlap)
    assert len({(round(e.label_x, 3), round(e.label_y, 3)) for e in g.edges}) == 6


def test_all_none_cell_is_disconnected():
    g = cell_graph_data(Arch(("none",) * 6))
    assert not g.output_connected
    assert all(e.label == "none" and not e.dead for e in g.edges)


def test_data_accepts_string_and_rejects_junk():
    assert cell_graph_data(Arch.from_str(BEST)) == cell_graph_data(BEST)
    with pytest.raises(ValueError, match="bogus"):
        cell_graph_data("|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|")
