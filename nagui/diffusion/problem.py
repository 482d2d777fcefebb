"""The models that guide generation for a :class:`~nagui.problem.Problem`.

Accuracy is what has to be learnt: the guiding predictor is built under a stated label
protocol (:func:`accuracy_predictor`). Computed costs and device latencies are free
(computed, or measured once for every cell by HW-NAS-Bench), so they guide through
:class:`TableObjective` exactly.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..data.benchmark import DATASETS, column
from ..data.sources import user_data_dir
from ..predictor.ensemble import CheckpointError, Predictor, TrainConfig
from ..predictor.training import FULL_BATCH, FULL_BATCH_MAX_STEPS, batch_size_for
from ..predictor.transfer import adapt, pretrain
from ..problem import Problem, ProblemError
from ..progress import Report, logged
from ..shipped_models import provide
from ..space import Arch
from .constraints import Constraints
from .guidance import Guidance
from .objectives import PredictorObjective, TableObjective
from .tables import CellTables

log = logging.getLogger(__name__)
_logged = logged(log)
LABEL_PROTOCOLS = ("transfer", "all")
GUIDING_RANK_WEIGHT = 1.0
GUIDING_AUX_BATCH = 128   # the free task's cells per step the guiding predictors were trained with


@dataclass(frozen=True)
class PredictorSpec:
    """How the guiding accuracy predictor is trained (the label protocol)."""

    labels: str = "transfer"     # "transfer": source datasets' labels + k target labels; "all": every target label
    k: int = 20                  # target labels for transfer
    seed: int = 0                # which k cells
    members: int = 4
    epochs: int = 150
    pretrain_cells: int = 15625  # source cells for pretraining (all by default)

    def train_config(self) -> TrainConfig:
        """The training settings of the guiding predictor. Its pairwise ranking weight stays at
        the 1.0 it was trained and shipped with (``TrainConfig``'s default is now 3.0, which
        ranks better in the plain protocol, BENCHMARKS.md issue #16): the settings key the
        cache folder, so another weight would retrain the shipped guiding predictors. For the same
        reason they keep the full-batch schedule (``FULL_BATCH``) the plain default left, and
        the free task's 128 cells per step (``GUIDING_AUX_BATCH``; the plain default is now 32),
        and at most 2,400 steps (``FULL_BATCH_MAX_STEPS``, where the batch stays ``FULL_BATCH``: the
        plain default is now 1,200)."""
        return TrainConfig(members=self.members, epochs=self.epochs, seed=0, rank_weight=GUIDING_RANK_WEIGHT,
                           batch_size=FULL_BATCH, aux_batch=GUIDING_AUX_BATCH, max_steps=FULL_BATCH_MAX_STEPS)

    def __post_init__(self) -> None:
        if self.labels not in LABEL_PROTOCOLS:
            raise ProblemError(f"unknown label protocol {self.labels!r}; choose one of {LABEL_PROTOCOLS}")
        if not isinstance(self.k, int) or not 0 <= self.k <= 15625:
            raise ProblemError(f"k must be an int in 0..15625, got {self.k!r}")


def _config_key(config: TrainConfig, rows: int) -> dict:
    """The training settings that key a cache folder. ``max_steps`` came later (issue #16) and
    is left out where it does not bind (the batch stays ``config.batch_size`` for ``rows``
    cells), so the shipped folders keep their names."""
    key = asdict(config)
    if batch_size_for(rows, config) == config.batch_size:
        del key["max_steps"]
    return key


def _cache_dir(kind: str, payload: dict, root: Path | None) -> Path:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
    return (Path(root) if root else user_data_dir() / "models") / f"{kind}-{digest}"


def accuracy_predictor(bench, dataset: str, spec: PredictorSpec = PredictorSpec(), cache_root: Path | None = None,
                       say: Report = _logged):
    """A noise-aware predictor with the head ``test_acc@dataset``, trained under ``spec``.

    transfer: pretrained on the other datasets' test accuracy of ``pretrain_cells`` cells
    (never the target's), then adapted on ``k`` random target cells (counted as queries).
    all: fitted on every cell's target accuracy (an upper bound, not a search).
    Pretrained/fitted models are cached on disk (``cache_root``, default the user data dir)."""
    target = column("test_acc", dataset)
    table = bench.table
    archs = bench.archs
    config = spec.train_config()
    if spec.labels == "all":
        payload = {"kind": "all", "target": target, **_config_key(config, len(archs))}
        path = _cache_dir("predictor-all", payload, cache_root)
        try:
            return Predictor.load(path)
        except CheckpointError:
            pass
        say(f"fitting the guiding predictor on all {len(archs)} {target} labels (cached in {path}) ...")
        pred = Predictor.fit(archs, {target: table[target].to_numpy()}, train_config=config, noise_aware=True,
                             protocol={"labels": f"all {len(archs)} {target} labels (upper bound)"},
                             progress=say)
        pred.save(path)
        return pred
    base = pretrained_predictor(table, dataset, spec, cache_root, say)
    k_idx = np.random.default_rng(2000 + spec.seed).choice(len(archs), spec.k, replace=False) if spec.k else []
    k_idx = [int(i) for i in k_idx]
    values = [bench.query(i, target) for i in k_idx]       # the k target labels: counted queries
    return adapt(base, target, [archs[i] for i in k_idx], values)


def pretrained_predictor_dir(dataset: str, spec: PredictorSpec = PredictorSpec(), cache_root: Path | None = None,
                             cells: int = 15625) -> Path:
    """Where :func:`pretrained_predictor` caches the transfer base for ``dataset``."""
    config = spec.train_config()
    sources = [column("test_acc", d) for d in DATASETS if d != dataset]
    used = min(spec.pretrain_cells, cells)
    payload = {"kind": "pretrain", "sources": sources, "cells": used, **_config_key(config, used)}
    return _cache_dir("pretrain", payload, cache_root)


def pretrained_predictor(table, dataset: str, spec: PredictorSpec = PredictorSpec(), cache_root: Path | None = None,
                         say: Report = _logged):
    """The transfer base: a noise-aware ensemble pretrained on the OTHER datasets' test
    accuracies of ``spec.pretrain_cells`` cells (never ``dataset``'s); cached on disk."""

    config = spec.train_config()
    sources = [column("test_acc", d) for d in DATASETS if d != dataset]
    rng = np.random.default_rng(1000)
    pre_idx = np.sort(rng.choice(len(table), min(spec.pretrain_cells, len(table)), replace=False))
    path = pretrained_predictor_dir(dataset, spec, cache_root, cells=len(table))
    provide(path)
    try:
        return Predictor.load(path)
    except CheckpointError:
        archs = [Arch.from_str(a) for a in table["arch"]]
        say(f"pretraining the guiding predictor on {', '.join(sources)} of {len(pre_idx)} cells "
            f"({spec.members} members x {spec.epochs} epochs; cached in {path}) ...")
        base = pretrain([archs[i] for i in pre_idx], {c: table[c].to_numpy()[pre_idx] for c in sources},
                        train_config=config, noise_aware=True,
                        progress=say)
        base.save(path)
        return base


def build_guidance(problem: Problem, acc_predictor, tables: CellTables, constraints: Constraints = Constraints(),
                   scale: float = 30.0, preferences: np.ndarray | None = None, scalarisation: str = "chebyshev",
                   objectives: Sequence[str] | None = None, cost_log: bool = False) -> tuple[Guidance, np.ndarray]:
    """Guidance for ``objectives`` (default: the problem's) and the feasible set (all cells, bool)."""
    space = tables.space
    terms = []
    for name in objectives or problem.objectives:
        if name == problem.accuracy:
            terms.append(PredictorObjective(acc_predictor, name))
        else:
            terms.append(TableObjective(name, tables.guide_values(name), space.num_nodes, space.num_categories,
                                        log=cost_log))
    limits = []
    if constraints.max_flops is not None:
        limits.append(("flops", tables.column("flops"), constraints.max_flops))
    if constraints.max_params is not None:
        limits.append(("params", tables.column("params"), constraints.max_params))
    for device, ms in constraints.max_latency:
        limits.append((f"latency@{device}", tables.filled_latency(device), ms))
    constraint_terms = []
    for name, values, limit in limits:
        term = TableObjective(name, values, space.num_nodes, space.num_categories)
        constraint_terms.append((term, (np.log(limit) - term.mean) / term.std))
    feasible = constraints.feasible(tables)
    guidance = Guidance(terms, preferences=preferences, scale=scale, scalarisation=scalarisation,
                        constraints=constraints, constraint_terms=constraint_terms)
    guidance.calibrate(space, feasible)
    return guidance, feasible
