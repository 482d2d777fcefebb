"""Coverage of the front by a super-cell's sub-cells, and choosing the super-cell."""
from __future__ import annotations

import numpy as np
import pytest

from nagui.pareto import Objective, hypervolume_ratio, non_dominated, to_minimisation
from nagui.progress import quiet
from nagui.space import OPS, Arch
from nagui.supernet.build import BuildError, BuildRequest, build, check_request, merge_cells
from nagui.pareto import hypervolume_2d
from nagui.supernet.coverage import CoverageScorer, sub_cell_table


@pytest.fixture(scope="module")
def c10_flops(tables):
    objs = ("test_acc@cifar10", "flops")
    return CoverageScorer(np.stack([tables.column(o) for o in objs], 1), objs)


def test_sub_cell_table_lists_every_switched_down_variant(tables):
    cell = Arch.parse("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    flat = sub_cell_table(np.array([cell.indices]))[0]
    subs = {Arch.from_indices(tables.space.all_indices[i].tolist()) for i in flat}
    assert len(flat) == 729 and len(subs) == 3 * 2 * 2 * 3 * 3 * 3     # a none edge still offers skip
    for sub in subs:
        assert all(s in (c, "skip_connect", "none") for s, c in zip(sub.ops, cell.ops))
    assert cell in subs


def test_hypervolume_2d_agrees_with_pymoo(c10_flops, tables):
    rng = np.random.default_rng(0)
    objs = [Objective.parse("test_acc@cifar10"), Objective.parse("flops")]
    f = to_minimisation(np.stack([tables.column("test_acc@cifar10"), tables.column("flops")], 1), objs)
    front = f[non_dominated(f)]
    for _ in range(5):
        pick = rng.choice(len(f), 40, replace=False)
        ours = hypervolume_2d(c10_flops.normalised[pick][None])[0] / c10_flops.front_hv
        assert ours == pytest.approx(hypervolume_ratio(f[pick], front), rel=1e-9)


def test_exhaustive_coverage_matches_the_reference_figures(c10_flops, tables):
    """REFERENCE / issue: best of all 15,625 super-cells covers the CIFAR-10 acc-FLOPs front
    0.935 with none only, 0.941 with skip only, 0.974 with both."""
    every = tables.space.all_indices.numpy()
    assert c10_flops.ratio(every, down="none").max() == pytest.approx(0.935, abs=5e-4)
    assert c10_flops.ratio(every, down="skip").max() == pytest.approx(0.941, abs=5e-4)
    assert c10_flops.ratio(every, down="both").max() == pytest.approx(0.974, abs=5e-4)


def test_merge_cells_keeps_only_compatible_pairs():
    conv3, conv1, skip, none = (OPS.index(o) for o in ("nor_conv_3x3", "nor_conv_1x1", "skip_connect", "none"))
    a = [conv3, skip, none, conv1, none, conv3]
    b = [conv3, conv1, skip, none, none, conv3]
    c = [conv1, none, none, none, none, conv3]        # clashes with a and b on edge 0->1
    merged = {tuple(r) for r in merge_cells(np.array([a, b, c]))}
    assert tuple([conv3, conv1, skip, conv1, none, conv3]) in merged
    assert len(merged) == 4                          # a, b, c and a+b
    for row in merged:                               # every input cell is a sub-cell of some candidate
        assert all(x in (y, 0, 1) for x, y in zip(a, row)) or all(x in (y, 0, 1) for x, y in zip(c, row)) \
            or all(x in (y, 0, 1) for x, y in zip(b, row))


@pytest.mark.parametrize("strategy", ["direct", "assemble"])
def test_build_picks_the_best_predicted_candidate_and_reports_the_truth(bench, tables, tiny_model, tiny_predictor,
                                                                        c10_flops, strategy):
    request = BuildRequest(strategy=strategy, n=32, slots=(2, 2, 2), channels=8, scale=30.0)
    result = build(bench, request, tiny_model, predictor=tiny_predictor, tables=tables, say=quiet)
    truth = c10_flops.ratio(np.array([result.spec.super_cell.indices]))[0]
    assert result.true_coverage == pytest.approx(truth)
    assert result.exhaustive_optimum == pytest.approx(0.9738, abs=1e-4)
    assert 0 < result.true_coverage <= result.exhaustive_optimum
    assert result.spec.slots == (2, 2, 2) and result.spec.num_classes == 10
    assert result.candidates >= 1 and result.as_dict()["sub_cells"] >= 1


def test_build_refuses_what_it_cannot_do():
    with pytest.raises(BuildError, match="unknown build strategy 'magic'"):
        BuildRequest(strategy="magic")
    with pytest.raises(BuildError, match="one accuracy and one cost objective"):
        check_request(BuildRequest(objectives="test_acc,flops,params"))
    with pytest.raises(ValueError, match="unknown objective|objective"):
        check_request(BuildRequest(objectives="test_acc,speed"))
