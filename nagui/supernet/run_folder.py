"""A super-network run folder: what was built, trained, profiled and exported.

::

    RUN/build.json          the super-cell, slots, channels, preset and how it was chosen
    RUN/checkpoint/         training checkpoint (safetensors + JSON, one per epoch, atomic)
    RUN/profile.sqlite      measured sub-networks (one row per mask and checkpoint)
    RUN/export/             the chosen sub-network (ONNX, safetensors + JSON)
"""
from __future__ import annotations

import json
from pathlib import Path

from ..checkpoint_files import write_atomically
from ..data.sources import user_data_dir
from ..errors import NaguiError
from ..nets.supernet import SuperNetSpec

BUILD_NAME = "build.json"
FORMAT = "nagui-supernet-build-v1"


class RunFolderError(NaguiError, ValueError):
    """A run folder that lacks a step, or was built for something else."""


def default_run_dir() -> Path:
    return user_data_dir() / "runs" / "supernet" / "default"


def write_build(run_dir: str | Path, spec: SuperNetSpec, preset: str, build: dict) -> Path:
    """Record the build; refuses to replace the spec of a run that already trained."""
    run = Path(run_dir)
    path = run / BUILD_NAME
    if path.exists() and (run / "checkpoint").exists():
        old = read_build(run)
        if old["spec"] != spec.as_dict():
            raise RunFolderError(f"{run} already holds a super-network trained with super-cell "
                                 f"{old['spec']['super_cell']} (slots {old['spec']['slots']}); build into a new --run "
                                 "folder instead of replacing it")
    write_atomically(path, json.dumps({"format": FORMAT, "spec": spec.as_dict(), "preset": preset, "build": build},
                                      indent=2, allow_nan=False))
    return path


def read_build(run_dir: str | Path) -> dict:
    path = Path(run_dir) / BUILD_NAME
    if not path.is_file():
        raise RunFolderError(f"{run_dir} has no {BUILD_NAME}: run `nagui supernet build --run {run_dir}` first")
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RunFolderError(f"{path} is not a nagui super-network build (format {FORMAT!r} expected)")
    return data


def build_spec(run_dir: str | Path) -> tuple[SuperNetSpec, str]:
    data = read_build(run_dir)
    try:
        return SuperNetSpec.from_dict(data["spec"]), str(data["preset"])
    except (KeyError, ValueError) as exc:
        raise RunFolderError(f"{Path(run_dir) / BUILD_NAME}: {exc}") from None
