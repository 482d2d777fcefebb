"""Evaluating predictors on the benchmark table, with the protocols stated in every record.

- plain: fit on n random cells of the target task, score on every other cell.
- transfer: pretrain on the source tasks' labels, adapt from k target cells, score on
  every other cell and inside the target's top 5%; against the naive transfer score.
- local: k cells measured on this machine, scored on other measured cells.
Baselines a user would pick instead: gradient-boosted trees and a random forest on the
one-hot encoding of the cell (6 edges x 5 ops), fitted on the same cells.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Sequence

import numpy as np
from scipy.stats import kendalltau, spearmanr
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

from ..data import Benchmark, column
from ..data.benchmark import DEVICES
from ..measure.cache import measure_cells
from ..measure.latency import LatencyConfig
from ..progress import Report, logged
from ..objectives import Objective
from ..space import OPS, Arch
from . import units
from .device import LOCAL, DeviceHead, device_basis
from .ensemble import Predictor, TrainConfig
from .model import PLAIN_MEMBER_KINDS
from .training import FULL_BATCH, FULL_BATCH_MAX_STEPS
from .transfer import adapt, naive_transfer_score, pretrain

log = logging.getLogger(__name__)
_logged = logged(log)


def rank_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    ok = np.isfinite(pred) & np.isfinite(truth)
    if ok.sum() < 3:
        return {"kendall_tau": float("nan"), "spearman_rho": float("nan")}
    return {"kendall_tau": float(kendalltau(pred[ok], truth[ok])[0]),
            "spearman_rho": float(spearmanr(pred[ok], truth[ok])[0])}


def onehot_features(archs: Sequence[Arch]) -> np.ndarray:
    idx = np.array([a.indices for a in archs])
    return np.eye(len(OPS), dtype=np.float32)[idx].reshape(len(archs), -1)


def tree_baselines(x_train: np.ndarray, y_train: np.ndarray, x_all: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    ok = np.isfinite(y_train)
    out = {}
    for name, model in (("gbt_onehot", GradientBoostingRegressor(random_state=seed)),
                        ("rf_onehot", RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=2))):
        model.fit(x_train[ok], y_train[ok])
        out[name] = model.predict(x_all)
    return out


def interval_coverage(truth: np.ndarray, lo: np.ndarray, hi: np.ndarray, scored: np.ndarray,
                      higher_is_better: bool, fraction: float = 0.05) -> dict:
    """Share of the ``scored`` cells whose truth lies in [lo, hi]: over all of them, and over
    the best ``fraction`` of them by their true value (where users look)."""
    ok = scored & np.isfinite(truth)
    inside = (truth >= lo) & (truth <= hi)
    values = truth[ok]
    cut = np.quantile(values, 1 - fraction) if higher_is_better else np.quantile(values, fraction)
    best = ok & ((truth >= cut) if higher_is_better else (truth <= cut))
    return {"coverage90": float(inside[ok].mean()), "coverage90_top5": float(inside[best].mean()),
            "top5_cells": int(best.sum())}


def records_coverage(records: Sequence[dict], objective: str) -> dict:
    """Coverage of the 90% interval on ``nagui generate`` records (the cells the guided
    sampler returns): the share whose table ``truth`` lies in ``lo90..hi90``, over all
    samples and over the distinct cells."""
    rows = [(r["arch"], r["truth"].get(objective), r["predicted"][objective]) for r in records
            if objective in r.get("predicted", {})]
    rows = [(a, t, p) for a, t, p in rows if t is not None]
    if not rows:
        raise ValueError(f"no record carries both a prediction and a table truth for {objective!r}")
    inside = np.array([p["lo90"] <= t <= p["hi90"] for _, t, p in rows])
    distinct = {a: p["lo90"] <= t <= p["hi90"] for a, t, p in rows}
    return {"coverage90_guided": float(inside.mean()), "samples": len(rows),
            "coverage90_guided_distinct": float(np.mean(list(distinct.values()))), "distinct": len(distinct),
            "mean_width": float(np.mean([p["hi90"] - p["lo90"] for _, _, p in rows]))}


def run_plain(bench: Benchmark, dataset: str, sizes: Sequence[int], seeds: Sequence[int],
              extra_objectives: Sequence[str] = ("latency@raspi4",), train_config: TrainConfig = TrainConfig(),
              baselines: bool = True, say: Report = _logged, target: str | None = None,
              member_kinds: Sequence[str] = PLAIN_MEMBER_KINDS) -> list[dict]:
    """Fit on ``n`` random cells (per size and seed), score on every other cell. The target
    is ``target`` (any table column, e.g. ``valid_acc@cifar10-valid``) or ``dataset``'s test
    accuracy, predicted together with ``extra_objectives``, by an ensemble of ``member_kinds``."""
    table, archs = bench.table, list(bench.archs)
    target = target or column("test_acc", dataset)
    if target not in table.columns:
        raise ValueError(f"unknown objective {target!r}; the table's columns are {', '.join(map(str, table.columns))}")
    objectives = list(dict.fromkeys([target, *extra_objectives]))
    x_all = onehot_features(archs)
    records = []
    for n in sizes:
        for seed in seeds:
            idx = np.random.default_rng(seed).choice(len(archs), n, replace=False)
            rest = np.ones(len(archs), bool)
            rest[idx] = False
            start = time.perf_counter()
            predictor = Predictor.fit([archs[i] for i in idx], {o: table[o].to_numpy()[idx] for o in objectives},
                                      train_config=dataclasses.replace(train_config, seed=seed),
                                      member_kinds=member_kinds)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            pred = predictor.predict(archs)
            predict_s = time.perf_counter() - start
            for o in objectives:
                truth = table[o].to_numpy()
                lo, hi = pred.interval(o, 0.9)
                scored = rest & np.isfinite(truth)
                rec = {"setting": "plain", "objective": o, "train_cells": n, "seed": seed, "method": "nagui_gnn",
                       "member_kinds": "+".join(member_kinds),
                       **rank_scores(pred[o][rest], truth[rest]),
                       "mae": float(np.abs(pred[o][scored] - truth[scored]).mean()),
                       "width90": float(np.median(hi[scored] - lo[scored])),
                       **interval_coverage(truth, lo, hi, rest, higher_is_better=Objective.parse(o).maximise),
                       "fit_s": fit_s, "predict_all_s": predict_s,
                       "protocol": f"{n} random cells of the table with their {o}; scored on the other "
                                   f"{int(rest.sum())} cells"}
                records.append(rec)
                if baselines:
                    y = units.forward(truth, units.default_transform(o))
                    for name, p in tree_baselines(x_all[idx], y[idx], x_all, seed).items():
                        records.append({**rec, "method": name, **rank_scores(p[rest], truth[rest]),
                                        "coverage90": None, "coverage90_top5": None, "width90": None,
                                        "mae": float(np.abs(units.inverse(p, units.default_transform(o))[scored]
                                                            - truth[scored]).mean()), "fit_s": None,
                                        "predict_all_s": None})
                say(f"plain {o} n={n} seed={seed}: tau={rec['kendall_tau']:.3f} fit={fit_s:.1f}s")
    return records


def top_fraction_spearman(pred: np.ndarray, truth: np.ndarray, fraction: float = 0.05) -> float:
    ok = np.isfinite(truth)
    cut = np.quantile(truth[ok], 1 - fraction)
    top = ok & (truth >= cut)
    return float(spearmanr(pred[top], truth[top])[0])


def run_transfer(bench: Benchmark, dataset: str, sources: Sequence[str], ks: Sequence[int], seeds: Sequence[int],
                 pretrain_cells: int = 15625,
                 train_config: TrainConfig = TrainConfig(members=2, epochs=150, batch_size=FULL_BATCH,
                                                         max_steps=FULL_BATCH_MAX_STEPS),
                 adapt_kwargs: dict | None = None, say: Report = _logged,
                 base: Predictor | None = None) -> list[dict]:
    """One pretraining on the source tasks (source labels only), then per seed k random target
    labels. ``base``: adapt this pretrained predictor instead (e.g. the guiding one)."""
    table, archs = bench.table, list(bench.archs)
    target = column("test_acc", dataset)
    src_cols = [column("test_acc", s) for s in sources]
    truth = table[target].to_numpy()
    naive = naive_transfer_score({c: table[c].to_numpy() for c in src_cols})
    pre_idx = np.sort(np.random.default_rng(1000).choice(len(archs), min(pretrain_cells, len(archs)), replace=False))
    pre_archs = [archs[i] for i in pre_idx]
    pre_values = {c: table[c].to_numpy()[pre_idx] for c in src_cols}
    given = base is not None
    if given:
        missing = [c for c in src_cols if c not in base.objectives]
        if missing:
            raise ValueError(f"the given base predicts {list(base.objectives)}, not the sources {missing}")
        train_config, pre_s = base.train_config, None
    else:
        start = time.perf_counter()
        base = pretrain(pre_archs, pre_values, train_config=train_config)
        pre_s = time.perf_counter() - start
        say(f"pretrained on {', '.join(src_cols)} of {len(pre_idx)} cells in {pre_s:.0f} s")
    records = []
    for seed in seeds:
        rng = np.random.default_rng(2000 + seed)
        for k in ks:
            k_idx = rng.choice(len(archs), k, replace=False) if k else np.array([], dtype=int)
            start = time.perf_counter()
            adapted = adapt(base, target, [archs[i] for i in k_idx], truth[k_idx], source_archs=pre_archs,
                            source_values=pre_values, seed=seed, **(adapt_kwargs or {}))
            adapt_s = time.perf_counter() - start
            prediction = adapted.predict(archs)
            score = prediction[target]
            rest = np.ones(len(archs), bool)
            rest[k_idx] = False
            cover = interval_coverage(truth, *prediction.interval(target, 0.9), rest, higher_is_better=True)
            protocol = (f"{'the guiding predictor, ' if given else ''}pretrained once on {', '.join(src_cols)} of "
                        f"{base.protocol.get('source_cells', len(pre_idx))} cells (source labels only, "
                        f"{train_config.members} members x {train_config.epochs} epochs); adapted on k={k} random "
                        f"{target} labels; scored on the other {int(rest.sum())} cells")
            for method, p in (("nagui_transfer", score), ("naive_transfer", naive)):
                records.append({"setting": "transfer", "objective": target, "k": k, "seed": seed, "method": method,
                                "sources": list(src_cols), **rank_scores(p[rest], truth[rest]),
                                "top5_spearman": top_fraction_spearman(p[rest], truth[rest]),
                                **(cover if method == "nagui_transfer" else
                                   {"coverage90": None, "coverage90_top5": None}),
                                "pretrain_s": pre_s if method == "nagui_transfer" else None,
                                "adapt_s": adapt_s if method == "nagui_transfer" else None, "protocol": protocol})
            say(f"transfer k={k} seed={seed}: tau={records[-2]['kendall_tau']:.3f}, 90% coverage "
                f"{cover['coverage90']:.0%} (best 5%: {cover['coverage90_top5']:.0%}) "
                f"(naive {records[-1]['kendall_tau']:.3f}), top5 rho={records[-2]['top5_spearman']:.3f} "
                f"(naive {records[-1]['top5_spearman']:.3f})")
    return records


def run_local(bench: Benchmark, ks: Sequence[int], test_cells: int, seed: int = 0, latency_config=None,
              cache=None, say: Report = _logged) -> list[dict]:
    """``latency@local``: measure max(ks) + test_cells cells here (cached), adapt from k, score on the test cells."""
    table, archs = bench.table, list(bench.archs)
    connected = np.nonzero(table["output_connected"].to_numpy())[0]
    rng = np.random.default_rng(5000 + seed)
    chosen = rng.choice(connected, max(ks) + test_cells, replace=False)
    train_pool, test = chosen[: max(ks)], chosen[max(ks):]
    start = time.perf_counter()
    measured = np.array(measure_cells([archs[i] for i in chosen], latency_config or LatencyConfig(), cache,
                                      progress=say))
    measure_s = time.perf_counter() - start
    lat = dict(zip(chosen.tolist(), measured))
    y_test = np.array([lat[i] for i in test])
    basis = device_basis(table)
    x_all = onehot_features(archs)
    records = []
    for k in ks:
        k_idx = train_pool[:k]
        y_k = np.array([lat[i] for i in k_idx])
        head = DeviceHead.fit(basis[k_idx], y_k)
        protocol = (f"{k} cells measured here (onnxruntime, pruned network); scored on {test_cells} other measured "
                    f"cells; basis chosen by leave-one-out on the k cells: {head.group}")
        preds = {"nagui_device_head": head.predict(basis[test])}
        preds.update({name: p[test] for name, p in tree_baselines(x_all[k_idx], np.log(y_k), x_all, seed).items()})
        preds["flops_only"] = table["flops"].to_numpy()[test]
        preds["pruned_flops_only"] = np.exp(basis[test, len(DEVICES) + 2])  # FLOPs of the network actually timed
        for method, p in preds.items():
            records.append({"setting": "local", "objective": LOCAL, "k": k, "seed": seed, "method": method,
                            **rank_scores(p, y_test), "measure_s": measure_s, "protocol": protocol,
                            "feature_group": head.group if method == "nagui_device_head" else None})
        say(f"local k={k}: tau={records[-len(preds)]['kendall_tau']:.3f}")
    return records
