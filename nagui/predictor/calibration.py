"""Interval widths calibrated on labels the predictor did not fit.

Every objective of a :class:`~nagui.predictor.ensemble.Predictor` carries an
:class:`IntervalModel`. Its standard deviation for cell x, in normalised (z) units, is

    sd(x) = scale * sqrt(spread(x)^2 + floor^2 + a(x)^T C a(x)),    a(x) = [z_sources(x), 1]

- ``spread(x)``: the ensemble members' disagreement on x (depends on the cell);
- ``floor``: a width every cell gets (half the median held-out residual), so a cell on
  which the members happen to agree is not given a zero-width interval;
- ``C``: for a transfer target (an affine map of the source heads fitted on k labels), the
  jackknife covariance of that map. It grows for cells whose source predictions lie far
  from the k labelled ones: the extrapolation to the best cells that users look at.
- ``scale``: split-conformal: the ``ceil((n + 1) * 0.9)``-th smallest of the n held-out
  scores ``|residual| / sqrt(spread^2 + floor^2 + ...)``, divided by z_0.95 = 1.645, so
  ``mean +- 1.645 sd`` holds 90% of new cells (marginally, for exchangeable cells).
- ``top_scale``: with enough held-out cells (>= 40), the cells predicted in the best
  quarter (normalised prediction >= ``top_from``; for a cost, ``best_low``, the lowest
  quarter: prediction <= -``top_from``) get a scale of their own (Mondrian conformal):
  predictions shrink towards the mean, so the best cells' residuals are larger than the
  rest's, and one global scale left their intervals too narrow.

Held-out residuals come from out-of-fold members (plain fits) or leave-one-out refits of
the affine map (transfer, jackknife+). Other levels scale the same width as a Gaussian.

The *level* is calibrated too (plain fits, issue #16): the pairwise ranking loss that lifts
Kendall tau also stretches the outputs where cells are dense, so an uncalibrated ensemble
put NB201's best cells (90-91.6% valid accuracy) at 99-101%. A monotone piecewise-linear
map ``level(z)``, fitted on the out-of-fold predictions against their labels (slopes
bounded below, so strictly increasing: the ranking is unchanged), brings the mean back to
the labels' scale; the members' spread is scaled by the map's local slope, and the width
above is calibrated on the mapped residuals.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import lsq_linear

Z90 = 1.6448536269514722
LEVEL = 0.9


@dataclass(frozen=True)
class IntervalModel:
    scale: float = 1.0
    floor: float = 0.0
    sources: tuple[str, ...] = ()                    # source heads of an affine-map target
    map_cov: tuple[tuple[float, ...], ...] = ()      # (S+1, S+1) jackknife covariance of [w, b]
    method: str = "uncalibrated"
    held_out: int = 0                                # labels the calibration saw (not fitted on)
    top_from: float | None = None                    # normalised prediction where the top bin starts
    top_scale: float | None = None                   # the top bin's own scale
    level_knots: tuple[float, ...] = ()              # raw z predictions where the level map bends
    level_values: tuple[float, ...] = ()             # the map's values there (empty: identity)
    level_end_slopes: tuple[float, ...] = ()         # its slopes below the first / above the last knot
    best_low: bool = False                           # the best cells are the lowest (a cost): the top bin
                                                     # is then the lowest predictions

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0) or not (math.isfinite(self.floor) and self.floor >= 0):
            raise ValueError(f"interval scale must be > 0 and floor >= 0, got {self.scale}, {self.floor}")
        if (self.top_scale is None) != (self.top_from is None) or (self.top_scale is not None and not
                                                                    (math.isfinite(self.top_scale) and self.top_scale > 0)):
            raise ValueError(f"top_from and top_scale go together (scale > 0), got {self.top_from}, {self.top_scale}")
        if not (len(self.level_knots) == len(self.level_values)
                and len(self.level_end_slopes) == (2 if self.level_knots else 0)) \
                or any(b <= a for a, b in zip(self.level_knots, self.level_knots[1:])) \
                or any(b <= a for a, b in zip(self.level_values, self.level_values[1:])) \
                or any(not v > 0 for v in self.level_end_slopes):
            raise ValueError("a level map needs increasing knots and values and two positive end slopes, got "
                             f"{self.level_knots}, {self.level_values}, {self.level_end_slopes}")
        if self.map_cov and np.shape(self.map_cov) != (len(self.sources) + 1,) * 2:
            raise ValueError(f"map_cov must be {len(self.sources) + 1}x{len(self.sources) + 1} "
                             f"(sources + offset), got {np.shape(self.map_cov)}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sources"], d["map_cov"] = list(self.sources), [list(r) for r in self.map_cov]
        for name in ("level_knots", "level_values", "level_end_slopes"):
            d[name] = list(d[name])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "IntervalModel":
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown interval fields {sorted(unknown)}")
        # intervals written before the level map have none (identity)
        levels = {name: tuple(float(v) for v in d.get(name, ()))
                  for name in ("level_knots", "level_values", "level_end_slopes")}
        return cls(**{**d, "sources": tuple(d.get("sources", ())),
                      "map_cov": tuple(tuple(float(v) for v in r) for r in d.get("map_cov", ())), **levels})

    def level(self, mean_z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated level of raw ensemble means (n,), and the map's slope there (n,)."""
        x = np.asarray(mean_z, dtype=np.float64)
        if not self.level_knots:
            return x, np.ones_like(x)
        knots, values = np.asarray(self.level_knots), np.asarray(self.level_values)
        inner = np.diff(values) / np.diff(knots)
        low, high = self.level_end_slopes
        mapped = np.interp(x, knots, values)
        mapped = np.where(x < knots[0], values[0] + low * (x - knots[0]), mapped)
        mapped = np.where(x > knots[-1], values[-1] + high * (x - knots[-1]), mapped)
        segment = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, len(inner) - 1)
        slope = np.where(x < knots[0], low, np.where(x > knots[-1], high, inner[segment]))
        return mapped, slope

    def variance(self, spread: np.ndarray, source_z: np.ndarray | None = None) -> np.ndarray:
        """Unscaled variance per cell: spread (n,), source_z (n, S) ensemble-mean source outputs."""
        var = spread ** 2 + self.floor ** 2
        if self.map_cov:
            a = np.concatenate([source_z, np.ones((len(source_z), 1))], axis=1)
            var = var + np.einsum("ni,ij,nj->n", a, np.asarray(self.map_cov), a)
        return var

    def sd(self, spread: np.ndarray, source_z: np.ndarray | None = None, mean_z: np.ndarray | None = None
           ) -> np.ndarray:
        scale = np.full(len(spread), self.scale)
        if self.top_scale is not None and mean_z is not None:
            best_side = -np.asarray(mean_z) if self.best_low else np.asarray(mean_z)
            scale = np.where(best_side >= self.top_from, self.top_scale, scale)
        return scale * np.sqrt(self.variance(spread, source_z))


def conformal_quantile(scores: np.ndarray, level: float = LEVEL) -> float:
    """The ``ceil((n + 1) * level)``-th smallest score (split conformal). With too few
    scores for that rank (n < level / (1 - level)) the largest one: no guarantee then."""
    s = np.sort(np.asarray(scores, dtype=np.float64))
    if not len(s):
        raise ValueError("conformal calibration needs at least one held-out score")
    rank = math.ceil((len(s) + 1) * level)
    return float(s[min(rank, len(s)) - 1])


TOP_BIN_MIN_CELLS = 40   # held-out cells needed before the top quarter gets its own scale


def calibrated(residuals: np.ndarray, spread: np.ndarray, source_z: np.ndarray | None = None,
               base: IntervalModel = IntervalModel(), method: str = "", mean_z: np.ndarray | None = None,
               best_low: bool = False) -> IntervalModel:
    """``base`` (its sources and map covariance) with floor and scale set from held-out
    ``residuals`` (n,) of cells whose member spread is ``spread`` (n,) and prediction
    ``mean_z`` (n,), all in z units; ``best_low``: the best cells are the lowest (a cost)."""
    r = np.abs(np.asarray(residuals, dtype=np.float64))
    floor = 0.5 * float(np.median(r))
    shaped = IntervalModel(1.0, max(floor, 1e-3), base.sources, base.map_cov)
    scores = r / np.sqrt(shaped.variance(np.asarray(spread, dtype=np.float64), source_z))
    scale = max(conformal_quantile(scores) / Z90, 0.05)
    top_from = top_scale = None
    if mean_z is not None and len(r) >= TOP_BIN_MIN_CELLS:
        best_side = -np.asarray(mean_z) if best_low else np.asarray(mean_z)
        top_from = float(np.quantile(best_side, 0.75))
        top_scale = max(conformal_quantile(scores[best_side >= top_from]) / Z90, 0.05)
    return IntervalModel(scale, shaped.floor, base.sources, base.map_cov, method or base.method, len(r),
                         top_from, top_scale, best_low=best_low)


LEVEL_MIN_CELLS = 30                      # held-out cells needed to fit a level map
LEVEL_KNOTS = (0.1, 0.3, 0.5, 0.7, 0.9)   # quantiles of the held-out predictions where it bends
LEVEL_MIN_SLOPE = 0.05                    # keeps the map strictly increasing (the ranking unchanged)


def level_map(pred_z: np.ndarray, truth_z: np.ndarray) -> dict | None:
    """The monotone piecewise-linear map from held-out predictions (n,) to their labels (n,),
    least squares with every slope >= ``LEVEL_MIN_SLOPE``, as :class:`IntervalModel` fields;
    None with fewer than ``LEVEL_MIN_CELLS`` cells or too few distinct predictions."""
    x, y = np.asarray(pred_z, dtype=np.float64), np.asarray(truth_z, dtype=np.float64)
    if len(x) < LEVEL_MIN_CELLS:
        return None
    knots = np.unique(np.quantile(x, LEVEL_KNOTS))
    if len(knots) < 2 or np.min(np.diff(knots)) < 1e-6:
        return None
    # f(x) = f(k0) + s_low * min(x - k0, 0) + sum_i s_i * clip(x - k_i, 0, k_{i+1} - k_i) + s_high * max(x - k_last, 0)
    columns = [np.ones_like(x), np.minimum(x - knots[0], 0.0)]
    columns += [np.clip(x - a, 0.0, b - a) for a, b in zip(knots[:-1], knots[1:])]
    columns.append(np.maximum(x - knots[-1], 0.0))
    lower = np.full(len(columns), LEVEL_MIN_SLOPE)
    lower[0] = -np.inf
    fit = lsq_linear(np.stack(columns, axis=1), y, bounds=(lower, np.inf))
    start, low, *inner, high = fit.x
    values = start + np.concatenate([[0.0], np.cumsum(np.asarray(inner) * np.diff(knots))])
    return {"level_knots": tuple(map(float, knots)), "level_values": tuple(map(float, values)),
            "level_end_slopes": (float(low), float(high))}


def conservative(method: str, held_out: int = 0) -> IntervalModel:
    """Too few held-out labels to calibrate: one target standard deviation on top of the
    spread, doubled (a wide interval that says it is not calibrated)."""
    return IntervalModel(scale=2.0, floor=1.0, method=method, held_out=held_out)
