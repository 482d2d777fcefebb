"""What the search benchmark reports about a set of runs (one strategy on one problem).

- one objective: best target accuracy after b trained architectures (mean, 95% CI), and
  how many trained architectures it takes to come within 0.1 / 0.5 points of the optimum;
- several: the hypervolume ratio after b trained architectures (mean, 95% CI);
- the talk's last table: the cheapest trained cell above an accuracy threshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .harness import Trajectory

AT = (5, 10, 20, 50, 100)
GAPS = (0.1, 0.5)


def ci95(x) -> float:
    """Half-width of the normal 95% confidence interval of the mean."""
    x = np.asarray(x, dtype=np.float64)
    return float(1.96 * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def reached(best: np.ndarray, target: float) -> float:
    """Trained architectures until ``best`` first reaches ``target`` (NaN if never)."""
    hit = np.nonzero(np.asarray(best) >= target)[0]
    return float(hit[0] + 1) if len(hit) else float("nan")


def best_curves(runs: Sequence[Trajectory], budget: int) -> np.ndarray:
    """(runs, budget) best accuracy after each trained architecture's worth of budget
    (cheap evaluations count their share; held after the end)."""
    return np.array([r.best_at(np.arange(1, budget + 1)) for r in runs]).reshape(len(runs), budget)


def hv_curves(runs: Sequence[Trajectory], front: np.ndarray, budgets: Sequence[int]) -> np.ndarray:
    """(runs, len(budgets)) hypervolume ratio after each budget."""
    return np.array([r.hv_at(front, list(budgets)) for r in runs])


@dataclass
class Reach:
    """Trained architectures to come within ``gap`` of the optimum, over the runs."""
    gap: float
    counts: np.ndarray                # NaN where a run never did within its budget

    @property
    def mean(self) -> float:
        """Mean over all runs; NaN unless every run got there."""
        return float(self.counts.mean()) if np.isfinite(self.counts).all() else float("nan")

    def text(self, budget: float | None = None) -> str:
        """Mean over the runs that got there (and how many did); ``> budget`` (or "never"
        without a budget) when none did."""
        hit = np.isfinite(self.counts)
        if not hit.any():
            return f"> {budget}" if budget is not None else "never"
        if hit.all():
            return f"{self.counts.mean():.1f}"
        return f"{self.counts[hit].mean():.1f} ({int(hit.sum())}/{len(hit)} runs)"


def reach(runs: Sequence[Trajectory], optimum: float, gap: float) -> Reach:
    """Budget spent (trained architectures; cheap evaluations count their share) until each
    run first comes within ``gap`` of the optimum."""
    return Reach(gap, np.array([r.spent_to_reach(optimum - gap) for r in runs]))


def cheapest_above(runs: Sequence[Trajectory], accuracy: str, cost: str, table, threshold: float) -> np.ndarray:
    """Per run: the lowest ``cost`` among the cells it trained with ``accuracy`` >= threshold
    (NaN when it trained none)."""
    values = table[cost].to_numpy(np.float64)
    out = []
    for r in runs:
        cells = [q.index for q in r.trained if q.values.get(accuracy, table.at[q.index, accuracy]) >= threshold]
        out.append(float(values[cells].min()) if cells else float("nan"))
    return np.array(out)


def true_cheapest_above(table, accuracy: str, cost: str, threshold: float) -> float:
    ok = table[accuracy].to_numpy(np.float64) >= threshold
    return float(table[cost].to_numpy(np.float64)[ok].min())


def mean_ci(x, digits: int = 3) -> str:
    x = np.asarray(x, dtype=np.float64)
    return f"{x.mean():.{digits}f} ± {ci95(x):.{digits}f}"
