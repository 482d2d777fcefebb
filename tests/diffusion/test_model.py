import json

import pytest
import torch

from nagui.diffusion import DiffusionCheckpointError, DiffusionModel, DiffusionTrainConfig
from nagui.diffusion.denoiser import DenoiserConfig, relations


def test_training_learns_and_reports(tiny_model):
    assert tiny_model.info["train_cells"] == 6466
    # x0 cross-entropy of a uniform guess is ln 5 = 1.609; the prior has learnt something
    assert tiny_model.info["final_loss"] < 1.5
    x = torch.nn.functional.one_hot(torch.randint(0, 5, (4, 6)), 5).float()
    p0 = tiny_model.denoise(x, torch.full((4,), 0.05))
    assert p0.shape == (4, 6, 5) and torch.allclose(p0.sum(-1), torch.ones(4, 6))
    # nearly clean input: the denoiser keeps most of it
    assert (p0.argmax(-1) == x.argmax(-1)).float().mean() > 0.8


def test_save_load_round_trip(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "m")
    loaded = DiffusionModel.load(tmp_path / "m")
    x = torch.nn.functional.one_hot(torch.randint(0, 5, (8, 6)), 5).float()
    t = torch.rand(8)
    assert torch.allclose(loaded.denoise(x, t), tiny_model.denoise(x, t))
    assert loaded.config == tiny_model.config and loaded.info == tiny_model.info


def test_load_errors_name_the_problem(tiny_model, tmp_path):
    with pytest.raises(DiffusionCheckpointError, match="has no diffusion.json"):
        DiffusionModel.load(tmp_path / "nothing")
    d = tiny_model.save(tmp_path / "m")
    meta = json.loads((d / "diffusion.json").read_text())

    (d / "diffusion.json").write_text("{not json")
    with pytest.raises(DiffusionCheckpointError, match="not valid JSON"):
        DiffusionModel.load(d)
    (d / "diffusion.json").write_text(json.dumps({**meta, "format": "someone-else/3"}))
    with pytest.raises(DiffusionCheckpointError, match="format 'someone-else/3'"):
        DiffusionModel.load(d)
    # a checkpoint from another config: the weights do not fit, and the message says so
    (d / "diffusion.json").write_text(json.dumps({**meta, "train": {**meta["train"], "width": 48}}))
    with pytest.raises(DiffusionCheckpointError, match="do not fit the config.*width=48"):
        DiffusionModel.load(d)
    (d / "diffusion.json").write_text(json.dumps(meta))
    (d / "denoiser.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(DiffusionCheckpointError, match="not a readable safetensors file"):
        DiffusionModel.load(d)


def test_configs_validate():
    with pytest.raises(ValueError, match="unknown schedule 'wiener'"):
        DiffusionTrainConfig(schedule="wiener")
    with pytest.raises(ValueError, match="steps must be a positive int"):
        DiffusionTrainConfig(steps=0)
    with pytest.raises(ValueError, match="multiple of heads"):
        DenoiserConfig(6, 5, width=30, heads=4)


def test_relations_cover_parent_child_self():
    rel = relations(torch.tensor([[0, 1], [0, 0]]).numpy())
    assert rel.tolist() == [[3, 1], [2, 3]]
