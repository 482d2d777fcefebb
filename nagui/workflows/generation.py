"""A generation as a stored run: guided samples, their table truth and a baseline.

The app's Generate page calls :func:`run_generation` inside a background task; the
samples, the metrics, the protocol and (optionally) a baseline search on the same
budget are written into a run folder (``generate`` kind) so they survive a restart.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict

import numpy as np

from ..diffusion.generate import generate, load_or_train, resolve_device
from ..diffusion.problem import PredictorSpec, accuracy_predictor
from ..errors import NaguiError
from ..problem import Problem
from ..progress import Report, quiet, within
from ..runs import Run, RunStore
from ..search.harness import run_search
from ..search.problem import front_values

log = logging.getLogger(__name__)
BASELINES = ("random", "nsga2", "mo-rea", "transfer", "rea")


class GenerationError(NaguiError, ValueError):
    """A request the engine cannot serve, said in words."""


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def baseline_run(table, dataset: str, objectives: str, strategy: str, budget: int, seed: int = 0) -> dict:
    """A baseline search on the same problem with ``budget`` trained architectures."""
    if strategy not in BASELINES:
        raise GenerationError(f"unknown baseline {strategy!r}; choose one of {', '.join(BASELINES)}")
    problem = Problem.parse(dataset, objectives)
    traj = run_search(table, problem, strategy, budget, seed=seed)
    hv = traj.hv_at(front_values(table, problem), [len(traj.queries)])[0] if problem.multi else None
    return {"strategy": strategy, "budget": budget, "seed": seed, "seconds": round(traj.seconds, 3),
            "hv_ratio": hv, "best_accuracy": float(traj.best_so_far()[-1]),
            "indices": [q.index for q in traj.queries], "protocol": traj.protocol}


_PREDICTORS: dict = {}
_PREDICTORS_LOCK = threading.Lock()


def guiding_predictor(bench, dataset: str, spec=None, say: Report = quiet):
    """The guiding accuracy predictor for ``dataset`` (pretrained on the other datasets,
    adapted on k target labels), built once per process and shared by every session."""
    spec = spec or PredictorSpec()
    key = (id(bench), dataset, repr(spec))
    with _PREDICTORS_LOCK:
        if key not in _PREDICTORS:
            _PREDICTORS[key] = accuracy_predictor(bench, dataset, spec, say=say)
        return _PREDICTORS[key]


def run_generation(store: RunStore, bench, request, *, device: str = "auto", baseline: str | None = None,
                   report: Report = quiet,
                   models: dict | None = None) -> Run:
    """Generate under ``request`` (a :class:`~nagui.diffusion.generate.GenerateRequest`),
    store the result as a ``generate`` run and return it. ``models`` may carry an already
    loaded ``diffusion`` prior; missing models are provided (shipped) or trained."""
    device = resolve_device(device)
    params = {"dataset": request.dataset, "objectives": request.objectives, "n": request.n,
              "scale": request.scale, "seed": request.seed, "steps": request.steps,
              "constraints": request.constraints.describe(), "device": device, "baseline": baseline}
    run = store.create("generate", params, name=f"{request.dataset} {request.objectives} n={request.n}")
    with store.recording(run):
        report("loading the diffusion prior", 0.05)
        model = (models or {}).get("diffusion") or load_or_train(device=device, say=within(report, 0.05, 0.2))
        report("building the guiding predictor (pretrained on the other datasets, adapted on k target labels)",
               0.2)
        predictor = guiding_predictor(bench, request.dataset, request.predictor, say=within(report, 0.2, 0.3))
        report(f"sampling {request.n} cells on {device}", 0.3)
        start = time.perf_counter()
        result = generate(bench, request, model, predictor=predictor, device=device, say=within(report, 0.3, 0.8))
        report(f"{len(result.records)} samples in {time.perf_counter() - start:.1f} s", 0.8)
        summary = {"samples": len(result.records), "metrics": _jsonable(result.metrics),
                   "device": result.protocol.get("device", device), "objectives": list(result.problem.objectives)}
        store.write_json(run, "samples.json", _jsonable(result.records))
        store.write_json(run, "protocol.json", _jsonable({**result.protocol, "request": {
            k: v for k, v in asdict(request).items() if k not in ("constraints", "preferences", "predictor")}}))
        if baseline:
            budget = len({r["index"] for r in result.records})
            report(f"baseline: {baseline} with the same budget ({budget} architectures)", 0.85)
            base = baseline_run(bench.table, request.dataset, request.objectives, baseline, budget, request.seed)
            store.write_json(run, "baseline.json", _jsonable(base))
            summary["baseline"] = {k: base[k] for k in ("strategy", "budget", "hv_ratio", "best_accuracy",
                                                        "seconds")}
        report("done", 1.0)
        return store.update(run.id, "done", summary=summary)


def load_generation(store: RunStore, run: Run) -> dict:
    """The stored samples (and baseline, when there is one) of a ``generate`` run."""
    out = {"samples": store.read_json(run, "samples.json"), "protocol": store.read_json(run, "protocol.json")}
    if run.file("baseline.json").exists():
        out["baseline"] = store.read_json(run, "baseline.json")
    return out
