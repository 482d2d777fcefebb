"""NSGA-II (pymoo's, driven through its ask/tell interface) over the 6 op indices."""
from __future__ import annotations

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem as PymooProblem
from pymoo.core.termination import NoTermination
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from pymoo.problems.static import StaticProblem

from ..pareto import Objective, to_minimisation
from ..problem import Problem
from .strategy import SearchContext


class NSGA2Search:
    name = "nsga2"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext,
                 population: int = 10):
        self.problem, self.cells = problem, context.cells
        self.objectives = [Objective.parse(o) for o in problem.objectives]
        self._pymoo_problem = PymooProblem(n_var=6, n_obj=len(problem.objectives), xl=0, xu=4, vtype=int)
        self.algorithm = NSGA2(pop_size=population, sampling=IntegerRandomSampling(),
                               crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                               mutation=PM(eta=20, vtype=float, repair=RoundingRepair()),
                               eliminate_duplicates=True)
        self.algorithm.setup(self._pymoo_problem, termination=NoTermination(),
                             seed=int(rng.integers(2**31 - 1)), verbose=False)
        self.pending = None

    def ask(self) -> list[int]:
        self.pending = self.algorithm.ask()
        x = np.clip(np.rint(self.pending.get("X")), 0, 4).astype(np.int64)
        return self.cells.index_of(x).tolist()

    def tell(self, indices, values) -> None:
        f = to_minimisation(np.array([[v[o.name] for o in self.objectives] for v in values]), self.objectives)
        f = np.where(np.isfinite(f), f, 1e12)              # a missing latency is never preferred
        pop = self.pending[:len(values)]
        Evaluator().eval(StaticProblem(self._pymoo_problem, F=f), pop)
        self.algorithm.tell(infills=pop)
