"""Scoring a predictor on the table and stating its protocol (nagui.predictor.report), on the real tables."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from nagui.diffusion.problem import PredictorSpec, accuracy_predictor
from nagui.predictor.ensemble import Predictor
from nagui.predictor.report import (PredictorSetupError, check_training_request, describe_protocol,
                                    evaluate_predictor, metrics_rows, objective_unit,
                                    train_on_random_cells, train_predictor_run)
from nagui.runs import RunStore
from nagui.tasks import Cancelled

OBJECTIVES = ["test_acc@cifar10", "latency@raspi4"]


@pytest.fixture(scope="module")
def plain(bench):
    predictor = train_on_random_cells(bench, OBJECTIVES, 60, members=2, epochs=3, seed=3)
    return predictor, evaluate_predictor(predictor, bench)


def test_training_records_its_cells_and_scores_the_rest(plain, bench):
    predictor, ev = plain
    train = predictor.protocol["train_indices"]
    assert train == sorted(np.random.default_rng(3).choice(len(bench), 60, replace=False).tolist())
    assert ev["objectives"] == OBJECTIVES and ev["excluded"] == 60 and ev["cells"] == len(bench) - 60
    assert "15,565 cells not used for training" in ev["scope"]
    for o in OBJECTIVES:
        m, pts = ev["metrics"][o], ev["points"][o]
        assert not set(pts["index"].tolist()) & set(train)
        assert len(pts["true"]) == len(pts["pred"]) == len(pts["lo"]) == len(pts["hi"]) == m["cells"]
        np.testing.assert_array_equal(pts["true"], bench.table[o].to_numpy()[pts["index"]])
        assert -1 <= m["kendall_tau"] <= 1 and -1 <= m["spearman_rho"] <= 1
        assert m["kendall_tau"] == pytest.approx(kendalltau(pts["pred"], pts["true"])[0])
        assert m["spearman_rho"] == pytest.approx(spearmanr(pts["pred"], pts["true"])[0])
        assert m["mae"] == pytest.approx(np.abs(pts["pred"] - pts["true"]).mean())
        assert 0 <= m["coverage"] <= 1 and (pts["lo"] <= pts["pred"]).all() and (pts["pred"] <= pts["hi"]).all()
    # latencies are missing for some cells: those are skipped, accuracies exist for all
    assert ev["metrics"]["test_acc@cifar10"]["cells"] == len(bench) - 60
    assert ev["metrics"]["latency@raspi4"]["cells"] < len(bench) - 60
    assert ev["metrics"]["test_acc@cifar10"]["unit"] == "%" and ev["metrics"]["latency@raspi4"]["unit"] == "ms"
    rows = metrics_rows(ev)
    assert [r["objective"] for r in rows] == OBJECTIVES and rows[0]["Kendall τ"] == ev["metrics"][OBJECTIVES[0]][
        "kendall_tau"]


def test_protocol_in_words_for_a_plain_predictor(plain):
    text = describe_protocol(plain[0])
    assert "Trained on 60 uniform random cells (seed 3)" in text
    assert "test_acc@cifar10 and latency@raspi4 labels" in text
    # the plain default: GIN and DAG-execution members, each leaving out a fold of its own
    assert [type(m).__name__ for m in plain[0].members] == ["CellGNN", "CellGNN", "DagExecNet", "DagExecNet"]
    assert "4 graph networks (2 GIN and 2 DAG-execution) × 3 epochs" in text
    assert "each leaving out 1/4 of the labelled cells" in text and "FLOPs and params are computed exactly" in text


def test_transferred_predictor_is_scored_on_target_cells_it_never_saw(bench, tmp_path):
    spec = PredictorSpec(k=5, seed=2, members=1, epochs=2, pretrain_cells=200)
    predictor = accuracy_predictor(bench, "cifar10", spec, cache_root=tmp_path)
    seen = [bench.index_of(a) for a in predictor.protocol["target_archs"]]
    assert len(seen) == 5
    ev = evaluate_predictor(predictor, bench, cells=[*seen, *range(0, len(bench), 20)])
    assert ev["objectives"] == ["test_acc@cifar10"]          # not the source heads (fitted on every source label)
    assert ev["excluded"] == 5 and ev["cells"] == len(set(range(0, len(bench), 20)) - set(seen))
    assert not set(ev["points"]["test_acc@cifar10"]["index"].tolist()) & set(seen)
    assert "never saw" in ev["scope"] and "k=5" in ev["scope"]
    text = describe_protocol(predictor)
    assert "pretrained on test_acc@cifar100 and test_acc@ImageNet16-120 of 200 cells" in text
    assert "never test_acc@cifar10" in text and "k=5" in text and "noise-aware" in text
    for i in seen:  # the target's labels (and cells) are never spelled out
        assert f"{bench.table.at[i, 'test_acc@cifar10']:.2f}" not in text and str(i) not in text.split()


def test_unrecorded_and_in_sample_scopes(tiny_predictor, bench):
    ev = evaluate_predictor(tiny_predictor, bench, exclude=range(100), cells=range(0, 1000))
    assert ev["cells"] == 900 and ev["points"]["test_acc@cifar10"]["index"].min() == 100
    assert "not recorded" not in ev["scope"] and "restricted to 900 chosen cells" in ev["scope"]
    clone = Predictor(tiny_predictor.model_config, tiny_predictor.train_config, tiny_predictor.members,
                      tiny_predictor.norm_mean, tiny_predictor.norm_std, tiny_predictor.intervals,
                      {"labels": "all 15625 test_acc@cifar10 labels (upper bound)"})
    assert "in-sample" in evaluate_predictor(clone, bench, exclude=[], cells=range(50))["scope"]
    assert "Fitted on all 15625 test_acc@cifar10 labels" in describe_protocol(clone)
    clone.protocol = {}
    ev = evaluate_predictor(clone, bench, objectives=["flops"], cells=range(500))  # the head, not the exact value
    assert "not recorded" in ev["scope"] and ev["cells"] == 500
    assert ev["metrics"]["flops"]["mae"] > 0 and ev["metrics"]["flops"]["unit"] == "MFLOPs"


def test_bad_requests_say_what_is_wrong(bench, tiny_predictor):
    with pytest.raises(PredictorSetupError, match="at least one objective"):
        check_training_request(bench, [], 50)
    with pytest.raises(PredictorSetupError, match=r"unknown objective\(s\) \['accuracy'\]"):
        check_training_request(bench, ["accuracy"], 50)
    with pytest.raises(PredictorSetupError, match="train size must be a whole number in 1..15625"):
        check_training_request(bench, ["test_acc@cifar10"], 0)
    with pytest.raises(PredictorSetupError, match="members must be a positive int"):
        check_training_request(bench, ["test_acc@cifar10"], 50, members=0)
    with pytest.raises(PredictorSetupError, match=r"member_kinds must be distinct names among \['gin', 'dag-exec'\]"):
        check_training_request(bench, ["test_acc@cifar10"], 50, member_kinds=["mlp"])
    with pytest.raises(PredictorSetupError, match="no head for"):
        evaluate_predictor(tiny_predictor, bench, objectives=["latency@raspi4"])
    assert objective_unit("test_acc_12ep@cifar100") == "%" and objective_unit("params") == "M params"


def test_training_run_is_stored_and_loads_back(bench, tmp_path):
    store = RunStore(tmp_path / "runs")
    seen = []
    run, predictor, ev = train_predictor_run(store, bench, ["test_acc@cifar100"], 50, members=1, epochs=3,
                                             report=lambda text, fraction=None: seen.append((text, fraction)))
    assert run.status == "done" and run.kind == "predictor" and run.params["train_size"] == 50
    assert -1 <= run.summary["metrics"]["test_acc@cifar100"]["kendall_tau"] <= 1
    assert run.summary["protocol"].startswith("Trained on 50 uniform random cells")
    assert any("2/2 members fitted (dag-exec)" in t for t, _ in seen) and all(f is None or 0 <= f <= 1 for _, f in seen)
    loaded = Predictor.load(run.path)
    archs = [bench.arch(i) for i in (0, 3731)]
    np.testing.assert_allclose(loaded.predict(archs).mean, predictor.predict(archs).mean, rtol=1e-5)
    assert loaded.protocol["train_indices"] == predictor.protocol["train_indices"]
    # a bad request leaves no run behind; a cancel marks the run
    with pytest.raises(PredictorSetupError):
        train_predictor_run(store, bench, [], 50)
    assert len(store.list("predictor")) == 1

    def cancel(text, fraction=None):
        raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        train_predictor_run(store, bench, ["test_acc@cifar100"], 50, members=1, epochs=1, report=cancel)
    assert sorted(r.status for r in store.list("predictor")) == ["cancelled", "done"]
