"""What a search costs in time: the architectures it trains plus its own compute.

- **Training.** Every fully trained cell costs NB201's own 200-epoch training time for that
  cell (``train_s@cifar10-valid``: seconds on NB201's GPUs, mean of 3 seeds, 25,000
  32x32 training images of the cifar10-valid split, the split NB201's CIFAR-10 searches
  use). A cheap (12-epoch) evaluation costs 12/200 of it.
- **Other datasets** have no per-cell times in the data; their cost is **an estimate**:
  the CIFAR-10 time scaled by images x pixels per epoch (:data:`DATASET_SCALE`):
  CIFAR-100 50,000 x 32x32 (x 2.0), ImageNet16-120 151,700 x 16x16 (x 1.517).
- **The strategy's own compute** (model fits, sampling) is the wall time its ``ask`` and
  ``tell`` took in the run, measured on the machine that ran it (:attr:`Query.seconds`).
- **Setup compute** a strategy needs before its first ask (ours: the diffusion prior's
  training; the super-network's, when one was measured) comes from measurement files
  (:func:`setup_seconds`), never from typed numbers.

Adding NB201's GPU seconds to compute measured here assumes one second of this machine's
compute is worth one GPU second; where that compute ran on a CPU, this overstates its cost.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .harness import Trajectory
from .problem import CHEAP_SHARE

TRAIN_COLUMN = "train_s@cifar10-valid"
_REFERENCE = 25_000 * 32 * 32                      # cifar10-valid: training images x pixels per epoch
DATASET_SCALE = {"cifar10": 1.0,
                 "cifar100": 50_000 * 32 * 32 / _REFERENCE,
                 "ImageNet16-120": 151_700 * 16 * 16 / _REFERENCE}
MEASURED = {"cifar10": "NB201's measured training time", "cifar100": "estimate: CIFAR-10 time x 2.0 (images x pixels)",
            "ImageNet16-120": "estimate: CIFAR-10 time x 1.517 (images x pixels)"}


def train_seconds(table, dataset: str) -> np.ndarray:
    """(cells,) seconds one 200-epoch training of each cell costs on ``dataset``."""
    if dataset not in DATASET_SCALE:
        raise ValueError(f"no training-time rule for {dataset!r}; known: {', '.join(DATASET_SCALE)}")
    if TRAIN_COLUMN not in table.columns:
        raise ValueError(f"the table has no {TRAIN_COLUMN!r} column (NAS-Landscapes' train-all-time)")
    return table[TRAIN_COLUMN].to_numpy(np.float64) * DATASET_SCALE[dataset]


@dataclass
class Setup:
    """Compute a strategy spends before its first ask: ``parts`` maps a name to seconds,
    ``sources`` says where each was read from (the file and its device)."""
    parts: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return float(sum(self.parts.values()))


def setup_lines(setups: dict[str, Setup]) -> list[str]:
    """One Markdown bullet per strategy with setup: each part, where it was read, what is missing."""
    return [f"- setup of {name}: " + ", ".join(f"{k} {v:.1f} s ({s.sources[k]})" for k, v in s.parts.items())
            + "".join(f"; not counted: {m}" for m in s.missing)
            for name, s in setups.items() if s.parts or s.missing]


def search_seconds(run: Trajectory, train_s: np.ndarray, setup: float = 0.0) -> np.ndarray:
    """(queries,) total search time after each query: setup, the strategy's own compute up
    to that query, and the training of every cell asked for so far."""
    cost = np.array([train_s[q.index] * (CHEAP_SHARE if q.fidelity == "cheap" else 1.0) for q in run.queries])
    own = np.array([q.seconds for q in run.queries])
    return setup + own + np.cumsum(cost)


def minutes_to_reach(run: Trajectory, target: float, train_s: np.ndarray, setup: float = 0.0) -> float:
    """Search minutes until a trained cell first reaches ``target`` accuracy (NaN if never)."""
    total = search_seconds(run, train_s, setup)
    for k, q in enumerate(run.queries):
        if q.fidelity == "full" and q.values[run.problem.accuracy] >= target:
            return float(total[k] / 60)
    return float("nan")


def minutes_spent(run: Trajectory, train_s: np.ndarray, setup: float = 0.0) -> float:
    """Search minutes of the whole run (its full budget)."""
    total = search_seconds(run, train_s, setup)
    return float(total[-1] / 60) if len(total) else setup / 60


def setup_seconds(strategy: str, models: dict | None = None, supernet: str | Path | None = None) -> Setup:
    """Setup compute of a strategy, read from what the commands that did it wrote. Ours
    (and the DiffusionNAG-style variant): the diffusion prior's training (its checkpoint's
    ``info.train_s``, written by ``nagui diffusion train``); for ours also the
    super-network's training, from a shipped super-network's ``provenance.json`` (written
    by ``nagui supernet ship``: ``train_s`` and ``device``) when one is given."""
    setup = Setup()
    if strategy not in ("ours", "diffusionnag"):
        return setup
    info = getattr((models or {}).get("diffusion"), "info", None) or {}
    if "train_s" in info:
        setup.parts["diffusion prior training"] = float(info["train_s"])
        setup.sources["diffusion prior training"] = f"the prior's checkpoint (device {info.get('device', '?')})"
    else:
        setup.missing.append("diffusion prior training (the prior records no train_s)")
    if strategy != "ours":
        return setup
    if supernet is None:
        setup.missing.append("super-network training (no trained super-network package given)")
        return setup
    path = Path(supernet)
    try:
        record = json.loads(path.read_text())
        seconds, device = float(record["train_s"]), str(record.get("device", "?"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a super-network provenance record with train_s: {exc}") from None
    setup.parts["super-network training"] = seconds
    setup.sources["super-network training"] = f"{path} ({record.get('epochs', '?')} epochs, device {device})"
    return setup
