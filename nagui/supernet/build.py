"""Choose the super-cell from the guided diffusion's output.

Two ways, both measured by ``nagui bench supernet``:

* ``assemble`` — generate cells near the predicted front (``nagui generate``), then
  assemble super-cells from them: every generated cell, and every merge of two
  compatible ones (on each edge the same op, or one of them switched down), so the
  super-cell's sub-cells contain the generated cells it was made of.
* ``direct`` — the diffusion engine generates super-cells itself: a super-cell is an
  NB201 cell (the same encoding; layers within a block and blocks between each other are
  compatible by construction), guided by the predicted coverage of its sub-cells as a
  single objective (exact expectation over the categorical x0 distribution).

Either way the candidates are ranked by *predicted* coverage: the guiding predictor's
accuracy for every sub-cell and its exact cost, against the predicted front. Table
accuracy of the target is never used to choose (only to report the true coverage).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ..diffusion.generate import GenerateRequest, generate, load_or_train
from ..diffusion.guidance import Guidance
from ..diffusion.objectives import TableObjective
from ..diffusion.problem import PredictorSpec, accuracy_predictor
from ..diffusion.sampler import Sampler
from ..diffusion.tables import CellTables
from ..errors import NaguiError
from ..nets.supernet import SuperNetSpec, sub_cell_count
from ..predictor.encoding import encode
from ..problem import Problem
from ..progress import Report, logged
from ..space import Arch
from .config import BUILD_STRATEGIES as STRATEGIES
from .coverage import CoverageScorer
from .run_folder import write_build

log = logging.getLogger(__name__)
_logged = logged(log)


class BuildError(NaguiError, ValueError):
    """A build request that cannot be met (unknown strategy, wrong number of objectives)."""


@dataclass
class BuildRequest:
    dataset: str = "cifar10"
    objectives: str = "test_acc,flops"        # one accuracy and one cost
    strategy: str = "assemble"
    n: int = 256                              # samples drawn from the diffusion engine
    seed: int = 0
    slots: tuple[int, int, int] = (5, 5, 5)
    channels: int = 16
    scale: float = 100.0
    predictor: object = None                  # PredictorSpec; None = the default (transfer, k = 20)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise BuildError(f"unknown build strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if not isinstance(self.n, int) or self.n < 1:
            raise BuildError(f"n must be a positive int, got {self.n!r}")


@dataclass
class BuildResult:
    spec: SuperNetSpec
    strategy: str
    objectives: tuple[str, str]
    predicted_coverage: float
    true_coverage: float | None             # against the table's true front (None without the table)
    exhaustive_optimum: float | None        # best true coverage over all 15,625 super-cells
    candidates: int
    seconds: float
    protocol: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"spec": self.spec.as_dict(), "strategy": self.strategy, "objectives": list(self.objectives),
                "predicted_coverage": self.predicted_coverage, "true_coverage": self.true_coverage,
                "exhaustive_optimum": self.exhaustive_optimum, "candidates": self.candidates,
                "sub_cells": sub_cell_count(self.spec), "seconds": round(self.seconds, 2), "protocol": self.protocol}


def check_request(request: BuildRequest):
    """The request's problem, or BuildError/ProblemError before anything is loaded."""
    problem = Problem.parse(request.dataset, request.objectives)
    if len(problem.objectives) != 2:
        raise BuildError(f"a super-network is built for one accuracy and one cost objective, got "
                         f"{', '.join(problem.objectives)}")
    return problem


def merge_cells(cells: np.ndarray) -> np.ndarray:
    """(G, 6) op indices -> unique super-cells: each cell, and each merge of two
    compatible cells (per edge equal ops, or at least one switched down; down + down
    merges to skip, which offers both skip and none)."""
    cells = np.unique(np.asarray(cells, dtype=np.int64), axis=0)
    a, b = cells[:, None, :], cells[None, :, :]
    down_a, down_b = (a <= 1), (b <= 1)
    compatible = ((a == b) | down_a | down_b).all(-1)
    merged = np.where(down_a & down_b, np.maximum(a, b), np.where(down_a, b, a))
    i, j = np.nonzero(np.triu(compatible))
    return np.unique(np.concatenate([cells, merged[i, j]]), axis=0)


def predicted_coverage(predictor, tables, problem) -> np.ndarray:
    """(15625,) expected coverage of every super-cell under the guiding ensemble: each
    member's accuracy for every sub-cell (and the exact cost, latency filled where the
    table lacks it), scored against that member's own predicted front, averaged over
    members. Averaging over members chooses better than scoring the mean prediction
    (CIFAR-10 acc-raspi4: 0.965 vs 0.949 true coverage; see BENCHMARKS.md)."""
    space = tables.space
    cost = problem.costs[0]
    costs = tables.guide_values(cost)
    x = encode(space.from_indices(space.all_indices))
    outs = predictor._member_outputs(x, predictor._zeros_t(x.shape[0])).numpy()
    acc = outs[..., predictor.objectives.index(problem.accuracy)]          # normalised units, one row per member
    every = space.all_indices.numpy()
    return np.mean([CoverageScorer(np.stack([a, costs], axis=1), problem.objectives).ratio(every) for a in acc],
                   axis=0)


def build(bench, request: BuildRequest, model, predictor=None, tables=None, device: str = "cpu",
          say: Report = _logged, cells: Sequence[str] | None = None) -> BuildResult:
    """Generate, assemble or generate directly, rank by predicted coverage, report the truth.
    ``cells`` (arch strings, e.g. a generated set the user made) are assembled instead of
    generating new ones (``assemble`` only)."""
    start = time.perf_counter()
    problem = check_request(request)
    tables = tables or CellTables(bench)
    spec_p = request.predictor or PredictorSpec()
    if predictor is None:
        predictor = accuracy_predictor(bench, problem.dataset, spec_p, say=say)
    space = tables.space
    every = space.all_indices.numpy()
    say("scoring the predicted coverage of every super-cell ...")
    predicted_all = predicted_coverage(predictor, tables, problem)

    if request.strategy == "assemble" and cells is not None:
        if not len(cells):
            raise BuildError("no cells to assemble a super-cell from")
        candidates = merge_cells(np.array([Arch.parse(c).indices for c in cells]))
        say(f"{len(cells)} given cells -> {len(candidates)} assembled super-cells")
    elif request.strategy == "assemble":
        result = generate(bench, GenerateRequest(dataset=request.dataset, objectives=request.objectives, n=request.n,
                                                 seed=request.seed, scale=request.scale, predictor=spec_p),
                          model, predictor=predictor, device=device, tables=tables, say=say)
        candidates = merge_cells(result.samples.indices.numpy())
        say(f"{len(result.samples.archs)} generated cells -> {len(candidates)} assembled super-cells")
    else:
        objective = TableObjective("coverage", predicted_all, space.num_nodes, space.num_categories, log=False)
        objective.maximise = True
        guidance = Guidance([objective], scale=request.scale)
        samples = Sampler(model, device=device).sample(request.n, guidance, seed=request.seed)
        candidates = np.unique(samples.indices.numpy(), axis=0)
        say(f"{request.n} generated super-cells ({len(candidates)} distinct)")
    flat = space.flat_index(torch.as_tensor(candidates)).numpy()
    best = int(flat[np.argmax(predicted_all[flat])])
    super_cell = Arch.from_indices(every[best].tolist())

    true_cov = optimum = None
    if bench is not None:
        truth = CoverageScorer(np.stack([tables.column(o) for o in problem.objectives], axis=1), problem.objectives)
        true_all = truth.ratio(every)
        true_cov, optimum = float(true_all[best]), float(true_all.max())
    spec = SuperNetSpec(super_cell, tuple(request.slots), request.channels,
                        {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}[problem.dataset])
    protocol = {"guiding_predictor": getattr(predictor, "protocol", {}), "n": request.n, "seed": request.seed,
                "scale": request.scale, "choice": "argmax of predicted coverage over the candidates"}
    return BuildResult(spec, request.strategy, problem.objectives, float(predicted_all[best]), true_cov, optimum,
                       len(candidates), time.perf_counter() - start, protocol)


def build_into(folder, bench, request: BuildRequest, preset: str, *, device: str = "cpu", model=None,
               say: Report = _logged, cells: Sequence[str] | None = None) -> BuildResult:
    """Build (:func:`build`) and write the run folder's ``build.json``: the one build step
    both ``nagui supernet build`` and the app's :func:`nagui.workflows.supernet_runs.build_run`
    take. ``model`` is the diffusion prior (loaded or trained when None)."""
    check_request(request)
    model = model or load_or_train(device=device, say=say)
    result = build(bench, request, model, device=device, say=say, cells=cells)
    write_build(folder, result.spec, preset, result.as_dict())
    return result
