"""Files a user can point nagui at are read without running code: a pickle carrying a
payload is refused everywhere it could be handed in, and the payload never runs."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

from nagui.checkpoint_files import MAX_META_BYTES, parse_meta


class Payload:
    """Unpickling this would create ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PAYLOAD-RAN"
    yield path
    assert not path.exists(), "the pickle payload ran"


def test_the_payload_is_real(tmp_path):
    """Control: plain pickle.loads does run it (so the refusals below mean something)."""
    ran = tmp_path / "control"
    pickle.loads(pickle.dumps(Payload(ran)))
    assert ran.exists()


def test_checkpoints_holding_a_pickle_are_refused(tmp_path, marker, tiny_model, tiny_predictor):
    from nagui.diffusion.model import DiffusionCheckpointError, DiffusionModel
    from nagui.predictor.ensemble import CheckpointError, Predictor

    evil = pickle.dumps(Payload(marker))
    pred_dir = tiny_predictor.save(tmp_path / "pred")
    (pred_dir / "weights.safetensors").write_bytes(evil)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        Predictor.load(pred_dir)
    model_dir = tiny_model.save(tmp_path / "model")
    torch.save(Payload(marker), model_dir / "denoiser.safetensors")        # torch's own pickle format
    with pytest.raises(DiffusionCheckpointError, match="not a readable safetensors file"):
        DiffusionModel.load(model_dir)


def test_a_data_file_holding_a_pickle_is_refused_before_it_is_read(data_dir, tmp_path, marker):
    """A latency file swapped for a payload: the sha256 check refuses it by name, and even
    the torch.load call behind it (weights_only=True) would not run it."""
    from nagui.data import Benchmark
    from nagui.data.manifest import NB201_FILES
    from nagui.data.sources import DataError

    root = tmp_path / "d"
    for s in NB201_FILES:
        target = root / "nb201" / s.file
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(data_dir / "nb201" / s.file, target)
    latency = root / "nb201/HELP/latency/raspi4.pt"
    latency.unlink()
    torch.save(Payload(marker), latency)
    with pytest.raises(DataError, match="raspi4.pt"):
        Benchmark.load(root)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(latency, weights_only=True)


def test_an_exported_subnetwork_holding_a_pickle_is_refused(trained_home, images_root, bench, tmp_path, marker,
                                                            monkeypatch):
    import shutil

    from nagui.runs import RunStore
    from nagui.supernet.export import SubnetworkFileError, load_subnetwork
    from nagui.workflows.deploy import Deployment

    monkeypatch.setenv("XDG_DATA_HOME", str(trained_home))
    deployment = Deployment(RunStore().list("supernet")[0], data_root=images_root, bench=bench)
    paths = deployment.export(deployment.records()[0]["mask"])
    evil = tmp_path / "evil"
    shutil.copytree(paths["weights"].parent, evil)
    (evil / paths["weights"].name).write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(SubnetworkFileError, match="not a readable safetensors file"):
        load_subnetwork(evil)


def test_an_oversized_or_deep_description_is_refused(tmp_path):
    class MetaError(ValueError):
        pass

    big = tmp_path / "big.json"
    big.write_bytes(b'{"format": "x", "pad": "' + b"a" * (MAX_META_BYTES + 1) + b'"}')
    with pytest.raises(MetaError, match="at most"):
        parse_meta(big, "x", MetaError)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MetaError, match="not valid JSON"):
        parse_meta(deep, "x", MetaError)
