"""Arch: parsing, every representation, round trips, and errors on bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nagui.space import ADJACENCY, EDGES, NASLIB_OPS, NODE_TYPES, OPS, Arch, InvalidArchError

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"

archs = st.tuples(*[st.sampled_from(OPS)] * 6).map(Arch)


def test_parse_official_string():
    a = Arch.from_str(BEST_C10)
    assert a.ops == ("nor_conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "skip_connect", "nor_conv_3x3", "nor_conv_1x1")
    assert a.to_str() == BEST_C10
    assert a.indices == (3, 2, 3, 1, 3, 2)


def test_arch_is_immutable_and_hashable():
    a = Arch.from_str(BEST_C10)
    with pytest.raises(AttributeError):
        a.ops = ("none",) * 6
    assert {a: 1}[Arch.from_str(BEST_C10)] == 1


def test_naslib_tuple_uses_its_own_op_codes_and_edge_order():
    # NASLib edge order 0->1, 0->2, 0->3, 1->2, 1->3, 2->3; codes 0 skip, 1 none, 2 conv3, 3 conv1, 4 pool
    a = Arch.from_naslib((0, 2, 3, 2, 3, 1))
    assert a.ops == ("skip_connect", "nor_conv_3x3", "nor_conv_3x3", "nor_conv_1x1", "nor_conv_1x1", "none")
    assert Arch.from_naslib("(0, 2, 3, 2, 3, 1)") == a
    assert a.to_naslib() == (0, 2, 3, 2, 3, 1)


def test_onehot_and_fixed_adjacency():
    a = Arch.from_str(BEST_C10)
    x = a.onehot()
    assert x.shape == (8, len(NODE_TYPES)) and np.all(x.sum(axis=1) == 1)
    assert NODE_TYPES[x[0].argmax()] == "input" and NODE_TYPES[x[7].argmax()] == "output"
    assert [NODE_TYPES[i] for i in x[1:7].argmax(axis=1)] == list(a.ops)
    # input feeds the ops on edges leaving node 0; the ops on edges into node 3 feed the output
    assert [ADJACENCY[0, k + 1] for k in range(6)] == [int(s == 0) for s, _ in EDGES]
    assert [ADJACENCY[k + 1, 7] for k in range(6)] == [int(d == 3) for _, d in EDGES]
    # edge 1->2 (op node 3) is fed by edge 0->1 (op node 1) only
    assert list(np.nonzero(ADJACENCY[:, 3])[0]) == [1]
    assert np.all(np.triu(ADJACENCY, 1) == ADJACENCY)  # a DAG in topological order


def test_pyg_data():
    d = Arch.from_str(BEST_C10).to_pyg()
    assert tuple(d.x.shape) == (8, len(NODE_TYPES))
    assert d.edge_index.shape[0] == 2 and d.edge_index.shape[1] == int(ADJACENCY.sum())
    assert d.num_nodes == 8


@settings(max_examples=200, deadline=None)
@given(archs)
def test_round_trips(a):
    assert Arch.from_str(a.to_str()) == a
    assert Arch.from_indices(a.indices) == a
    assert Arch.from_naslib(a.to_naslib()) == a
    assert Arch.from_onehot(a.onehot()) == a
    assert Arch.parse(a.to_str()) == Arch.parse(list(a.indices)) == a


@pytest.mark.parametrize("text, token, position", [
    ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "conv~0", 0),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_5x5~2|", "nor_conv_5x5~2", 5),
    ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "none~2", 2),
    ("|none~0|+|none~0|nonsense|+|none~0|none~1|none~2|", "nonsense", 2),
])
def test_bad_token_is_named_with_position_and_allowed_values(text, token, position):
    with pytest.raises(InvalidArchError) as info:
        Arch.from_str(text)
    err = info.value
    assert err.token == token and err.position == position
    assert token in str(err) and f"position {position}" in str(err)
    assert err.allowed  # says what would have been accepted


@pytest.mark.parametrize("text", ["", "+", "|none~0|", "|none~0|+|none~0|+|none~0|", "none~0+none~0",
                                  "|none~0|+|none~0|none~1|+|none~0|none~1|", 42, None])
def test_structural_errors(text):
    with pytest.raises(InvalidArchError):
        Arch.from_str(text)


def test_unknown_op_in_tuple_lists_allowed_ops():
    with pytest.raises(InvalidArchError, match="allowed: none, skip_connect"):
        Arch(("none", "skip", "none", "none", "none", "none"))
    with pytest.raises(InvalidArchError, match="position 2"):
        Arch.from_indices([0, 1, 7, 0, 0, 0])
    with pytest.raises(InvalidArchError, match="NASLib op code"):
        Arch.from_naslib([0, 1, 2, 3, 4, 5])
    with pytest.raises(InvalidArchError):
        Arch.from_indices([0, 1, 2])
    with pytest.raises(InvalidArchError):
        Arch.from_indices([True, 0, 0, 0, 0, 0])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="|+~0123 nonesk_ipcvrav13x", max_size=80)))
def test_junk_strings_raise_only_invalid_arch_error(text):
    try:
        a = Arch.from_str(text)
    except InvalidArchError:
        return
    assert Arch.from_str(a.to_str()) == a


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(-3, 9), st.text(max_size=3), st.none(), st.floats()), max_size=8))
def test_junk_sequences_raise_only_invalid_arch_error(values):
    for build in (Arch.from_indices, Arch.from_naslib):
        try:
            build(values)
        except InvalidArchError:
            pass


def test_naslib_ops_cover_the_same_ops():
    assert set(NASLIB_OPS) == set(OPS)
