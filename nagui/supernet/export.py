"""A chosen sub-network as files that stand alone: ONNX, and safetensors + a JSON config
that :func:`load_subnetwork` rebuilds without the super-network (no pickle, no code run).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import onnx

from ..checkpoint_files import (mismatch_summary, read_meta, read_tensors, save_checkpoint, tensor_mismatches,
                                write_atomically)
from ..errors import NaguiError
from ..measure.latency import export_onnx, ort_session
from ..nets.supernet import SubNetwork
from ..space import Arch, InvalidArchError
from .images import CIFAR10_MEAN, CIFAR10_STD

FORMAT = "nagui-subnetwork-v1"
CONFIG_NAME, WEIGHTS_NAME, ONNX_NAME = "subnetwork.json", "subnetwork.safetensors", "subnetwork.onnx"


class SubnetworkFileError(NaguiError, ValueError):
    """A sub-network folder that is missing, corrupt, or does not match its config."""


def export_subnetwork(sub: SubNetwork, out_dir: str | Path, meta: dict, input_hw: int = 32,
                      classes: Sequence[str] | None = None) -> dict[str, Path]:
    """Write ``subnetwork.onnx``, ``subnetwork.safetensors`` and ``subnetwork.json``.

    The JSON config holds what rebuilding needs (cell, depth, channels, classes) plus
    ``meta`` (mask, super-cell, the measured numbers and where they were measured) and the
    input: shape (the batch axis is free), layout, mean and std, class names. The ONNX
    file takes any batch size and carries the same description in its ``metadata_props``
    (each value a JSON string), so it stands alone without the JSON."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = {"format": FORMAT, "cell": sub.cell.to_str(), "depth": list(sub.depth),
              "channels": sub.stem[0].out_channels, "num_classes": sub.classifier.out_features,
              "input": {"shape": ["batch", 3, input_hw, input_hw], "layout": "NCHW, RGB in [0, 1] then normalised",
                        "mean": list(CIFAR10_MEAN), "std": list(CIFAR10_STD)},
              "classes": list(classes) if classes is not None else None, **meta}
    onnx_bytes = _with_metadata(export_onnx(sub.eval(), input_hw=input_hw, dynamic_batch=True), config)
    write_atomically(out / ONNX_NAME, onnx_bytes)
    save_checkpoint(out, sub.state_dict(), config, CONFIG_NAME, WEIGHTS_NAME, FORMAT)
    return {"onnx": out / ONNX_NAME, "weights": out / WEIGHTS_NAME, "config": out / CONFIG_NAME}


def _with_metadata(onnx_bytes: bytes, config: dict) -> bytes:
    """The ONNX model with every top-level field of ``config`` as a ``metadata_props`` entry (JSON)."""
    model = onnx.load_from_string(onnx_bytes)
    del model.metadata_props[:]
    for key, value in config.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    model.producer_name = "nagui"
    return model.SerializeToString()


def onnx_metadata(onnx_path: str | Path) -> dict:
    """The description an exported ONNX file carries (its ``metadata_props``, decoded)."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    return {entry.key: json.loads(entry.value) for entry in model.metadata_props}


def load_subnetwork(directory: str | Path) -> tuple[SubNetwork, dict]:
    """Rebuild an exported sub-network from its folder (``subnetwork.json`` and
    ``subnetwork.safetensors``; no pickle, no code run).

    Returns ``(net, config)``: ``net`` is a plain ``torch.nn.Module`` in eval mode that maps
    normalised images (B, 3, 32, 32) to logits (B, classes); ``config`` is the JSON
    config: ``input`` (shape, layout, ``mean``/``std`` to normalise with), ``classes``,
    ``mask``, ``super_cell``, ``measured`` (accuracy, latency, FLOPs, params and where).
    Example::

        net, config = load_subnetwork("subnet")
        x = (images / 255 - mean) / std          # mean, std = config["input"]["mean"], ["std"]
        probabilities = net(x).softmax(dim=1)

    Raises :class:`SubnetworkFileError` for a missing, corrupt or mismatched folder."""
    config, _, weights_path = read_meta(directory, CONFIG_NAME, WEIGHTS_NAME, FORMAT, SubnetworkFileError,
                                        "sub-network folder")
    try:
        cell = Arch.parse(config["cell"])
        depth = tuple(int(d) for d in config["depth"])
        sub = SubNetwork(cell, depth, int(config["channels"]), int(config["num_classes"]))
    except (KeyError, TypeError, ValueError, InvalidArchError) as exc:
        raise SubnetworkFileError(f"{Path(directory) / CONFIG_NAME}: bad sub-network config: {exc}") from None
    tensors = read_tensors(weights_path, SubnetworkFileError)
    problems = tensor_mismatches(sub.state_dict(), tensors)
    if problems:
        raise SubnetworkFileError(f"{weights_path} does not match {CONFIG_NAME} (cell {cell}, depth {depth}): "
                                  + mismatch_summary(problems))
    sub.load_state_dict(tensors)
    return sub.eval(), config


def onnx_logits(onnx_path: str | Path, images: np.ndarray) -> np.ndarray:
    """Run an exported ONNX file on normalised (n, 3, H, W) float32 images in one batch."""
    session = ort_session(Path(onnx_path).read_bytes())
    return session.run(None, {session.get_inputs()[0].name: images.astype(np.float32)})[0]


__all__ = ["FORMAT", "SubnetworkFileError", "export_subnetwork", "load_subnetwork", "onnx_logits", "onnx_metadata"]
