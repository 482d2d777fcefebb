"""The NB201 network: shapes, configurability, and the pruned network computing the same function."""
from __future__ import annotations

import pytest
import torch

from nagui.nets import NB201Network, NetConfig, build_network
from nagui.space import Arch, live_edges

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
DEAD_CONV = "|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"


@pytest.mark.parametrize("config, hw", [(NetConfig(), 32), (NetConfig(8, 1, 100), 16), (NetConfig(16, 2, 120), 16)])
def test_output_shape(config, hw):
    net = build_network(BEST_C10, config).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 3, hw, hw)).shape == (2, config.num_classes)


def test_structure_matches_nb201():
    net = build_network(BEST_C10)
    assert len(net.cells) == 3 * 5 + 2
    assert [type(c).__name__ for c in net.cells].count("ResNetBasicblock") == 2
    assert net.classifier.in_features == 64


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="channels"):
        NetConfig(channels=0)
    with pytest.raises(ValueError, match="num_classes"):
        NetConfig(num_classes=2.5)


def _copy_into_pruned(full: NB201Network, pruned: NB201Network) -> None:
    """Give the pruned net the full net's weights: shared parts by name, cell edges by edge id."""
    state = full.state_dict()
    own = {}
    for key in pruned.state_dict():
        parts = key.split(".")
        if parts[0] == "cells" and parts[2] == "edges":
            cell = pruned.cells[int(parts[1])]
            parts[3] = str(cell.edge_ids[int(parts[3])])
        own[key] = state[".".join(parts)]
    pruned.load_state_dict(own)


@pytest.mark.parametrize("arch", [BEST_C10, DEAD_CONV])
def test_pruned_network_computes_the_same_function(arch):
    torch.manual_seed(0)
    full = build_network(arch).eval()
    pruned = build_network(arch, pruned=True).eval()
    _copy_into_pruned(full, pruned)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(full(x), pruned(x), atol=1e-5)
    n_live = sum(live_edges(Arch.from_str(arch)))
    assert all(len(c.edges) == n_live for c in pruned.cells if hasattr(c, "edges"))
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in full.parameters()) or n_live == 6


def test_disconnected_cell_outputs_zeros():
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"
    net = build_network(arch, pruned=True).eval()
    cell = net.cells[0]
    x = torch.randn(1, 16, 32, 32)
    assert len(cell.edges) == 0 and torch.equal(cell(x), torch.zeros_like(x))
