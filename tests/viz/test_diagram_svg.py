"""The SVG diagrams: well-formed, one line, each edge and block with its state, and edge
labels that never cover a node circle or each other (the drawing scales as a whole, so
what holds at its design size holds in every column)."""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from nagui.nets.supernet import SuperNetSpec
from nagui.space import EDGES, OPS, Arch
from nagui.viz import cell_svg, macro_svg, supercell_svg
from nagui.viz.cell_graph import NODE_RIM, NODE_SIZE, SHORT_OPS
from nagui.viz.supernet_graph import EDGE_STATES

NS = "{http://www.w3.org/2000/svg}"
NAMES = [f"{s}→{d}" for s, d in EDGES]
BEST = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
# edges 0->1 conv3x3, 0->2 conv1x1, 1->2 avg_pool, 0->3 skip, 1->3 none, 2->3 conv3x3
SUPER = Arch(("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "none", "nor_conv_3x3"))


def parse(svg: str) -> ET.Element:
    assert "\n" not in svg  # shown through Markdown: a line break could end the HTML block
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text") if t.text]


def groups(root: ET.Element, attr: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if attr in g.attrib]


def test_cell_svg_draws_every_edge_with_its_op():
    root = parse(cell_svg(BEST))
    assert root.get("data-diagram") == "cell"
    edges = groups(root, "data-edge")
    assert [g.get("data-edge") for g in edges] == NAMES
    assert [g.get("data-op") for g in edges] == list(Arch.from_str(BEST).ops)
    assert all(g.find(f"{NS}title").text.startswith(f"edge {g.get('data-edge')}") for g in edges)
    assert all(g.find(f"{NS}polygon") is not None for g in edges)   # an arrowhead on each
    for op in Arch.from_str(BEST).ops:
        assert SHORT_OPS[op] in texts(root)
    assert len(groups(root, "data-node")) == 4 and {"input", "output"} <= set(texts(root))
    assert cell_svg(Arch.from_str(BEST)) == cell_svg(BEST)


def test_dead_edges_say_so():
    dead = Arch(("nor_conv_3x3", "none", "avg_pool_3x3", "skip_connect", "none", "none"))   # 1->2 reaches nowhere
    root = parse(cell_svg(dead))
    edge = next(g for g in groups(root, "data-edge") if g.get("data-edge") == "1→2")
    assert edge.get("data-live") == "false"
    assert "cannot affect the output" in edge.find(f"{NS}title").text and "dead" in texts(root)


def test_supercell_svg_carries_states_and_styles():
    root = parse(supercell_svg(SUPER, "on,skip,none,on,on,on|11,10,11", title="super-cell"))
    edges = groups(root, "data-edge")
    assert [g.get("data-edge") for g in edges] == NAMES
    assert [g.get("data-state") for g in edges] == ["on", "skip", "none", "skip", "none", "on"]
    assert [g.get("data-live") for g in edges] == ["false", "true", "false", "true", "false", "true"]
    dashes = [g.find(f"{NS}path").get("stroke-dasharray") for g in edges]
    assert [d is None for d in dashes] == [False, False, False, True, False, True]   # dead, skip, off dashed
    assert "super-cell" in texts(root) and "conv1x1 off" in texts(root) and "off" in texts(root)


def test_disconnected_mask_is_drawn_with_a_warning():
    root = parse(supercell_svg(SUPER, ("none",) * 6))
    assert all(g.get("data-state") == "none" for g in groups(root, "data-edge"))
    assert any("disconnected" in t for t in texts(root))


def test_macro_svg_blocks_and_states():
    spec = SuperNetSpec(SUPER, (2, 2, 2))
    root = parse(macro_svg(spec, "on,on,on,on,on,on|11,10,11"))
    blocks = groups(root, "data-block")
    assert [b.get("data-block") for b in blocks] == ["stem", "cell 1.1", "cell 1.2", "reduction 1", "cell 2.1",
                                                     "cell 2.2", "reduction 2", "cell 3.1", "cell 3.2", "head"]
    states = {b.get("data-block"): b.get("data-state") for b in blocks}
    assert states["cell 2.2"] == "off" and states["cell 2.1"] == "on"
    off_rect = next(b for b in blocks if b.get("data-block") == "cell 2.2").find(f"{NS}rect")
    assert off_rect.get("stroke-dasharray") and off_rect.get("fill") == "none"
    assert "off" in texts(root) and "cell 2.2" not in texts(root)
    assert len(list(root.iter(f"{NS}line"))) == 9                 # an arrow between neighbours
    assert any(t.startswith("stage 2 · 32 ch") for t in texts(root))
    # NB201's full size (19 blocks) keeps its boxes apart
    full = parse(macro_svg(SuperNetSpec(SUPER, (5, 5, 5))))
    rects = [b.find(f"{NS}rect") for b in groups(full, "data-block")]
    rights = [float(r.get("x")) + float(r.get("width")) for r in rects]
    assert all(right < float(nxt.get("x")) for right, nxt in zip(rights, rects[1:]))


def _overlaps(svg: str) -> list[str]:
    root = parse(svg)
    radius = NODE_SIZE / 2 + NODE_RIM
    circles = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(f"{NS}circle")]
    boxes = [(r.get("data-label"), float(r.get("x")), float(r.get("x")) + float(r.get("width")), float(r.get("y")),
              float(r.get("y")) + float(r.get("height"))) for r in root.iter(f"{NS}rect") if r.get("data-label")]
    assert len(circles) == 4 and len(boxes) == 6
    problems = []
    for name, left, right, top, bottom in boxes:
        for i, (nx, ny) in enumerate(circles):
            dx, dy = max(left - nx, 0, nx - right), max(top - ny, 0, ny - bottom)
            if dx * dx + dy * dy < radius * radius:
                problems.append(f"label {name!r} covers node {i}")
    for a, b in itertools.combinations(boxes, 2):
        if a[1] < b[2] and b[1] < a[2] and a[3] < b[4] and b[3] < a[4]:
            problems.append(f"labels {a[0]!r} and {b[0]!r} overlap")
    return problems


@pytest.mark.parametrize("op", OPS)
def test_cell_labels_clear_the_nodes_for_every_op_live_or_dead(op):
    for ops in [(op,) * 6, (op, "none", "none", "none", "none", "none"), (op, op, "none", "none", "none", op)]:
        assert _overlaps(cell_svg(Arch(ops))) == [], ops


@pytest.mark.parametrize("super_op", OPS)
def test_supercell_labels_clear_the_nodes_in_every_state(super_op):
    cell = Arch((super_op,) * 6)
    for state in EDGE_STATES:
        for masked in [(state,) * 6, (state, "on", "none", "on", "on", "none")]:
            assert _overlaps(supercell_svg(cell, masked, title="Cell: which edges are on")) == [], masked
