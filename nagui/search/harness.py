"""Run a strategy on a problem with a budget of trained architectures; many seeds at once.

Every query is recorded (trained count, NB201 index, objective values, wall time), and
each run states its protocol: which labels every model saw (never the target's, except
the cells the run itself paid for).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ..data.benchmark import DATASETS, column
from ..diffusion.generate import load_or_train
from ..pareto import Objective, hypervolume_ratio, to_minimisation
from ..problem import Problem
from .bayes_opt import BayesianOptimisation
from .bohb import BOHB
from .cells import CellIndex
from .gp_ucb import GPUCB
from .guided_diffusion import AccuracyGuidedDiffusion, GuidedDiffusion
from .local_search import LocalSearch
from .mo_rea import MultiObjectiveREA
from .naive_transfer import NaiveTransfer
from .nsga2 import NSGA2Search
from .problem import BudgetExhausted, Oracle, Query, front_values
from .random_search import RandomSearch
from .rea import RegularizedEvolution
from .reinforce import Reinforce
from .strategy import Cheap, SearchContext

STRATEGIES = {s.name: s for s in (RandomSearch, RegularizedEvolution, Reinforce, LocalSearch, BOHB, GPUCB,
                                  NSGA2Search, MultiObjectiveREA, NaiveTransfer, BayesianOptimisation, GuidedDiffusion,
                                  AccuracyGuidedDiffusion)}
SINGLE_OBJECTIVE = ("rea", "reinforce", "local", "bohb", "gp-ucb")   # the strategies that refuse several objectives


@dataclass
class Trajectory:
    strategy: str
    problem: Problem
    budget: int
    seed: int
    queries: list[Query]
    seconds: float
    protocol: dict = field(default_factory=dict)

    @property
    def trained(self) -> list[Query]:
        """The fully trained cells' queries, in order (cheap-fidelity ones left out)."""
        return [q for q in self.queries if q.fidelity == "full"]

    def values(self) -> np.ndarray:
        """(n, J) objective values of the trained cells in query order."""
        return np.array([[q.values[o] for o in self.problem.objectives] for q in self.trained]).reshape(
            -1, len(self.problem.objectives))

    def best_so_far(self) -> np.ndarray:
        """(n,) best target accuracy after each trained architecture."""
        return np.maximum.accumulate(self.values()[:, 0])

    def best_at(self, budgets: Sequence[float]) -> np.ndarray:
        """Best target accuracy among the cells trained once ``b`` of the budget was spent
        (cheap evaluations count their share), for each b; NaN before the first."""
        spent = np.array([q.spent for q in self.trained])
        best = self.best_so_far()
        upto = np.searchsorted(spent, np.asarray(budgets, dtype=np.float64) + 1e-9, side="right")
        return np.where(upto > 0, best[np.maximum(upto - 1, 0)] if len(best) else np.nan, np.nan)

    def spent_to_reach(self, target: float) -> float:
        """Budget spent until the best trained accuracy first reaches ``target`` (NaN if never)."""
        for q in self.trained:
            if q.values[self.problem.accuracy] >= target:
                return float(q.spent)
        return float("nan")

    def hv_at(self, front: np.ndarray, budgets: Sequence[int]) -> list[float]:
        """HV ratio of the cells trained so far at each budget (all of them past the end)."""
        objs = [Objective.parse(o) for o in self.problem.objectives]
        f = to_minimisation(self.values(), objs)
        return [hypervolume_ratio(f[:b], front) for b in budgets]


def default_models(table, problem: Problem) -> dict:
    """The cached (or shipped) diffusion prior, trained if missing."""
    return {"diffusion": load_or_train()}


SOURCE_COLUMNS = ("test_acc", "test_acc_12ep", "valid_acc_12ep")     # per OTHER dataset


def make_context(table, problem: Problem, cells: CellIndex | None = None, models: dict | None = None
                 ) -> SearchContext:
    """What strategies may know: free costs, the other datasets' accuracy columns (never
    the target's), and (for ours) the diffusion prior, trained on cell structure only."""
    free = {c: table[c].to_numpy(np.float64) for c in problem.costs}
    sources = {column(c, d): table[column(c, d)].to_numpy(np.float64)
               for d in DATASETS if d != problem.dataset for c in SOURCE_COLUMNS if column(c, d) in table}
    protocol = {"free": list(free), "transfer_sources": list(sources),
                "target_labels": "only the cells this run trained (counted)"}
    context = SearchContext(table, cells or CellIndex(table), free, sources, protocol,
                            load_models=lambda: default_models(table, problem))
    if models is not None:
        context._models = models
    return context


def run_search(table, problem: Problem, strategy: str, budget: int, seed: int = 0,
               context: SearchContext | None = None) -> Trajectory:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(sorted(STRATEGIES))}")
    context = context or make_context(table, problem)
    start = time.perf_counter()
    search = STRATEGIES[strategy](problem, np.random.default_rng(seed), context)
    oracle = Oracle(table, problem, budget)
    stalls = 0
    while oracle.left > 1e-9:
        before = oracle.spent
        asked, values = search.ask(), []
        for i in asked:
            try:
                values.append(oracle.evaluate_cheap(i.index) if isinstance(i, Cheap) else oracle.evaluate(i))
            except BudgetExhausted:
                break
        search.tell(asked[:len(values)], values)           # what was paid for, even past the budget's end
        if len(values) < len(asked):
            break
        stalls = stalls + 1 if oracle.spent == before else 0
        if stalls > 10 * budget:                       # a strategy that only re-asks seen cells
            raise RuntimeError(f"{strategy} asked only for cells it had already trained, {stalls} times in a row")
    protocol = {**context.protocol, "strategy": strategy, "seed": seed, "budget": budget}
    if hasattr(search, "protocol"):
        protocol["model"] = search.protocol()
    return Trajectory(strategy, problem, budget, seed, oracle.queries, time.perf_counter() - start, protocol)


def _one_thread_each() -> None:
    """Workers share the cores: one torch and one BLAS thread each (more only oversubscribe
    them: GP-UCB's scikit-learn fits ran 3x slower with two BLAS threads per worker).
    threadpoolctl limits only the libraries loaded when it is called, so scipy's BLAS and
    scikit-learn's OpenMP are loaded first."""
    import scipy.linalg  # noqa: F401  (deferred on purpose: loads scipy's OpenBLAS, now)
    import sklearn.gaussian_process  # noqa: F401  (deferred on purpose: loads scikit-learn's OpenMP, now)

    torch.set_num_threads(1)
    threadpool_limits(1)


_FORKED_JOB: tuple | None = None        # what forked workers run (inherited, never pickled)


def _run_seed(seed: int) -> Trajectory:
    table, problem, strategy, budget, context = _FORKED_JOB
    return run_search(table, problem, strategy, budget, seed, context)


def run_many(table, problem: Problem, strategy: str, budget: int, seeds: Sequence[int],
             processes: int | None = None, context: SearchContext | None = None) -> list[Trajectory]:
    """Seeds in parallel over the machine's cores (fork: the table is shared, not copied).
    Torch models load lazily in each worker: with the diffusion prior loaded in the parent
    before the fork, the workers hung here."""
    global _FORKED_JOB
    context = context or make_context(table, problem)
    seeds = list(seeds)
    processes = processes or min(len(seeds), os.cpu_count() or 1)
    _FORKED_JOB = (table, problem, strategy, budget, context)
    try:
        if processes <= 1 or len(seeds) == 1:
            return [_run_seed(s) for s in seeds]
        with mp.get_context("fork").Pool(processes, initializer=_one_thread_each) as pool:
            return pool.map(_run_seed, seeds)
    finally:
        _FORKED_JOB = None


__all__ = ["STRATEGIES", "Trajectory", "make_context", "run_many", "run_search", "front_values"]
