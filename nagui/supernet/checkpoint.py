"""The super-network checkpoint of a run folder: ``RUN/checkpoint/``.

At the end of every epoch the weights and the SGD momentum buffers are written as
safetensors files named by epoch, then ``supernet.json`` that names them with their
sha256 (so the JSON only ever names complete files), then older files are removed.
Reading uses safetensors only (no pickle) and checks every file against its sha256; a
checkpoint that is missing, damaged, or trained with another spec/config raises
:class:`SupernetCheckpointError`. Since data order, augmentation and masks are seeded by
(seed, epoch[, step, rank]), weights plus momentum are all a resumed run needs to compute
exactly what an uninterrupted run does.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import torch
from safetensors.torch import save
from torch import nn

from ..checkpoint_files import (mismatch_summary, parse_meta, read_tensors, sha256_of, tensor_mismatches,
                                write_atomically)
from ..errors import NaguiError
from ..nets.supernet import MaskError, SuperNetSpec, SuperNetwork
from .config import SupernetTrainConfig

FORMAT = "nagui-supernet-checkpoint/1"
CHECKPOINT_DIR = "checkpoint"
META_NAME = "supernet.json"


class SupernetCheckpointError(NaguiError, RuntimeError):
    """A super-network checkpoint that is missing, damaged, or from another spec/config."""


def checkpoint_dir(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR


def save_training_checkpoint(run_dir: Path, model: SuperNetwork, optimizer: torch.optim.Optimizer,
                             meta: dict) -> Path:
    """Weights and momentum buffers into files named by epoch, then the JSON that points at
    them (so the JSON only ever names complete files), then old files are removed."""
    directory = checkpoint_dir(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    epoch = meta["epochs_done"]
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    names = {id(p): n for n, p in model.named_parameters()}
    momentum = {names[id(p)]: s["momentum_buffer"].detach().cpu().contiguous()
                for p, s in optimizer.state.items() if s.get("momentum_buffer") is not None}
    files = {"weights": f"weights-e{epoch:04d}.safetensors", "train_state": f"train-state-e{epoch:04d}.safetensors"}
    write_atomically(directory / files["weights"], save(weights, metadata={"format": FORMAT}))
    write_atomically(directory / files["train_state"], save(momentum, metadata={"format": FORMAT}))
    meta = {"format": FORMAT, **meta, **files,
            "sha256": {f: sha256_of(directory / f) for f in files.values()}}
    write_atomically(directory / META_NAME, json.dumps(meta, indent=2, allow_nan=False).encode())
    for old in [*directory.glob("*.safetensors"), *directory.glob(".*.part")]:   # older epochs, killed writes
        if old.name not in files.values():
            old.unlink(missing_ok=True)
    return directory


def read_checkpoint_meta(run_dir: str | os.PathLike) -> dict | None:
    """The checkpoint's JSON, or None when ``run_dir`` has no checkpoint yet."""
    path = checkpoint_dir(run_dir) / META_NAME
    if not path.is_file():
        return None
    meta = parse_meta(path, FORMAT, SupernetCheckpointError)
    for key in ("epochs_done", "spec", "config", "weights", "train_state", "sha256", "history"):
        if key not in meta:
            raise SupernetCheckpointError(f"{path} lacks {key!r}: not a complete super-network checkpoint")
    return meta


def _read_safetensors(directory: Path, meta: dict, key: str) -> dict[str, torch.Tensor]:
    path = directory / meta[key]
    if not path.is_file():
        raise SupernetCheckpointError(f"checkpoint {directory} has no {path.name} (named by {META_NAME})")
    if sha256_of(path) != meta["sha256"].get(meta[key]):
        raise SupernetCheckpointError(f"{path} does not match the sha256 recorded in {META_NAME}: the file is "
                                      "damaged or was replaced")
    return read_tensors(path, SupernetCheckpointError)


def _load_weights(model: nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    problems = tensor_mismatches(model.state_dict(), tensors)
    if problems:
        raise SupernetCheckpointError(f"{where} does not fit the super-network its JSON describes: "
                                      + mismatch_summary(problems, shown=5))
    model.load_state_dict(tensors)


def _spec_of(meta: dict, where: Path) -> SuperNetSpec:
    try:
        return SuperNetSpec.from_dict(meta["spec"])
    except (MaskError, ValueError, TypeError) as exc:
        raise SupernetCheckpointError(f"{where}: bad super-network spec: {exc}") from None


def load_supernet(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[SuperNetwork, dict]:
    """The trained super-network of ``run_dir`` (eval mode) and its checkpoint JSON.
    Weights are read with safetensors only (no pickle) and checked against their sha256."""
    meta = read_checkpoint_meta(run_dir)
    directory = checkpoint_dir(run_dir)
    if meta is None:
        raise SupernetCheckpointError(f"{directory} has no {META_NAME}: train the super-network first")
    model = SuperNetwork(_spec_of(meta, directory / META_NAME))
    _load_weights(model, _read_safetensors(directory, meta, "weights"), directory / meta["weights"])
    return model.to(device).eval(), meta


def _differences(saved: dict, wanted: dict, prefix: str) -> list[str]:
    return [f"{prefix}.{k}: checkpoint has {saved.get(k)!r}, asked for {wanted.get(k)!r}"
            for k in sorted(set(saved) | set(wanted)) if saved.get(k) != wanted.get(k)]


def _with_defaults(saved: dict) -> dict:
    """A saved config with the settings added since it was written at their defaults (which
    is how it was trained)."""
    defaults = {f.name: f.default for f in dataclasses.fields(SupernetTrainConfig)}
    return {**json.loads(json.dumps({k: v for k, v in defaults.items() if k not in saved})), **saved}


def load_resume_state(run_dir: Path, spec: SuperNetSpec, config: SupernetTrainConfig, model: SuperNetwork,
                      optimizer: torch.optim.Optimizer) -> dict:
    """Load the checkpoint of ``run_dir`` into ``model`` and ``optimizer`` (weights and momentum
    buffers) and return its JSON; a checkpoint of another spec or config is refused."""
    meta = read_checkpoint_meta(run_dir)
    directory = checkpoint_dir(run_dir)
    diffs = (_differences(meta["spec"], json.loads(json.dumps(spec.as_dict())), "spec")
             + _differences(_with_defaults(meta["config"]), json.loads(json.dumps(config.as_dict())), "config"))
    if diffs:
        raise SupernetCheckpointError(f"{directory} holds a super-network trained differently: {'; '.join(diffs)}. "
                                      "Use another run dir (or delete this checkpoint) to train this one.")
    _load_weights(model, _read_safetensors(directory, meta, "weights"), directory / meta["weights"])
    params = dict(model.named_parameters())
    momentum = _read_safetensors(directory, meta, "train_state")
    for name, buf in momentum.items():
        if name not in params or params[name].shape != buf.shape:
            raise SupernetCheckpointError(f"{directory / meta['train_state']}: momentum buffer {name} does not fit "
                                          "the super-network")
        optimizer.state[params[name]]["momentum_buffer"] = buf.to(params[name].device)
    return meta


__all__ = ["CHECKPOINT_DIR", "FORMAT", "META_NAME", "SupernetCheckpointError", "checkpoint_dir", "load_resume_state",
           "load_supernet", "read_checkpoint_meta", "save_training_checkpoint"]
