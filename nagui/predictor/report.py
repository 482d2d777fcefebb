"""How good is a predictor? Scores on the benchmark table, and its training protocol in words.

- :func:`train_on_random_cells` — fit on n uniformly random table cells (what
  ``nagui predictor train`` and the app's Predictor page do); the protocol records the
  exact training cells (``train_indices``).
- :func:`evaluate_predictor` — Kendall tau, Spearman rho, MAE and 90% interval coverage
  per objective, plus predicted-vs-true arrays. Scored on every cell whose label the
  predictor never saw: the training cells (``train_indices``) or, for a transferred
  predictor, the k target cells it was adapted on (``target_archs``) are left out.
- :func:`describe_protocol` — what the predictor was trained on, in plain words.
- :func:`train_predictor_run` — the above as one stored run (``predictor`` kind).

Torch is used through :class:`~nagui.predictor.ensemble.Predictor`; nothing here knows
about Streamlit.
"""
from __future__ import annotations

import logging
import math
from typing import Sequence

import numpy as np

from ..errors import NaguiError
from ..objectives import Objective
from ..progress import Report, quiet, within
from ..space import Arch
from .ensemble import FREE_OBJECTIVES, Predictor, TrainConfig
from .evaluate import interval_coverage, rank_scores
from .model import PLAIN_MEMBER_KINDS, ModelConfig

log = logging.getLogger(__name__)
INTERVAL = 0.9
RUN_KIND = "predictor"


class PredictorSetupError(NaguiError, ValueError):
    """A training or evaluation request that cannot be served, said in words."""


def objective_unit(objective: str) -> str:
    """The unit of a table column: ``%`` for accuracies, ``ms`` latencies, ``MFLOPs``, ``M`` params."""
    return Objective.parse(objective).unit


def learnt_objectives(predictor: Predictor) -> list[str]:
    """The objectives learnt from labels (``flops``/``params`` are computed for any cell)."""
    return [o for o in predictor.objectives if o not in FREE_OBJECTIVES]


# ---- training ---------------------------------------------------------------------------
# the Predictor page's choice of member models: label -> ModelConfig.member_kinds
MEMBER_CHOICES = {"GIN + DAG-execution (best ranking)": PLAIN_MEMBER_KINDS,
                  "GIN only (fits 2–3× faster)": ("gin",)}


def check_training_request(bench, objectives: Sequence[str], train_size: int, *, members: int | None = None,
                           epochs: int | None = None, seed: int = 0,
                           member_kinds: Sequence[str] = PLAIN_MEMBER_KINDS) -> tuple[list[str], TrainConfig]:
    """The objectives (stripped) and the :class:`TrainConfig` of a training request, or
    :class:`PredictorSetupError` saying what is wrong with it."""
    objectives = [o.strip() for o in objectives if o and o.strip()]
    if not objectives:
        raise PredictorSetupError("choose at least one objective to predict, e.g. test_acc@cifar10")
    unknown = [o for o in objectives if o not in bench.metrics]
    if unknown:
        raise PredictorSetupError(f"unknown objective(s) {unknown}; known: {', '.join(bench.metrics)}")
    if len(set(objectives)) != len(objectives):
        raise PredictorSetupError(f"objectives repeat: {objectives}")
    if isinstance(train_size, bool) or not isinstance(train_size, (int, np.integer)) \
            or not 1 <= train_size <= len(bench):
        raise PredictorSetupError(f"train size must be a whole number in 1..{len(bench)}, got {train_size!r}")
    try:
        ModelConfig(tuple(objectives), member_kinds=tuple(member_kinds))
    except ValueError as exc:
        raise PredictorSetupError(str(exc)) from None
    try:
        given = {"members": members, "epochs": epochs}
        config = TrainConfig(seed=seed, **{k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        raise PredictorSetupError(str(exc)) from None
    return objectives, config


def train_on_random_cells(bench, objectives: Sequence[str], train_size: int, *, members: int | None = None,
                          epochs: int | None = None, seed: int = 0, noise_aware: bool = False,
                          member_kinds: Sequence[str] = PLAIN_MEMBER_KINDS, progress: Report = quiet) -> Predictor:
    """Fit a predictor of ``objectives`` (table columns) on ``train_size`` uniformly random
    cells (``seed``). Their labels are counted queries of ``bench``. ``members``/``epochs``
    default to :class:`TrainConfig`'s; each of ``member_kinds`` gets ``members`` members.
    Raises :class:`PredictorSetupError` for a bad request."""
    objectives, config = check_training_request(bench, objectives, train_size, members=members, epochs=epochs,
                                                seed=seed, member_kinds=member_kinds)
    idx = np.random.default_rng(seed).choice(len(bench), int(train_size), replace=False)
    archs = [bench.arch(int(i)) for i in idx]
    rows = [bench.query(int(i), objectives) for i in idx]  # counted: these are the "trained" cells
    targets = {o: [float("nan") if r[o] is None else r[o] for r in rows] for o in objectives}
    for o, values in targets.items():
        if not np.isfinite(values).any():
            raise PredictorSetupError(f"none of the {train_size} random cells has a {o} label; "
                                      f"train on more cells or choose another objective")
    protocol = {"train_cells": int(train_size), "sampling": f"uniform random cells, seed {seed}",
                "labels_from": "benchmark table", "train_indices": sorted(int(i) for i in idx)}
    return Predictor.fit(archs, targets, train_config=config, noise_aware=noise_aware, protocol=protocol,
                         member_kinds=member_kinds, progress=progress)


# ---- evaluation --------------------------------------------------------------------------
def seen_cells(predictor: Predictor, bench) -> np.ndarray | None:
    """NB201 indices whose labels of the evaluated objectives the predictor was fitted on;
    None when its protocol does not record them."""
    protocol = predictor.protocol or {}
    if "train_indices" in protocol:
        return np.asarray(protocol["train_indices"], dtype=int)
    if protocol.get("stage") == "adapted" and "target_archs" in protocol:
        return np.asarray([bench.index_of(a) for a in protocol["target_archs"]], dtype=int)
    return None


def _in_sample(protocol: dict) -> bool:
    labels = protocol.get("labels")
    return isinstance(labels, str) and labels.startswith("all ")


def default_objectives(predictor: Predictor) -> list[str]:
    """What to score by default: a transferred predictor's target only (its source heads
    were fitted on the source labels of every pretraining cell), else every learnt head."""
    target = (predictor.protocol or {}).get("target")
    if target and target in predictor.objectives:
        return [target]
    return learnt_objectives(predictor) or list(FREE_OBJECTIVES)


def evaluate_predictor(predictor: Predictor, bench, objectives: Sequence[str] | None = None, *,
                       exclude: Sequence[int] | None = None, cells: Sequence[int] | None = None,
                       level: float = INTERVAL) -> dict:
    """Score ``predictor`` against the table on every cell it has not seen a label of.

    ``objectives`` default to :func:`default_objectives`; ``exclude`` (NB201 indices)
    defaults to the cells its protocol records (:func:`seen_cells`). ``cells`` limits the
    scoring to these NB201 indices (default: all 15,625, a quick look otherwise). Cells without a
    table value (some latencies) are skipped per objective. ``flops``/``params``, when
    asked for, are scored on the heads' own predictions (for a concrete cell the
    predictor reports the exact values).

    Returns ``{"objectives", "scope" (words), "cells" (scored), "excluded", "level",
    "metrics": {objective: {kendall_tau, spearman_rho, mae, coverage, coverage_top5 (on the best 5% by
    truth), interval (how it was calibrated), cells, unit}},
    "points": {objective: {index, true, pred, lo, hi}}}`` (numpy arrays in ``points``).
    """
    table = bench.table
    objectives = list(objectives) if objectives is not None else default_objectives(predictor)
    if not objectives:
        raise PredictorSetupError("choose at least one objective to evaluate")
    missing = [o for o in objectives if o not in predictor.objectives]
    if missing:
        raise PredictorSetupError(f"this predictor has no head for {missing}; it predicts "
                                  f"{list(predictor.objectives)}")
    absent = [o for o in objectives if o not in table.columns]
    if absent:
        raise PredictorSetupError(f"no table column {absent} to compare against")
    n = len(table)
    recorded = seen_cells(predictor, bench) if exclude is None else np.asarray(list(exclude), dtype=int)
    keep = np.ones(n, dtype=bool)
    if recorded is not None and len(recorded):
        keep[recorded] = False
    if cells is not None:
        chosen = np.zeros(n, dtype=bool)
        chosen[np.asarray(list(cells), dtype=int)] = True
        keep &= chosen
    protocol = predictor.protocol or {}
    if _in_sample(protocol):
        scope = (f"all {n:,} cells — every one of them was a training label (in-sample: an upper bound, "
                 f"not a generalisation score)")
    elif recorded is None:
        scope = (f"all {n:,} cells: which cells it was trained on is not recorded, so its training cells "
                 f"are included")
    elif protocol.get("stage") == "adapted":
        scope = (f"the {int(keep.sum()):,} cells whose {protocol.get('target')} label it never saw "
                 f"(the k={len(recorded)} adaptation cells are left out)")
    else:
        scope = f"the {int(keep.sum()):,} cells not used for training ({len(recorded):,} training cells left out)"
    if cells is not None:
        scope += f"; restricted to {int(keep.sum()):,} chosen cells"

    index = np.nonzero(keep)[0]
    archs = [Arch.from_str(s) for s in table["arch"].to_numpy()[index]]
    exact_free = not any(o in FREE_OBJECTIVES for o in objectives)
    prediction = predictor.predict(archs, exact_free=exact_free)
    metrics, points = {}, {}
    for o in objectives:
        truth = table[o].to_numpy(dtype=np.float64)[index]
        mean = prediction[o].astype(np.float64)
        lo, hi = prediction.interval(o, level)
        ok = np.isfinite(truth) & np.isfinite(mean)
        t, p, l, h = truth[ok], mean[ok], lo[ok], hi[ok]
        scores = rank_scores(p, t)
        cover = (interval_coverage(t, l, h, np.ones(len(t), bool), higher_is_better=Objective.parse(o).maximise)
                 if ok.sum() >= 20 else {"coverage90": math.nan, "coverage90_top5": math.nan})
        metrics[o] = {**scores, "mae": float(np.abs(p - t).mean()) if ok.any() else math.nan,
                      "coverage": float(((t >= l) & (t <= h)).mean()) if ok.any() else math.nan,
                      "coverage_top5": cover["coverage90_top5"],
                      "interval": predictor.intervals[predictor.objectives.index(o)].method,
                      "cells": int(ok.sum()), "unit": objective_unit(o)}
        points[o] = {"index": index[ok], "true": t, "pred": p, "lo": l, "hi": h}
    return {"objectives": objectives, "scope": scope, "cells": int(len(index)),
            "excluded": 0 if recorded is None else int(len(set(recorded.tolist()))),
            "level": level, "metrics": metrics, "points": points}


def metrics_rows(evaluation: dict) -> list[dict]:
    """One row per objective for a table: objective, unit, tau, rho, MAE, coverage, cells."""
    pct = round(100 * evaluation["level"])
    rows = []
    for o in evaluation["objectives"]:
        m = evaluation["metrics"][o]
        rows.append({"objective": o, "unit": m["unit"], "Kendall τ": m["kendall_tau"],
                     "Spearman ρ": m["spearman_rho"], "MAE": m["mae"], f"{pct}% coverage": m["coverage"],
                     f"{pct}% coverage, best 5%": m["coverage_top5"], "cells scored": m["cells"]})
    return rows


def summary_metrics(evaluation: dict) -> dict:
    """JSON-friendly metrics (NaN as None) for a run's summary."""
    def clean(v):
        return None if isinstance(v, float) and not math.isfinite(v) else v
    return {o: {k: clean(v) for k, v in m.items()} for o, m in evaluation["metrics"].items()}


# ---- the protocol in words ----------------------------------------------------------------
def _count(value) -> str:
    return f"{value:,}" if isinstance(value, (int, np.integer)) else "an unrecorded number of"


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_protocol(predictor: Predictor) -> str:
    """What ``predictor`` was trained on, in plain words (never a list of the target's labels)."""
    p = predictor.protocol or {}
    cfg = predictor.train_config
    members, kinds = len(predictor.members), predictor.model_config.member_kinds
    # checkpoints from before per-member folds (issue #16) split their cells into cfg.members folds
    folds = p.get("holdout_folds", cfg.members if cfg.members > 1 and cfg.holdout else 0)
    names = {"gin": "GIN", "dag-exec": "DAG-execution"}
    made_of = (" (" + " and ".join(f"{members // len(kinds)} {names[k]}" for k in kinds) + ")" if len(kinds) > 1
               else f" ({names[kinds[0]]})")
    ensemble = (f"An ensemble of {members} graph network{'s' if members != 1 else ''}{made_of} × {cfg.epochs} "
                f"epochs" + (", each leaving out 1/{} of the labelled cells to calibrate the {:.0%} intervals".format(
                    folds, INTERVAL) if folds else "") + ".")
    free = ("FLOPs and params are computed exactly for every cell (an auxiliary task on all 15,625 cells, "
            "no label needed).")
    noise = (" Trained noise-aware (on noisy, soft encodings), as diffusion guidance needs."
             if predictor.model_config.noise_aware else "")
    stage = p.get("stage")
    if stage == "adapted":
        target, k = p.get("target", "the target"), int(p.get("k", 0))
        sources = p.get("sources", [])
        words = (f"Transfer: pretrained on {_join(sources)} of {_count(p.get('source_cells'))} cells — labels of "
                 f"other datasets only, never {target}. " if sources else f"Transfer to {target}. ")
        if k == 0:
            words += (f"No {target} label at all: its {target} head is the mean of the source heads, so only its "
                      f"ranking is meaningful. ")
        else:
            how = ("fitted as an affine map of the source heads (trunk untouched)"
                   if p.get("mode") == "heads" else "fine-tuned on them")
            words += (f"Then adapted on the {target} labels of k={k} random cells, {how}; those {k} cells are the "
                      f"only {target} labels it has seen. ")
            weights = p.get("source_weights") or {}
            if weights:
                words += "Source weights: " + ", ".join(f"{s} {w:+.2f}" for s, w in weights.items()) + ". "
        if target in predictor.objectives:
            interval = predictor.intervals[predictor.objectives.index(target)].method
            words += f"Its {target} interval: {interval}. "
        return words + ensemble + noise + " " + free
    if stage == "pretrain":
        return (f"Pretrained on {_join(p.get('sources', []))} of {_count(p.get('source_cells'))} cells; no target "
                f"head yet. " + ensemble + noise + " " + free)
    labels = p.get("labels")
    if isinstance(labels, str):
        return f"Fitted on {labels}. " + ensemble + noise + " " + free
    learnt = learnt_objectives(predictor)
    cells = p.get("train_cells")
    sampling = p.get("sampling", "cells of the table")
    if cells is None:
        head = "Trained on cells not recorded in its protocol"
    else:
        if ", seed " in sampling:
            sampling = sampling.replace(", seed ", " (seed ") + ")"
        head = f"Trained on {int(cells):,} {sampling}" if "random" in sampling else f"Trained on {int(cells):,} cells"
    words = head + (f" with their {_join(learnt)} labels from the {p.get('labels_from', 'benchmark table')}"
                    if learnt else "") + ". "
    if isinstance(labels, dict):
        partial = [f"{o} ({labels[o]})" for o in learnt if o in labels and cells and labels[o] < int(cells)]
        if partial:
            words += "Some cells have no label (labelled cells: " + ", ".join(partial) + "). "
    return words + ensemble + noise + " " + free


# ---- a training run in the run store -------------------------------------------------------
def train_predictor_run(store, bench, objectives: Sequence[str], train_size: int, *, members: int | None = None,
                        epochs: int | None = None, seed: int = 0, noise_aware: bool = False,
                        member_kinds: Sequence[str] = PLAIN_MEMBER_KINDS, report: Report = quiet):
    """Train on random cells (:func:`train_on_random_cells`), save the predictor into a new
    ``predictor`` run of ``store``, score it (:func:`evaluate_predictor`) and mark the run done.
    Returns ``(run, predictor, evaluation)``. A failure or cancel marks the run and re-raises."""
    # refuse a bad request before a run folder exists
    objectives, config = check_training_request(bench, objectives, train_size, members=members, epochs=epochs,
                                                seed=seed, member_kinds=member_kinds)
    params = {"objectives": objectives, "train_size": int(train_size), "members": config.members,
              "epochs": config.epochs, "seed": seed, "noise_aware": noise_aware,
              "member_kinds": list(member_kinds)}
    run = store.create(RUN_KIND, params, name=f"{', '.join(objectives)} · {int(train_size):,} cells")
    with store.recording(run):
        report(f"training on {int(train_size):,} random cells", 0.02)
        predictor = train_on_random_cells(
            bench, objectives, train_size, members=members, epochs=epochs, seed=seed, noise_aware=noise_aware,
            member_kinds=member_kinds, progress=within(report, 0.05, 0.9))
        predictor.save(run.path)
        report("scoring on the cells not used for training", 0.92)
        evaluation = evaluate_predictor(predictor, bench)
        summary = {"objectives": list(predictor.objectives), "train_cells": int(train_size),
                   "members": len(predictor.members), "epochs": predictor.train_config.epochs,
                   "scope": evaluation["scope"], "metrics": summary_metrics(evaluation),
                   "protocol": describe_protocol(predictor)}
        run = store.update(run.id, "done", summary=summary)
        return run, predictor, evaluation
