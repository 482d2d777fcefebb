"""The ensemble predictor on real table labels: fitting, calibration, checkpoints, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from scipy.stats import kendalltau

from nagui.predictor.encoding import encode
from nagui.space import Arch
from nagui.predictor.ensemble import FREE_OBJECTIVES, CheckpointError, Predictor, TrainConfig
from nagui.predictor.isomorphs import COPY_ROWS, ISOMORPH_COPIES, copies_per_cell
from nagui.predictor.training import holdout_folds
from nagui.predictor.model import ModelConfig, build_member
from nagui.predictor.training import FULL_BATCH, adamw, batch_size_for

# 60 full-batch steps keep these fits at seconds; the default mini-batch schedule's quality is
# a benchmark (BENCHMARKS.md, issue #16), not a timed test
FAST = TrainConfig(members=3, epochs=60, seed=0, batch_size=FULL_BATCH)


@pytest.fixture(scope="module")
def split(bench):
    rng = np.random.default_rng(0)
    idx = rng.choice(len(bench), 300, replace=False)
    test = rng.choice(np.setdiff1d(np.arange(len(bench)), idx), 2000, replace=False)
    archs = [bench.arch(int(i)) for i in range(len(bench))]
    return idx, test, archs


@pytest.fixture(scope="module")
def fitted(bench, split):
    idx, _, archs = split
    t = bench.table
    return Predictor.fit([archs[i] for i in idx], {o: t[o].to_numpy()[idx] for o in ("test_acc@cifar10", "latency@raspi4")},
                         train_config=FAST, hidden=32)


def test_one_model_predicts_every_objective(fitted, bench, split):
    _, test, archs = split
    assert fitted.objectives == ("test_acc@cifar10", "latency@raspi4") + FREE_OBJECTIVES
    pred = fitted.predict([archs[i] for i in test])
    t = bench.table
    tau_acc = kendalltau(pred["test_acc@cifar10"], t["test_acc@cifar10"].to_numpy()[test])[0]
    lat = t["latency@raspi4"].to_numpy()[test]
    ok = np.isfinite(lat)
    tau_lat = kendalltau(pred["latency@raspi4"][ok], lat[ok])[0]
    assert tau_acc > 0.5 and tau_lat > 0.5  # learned something real (benchmarks hold the targets)
    np.testing.assert_allclose(pred["flops"], t["flops"].to_numpy()[test])  # free objectives are exact
    assert (pred.std[:, :2] > 0).all() and (pred.std[:, 2:] == 0).all()


def test_ninety_percent_interval_is_calibrated(fitted, bench, split):
    _, test, archs = split
    pred = fitted.predict([archs[i] for i in test])
    for o in ("test_acc@cifar10", "latency@raspi4"):
        truth = bench.table[o].to_numpy()[test]
        ok = np.isfinite(truth)
        lo, hi = pred.interval(o, 0.9)
        coverage = ((truth[ok] >= lo[ok]) & (truth[ok] <= hi[ok])).mean()
        assert 0.8 <= coverage <= 0.97, (o, coverage)
        assert (hi > lo).all()


def test_the_level_is_calibrated_where_users_look(fitted, bench, split):
    """The ranking loss stretches the raw outputs (it put NB201's best cells at 99-101%);
    the level map fitted out-of-fold brings the best cells back to their labels' scale
    without reordering any two cells."""
    _, test, archs = split
    cells = [archs[i] for i in test]
    truth = bench.table["test_acc@cifar10"].to_numpy()[test]
    best = truth >= np.quantile(truth, 0.95)
    shown = fitted.predict(cells)["test_acc@cifar10"]
    assert abs(shown[best].mean() - truth[best].mean()) < 1.5      # raw outputs: 9 points off (BENCHMARKS.md)
    assert shown.max() < 95.0                          # the best NB201 cell reaches 94.41%
    model = fitted.intervals[0]
    assert model.level_knots and "level mapped" in model.method
    raw = fitted.cell_outputs(cells)[:, :, 0].mean(axis=0)
    assert kendalltau(raw, shown)[0] == pytest.approx(1.0)


def test_checkpoint_round_trip(fitted, split, tmp_path):
    _, test, archs = split
    fitted.save(tmp_path / "ckpt")
    cfg = json.loads((tmp_path / "ckpt/predictor.json").read_text())
    assert cfg["model"]["objectives"][0] == "test_acc@cifar10" and cfg["members"] == 3
    loaded = Predictor.load(tmp_path / "ckpt")
    a, b = fitted.predict([archs[i] for i in test[:50]]), loaded.predict([archs[i] for i in test[:50]])
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-6)
    np.testing.assert_allclose(a.std, b.std, rtol=1e-6)


def test_checkpoint_from_another_config_is_refused_clearly(fitted, tmp_path):
    fitted.save(tmp_path / "a")
    cfg_path = tmp_path / "a/predictor.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["model"]["hidden"] = 64  # weights were trained with hidden=32
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=r"do not fit the config.*hidden=64.*checkpoint \(32"):
        Predictor.load(tmp_path / "a")

    fitted.save(tmp_path / "b")
    with pytest.raises(CheckpointError, match="predicts .* but .*were asked for"):
        Predictor.load(tmp_path / "b", expect_objectives=["test_acc@cifar100"])
    tensors = load_file(str(tmp_path / "b/weights.safetensors"))
    tensors.pop(next(iter(tensors)))
    save_file(tensors, str(tmp_path / "b/weights.safetensors"))
    with pytest.raises(CheckpointError, match="missing tensor"):
        Predictor.load(tmp_path / "b")
    (tmp_path / "b/weights.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        Predictor.load(tmp_path / "b")
    (tmp_path / "b/predictor.json").write_text("{")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        Predictor.load(tmp_path / "b")
    with pytest.raises(CheckpointError, match="has no predictor.json"):
        Predictor.load(tmp_path / "nothing")


def test_an_ensemble_of_two_member_kinds_is_calibrated_and_round_trips(fitted, bench, split, tmp_path):
    """GIN and DAG-exec members, each leaving out a fold of its own (6 folds for 6 members, so
    each trains on 5/6 of the labels, not the GIN-only fit's 2/3), and the checkpoint rebuilds
    each member as its kind."""
    idx, test, archs = split
    t = bench.table
    targets = {o: t[o].to_numpy()[idx] for o in ("test_acc@cifar10", "latency@raspi4")}
    mixed = Predictor.fit([archs[i] for i in idx], targets, train_config=FAST, hidden=32,
                          member_kinds=("gin", "dag-exec"))
    assert [type(m).__name__ for m in mixed.members] == ["CellGNN"] * 3 + ["DagExecNet"] * 3
    assert (fitted.protocol["holdout_folds"], mixed.protocol["holdout_folds"]) == (3, 6)
    x = encode([archs[i] for i in test[:20]])
    for gin_only, gin_mixed in zip(fitted.members, mixed.members[:3]):   # same start, other folds
        assert not torch.allclose(gin_only(x), gin_mixed(x))
    pred = mixed.predict([archs[i] for i in test])
    truth = t["test_acc@cifar10"].to_numpy()[test]
    assert kendalltau(pred["test_acc@cifar10"], truth)[0] > 0.6
    lo, hi = pred.interval("test_acc@cifar10", 0.9)
    assert 0.8 <= np.mean((truth >= lo) & (truth <= hi)) <= 0.98
    mixed.save(tmp_path / "mixed")
    assert json.loads((tmp_path / "mixed/predictor.json").read_text())["model"]["member_kinds"] == ["gin", "dag-exec"]
    loaded = Predictor.load(tmp_path / "mixed")
    np.testing.assert_allclose(loaded.predict([archs[i] for i in test[:50]]).mean,
                               mixed.predict([archs[i] for i in test[:50]]).mean, rtol=1e-6)


def test_each_member_leaves_out_a_fold_of_its_own_where_every_fold_gets_two_cells():
    cfg = TrainConfig(members=4)
    assert holdout_folds(128, cfg, 2) == 8          # the plain default: each member trains on 7/8
    assert holdout_folds(16, cfg, 2) == 8
    assert holdout_folds(15, cfg, 2) == 4           # too few cells: the kinds share 4 folds
    assert holdout_folds(8, cfg, 2) == 4
    assert holdout_folds(7, cfg, 2) == 0            # too few for any: no calibration folds
    assert holdout_folds(128, cfg, 1) == 4          # one kind: one fold per member, as before
    assert holdout_folds(128, TrainConfig(members=1), 2) == 0
    assert holdout_folds(128, TrainConfig(holdout=False), 2) == 0


def test_labelled_cells_bring_as_many_isomorph_copies_as_fit_in_the_copy_rows(fitted, split):
    from nagui.predictor.isomorphs import isomorph_copies

    idx, _, archs = split
    per_cell = copies_per_cell(len(idx), ISOMORPH_COPIES)
    assert (ISOMORPH_COPIES, COPY_ROWS, per_cell) == (7, 2048, 5)      # 300 cells: 5 copies each where the class has them
    assert [copies_per_cell(n, 7) for n in (128, 256, 512, 513, 1000, 15625)] == [7, 7, 3, 0, 0, 0]
    expected = isomorph_copies([archs[i] for i in idx], per_cell, seed=FAST.seed)[0]
    three = isomorph_copies([archs[i] for i in idx], 3, seed=FAST.seed)[0]   # the cap before issue #16's study
    assert fitted.protocol["isomorph_copies"] == len(expected) > len(three)


def test_fit_errors(split):
    _, _, archs = split
    with pytest.raises(ValueError, match="zero cells"):
        Predictor.fit([], {"a": []})
    with pytest.raises(ValueError, match="3 values for 2 cells"):
        Predictor.fit(archs[:2], {"test_acc@cifar10": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="no usable label"):
        Predictor.fit(archs[:2], {"test_acc@cifar10": [np.nan, np.nan]})
    with pytest.raises(ValueError, match="members"):
        TrainConfig(members=0)


def test_noise_aware_predictor_is_differentiable(bench, split):
    idx, _, archs = split
    p = Predictor.fit([archs[i] for i in idx[:60]], {"test_acc@cifar10": bench.table["test_acc@cifar10"].to_numpy()[idx[:60]]},
                      train_config=TrainConfig(members=2, epochs=20), hidden=16, noise_aware=True)
    from nagui.predictor.encoding import encode
    from nagui.predictor.noise import soft_marginal

    x = soft_marginal(encode([archs[0], archs[1]], split_dead=False), torch.tensor([0.5, 0.9])).requires_grad_(True)
    out = p.normalised_output(x, torch.tensor([0.5, 0.9]))
    assert out.shape == (2, len(p.objectives))
    (grad,) = torch.autograd.grad(out[:, 0].sum(), x)
    assert grad.shape == x.shape and grad.abs().sum() > 0
    score, g2 = p.grad(x, torch.tensor([0.5, 0.9]), {"test_acc@cifar10": 1.0, "flops": -0.5})
    assert score.shape == (2,) and g2.shape == x.shape
    with pytest.raises(KeyError, match="no objective"):
        p.grad(x, None, {"latency@raspi4": 1.0})
    assert p.predict([archs[0]]).mean.shape == (1, len(p.objectives))


def test_isomorph_copies_share_the_class_and_never_a_labelled_cell(bench):
    from nagui.predictor.isomorphs import isomorph_copies
    from nagui.space import iso_key

    archs = [bench.arch(i) for i in range(0, 15625, 125)]
    copies, source = isomorph_copies(archs, 3, seed=1)
    assert len(copies) == len(source) > len(archs)
    labelled = {a.to_str() for a in archs}
    assert all(c.to_str() not in labelled for c in copies)
    assert all(iso_key(c) == iso_key(archs[s]) for c, s in zip(copies, source))
    assert np.bincount(source).max() <= 3
    again, _ = isomorph_copies(archs, 3, seed=1)
    assert [c.to_str() for c in again] == [c.to_str() for c in copies]
    assert len(isomorph_copies(archs, 0)[0]) == 0
    with pytest.raises(ValueError, match="copies must be >= 0"):
        isomorph_copies(archs, -1)


def test_a_fit_records_its_isomorph_copies_and_a_full_table_needs_none(bench):
    idx = np.arange(0, 15625, 250)
    archs = [bench.arch(int(i)) for i in idx]
    values = bench.table["test_acc@cifar10"].to_numpy()[idx]
    fitted = Predictor.fit(archs, {"test_acc@cifar10": values}, train_config=TrainConfig(members=2, epochs=5), hidden=8)
    assert fitted.protocol["isomorph_copies"] > 0
    plain = Predictor.fit(archs, {"test_acc@cifar10": values}, train_config=TrainConfig(members=2, epochs=5), hidden=8,
                          isomorph_copies=0)
    assert plain.protocol["isomorph_copies"] == 0


def test_accuracy_alone_runs_each_class_once_and_predicts_the_same(bench):
    """Predicting all cells with accuracy and the exact flops/params needs only the members
    of each class that its mean takes (10,311 rows, not 15,625): the same predictions."""
    from nagui.predictor.isomorphs import class_members

    everything = list(bench.archs)
    indices, average, own = class_members(everything, with_cells=False)
    assert len(indices) == 10_311 and average.shape == (15_625, 10_311)
    run = {tuple(r) for r in indices.tolist()}
    assert all((own[i] >= 0) == (tuple(everything[i].indices) in run) for i in range(0, 15_625, 7))
    idx = np.arange(0, 15625, 250)
    predictor = Predictor.fit([everything[i] for i in idx], {"test_acc@cifar10": bench.table["test_acc@cifar10"]
                                                            .to_numpy()[idx]},
                              train_config=TrainConfig(members=2, epochs=2), hidden=8)
    cells = everything[::5]
    fast = predictor.predict(cells)
    mu_z, sd_z = predictor._spread_and_sd(predictor.cell_outputs(cells, own_costs=True))
    j = predictor.objectives.index("test_acc@cifar10")
    np.testing.assert_allclose(fast._mu_t[:, j], mu_z[:, j] * predictor.norm_std[j] + predictor.norm_mean[j], rtol=1e-6)
    np.testing.assert_allclose(fast._sd_t[:, j], sd_z[:, j] * predictor.norm_std[j], rtol=1e-6)
    exact = predictor.predict(cells[:40], exact_free=False)          # the heads' own flops, at each cell
    assert not np.allclose(exact["flops"], fast["flops"][:40])


def test_mini_batches_grow_instead_of_the_steps_on_a_large_set():
    from nagui.diffusion.problem import PredictorSpec
    from nagui.predictor.training import learning_rate_for
    cfg = TrainConfig()                                  # 100 epochs of 32 cells, at most 1,200 steps
    assert batch_size_for(384, cfg) == 32                # 128 cells + copies: 1,200 steps
    assert learning_rate_for(32, cfg) == cfg.lr
    assert batch_size_for(768, cfg) == 64                # 256 cells + copies: 1,200 steps of 64 ...
    assert learning_rate_for(64, cfg) == pytest.approx(cfg.lr * 2 ** 0.5)   # ... each moving sqrt(2) further
    big = batch_size_for(11_719, cfg)                     # 3/4 of all cells: one member's share
    assert big > 32 and 100 * -(-11_719 // big) <= cfg.max_steps
    guiding = PredictorSpec().train_config()             # the guiding predictors' schedule is unchanged
    for rows in (11_719, 15_625):
        assert batch_size_for(rows, guiding) == FULL_BATCH
        assert learning_rate_for(FULL_BATCH, guiding) == guiding.lr
    with pytest.raises(ValueError, match="max_steps"):
        TrainConfig(max_steps=0)


def test_members_train_with_one_fused_adamw_step_that_matches_the_plain_one():
    config = ModelConfig(("test_acc@cifar10", *FREE_OBJECTIVES), hidden=8)
    torch.manual_seed(0)
    fused_member = build_member(config, "gin")
    plain_member = build_member(config, "gin")
    plain_member.load_state_dict(fused_member.state_dict())
    fused_opt = adamw(fused_member.parameters(), TrainConfig())
    assert fused_opt.defaults["fused"] is True
    plain_opt = torch.optim.AdamW(plain_member.parameters(), lr=TrainConfig.lr, weight_decay=TrainConfig.weight_decay)
    x = encode([Arch.parse("|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|")] * 4)
    for member, opt in ((fused_member, fused_opt), (plain_member, plain_opt)):
        for _ in range(3):
            opt.zero_grad()
            member(x).square().sum().backward()
            opt.step()
    for (name, a), b in zip(fused_member.state_dict().items(), plain_member.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
