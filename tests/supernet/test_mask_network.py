"""Block masks, the super-network and the standalone sub-networks cut from it."""
from __future__ import annotations

import pytest
import torch

from nagui.measure.flops import thop_cost, thop_cost_of_module
from nagui.nets import build_network
from nagui.nets.supernet import (BlockMask, MaskError, SubNetwork, SuperNetSpec, SuperNetwork, extract_subnetwork,
                                 states_for, sub_cell_count)
from nagui.space import Arch, is_output_connected

SUPER = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"


@pytest.fixture(scope="module")
def spec():
    return SuperNetSpec(Arch.parse(SUPER), slots=(2, 1, 3), channels=4, num_classes=10)


def test_text_form_round_trips_and_canonicalises(spec):
    mask = BlockMask.parse("on,skip,on,none,on,on|10,1,011", spec)
    assert mask.to_str() == "on,skip,skip,none,on,none|10,1,011"     # on == the super-cell's own skip/none
    assert BlockMask.parse("on,on,on,on,on,skip|10,1,011", spec).sub_cell(spec).ops[5] == "skip_connect"
    assert BlockMask.parse(mask.to_str(), spec) == mask
    assert mask.sub_cell(spec) == Arch.parse(
        "|nor_conv_3x3~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|")
    assert mask.depth() == (1, 1, 2)


@pytest.mark.parametrize("text, words", [
    ("on,on,on,on,on|11,1,111", "5 edge states, expected 6"),
    ("on,on,off,on,on,on|11,1,111", "edge 1->2 has state 'off'"),
    ("on,on,on,on,on,on|11,1", "2 stages of slots, expected 3"),
    ("on,on,on,on,on,on|12,1,111", "stage 1 slots '12'"),
    ("on,on,on,on,on,on", "expected '<6 edge states>|<slots per stage>'"),
    ("on,on,on,on,on,on|11,0,111", "stage 2 has every cell slot off; keep slot 2.1 on"),
    ("on,on,on,on,on,on|11,1,11", "stage 3 of this super-network has 3 slots, the mask gives 2"),
])
def test_bad_masks_say_what_is_wrong(spec, text, words):
    with pytest.raises(MaskError, match=words.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")):
        BlockMask.parse(text, spec)


def test_disconnecting_mask_names_the_block_to_keep(spec):
    # 0->3 down and 1->3 down leave only 2->3, which is none in the super-cell: output cut off
    with pytest.raises(MaskError, match=r"disconnects the cell.s output .* keep edge 1->3 on"):
        BlockMask.parse("on,on,on,none,none,none|11,1,111", spec)
    cut = SuperNetSpec(Arch.parse("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|"), (1, 1, 1), 4)
    with pytest.raises(MaskError, match=r"set edge 0->3 to skip"):       # a none edge can still be a skip
        BlockMask.parse("none,none,none,none,none,on|1,1,1", cut)


def test_random_masks_are_valid_and_cover_the_choices(spec):
    g = torch.Generator().manual_seed(0)
    masks = {BlockMask.random(spec, g) for _ in range(300)}
    assert all(is_output_connected(m.sub_cell(spec)) and all(any(s) for s in m.slots) for m in masks)
    assert len({m.edges for m in masks}) > 20 and len({m.depth() for m in masks}) > 5
    assert sub_cell_count(spec) == 3 * 3 * 2 * 3 * 3 * 2     # a none edge still offers skip


def test_largest_and_smallest(spec):
    assert BlockMask.largest(spec).sub_cell(spec) == spec.super_cell
    assert BlockMask.largest(spec).depth() == spec.slots
    small = BlockMask.smallest(spec)
    assert small.depth() == (1, 1, 1) and small.sub_cell(spec).ops.count("skip_connect") == 1


def test_states_for_a_sub_cell_and_refusal_of_other_cells(spec):
    cell = Arch.parse("|skip_connect~0|+|nor_conv_1x1~0|none~1|+|avg_pool_3x3~0|skip_connect~1|none~2|")
    assert BlockMask.full_depth(spec, cell).sub_cell(spec) == cell
    with pytest.raises(MaskError, match="edge 0->1 is nor_conv_1x1, the super-cell offers nor_conv_3x3"):
        states_for(spec, Arch.parse("|nor_conv_1x1~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|none~2|"))


def test_spec_validation():
    with pytest.raises(MaskError, match="slots must be 3 numbers in 1..5"):
        SuperNetSpec(Arch.parse(SUPER), slots=(6, 1, 1))
    with pytest.raises(MaskError, match="no path from input to output"):
        SuperNetSpec(Arch.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
    spec = SuperNetSpec(Arch.parse(SUPER), (1, 2, 3), 8, 100)
    assert SuperNetSpec.from_dict(spec.as_dict()) == spec


def test_extracted_subnetwork_computes_what_the_supernet_computes(spec):
    torch.manual_seed(0)
    net = SuperNetwork(spec).eval()
    for m in net.modules():                      # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    x = torch.randn(3, 3, 32, 32)
    g = torch.Generator().manual_seed(1)
    masks = [BlockMask.largest(spec), BlockMask.smallest(spec)] + [BlockMask.random(spec, g) for _ in range(8)]
    with torch.no_grad():
        together = net(x, masks)
        for mask, out in zip(masks, together):
            sub = extract_subnetwork(net, mask)
            assert torch.allclose(sub(x), out, atol=1e-5)
            assert sum(len(stage) for stage in sub.stages) == sum(mask.depth())


def test_full_depth_subnetwork_is_the_pruned_nb201_network():
    """At NB201's macro size a sub-network has the parameters and FLOPs of the pruned
    NB201 network of its sub-cell: disabled blocks are not in it."""
    cell = Arch.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_1x1~1|none~2|")
    sub = SubNetwork(cell, (5, 5, 5), 16, 10)       # node 2 is dead: 0->2 and 1->2 are not built
    pruned = build_network(cell, pruned=True)
    assert sum(p.numel() for p in sub.parameters()) == sum(p.numel() for p in pruned.parameters())
    assert thop_cost_of_module(sub).flops == pytest.approx(thop_cost_of_module(pruned).flops)
    assert thop_cost_of_module(sub).flops < thop_cost(cell).flops - 30    # the table counts the dead convs too
