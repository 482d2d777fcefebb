"""A predictor's outputs over a fixed set of cells, kept on disk between calls.

Guidance calibrates on the predicted front of every NB201 cell: 15,625 cells through
every member, about 0.4 s on 2 cores, the same for every ``nagui generate`` with the same
guiding predictor. The outputs are saved once as ``.npy`` (read with
``allow_pickle=False``) in the user cache dir, keyed by the sha256 of

- the members' weights (every tensor of every member's state dict, in order), and
- the inputs they were evaluated on,

so a different predictor (another dataset, k, seed or a retrained one) or other inputs
never see another's outputs. A missing or unreadable file is recomputed, never an error.
"""
from __future__ import annotations

import hashlib
import logging
from io import BytesIO
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..checkpoint_files import write_atomically
from ..data.sources import cache_data_dir

log = logging.getLogger(__name__)

FORMAT = 1
KEEP = 128   # files kept (about 60 kB each for NB201); the oldest go first


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/nagui/predictions`` (default ``~/.cache/nagui/predictions``)."""
    return cache_data_dir().parent / "predictions"


def weights_digest(members) -> str:
    """sha256 over every tensor of every member (names, shapes, dtypes and bytes)."""
    h = hashlib.sha256(f"nagui-predictor-outputs-{FORMAT}".encode())
    for m, member in enumerate(members):
        for name, tensor in member.state_dict().items():
            t = tensor.detach().cpu().contiguous()
            h.update(f"{m}:{name}:{tuple(t.shape)}:{t.dtype}".encode())
            h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def tensor_digest(x: torch.Tensor) -> str:
    t = x.detach().cpu().contiguous()
    return hashlib.sha256(f"{tuple(t.shape)}:{t.dtype}".encode() + t.numpy().tobytes()).hexdigest()


def cached_outputs(members, inputs: torch.Tensor, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``compute()`` (the members' outputs on ``inputs``), read from disk when these exact
    weights already produced them on these exact inputs."""
    key = hashlib.sha256((weights_digest(members) + tensor_digest(inputs)).encode()).hexdigest()[:32]
    path = cache_dir() / f"{key}.npy"
    if path.is_file():
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("ignoring the unreadable prediction cache %s (%s)", path, exc)
    values = np.asarray(compute())
    buffer = BytesIO()
    np.save(buffer, values, allow_pickle=False)
    try:
        write_atomically(path, buffer.getvalue())
        _prune(path.parent)
    except OSError as exc:
        log.warning("could not write the prediction cache %s (%s)", path, exc)
    return values


def _prune(folder: Path, keep: int = KEEP) -> None:
    """Delete all but the ``keep`` newest files (another process may delete some meanwhile)."""
    dated = []
    for f in folder.glob("*.npy"):
        try:
            dated.append((f.stat().st_mtime, f))
        except FileNotFoundError:
            continue
    for _, old in sorted(dated, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
