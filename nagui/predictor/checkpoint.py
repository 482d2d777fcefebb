"""A predictor's checkpoint folder: ``predictor.json`` (the configs, normalisation,
intervals, transforms and label protocol) and ``weights.safetensors`` (every member).

Read without executing anything; a folder written for another config is refused with a
:class:`CheckpointError` that names what does not fit.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import __version__
from ..checkpoint_files import mismatch_summary, read_meta, read_tensors, tensor_mismatches
from ..errors import NaguiError
from . import units
from .calibration import IntervalModel
from .model import ModelConfig, build_member, member_kind
from .training import TrainConfig

CHECKPOINT_FORMAT = "nagui-predictor/1"
META_NAME, WEIGHTS_NAME = "predictor.json", "weights.safetensors"


class CheckpointError(NaguiError, RuntimeError):
    """A predictor checkpoint that is missing, unreadable, or from another config."""


def checkpoint_meta(predictor) -> dict:
    """The JSON description of a :class:`~nagui.predictor.Predictor` (everything but weights)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "nagui_version": __version__,
        "model": predictor.model_config.to_dict(),
        "train": asdict(predictor.train_config),
        "members": len(predictor.members),
        "norm_mean": predictor.norm_mean.tolist(),
        "norm_std": predictor.norm_std.tolist(),
        "calibration": predictor.calibration.tolist(),
        "intervals": [m.to_dict() for m in predictor.intervals],
        "transforms": list(predictor.transforms),
        "protocol": predictor.protocol,
    }


def _read_description(cfg: dict, config_path: Path) -> dict:
    try:
        model_config = ModelConfig.from_dict(cfg["model"])
        norm_mean, norm_std, calib = (np.asarray(cfg[k], dtype=np.float64)
                                      for k in ("norm_mean", "norm_std", "calibration"))
        # checkpoints written before intervals/transforms were recorded: a scale per
        # objective and the default transforms, as they were fitted
        intervals = ([IntervalModel.from_dict(d) for d in cfg["intervals"]] if "intervals" in cfg else
                     [IntervalModel(float(c), method="out-of-bag scale (older checkpoint)") for c in calib])
        transforms = [units.check_transform(k) for k in cfg.get("transforms") or
                      [units.default_transform(o) for o in model_config.objectives]]
        out = {"model_config": model_config, "train_config": TrainConfig(**cfg["train"]), "norm_mean": norm_mean,
               "norm_std": norm_std, "intervals": intervals, "protocol": cfg.get("protocol", {}),
               "transforms": transforms, "members": int(cfg["members"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{config_path} does not describe a predictor: {exc}") from None
    j = len(model_config.objectives)
    if not (norm_mean.shape == norm_std.shape == calib.shape == (j,)) or len(intervals) != j \
            or len(transforms) != j:
        raise CheckpointError(f"{config_path}: normalisation/calibration/interval/transform lists must have {j} "
                              f"entries (one per objective), got {norm_mean.shape[0]}, {norm_std.shape[0]}, "
                              f"{calib.shape[0]}, {len(intervals)}, {len(transforms)}")
    return out


def _members(tensors: dict, model_config: ModelConfig, n_members: int) -> tuple[list, list[str]]:
    """The members rebuilt from the weights, or the problems that stop it."""
    members, problems = [], []
    for i in range(n_members):
        model = build_member(model_config, member_kind(model_config, i, n_members))
        prefix = f"member{i}."
        found = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        problems += tensor_mismatches(model.state_dict(), found, prefix)
        if not problems:
            model.load_state_dict(found)
            members.append(model)
    extra = [k for k in tensors if not any(k.startswith(f"member{i}.") for i in range(n_members))]
    return members, problems + [f"unexpected tensor {k}" for k in extra[:3]]


def read_checkpoint(directory: str | Path, expect_objectives: Sequence[str] | None = None) -> dict:
    """The :class:`~nagui.predictor.Predictor` constructor's arguments from a checkpoint folder."""
    directory = Path(directory)
    cfg, config_path, weights_path = read_meta(directory, META_NAME, WEIGHTS_NAME, CHECKPOINT_FORMAT,
                                               CheckpointError, "predictor checkpoint")
    args = _read_description(cfg, config_path)
    model_config, n_members = args["model_config"], args.pop("members")
    if expect_objectives is not None and tuple(expect_objectives) != model_config.objectives:
        raise CheckpointError(f"checkpoint {directory} predicts {list(model_config.objectives)}, "
                              f"but {list(expect_objectives)} were asked for")
    members, problems = _members(read_tensors(weights_path, CheckpointError), model_config, n_members)
    if problems:
        raise CheckpointError(
            f"weights in {weights_path} do not fit the config in {config_path} "
            f"(objectives {list(model_config.objectives)}, hidden={model_config.hidden}, "
            f"layers={model_config.layers}, noise_aware={model_config.noise_aware}, "
            f"member_kinds={list(model_config.member_kinds)}, members={n_members}): "
            + mismatch_summary(problems))
    return {**args, "members": members}


__all__ = ["CHECKPOINT_FORMAT", "CheckpointError", "checkpoint_meta", "read_checkpoint"]
