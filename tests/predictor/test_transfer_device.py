"""Few-shot transfer (protocol: k target labels only), the new-device head, and the latency cache."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from nagui.measure.cache import LatencyCache, measure_cells, setting_key
from nagui.measure.latency import LatencyConfig
from nagui.predictor.device import DeviceHead, device_basis
from nagui.predictor.ensemble import TrainConfig
from nagui.predictor.training import FULL_BATCH
from nagui.predictor.transfer import adapt, naive_transfer_score, pretrain

SOURCES = ("test_acc@cifar100", "test_acc@ImageNet16-120")
TARGET = "test_acc@cifar10"


@pytest.fixture(scope="module")
def pretrained(bench):
    idx = np.random.default_rng(1).choice(len(bench), 400, replace=False)
    archs = [bench.arch(int(i)) for i in idx]
    model = pretrain(archs, {s: bench.table[s].to_numpy()[idx] for s in SOURCES},
                     train_config=TrainConfig(members=2, epochs=60, batch_size=FULL_BATCH), hidden=32)
    return model, idx, archs


def test_pretraining_sees_source_labels_only(pretrained):
    model, _, _ = pretrained
    assert TARGET not in model.objectives
    assert model.protocol["target_labels_seen"] == 0 and model.protocol["sources"] == list(SOURCES)


def test_k0_is_the_mean_of_the_source_heads(pretrained, bench):
    model, _, _ = pretrained
    archs = [bench.arch(i) for i in range(0, len(bench), 50)]
    adapted = adapt(model, TARGET)
    assert adapted.protocol["k"] == 0 and adapted.protocol["target_labels_seen"] == 0
    z_src = model._member_outputs(_enc(archs)).mean(0)[:, :2].mean(1).numpy()
    z_tgt = adapted._member_outputs(_enc(archs)).mean(0)[:, 2].numpy()
    np.testing.assert_allclose(z_tgt, z_src, atol=1e-5)
    truth = bench.table[TARGET].to_numpy()[::50]
    assert kendalltau(adapted.predict(archs)[TARGET], truth)[0] > 0.5


def _enc(archs):
    from nagui.predictor.encoding import encode

    return encode(archs)


def test_adapt_with_k_labels_records_the_protocol(pretrained, bench):
    model, pre_idx, pre_archs = pretrained
    k_idx = np.random.default_rng(2).choice(len(bench), 10, replace=False)
    adapted = adapt(model, TARGET, [bench.arch(int(i)) for i in k_idx], bench.table[TARGET].to_numpy()[k_idx],
                    mode="finetune", steps=30, source_archs=pre_archs,
                    source_values={s: bench.table[s].to_numpy()[pre_idx] for s in SOURCES})
    assert adapted.objectives[:3] == SOURCES + (TARGET,)
    assert adapted.protocol["target_labels_seen"] == 10 and adapted.protocol["stage"] == "adapted"
    pred = adapted.predict([bench.arch(i) for i in range(0, len(bench), 50)])[TARGET]
    assert 5 < np.median(pred) < 100  # in accuracy units, from the k labels' statistics


def test_heads_mode_shrinks_towards_equal_weights(pretrained, bench):
    model, _, _ = pretrained
    k_idx = np.random.default_rng(3).choice(len(bench), 20, replace=False)
    archs = [bench.arch(int(i)) for i in k_idx]
    y = bench.table[TARGET].to_numpy()[k_idx]
    loose = adapt(model, TARGET, archs, y, prior_cells=0.01).protocol["source_weights"]
    tight = adapt(model, TARGET, archs, y, prior_cells=1e6).protocol["source_weights"]
    assert tight == pytest.approx({s: 0.5 for s in SOURCES}, abs=1e-3)
    assert loose != pytest.approx(tight, abs=1e-3)


def test_adapt_errors(pretrained, bench):
    model, _, _ = pretrained
    with pytest.raises(ValueError, match="one target value per cell"):
        adapt(model, TARGET, [bench.arch(0)], [1.0, 2.0])
    with pytest.raises(ValueError, match="already a head"):
        adapt(model, SOURCES[0])
    with pytest.raises(ValueError, match="mode"):
        adapt(model, TARGET, [bench.arch(0)], [90.0], mode="magic")


def test_naive_transfer_score_matches_reference(bench):
    t = bench.table
    score = naive_transfer_score({s: t[s].to_numpy() for s in SOURCES})
    assert kendalltau(score, t[TARGET])[0] == pytest.approx(0.858, abs=0.005)


def test_device_head_recovers_a_known_device(bench):
    # pretend titanx_32 is new: hide it from the basis and adapt from 20 of its cells
    basis = device_basis(bench.table)
    assert basis.shape == (len(bench), 35) and np.isfinite(basis).all()
    cols = [c for c in range(35) if c != 24]  # titanx_32 is DEVICES[24]
    truth = bench.table["latency@titanx_32"].to_numpy()
    rng = np.random.default_rng(0)
    k, test = rng.choice(len(bench), 20, replace=False), rng.choice(len(bench), 500, replace=False)
    head = DeviceHead.fit(basis[k][:, cols], truth[k])
    assert head.group == "all" and head.k == 20
    assert kendalltau(head.predict(basis[test][:, cols]), truth[test])[0] > 0.7
    with pytest.raises(ValueError, match="at least 3"):
        DeviceHead.fit(basis[:2], truth[:2])


def test_latency_cache_never_measures_twice(bench, tmp_path):
    cache = LatencyCache(tmp_path / "m.sqlite")
    config = LatencyConfig(runs=5, warmup=1)
    archs = [bench.arch(1), bench.arch(2), bench.arch(1)]
    seen = []
    first = measure_cells(archs, config, cache, progress=lambda text, fraction=None: seen.append((text, fraction)))
    assert seen == [("measured 1/2 new cells", 0.5), ("measured 2/2 new cells", 1.0)] and first[0] == first[2] and all(v > 0 for v in first)
    seen.clear()
    again = measure_cells(archs, config, LatencyCache(tmp_path / "m.sqlite"), progress=lambda text, fraction=None: seen.append(text))
    assert again == first and seen == []
    assert cache.count(setting_key(config)) == 2
    assert cache.count(setting_key(LatencyConfig(threads=2))) == 0  # another setting is another measurement
