"""Calibrated intervals: the conformal rule, the interval model, and the guiding predictor's
transfer intervals on the real table (the population users see)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nagui.data import column
from nagui.diffusion.problem import PredictorSpec, pretrained_predictor
from nagui.predictor import units
from nagui.predictor.calibration import LEVEL_MIN_SLOPE, IntervalModel, calibrated, conformal_quantile, level_map
from nagui.predictor.ensemble import CheckpointError, Predictor
from nagui.predictor.evaluate import interval_coverage
from nagui.predictor.transfer import adapt

README_CELL = 3731   # the Generate page's example: true CIFAR-10 accuracy 94.41, the best of NB201


def test_conformal_quantile_takes_the_finite_sample_rank():
    scores = np.arange(1, 21, dtype=float)          # n = 20: rank ceil(21 * 0.9) = 19
    assert conformal_quantile(scores) == 19.0
    assert conformal_quantile(np.arange(1, 6, dtype=float)) == 5.0   # too few: the largest
    with pytest.raises(ValueError, match="at least one"):
        conformal_quantile(np.array([]))


def test_calibrated_interval_holds_ninety_percent_of_its_own_scores():
    rng = np.random.default_rng(0)
    spread = rng.uniform(0.1, 1.0, 400)
    residuals = rng.normal(0, 1, 400) * spread        # width proportional to the spread
    model = calibrated(residuals, spread)
    inside = np.abs(residuals) <= 1.6448536269514722 * model.sd(spread)
    assert 0.89 <= inside.mean() <= 0.93
    assert model.held_out == 400 and model.floor > 0


def test_the_predicted_top_quarter_gets_its_own_scale():
    """Residuals twice as large among the cells predicted best: one global scale would
    cover them far below 90%; the top bin's own scale covers them."""
    rng = np.random.default_rng(1)
    mean_z = rng.normal(0, 1, 2000)
    top = mean_z >= np.quantile(mean_z, 0.75)
    residuals = rng.normal(0, 1, 2000) * np.where(top, 2.0, 1.0)
    spread = np.full(2000, 0.5)
    model = calibrated(residuals, spread, mean_z=mean_z)
    assert model.top_scale > 1.5 * model.scale
    inside = np.abs(residuals) <= 1.6448536269514722 * model.sd(spread, None, mean_z)
    assert inside[top].mean() >= 0.87 and inside[~top].mean() >= 0.87
    few = calibrated(residuals[:30], spread[:30], mean_z=mean_z[:30])
    assert few.top_scale is None   # too few held-out cells for a bin of their own


def test_interval_model_round_trips_and_refuses_bad_values():
    m = IntervalModel(1.3, 0.2, ("a", "b"), ((1, 0, 0), (0, 1, 0), (0, 0, 1)), "x", 20)
    assert IntervalModel.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    with pytest.raises(ValueError, match="scale must be > 0"):
        IntervalModel(scale=0.0)
    with pytest.raises(ValueError, match="map_cov must be 3x3"):
        IntervalModel(sources=("a", "b"), map_cov=((1.0,),))
    with pytest.raises(ValueError, match="top_from and top_scale go together"):
        IntervalModel(top_scale=1.0)
    with pytest.raises(ValueError, match="unknown interval fields"):
        IntervalModel.from_dict({"scale": 1.0, "width": 2})


def test_level_map_undoes_a_stretch_and_keeps_the_order():
    """Held-out predictions stretched where cells are dense (what the ranking loss does):
    the map brings them back to the labels and never reorders two cells."""
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 1, 300)
    pred = np.where(truth > 0.5, 0.5 + 4 * (truth - 0.5), truth) + rng.normal(0, 0.05, 300)
    fields = level_map(pred, truth)
    model = IntervalModel(**fields)
    mapped, slope = model.level(pred)
    assert np.abs(mapped - truth).mean() < 0.1 < np.abs(pred - truth).mean()
    assert np.abs(mapped[truth > 1.5] - truth[truth > 1.5]).mean() < 0.15
    grid = np.linspace(-8, 8, 2001)                       # beyond the knots too
    values, slopes = model.level(grid)
    assert (np.diff(values) > 0).all() and (slopes >= LEVEL_MIN_SLOPE - 1e-9).all()
    # the slope is the map's derivative (a grid step across a knot mixes two slopes)
    assert np.isclose(np.diff(values) / np.diff(grid), slopes[1:], rtol=1e-6, atol=1e-6).mean() > 0.99
    assert slope[pred > 3].mean() == pytest.approx(0.25, abs=0.05)    # the stretched part is shrunk 4x
    assert IntervalModel.from_dict(json.loads(json.dumps(model.to_dict()))) == model
    assert level_map(pred[:10], truth[:10]) is None                    # too few cells: no map
    identity = IntervalModel()
    np.testing.assert_array_equal(identity.level(pred)[0], pred)
    with pytest.raises(ValueError, match="level map needs increasing knots"):
        IntervalModel(level_knots=(0.0, 1.0), level_values=(1.0, 0.5), level_end_slopes=(1.0, 1.0))


def test_logit_units_round_trip_and_stay_below_100():
    acc = np.array([0.0, 10.0, 50.0, 94.41, 100.0])
    back = units.inverse(units.forward(acc, "logit"), "logit")
    np.testing.assert_allclose(back, acc, atol=1e-3)
    assert units.inverse(np.array([50.0]), "logit")[0] <= 100.0
    with pytest.raises(ValueError, match="unknown transform"):
        units.check_transform("sqrt")


@pytest.fixture(scope="module")
def all_archs(bench):
    return [bench.arch(i) for i in range(len(bench))]


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_transfer_intervals_hold_the_truth_on_all_and_on_the_best_cells(bench, all_archs, tmp_path_factory, dataset):
    """The guiding predictor's protocol (pretrained on the other datasets, k = 20 target
    labels, heads mode): its 90% interval, averaged over 3 draws of the k cells, holds the
    truth for 80-97% of the other cells and for >= 80% of the best 5% of them."""
    base = pretrained_predictor(bench.table, dataset, PredictorSpec(), cache_root=tmp_path_factory.mktemp("models"))
    target = column("test_acc", dataset)
    truth = bench.table[target].to_numpy()
    overall, best = [], []
    for seed in range(3):
        k_idx = np.random.default_rng(2000 + seed).choice(len(truth), 20, replace=False)
        adapted = adapt(base, target, [all_archs[i] for i in k_idx], truth[k_idx])
        model = adapted.intervals[adapted.objectives.index(target)]
        assert "jackknife+" in model.method and model.held_out == 20 and model.map_cov
        assert adapted.transforms[adapted.objectives.index(target)] == "logit"
        pred = adapted.predict(all_archs)
        lo, hi = pred.interval(target)
        assert (hi <= 100).all() and (lo <= pred[target]).all() and (pred[target] <= hi).all()
        rest = np.ones(len(truth), bool)
        rest[k_idx] = False
        cover = interval_coverage(truth, lo, hi, rest, higher_is_better=True)
        overall.append(cover["coverage90"])
        best.append(cover["coverage90_top5"])
        if dataset == "cifar10" and seed == 0:
            assert lo[README_CELL] <= truth[README_CELL] <= hi[README_CELL]
    assert 0.80 <= np.mean(overall) <= 0.97, overall
    assert np.mean(best) >= 0.80, best


def test_adapted_predictor_keeps_its_intervals_through_a_checkpoint(bench, all_archs, tmp_path):
    base = pretrained_predictor(bench.table, "cifar10", PredictorSpec(), cache_root=tmp_path / "models")
    target = column("test_acc", "cifar10")
    k_idx = np.arange(0, 15625, 781)[:20]
    adapted = adapt(base, target, [all_archs[i] for i in k_idx], bench.table[target].to_numpy()[k_idx])
    adapted.save(tmp_path / "adapted")
    back = Predictor.load(tmp_path / "adapted")
    assert back.intervals == adapted.intervals and back.transforms == adapted.transforms
    cells = all_archs[:200]
    np.testing.assert_allclose(back.predict(cells).interval(target), adapted.predict(cells).interval(target))
    config = json.loads((tmp_path / "adapted" / "predictor.json").read_text())
    config["transforms"][0] = "cube"
    (tmp_path / "adapted" / "predictor.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="unknown transform 'cube'"):
        Predictor.load(tmp_path / "adapted")


def test_a_checkpoint_from_before_intervals_were_recorded_still_loads(tiny_predictor, tmp_path):
    tiny_predictor.save(tmp_path / "p")
    config = json.loads((tmp_path / "p" / "predictor.json").read_text())
    del config["intervals"], config["transforms"]
    (tmp_path / "p" / "predictor.json").write_text(json.dumps(config))
    old = Predictor.load(tmp_path / "p")
    np.testing.assert_allclose(old.calibration, tiny_predictor.calibration)
    assert all("older checkpoint" in m.method for m in old.intervals)
    assert all(not m.level_knots for m in old.intervals)                 # no level map: identity


def test_records_coverage_counts_truth_inside_the_shown_interval():
    from nagui.predictor.evaluate import records_coverage

    acc = "test_acc@cifar10"
    rec = lambda arch, truth, lo, hi: {"arch": arch, "truth": {acc: truth},  # noqa: E731
                                       "predicted": {acc: {"mean": (lo + hi) / 2, "lo90": lo, "hi90": hi}}}
    records = [rec("a", 94.0, 93.0, 95.0), rec("a", 94.0, 93.0, 95.0), rec("b", 90.0, 91.0, 92.0),
               rec("c", 80.0, 79.0, 81.0)]
    cover = records_coverage(records, acc)
    assert cover["coverage90_guided"] == 0.75 and cover["samples"] == 4
    assert cover["coverage90_guided_distinct"] == pytest.approx(2 / 3) and cover["distinct"] == 3
    with pytest.raises(ValueError, match="no record carries"):
        records_coverage([{"arch": "a", "truth": {acc: None}, "predicted": {acc: {"lo90": 1, "hi90": 2}}}], acc)
