"""The super-cell under a block mask and the macro skeleton as data: states, dead edges, blocks."""
import pytest

from nagui.nets.supernet import BlockMask, SuperNetSpec
from nagui.space import EDGES, Arch, live_edges
from nagui.viz import macro_layout, supercell_graph_data

# edges 0->1 conv3x3, 0->2 conv1x1, 1->2 avg_pool, 0->3 skip, 1->3 none, 2->3 conv3x3
SUPER = Arch(("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "none", "nor_conv_3x3"))
NAMES = [f"{s}→{d}" for s, d in EDGES]


def test_all_on_by_default():
    g = supercell_graph_data(SUPER)
    assert [e.name for e in g.edges] == NAMES
    assert [e.super_op for e in g.edges] == list(SUPER.ops)
    # canonical states: the skip super-op reads "skip", the none super-op is off
    assert g.states == ("on", "on", "on", "skip", "none", "on")
    assert g.sub_cell == SUPER
    assert [e.state_word for e in g.edges] == ["on", "on", "on", "skip", "off", "on"]
    assert [e.live for e in g.edges] == list(live_edges(SUPER))
    assert g.dead_edges == () and g.output_connected
    assert g.edges[4].label == "off" and g.edges[4].dash == "dot"
    assert g.edges[0].label == "conv3x3\non" and g.edges[0].dash == "solid"
    # the skip super-op is the op itself: solid, not the dashed "switched to skip" style
    assert g.edges[3].label == "skip" and g.edges[3].dash == "solid"


def test_states_and_dead_edges_under_a_mask():
    # 0->2 switched to skip, 1->2 off: node 1 then only feeds 1->3 (none) -> 0->1 is dead
    g = supercell_graph_data(SUPER, "on,skip,none,on,on,on|11,10,11")
    assert g.states == ("on", "skip", "none", "skip", "none", "on")
    assert g.sub_cell.ops == ("nor_conv_3x3", "skip_connect", "none", "skip_connect", "none", "nor_conv_3x3")
    assert [e.live for e in g.edges] == [False, True, False, True, False, True]
    assert g.dead_edges == ("0→1",)
    e01, e02, e12 = g.edges[:3]
    assert e01.dead and e01.dash == "dash" and e01.color == "#9a9a9a" and "on" in e01.label
    assert e02.label == "skip\nconv1x1 off" and e02.dash == "dash" and e02.live
    assert e12.label == "off" and e12.off and not e12.dead and e12.dash == "dot" and e12.opacity < 1


def test_mask_forms_agree_and_none_super_op_can_become_skip():
    spec = SuperNetSpec(SUPER, (2, 2, 2))
    text = "on,skip,none,on,skip,on|11,10,11"
    from_text = supercell_graph_data(SUPER, text)
    assert from_text == supercell_graph_data(SUPER, BlockMask.parse(text, spec))
    assert from_text == supercell_graph_data(SUPER, text.split("|")[0])
    assert from_text == supercell_graph_data(SUPER.to_str(), ("on", "skip", "none", "on", "skip", "on"))
    e13 = from_text.edges[4]   # super-op none, switched to skip: an identity, nothing turned off
    assert e13.state == "skip" and e13.op == "skip_connect" and e13.label == "skip"
    assert from_text.states == BlockMask.parse(text).canonical(spec).edges


def test_disconnected_mask_is_drawn_not_rejected():
    g = supercell_graph_data(SUPER, ("none",) * 6)
    assert not g.output_connected and all(e.state == "none" and not e.dead for e in g.edges)


@pytest.mark.parametrize("bad", ["on,on,on|11,11,11", "on,on,on,on,on,maybe", ("on",) * 5])
def test_bad_masks_raise(bad):
    with pytest.raises(ValueError):
        supercell_graph_data(SUPER, bad)


def test_macro_layout_blocks_in_order():
    spec = SuperNetSpec(SUPER, (2, 2, 2), channels=16, num_classes=10)
    layout = macro_layout(spec, "on,on,on,on,on,on|11,10,11")
    assert [b.key for b in layout.blocks] == ["stem", "cell 1.1", "cell 1.2", "reduction 1", "cell 2.1", "cell 2.2",
                                              "reduction 2", "cell 3.1", "cell 3.2", "head"]
    assert [b.state for b in layout.blocks] == ["on"] * 5 + ["off"] + ["on"] * 4
    assert [b.label for b in layout.blocks][4:6] == ["cell 2.1", "off"]
    assert [b.channels for b in layout.blocks] == [16, 16, 16, 32, 32, 32, 64, 64, 64, 10]
    xs = [b.x for b in layout.blocks]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert layout.depth() == (2, 1, 2)
    assert "identity" in layout.blocks[5].hover and "2C" in layout.blocks[4].hover
    # no mask: every slot on; a BlockMask works like its text
    assert all(b.state == "on" for b in macro_layout(spec).blocks)
    assert macro_layout(spec, BlockMask.parse("on,on,on,on,on,on|11,10,11", spec)) == layout


def test_macro_mask_must_fit_the_spec():
    with pytest.raises(ValueError, match="slots"):
        macro_layout(SuperNetSpec(SUPER, (2, 2, 2)), "on,on,on,on,on,on|111,11,11")
