"""A chosen sub-network as files that stand alone: ONNX, and safetensors + a JSON config
that :func:`load_subnetwork` rebuilds without the super-network (no pickle, no code run).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..checkpoint_files import read_meta, read_tensors, save_checkpoint, write_atomically
from ..errors import NaguiError
from ..nets.supernet import SubNetwork
from ..space import Arch, InvalidArchError

FORMAT = "nagui-subnetwork-v1"
CONFIG_NAME, WEIGHTS_NAME, ONNX_NAME = "subnetwork.json", "subnetwork.safetensors", "subnetwork.onnx"


class SubnetworkFileError(NaguiError, ValueError):
    """A sub-network folder that is missing, corrupt, or does not match its config."""


def export_subnetwork(sub: SubNetwork, out_dir: str | Path, meta: dict, input_hw: int = 32) -> dict[str, Path]:
    """Write ``subnetwork.onnx``, ``subnetwork.safetensors`` and ``subnetwork.json`` (the
    config plus ``meta``: mask, super-cell, measured numbers, normalisation)."""
    from ..measure.latency import export_onnx
    from .images import CIFAR10_MEAN, CIFAR10_STD

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    onnx_bytes = export_onnx(sub.eval(), input_hw=input_hw)
    write_atomically(out / ONNX_NAME, onnx_bytes)
    config = {"format": FORMAT, "cell": sub.cell.to_str(), "depth": list(sub.depth),
              "channels": sub.stem[0].out_channels, "num_classes": sub.classifier.out_features,
              "input": {"shape": [1, 3, input_hw, input_hw], "layout": "NCHW, RGB in [0, 1] then normalised",
                        "mean": list(CIFAR10_MEAN), "std": list(CIFAR10_STD)}, **meta}
    save_checkpoint(out, sub.state_dict(), config, CONFIG_NAME, WEIGHTS_NAME, FORMAT)
    return {"onnx": out / ONNX_NAME, "weights": out / WEIGHTS_NAME, "config": out / CONFIG_NAME}


def load_subnetwork(directory: str | Path) -> tuple[SubNetwork, dict]:
    """Rebuild an exported sub-network from its JSON config and safetensors weights."""
    config, _, weights_path = read_meta(directory, CONFIG_NAME, WEIGHTS_NAME, FORMAT, SubnetworkFileError,
                                        "sub-network folder")
    try:
        cell = Arch.parse(config["cell"])
        depth = tuple(int(d) for d in config["depth"])
        sub = SubNetwork(cell, depth, int(config["channels"]), int(config["num_classes"]))
    except (KeyError, TypeError, ValueError, InvalidArchError) as exc:
        raise SubnetworkFileError(f"{Path(directory) / CONFIG_NAME}: bad sub-network config: {exc}") from None
    tensors = read_tensors(weights_path, SubnetworkFileError)
    expected = sub.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if tensors[k].shape != expected[k].shape)
    if missing or extra or wrong:
        raise SubnetworkFileError(f"{weights_path} does not match {CONFIG_NAME} (cell {cell}, depth {depth}): "
                                  f"missing {missing[:4]}, unexpected {extra[:4]}, wrong shape {wrong[:4]}")
    sub.load_state_dict(tensors)
    return sub.eval(), config


def onnx_logits(onnx_path: str | Path, images: np.ndarray) -> np.ndarray:
    """Run an exported ONNX file on normalised (n, 3, H, W) float32 images, one at a time."""
    from ..measure.latency import ort_session

    session = ort_session(Path(onnx_path).read_bytes())
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: images[i:i + 1].astype(np.float32)})[0]
                           for i in range(len(images))])


__all__ = ["FORMAT", "SubnetworkFileError", "export_subnetwork", "load_subnetwork", "onnx_logits"]
