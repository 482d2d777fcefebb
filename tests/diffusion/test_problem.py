from pathlib import Path

import pytest

from nagui.diffusion import PredictorSpec, ProblemError
from nagui.diffusion.problem import accuracy_predictor, pretrained_predictor_dir


def test_transfer_predictor_sees_only_k_target_labels(bench, tmp_path):
    spec = PredictorSpec(labels="transfer", k=5, seed=1, members=2, epochs=2, pretrain_cells=300)
    before = bench.counter.count
    pred = accuracy_predictor(bench, "cifar10", spec, cache_root=tmp_path)
    assert bench.counter.count - before <= 5                 # the k target cells are counted queries
    assert pred.model_config.noise_aware and "test_acc@cifar10" in pred.objectives
    assert pred.protocol["target_labels_seen"] == 5
    assert pred.protocol["sources"] == ["test_acc@cifar100", "test_acc@ImageNet16-120"]
    cached = list(tmp_path.glob("pretrain-*"))
    assert len(cached) == 1 and (cached[0] / "weights.safetensors").is_file()
    again = accuracy_predictor(bench, "cifar10", spec, cache_root=tmp_path)   # reuses the pretrained model
    assert again.predict([bench.arch(3731)]).mean.tolist() == pred.predict([bench.arch(3731)]).mean.tolist()


def test_all_labels_predictor_is_the_upper_bound_protocol(bench, tmp_path):
    pred = accuracy_predictor(bench, "ImageNet16-120", PredictorSpec(labels="all", members=1, epochs=1),
                              cache_root=tmp_path)
    assert pred.objectives[0] == "test_acc@ImageNet16-120"
    assert "all 15625" in pred.protocol["labels"]


def test_predictor_spec_validates():
    with pytest.raises(ProblemError, match="unknown label protocol 'some'"):
        PredictorSpec(labels="some")
    with pytest.raises(ProblemError, match="k must be"):
        PredictorSpec(k=-1)


def test_the_default_guiding_predictors_are_the_shipped_ones(tmp_path):
    # TrainConfig's defaults may change (issue #16 raised the ranking weight); the guiding
    # predictors' settings key their cache, so the defaults must still find what assets/ ships
    shipped = {p.name for p in (Path(__file__).parents[2] / "assets" / "models").glob("pretrain-*")}
    wanted = {pretrained_predictor_dir(d, cache_root=tmp_path).name for d in ("cifar10", "cifar100", "ImageNet16-120")}
    assert wanted == shipped, f"the default PredictorSpec would not use the shipped models {sorted(shipped)}"
