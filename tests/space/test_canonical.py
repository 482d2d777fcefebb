"""Canonical form: pruning dead ops and NB201's isomorphism classes."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nagui.space import OPS, Arch, functional_key, is_output_connected, iso_key, live_edges, prune

archs = st.tuples(*[st.sampled_from(OPS)] * 6).map(Arch)


def test_dead_branch_is_pruned():
    # 0->1 conv, but node 1 feeds nothing that reaches the output: the conv is dead
    a = Arch.from_str("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert live_edges(a) == (False, False, False, True, False, False)
    assert prune(a) == Arch.from_str("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")


def test_disconnected_output_prunes_to_all_none():
    a = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
    assert not is_output_connected(a)
    assert prune(a).ops == ("none",) * 6


def test_parallel_branch_order_does_not_matter():
    # node 2 = pool(x) + conv(x) either way round
    a = Arch.from_str("|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    b = Arch.from_str("|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    assert a != b and iso_key(a) == iso_key(b) and functional_key(a) == functional_key(b)


def test_nb201_rule_keeps_zero_terms_apart_functional_key_does_not():
    # both compute conv(x) + pool(x); NB201's rule sees the zero term on different nodes
    a = Arch.from_str("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|")
    b = Arch.from_str("|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|")
    assert iso_key(a) != iso_key(b)
    assert functional_key(a) == functional_key(b)


def test_different_functions_differ():
    a = Arch.from_str("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")
    b = Arch.from_str("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")
    assert iso_key(a) != iso_key(b) and functional_key(a) != functional_key(b)


@settings(max_examples=300, deadline=None)
@given(archs)
def test_pruning_is_idempotent_and_keeps_the_function(a):
    p = prune(a)
    assert prune(p) == p
    assert functional_key(p) == functional_key(a)
    assert is_output_connected(p) == is_output_connected(a)


def test_all_cells_fall_into_nb201_class_count(bench):
    archs_ = [Arch.from_str(s) for s in bench.table["arch"]]
    assert len({iso_key(a) for a in archs_}) == 6466           # NB201's own count
    assert len({functional_key(a) for a in archs_}) == 5390    # strictly equal functions
    assert bench.table["canonical_id"].nunique() == 6466


def test_disconnected_cells_are_at_chance(bench):
    t = bench.table
    disconnected = t[~t["output_connected"]]
    assert len(disconnected) == 341
    assert (disconnected["test_acc@cifar10"] == 10.0).all()
    assert (t.loc[t["output_connected"], "test_acc@cifar10"] > 10.0).all()


def test_isomorphic_cells_have_close_accuracy(bench):
    # same class -> same function; single-seed accuracies differ only by training noise
    t = bench.table[bench.table["output_connected"]]
    spread = t.groupby("canonical_id")["test_acc@cifar10"].agg(lambda s: s.max() - s.min())
    assert spread.median() < 1.0
