"""One call from a request to guided samples with predictions and table truth.

Used by ``nagui generate``, ``nagui bench generate`` and the app. The diffusion prior
and the guiding predictor are built once and cached on disk (user data dir); the first
call trains what is missing, with progress through ``say``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data.sources import user_data_dir
from ..objectives import Objective
from ..problem import Problem
from ..progress import Report, logged
from ..shipped_models import provide
from .constraints import Constraints
from .evaluate import generation_metrics
from .model import DiffusionModel, DiffusionTrainConfig
from .problem import PredictorSpec, accuracy_predictor, build_guidance
from .sampler import Sampler, Samples
from .tables import CellTables

log = logging.getLogger(__name__)
_logged = logged(log)


def default_model_dir(config: DiffusionTrainConfig = DiffusionTrainConfig()) -> Path:
    return user_data_dir() / "models" / f"diffusion-{config.schedule}-{config.train_set}-s{config.seed}"


def resolve_device(name: str | None) -> str:
    """``auto`` (default): cuda when present, else cpu."""
    name = (name or "auto").strip()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but this machine has no CUDA GPU; use --device cpu")
    if not (name == "cpu" or name.startswith("cuda")):
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda[:N]")
    return name


def load_or_train(path: str | Path | None = None, config: DiffusionTrainConfig = DiffusionTrainConfig(),
                  device: str = "cpu", say: Report = _logged) -> DiffusionModel:
    """The diffusion prior at ``path`` (default :func:`default_model_dir`); trained and
    saved there first when no checkpoint exists. A checkpoint that exists but does not
    load is an error, never silently replaced."""
    path = Path(path) if path else default_model_dir(config)
    if path == default_model_dir(config):
        provide(path)
    if (path / "diffusion.json").exists() or (path / "denoiser.safetensors").exists():
        return DiffusionModel.load(path)
    say(f"training the diffusion prior ({config.schedule}, {config.train_set} cells, {config.steps} steps) "
        f"on {device}; saved to {path}")
    model = DiffusionModel.train(config=config, device=device,
                                 progress=say)
    model.save(path)
    say(f"trained in {model.info['train_s']:.0f} s")
    return model


@dataclass
class GenerateRequest:
    dataset: str = "cifar10"
    objectives: str = "test_acc,flops"
    n: int = 256
    constraints: Constraints = field(default_factory=Constraints)
    preferences: np.ndarray | None = None    # (P, J) weights in the order of the objectives
    scale: float = 100.0
    scalarisation: str = "chebyshev"
    steps: int = 16
    polish_sweeps: int = 4
    seed: int = 0
    predictor: PredictorSpec = field(default_factory=PredictorSpec)
    guide_objectives: tuple[str, ...] | None = None   # e.g. accuracy only (DiffusionNAG-style); default all
    guided: bool = True


@dataclass
class GenerateResult:
    problem: Problem
    samples: Samples
    records: list[dict]
    metrics: dict
    protocol: dict


def sample_records(samples: Samples, problem: Problem, predictor, tables: CellTables, feasible: np.ndarray
                   ) -> list[dict]:
    """One JSON-ready dict per sample: arch, NB201 index, predictions (mean, std, 90%
    interval, source) per objective, the table's truth and whether it is in the feasible set."""
    bench = tables.bench
    space = tables.space
    flat = space.flat_index(samples.indices).numpy()
    rows = tables.table_row[flat]
    pred = predictor.predict(samples.archs)
    lo, hi = pred.interval(problem.accuracy, 0.9)
    satisfied = feasible[flat]
    truth_cols = list(dict.fromkeys(list(problem.objectives) + [c for c in bench.table.columns
                                                                if c.startswith("test_acc@")]))
    truth = bench.table.loc[rows, truth_cols]
    out = []
    for i, arch in enumerate(samples.archs):
        predicted = {problem.accuracy: {"mean": float(pred[problem.accuracy][i]),
                                        "std": float(pred.std[i, pred.objectives.index(problem.accuracy)]),
                                        "lo90": float(lo[i]), "hi90": float(hi[i]), "source": "predictor"}}
        for c in problem.costs:
            value, source = _cost_value(tables, c, flat[i])
            predicted[c] = {"mean": value, "std": 0.0, "lo90": value, "hi90": value, "source": source}
        record = {"arch": arch.to_str(), "index": int(rows[i]), "predicted": predicted,
                  "truth": {c: (None if not np.isfinite(v) else float(v)) for c, v in truth.iloc[i].items()},
                  "satisfies_constraints": bool(satisfied[i])}
        if samples.preferences is not None:
            record["preference"] = [round(float(w), 6) for w in samples.preferences[i]]
        out.append(record)
    return out


def _cost_value(tables, name: str, flat: int) -> tuple[float, str]:
    """A cost objective's value for one cell (space order) and where it comes from."""
    value = float(tables.column(name)[flat])
    if Objective.parse(name).device is None:
        return value, "computed (NB201 convention)"
    if np.isfinite(value):
        return value, "HW-NAS-Bench measurement"
    return float(tables.guide_values(name)[flat]), "regression on the other devices"


def generate(bench, request: GenerateRequest, model: DiffusionModel, predictor=None, device: str = "cpu",
             tables: CellTables | None = None, say: Report = _logged) -> GenerateResult:
    problem = Problem.parse(request.dataset, request.objectives)
    tables = tables or CellTables(bench)
    start = time.perf_counter()
    if predictor is None:
        predictor = accuracy_predictor(bench, problem.dataset, request.predictor, say=say)
    predictor_s = time.perf_counter() - start
    for m in predictor.members:
        m.to(device)
    guidance, feasible = build_guidance(problem, predictor, tables, request.constraints, request.scale,
                                        request.preferences, request.scalarisation,
                                        objectives=request.guide_objectives)
    sampler = Sampler(model, steps=request.steps, device=device)
    samples = sampler.sample(request.n, guidance if request.guided else None, seed=request.seed, feasible=feasible,
                             polish_sweeps=request.polish_sweeps)
    for m in predictor.members:
        m.to("cpu")
    records = sample_records(samples, problem, predictor, tables, feasible)
    metrics = generation_metrics(samples, problem.objectives, tables, bench, request.constraints,
                                 model.space.training_set(model.config.train_set), feasible)
    protocol = {"guiding_predictor": predictor.protocol, "predictor_spec": asdict(request.predictor),
                "diffusion": {"schedule": model.config.schedule, "train_set": model.config.train_set,
                              **model.info}, "guided_objectives": [o.name for o in guidance.objectives]
                if request.guided else [], "scale": request.scale if request.guided else 0.0,
                "scalarisation": request.scalarisation, "steps": request.steps,
                "polish_sweeps": request.polish_sweeps if request.guided else 0, "seed": request.seed,
                "constraints": request.constraints.describe(), "device": samples.device,
                "predictor_build_s": round(predictor_s, 2)}
    return GenerateResult(problem, samples, records, metrics, protocol)
