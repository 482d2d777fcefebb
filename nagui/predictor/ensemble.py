"""The multi-objective predictor: a calibrated deep ensemble of cell models (:mod:`.model`:
GIN members, and for plain predictors DAG-execution members too, one of each kind per fold).

- A cross-validation ensemble: the labelled cells are split into one fold per member and
  member m trains on every fold but m. The held-out cells calibrate the interval (each
  cell is predicted by the member that did not see it; :mod:`.calibration`: a width that
  grows with the members' spread on the cell, scaled split-conformally), so
  ``mean +- 1.645 * std`` is a 90% interval on new cells, per objective.
- ``flops`` and ``params`` are always heads too. They cost nothing to compute for any cell,
  so every member also learns them on all 15,625 cells (an auxiliary task that shapes the
  shared trunk; no accuracy or latency label beyond the given ones is used). For concrete
  cells :meth:`Predictor.predict` reports their exact values; the heads serve guidance,
  where the input is a soft encoding.
- Each objective is modelled in its transform's units (:mod:`.units`: log for costs,
  identity by default for accuracy, logit for a transfer target) and z-scored with the
  statistics of its training labels. NaN labels are skipped.
- Loss per labelled objective: MSE + a pairwise ranking term (logistic on pair order).
- Each labelled cell brings up to ``isomorph_copies`` unlabelled cells of its isomorphism
  class with its accuracy labels (:mod:`.isomorphs`; they compute the same function). A
  copy trains the members its cell trains, so calibration stays out-of-fold. Labelled cells
  and copies fill at most :data:`.isomorphs.COPY_ROWS` rows (:func:`.isomorphs.copies_per_cell`).
  Accuracy of a
  cell is predicted as the mean over up to 8 members of its class (costs: the cell alone;
  noise-aware predictors: the cell alone).
- Noise-aware members (``ModelConfig.noise_aware``) learn from soft encodings at a random
  noise level (:mod:`.noise`), without the live flag, as a sampler produces them.
"""
from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from statistics import NormalDist
from typing import Mapping, Sequence

import numpy as np
import torch

from ..checkpoint_files import save_checkpoint
from ..progress import Report, quiet, within
from ..space import Arch, all_op_indices, table_cost
from . import isomorphs, units
from .calibration import IntervalModel, calibrated, conservative, level_map
from .checkpoint import CHECKPOINT_FORMAT, META_NAME, WEIGHTS_NAME, CheckpointError, checkpoint_meta, read_checkpoint
from .encoding import encode, encode_indices
from .model import ModelConfig, build_member, member_kind
from .training import TrainConfig, holdout_folds, train_members

log = logging.getLogger(__name__)

FREE_OBJECTIVES: tuple[str, ...] = ("flops", "params")


@lru_cache(maxsize=2)
def _pool(split_dead: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Encodings of every cell and their log flops/params (the free auxiliary task)."""
    indices = all_op_indices()
    flops, params = table_cost(indices)
    y = torch.tensor(np.log(np.stack([flops, params], axis=1)), dtype=torch.float32)
    return encode_indices(indices, split_dead), y


def _standardised_targets(archs: list[Arch], targets: Mapping[str, Sequence[float]],
                          transforms: Mapping[str, str] | None):
    """The fit's objectives (requested, then the free ones), their modelled units, the raw
    labels y (n, J; NaN = unknown), the labels z-scored in those units, and the mean and sd
    of each objective in its units."""
    requested = [o for o in targets if o not in FREE_OBJECTIVES]
    objectives = tuple(requested) + FREE_OBJECTIVES
    kinds = tuple(units.check_transform((transforms or {}).get(o, units.default_transform(o)))
                  for o in objectives)
    y = np.full((len(archs), len(objectives)), np.nan)
    for j, name in enumerate(requested):
        values = np.asarray(targets[name], dtype=np.float64)
        if values.shape != (len(archs),):
            raise ValueError(f"targets[{name!r}] has {values.size} values for {len(archs)} cells")
        y[:, j] = values
    y[:, len(requested):] = _free_targets(archs)
    y_t = np.stack([units.forward(y[:, j], kinds[j]) for j in range(len(objectives))], axis=1)
    with warnings.catch_warnings():  # an all-NaN column is reported just below
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(y_t, axis=0)
        sd = np.nanstd(y_t, axis=0)
    if np.isnan(mu).any():
        empty = [o for o, m in zip(objectives, mu) if np.isnan(m)]
        raise ValueError(f"no usable label for objective(s) {empty}")
    sd = np.where(sd > 1e-8, sd, 1.0)
    return objectives, kinds, y, (y_t - mu) / sd, mu, sd


def _free_targets(archs: Sequence[Arch]) -> np.ndarray:
    flops, params = table_cost(np.array([a.indices for a in archs]))
    return np.stack([flops, params], axis=1)


@dataclass
class Prediction:
    """Predictions for n cells: ``mean``/``std`` (n, J) in each objective's own units."""

    objectives: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    _mu_t: np.ndarray = field(repr=False)    # mean in modelled units (log for costs, ...)
    _sd_t: np.ndarray = field(repr=False)    # calibrated std in modelled units
    _transforms: tuple[str, ...] = field(repr=False)

    def __getitem__(self, objective: str) -> np.ndarray:
        return self.mean[:, self._col(objective)]

    def _col(self, objective: str) -> int:
        if objective not in self.objectives:
            raise KeyError(f"no objective {objective!r}; this predictor has {list(self.objectives)}")
        return self.objectives.index(objective)

    def interval(self, objective: str, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` interval (Gaussian in modelled units; calibrated at 90%)."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        z = NormalDist().inv_cdf(0.5 + level / 2)
        j = self._col(objective)
        kind = self._transforms[j]
        mu, sd = self._mu_t[:, j], self._sd_t[:, j]
        return units.inverse(mu - z * sd, kind), units.inverse(mu + z * sd, kind)


class Predictor:
    """A fitted ensemble. Build with :meth:`fit` or :meth:`load`."""

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig, members: list[torch.nn.Module],
                 norm_mean: np.ndarray, norm_std: np.ndarray, intervals: Sequence[IntervalModel], protocol: dict,
                 transforms: Sequence[str] | None = None):
        self.model_config = model_config
        self.train_config = train_config
        self.members = members
        self.norm_mean = np.asarray(norm_mean, dtype=np.float64)   # (J,) modelled units
        self.norm_std = np.asarray(norm_std, dtype=np.float64)
        self.intervals = list(intervals)                            # (J,) how each interval is made
        self.transforms = tuple(units.check_transform(k) for k in
                                (transforms or [units.default_transform(o) for o in model_config.objectives]))
        self.protocol = protocol
        j = len(model_config.objectives)
        if len(self.intervals) != j or len(self.transforms) != j:
            raise ValueError(f"need one interval model and one transform per objective ({j}), "
                             f"got {len(self.intervals)} and {len(self.transforms)}")
        for m in self.members:
            m.eval()

    # ---- properties ------------------------------------------------------------------
    @property
    def objectives(self) -> tuple[str, ...]:
        return self.model_config.objectives

    @property
    def calibration(self) -> np.ndarray:
        """(J,) the conformal scale of each objective's interval."""
        return np.array([m.scale for m in self.intervals])

    def to_units(self, normalised: np.ndarray, objective: str) -> np.ndarray:
        """Outputs in normalised units (e.g. of :meth:`_member_outputs`) -> the objective's own units.
        Raw outputs, without the calibrated level map that :meth:`predict` applies."""
        j = self.objectives.index(objective)
        return units.inverse(np.asarray(normalised) * self.norm_std[j] + self.norm_mean[j], self.transforms[j])

    # ---- fitting -----------------------------------------------------------------------
    @classmethod
    def fit(cls, archs: Sequence[Arch], targets: Mapping[str, Sequence[float]], *,
            train_config: TrainConfig = TrainConfig(), hidden: int = 48, layers: int = 3,
            noise_aware: bool = False, member_kinds: Sequence[str] = ModelConfig.member_kinds,
            protocol: dict | None = None,
            transforms: Mapping[str, str] | None = None,
            isomorph_copies: int | None = None, progress: Report = quiet) -> "Predictor":
        """Fit on labelled cells. ``targets`` maps objective names to one value per cell (NaN = unknown);
        ``transforms`` overrides an objective's modelled units (:mod:`.units`); ``isomorph_copies``
        unlabelled cells of each labelled cell's isomorphism class share its accuracy labels
        (default :data:`.isomorphs.ISOMORPH_COPIES`, as many as fit in :data:`.isomorphs.COPY_ROWS` rows; 0 for
        noise-aware fits, where the gain was not measured). ``member_kinds``
        names the member models (:data:`.model.MODEL_KINDS`): each kind gets ``train_config.members``
        members. Each member leaves out its own fold of the labelled cells (``members`` x kinds
        folds; on fewer than 2 cells a fold, the members of a kind share ``members`` folds), so
        out-of-fold calibration holds for the whole ensemble and every member trains on as many
        labels as it can (:func:`holdout_folds`)."""
        archs = [Arch.parse(a) for a in archs]
        if not archs:
            raise ValueError("cannot fit a predictor on zero cells")
        objectives, kinds, y, y_z, mu, sd = _standardised_targets(archs, targets, transforms)

        model_config = ModelConfig(objectives, hidden=hidden, layers=layers, noise_aware=noise_aware,
                                   member_kinds=tuple(member_kinds))
        x = encode(archs, split_dead=not noise_aware)
        if isomorph_copies is None:
            isomorph_copies = 0 if noise_aware else isomorphs.ISOMORPH_COPIES
        copies, source = isomorphs.isomorph_copies(archs, isomorphs.copies_per_cell(len(archs), isomorph_copies),
                                                   seed=train_config.seed)
        x_all, y_all = x, y_z
        if copies:
            y_copy = y_z[source].copy()
            y_copy[:, [j for j, o in enumerate(objectives) if units.is_cost(o)]] = np.nan  # dead ops still run
            free = _free_targets(copies)
            for i, o in enumerate(FREE_OBJECTIVES):
                j = objectives.index(o)
                y_copy[:, j] = (units.forward(free[:, i], kinds[j]) - mu[j]) / sd[j]
            x_all, y_all = torch.cat([x, encode(copies, split_dead=not noise_aware)]), np.concatenate([y_z, y_copy])
        pool_x, pool_y = _pool(split_dead=not noise_aware)
        free_cols = [objectives.index(o) for o in FREE_OBJECTIVES]
        pool_z = (pool_y - torch.tensor(mu[free_cols], dtype=torch.float32)) / torch.tensor(sd[free_cols],
                                                                                             dtype=torch.float32)
        cfg = train_config
        n_members = cfg.members * len(model_config.member_kinds)
        members, in_bag = [], np.ones((n_members, len(archs)), dtype=bool)
        n_folds = holdout_folds(len(archs), cfg, len(model_config.member_kinds))
        folds = np.random.default_rng(cfg.seed).permutation(len(archs)) % max(n_folds, 1)
        start = time.perf_counter()
        data, kind_of = [], [member_kind(model_config, i, n_members) for i in range(n_members)]
        for i, kind in enumerate(kind_of):
            m = i % cfg.members
            # a GIN member's seeds are those of the GIN-only ensemble, so its start is unchanged
            seed = cfg.seed * 1009 + m + 7907 * model_config.member_kinds.index(kind)
            if n_folds:
                in_bag[i] = folds != i % n_folds
            rows = np.nonzero(np.concatenate([in_bag[i], in_bag[i][source]]))[0]   # copies follow their cell
            torch.manual_seed(seed)
            members.append(build_member(model_config, kind))
            data.append((x_all[rows], torch.tensor(y_all[rows], dtype=torch.float32), np.random.default_rng(seed)))
        for k, kind in enumerate(model_config.member_kinds):   # the members of a kind train together
            group = [i for i, member in enumerate(kind_of) if member == kind]
            done, share = k / len(model_config.member_kinds), 1 / len(model_config.member_kinds)
            xs, ys, rngs = zip(*(data[i] for i in group))
            train_members([members[i] for i in group], xs, ys, pool_x, pool_z, free_cols, cfg, noise_aware, rngs,
                          progress=within(progress, done, done + share))
            progress(f"{group[-1] + 1}/{n_members} members fitted ({kind})", done + share)
        log.info("fitted %d members on %d cells in %.1f s", n_members, len(archs), time.perf_counter() - start)

        uncalibrated = [IntervalModel() for _ in objectives]
        predictor = cls(model_config, cfg, members, mu, sd, uncalibrated, dict(protocol or {}), kinds)
        predictor.intervals = predictor._out_of_bag_intervals(archs, y_z, in_bag)
        predictor.protocol.setdefault("train_cells", len(archs))
        predictor.protocol.setdefault("holdout_folds", n_folds)
        predictor.protocol.setdefault("isomorph_copies", len(copies))
        predictor.protocol.setdefault("labels", {o: int(np.isfinite(y[:, j]).sum()) for j, o in enumerate(objectives)})
        return predictor

    def _member_outputs(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """(M, n, J) normalised outputs, no grad, in chunks of each member's
        ``inference_chunk`` cells (:mod:`.model`: the size at which it ran fastest on 2 cores)."""
        outs = []
        dev = self.device
        with torch.inference_mode():
            for model in self.members:
                parts, chunk = [], model.inference_chunk
                for s in range(0, x.shape[0], chunk):
                    tt = None if t is None else t[s:s + chunk].to(dev)
                    parts.append(model(x[s:s + chunk].to(dev), tt).to(x.device))
                outs.append(torch.cat(parts) if parts else torch.zeros(0, len(self.objectives)))
        return torch.stack(outs)

    @property
    def device(self) -> torch.device:
        """Where the members are (inputs on another device are moved there and back)."""
        return next(self.members[0].parameters()).device

    def _zeros_t(self, n: int) -> torch.Tensor | None:
        return torch.zeros(n) if self.model_config.noise_aware else None

    def cell_outputs(self, archs: Sequence[Arch], own_costs: bool = True) -> np.ndarray:
        """(M, n, J) normalised member outputs for concrete cells, as :meth:`predict` uses them:
        each non-cost objective averaged over up to 8 members of the cell's isomorphism class.
        Not for noise-aware predictors (guidance): there it left the transfer target's
        jackknife intervals too narrow (CIFAR-10 guided samples: 52% coverage for one k-draw).
        ``own_costs=False`` says the flops and params heads' outputs at the cells themselves are
        not needed (:meth:`predict` replaces them by exact values): a predictor without another
        cost then runs only the class members (all cells: 10,311 rows instead of 15,625), and
        every column is a class mean."""
        accuracy_like = [j for j, o in enumerate(self.objectives) if not units.is_cost(o)]
        if not len(archs) or not accuracy_like or self.model_config.noise_aware:
            x = encode(archs, split_dead=not self.model_config.noise_aware)
            return self._member_outputs(x, self._zeros_t(len(archs))).numpy().astype(np.float64)
        with_cells = own_costs or any(units.is_cost(o) for o in self.objectives if o not in FREE_OBJECTIVES)
        indices, average, own = isomorphs.class_members(archs, with_cells=with_cells)   # one batch
        x = encode_indices(indices, split_dead=not self.model_config.noise_aware)
        batch = self._member_outputs(x, self._zeros_t(len(indices))).numpy().astype(np.float64)
        if not with_cells:
            return np.stack([average @ member for member in batch])
        outs = batch[:, own]
        for m in range(outs.shape[0]):
            outs[m][:, accuracy_like] = average @ batch[m][:, accuracy_like]
        return outs

    def _out_of_bag_intervals(self, archs: Sequence[Arch], y_z: np.ndarray, in_bag: np.ndarray
                              ) -> list[IntervalModel]:
        """Per objective, calibrated on each labelled cell's prediction by the members that
        did not train on it (split conformal, :func:`.calibration.calibrated`)."""
        outs = self.cell_outputs(archs)                                                          # M, n, J
        spread = np.maximum(outs.std(axis=0), 1e-3)                                              # n, J
        oob = ~in_bag                                                                            # M, n
        held = oob.any(axis=0)
        oob_mean = np.einsum("mn,mnj->nj", oob, outs) / np.maximum(oob.sum(axis=0), 1)[:, None]
        intervals = []
        for j, name in enumerate(self.objectives):
            rows = held & np.isfinite(y_z[:, j])
            if rows.sum() >= 5:
                # the level first (free objectives are computed exactly, they keep their heads' level)
                level = None if name in FREE_OBJECTIVES else level_map(oob_mean[rows, j], y_z[rows, j])
                levelled = IntervalModel(**(level or {}))
                mean, slope = levelled.level(oob_mean[rows, j])
                interval = calibrated(y_z[rows, j] - mean, slope * spread[rows, j],
                                      method=f"split conformal on {int(rows.sum())} out-of-fold cells"
                                             + (", level mapped on them" if level else ""), mean_z=mean,
                                      best_low=units.is_cost(name))
                intervals.append(replace(interval, **(level or {})))
            else:  # too few held-out cells to calibrate
                intervals.append(conservative(f"not calibrated: {int(rows.sum())} out-of-fold cells (< 5)",
                                              int(rows.sum())))
        return intervals

    # ---- prediction ------------------------------------------------------------------
    def _spread_and_sd(self, outs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Member outputs (M, n, J) -> ensemble mean and calibrated std (n, J), normalised units,
        each objective's mean through its calibrated level map (:mod:`.calibration`)."""
        raw = outs.mean(axis=0)
        spread = np.maximum(outs.std(axis=0), 1e-3)
        mu_z, sd_z = np.empty_like(raw), np.empty_like(raw)
        for j, model in enumerate(self.intervals):
            mu_z[:, j], slope = model.level(raw[:, j])
            # a transfer target's map was fitted on the source heads' raw outputs
            sources = raw[:, [self.objectives.index(o) for o in model.sources]] if model.sources else None
            sd_z[:, j] = model.sd(slope * spread[:, j], sources, mu_z[:, j])
        return mu_z, sd_z

    def predict(self, archs: Sequence[Arch], exact_free: bool = True) -> Prediction:
        """Predictions for concrete cells. ``flops`` and ``params`` are computed exactly
        (std 0) unless ``exact_free=False`` asks for the heads' own predictions."""
        archs = [Arch.parse(a) for a in archs]
        mu_z, sd_z = self._spread_and_sd(self.cell_outputs(archs, own_costs=not exact_free))
        mu_t = mu_z * self.norm_std + self.norm_mean
        sd_t = sd_z * self.norm_std
        if exact_free and archs:
            exact = _free_targets(archs)
            for i, o in enumerate(FREE_OBJECTIVES):
                j = self.objectives.index(o)
                mu_t[:, j] = units.forward(exact[:, i], self.transforms[j])
                sd_t[:, j] = 0.0
        mean = np.stack([units.inverse(mu_t[:, j], k) for j, k in enumerate(self.transforms)], axis=1)
        std = np.stack([units.slope(mu_t[:, j], k) * sd_t[:, j] for j, k in enumerate(self.transforms)], axis=1)
        return Prediction(self.objectives, mean, std, mu_t, sd_t, self.transforms)

    def normalised_output(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """Ensemble-mean outputs in normalised units, differentiable w.r.t. ``x`` (B, 8, T).

        Higher means a larger metric (higher accuracy, higher latency). For guidance,
        combine columns with signed weights and take ``torch.autograd.grad`` w.r.t. ``x``.
        """
        if self.model_config.noise_aware and t is None:
            t = torch.zeros(x.shape[0])
        dev = self.device
        xd, td = x.to(dev), (t.to(dev) if t is not None and self.model_config.noise_aware else None)
        return torch.stack([m(xd, td) for m in self.members]).mean(0).to(x.device)

    def grad(self, x: torch.Tensor, t: torch.Tensor | None, weights: Mapping[str, float]) -> tuple[torch.Tensor, torch.Tensor]:
        """Score ``sum_j w_j * normalised_output_j`` (B,) and its gradient w.r.t. ``x`` (B, 8, F).

        ``weights`` maps objective names to signed weights (positive: more is better).
        """
        unknown = [o for o in weights if o not in self.objectives]
        if unknown:
            raise KeyError(f"no objective(s) {unknown}; this predictor has {list(self.objectives)}")
        w = torch.zeros(len(self.objectives), device=x.device)
        for name, value in weights.items():
            w[self.objectives.index(name)] = float(value)
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            score = self.normalised_output(x, t) @ w                       # B
            (g,) = torch.autograd.grad(score.sum(), x)
        return score.detach(), g

    # ---- checkpoints -----------------------------------------------------------------
    def config_dict(self) -> dict:
        return checkpoint_meta(self)

    def save(self, directory: str | Path) -> Path:
        """Write ``predictor.json`` (rebuilds the model) and ``weights.safetensors``; atomic per file."""
        tensors = {f"member{i}.{k}": v for i, m in enumerate(self.members) for k, v in m.state_dict().items()}
        return save_checkpoint(directory, tensors, self.config_dict(), META_NAME, WEIGHTS_NAME, CHECKPOINT_FORMAT)

    @classmethod
    def load(cls, directory: str | Path, expect_objectives: Sequence[str] | None = None) -> "Predictor":
        """Rebuild from :meth:`save`'s files. Raises :class:`CheckpointError` naming what does not fit."""
        return cls(**read_checkpoint(directory, expect_objectives))


__all__ = ["FREE_OBJECTIVES", "CheckpointError", "Prediction", "Predictor", "TrainConfig"]
