"""Naive transfer: train cells in the order of their mean z-scored accuracy on the OTHER
datasets (never the target's). For several objectives the order walks the non-dominated
layers of (transfer score, free costs), best transfer score first within a layer."""
from __future__ import annotations

import numpy as np

from ..pareto import non_dominated
from ..predictor.transfer import naive_transfer_score
from ..problem import Problem
from .strategy import FixedOrder, SearchContext


def transfer_score(sources: dict[str, np.ndarray]) -> np.ndarray:
    """Mean z-scored 200-epoch test accuracy on the source datasets."""
    final = {k: v for k, v in sources.items() if k.startswith("test_acc@")}
    if not final:
        raise ValueError("naive transfer needs at least one source dataset's test accuracies")
    return naive_transfer_score(final)


class NaiveTransfer(FixedOrder):
    name = "transfer"

    def __init__(self, problem: Problem, rng: np.random.Generator, context: SearchContext):
        score = transfer_score(context.sources)
        if not problem.multi:
            self.order = np.argsort(-score, kind="stable").tolist()
        else:
            f = np.stack([-score] + [np.log(context.free[c]) for c in problem.costs], axis=1)
            f = np.where(np.isfinite(f), f, np.inf)
            left, order = np.arange(len(f)), []
            while len(left) and len(order) < 2000:      # the first layers are all a budget can reach
                layer = left[non_dominated(f[left])]
                if len(layer) == 0:
                    break
                order.extend(layer[np.argsort(f[layer, 0], kind="stable")].tolist())
                left = np.setdiff1d(left, layer)
            order.extend(left[np.argsort(-score[left], kind="stable")].tolist())
            self.order = order
