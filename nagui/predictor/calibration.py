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
- ``top_scale``: with enough held-out cells (>= 40), the cells predicted in the top
  quarter (normalised prediction >= ``top_from``) get a scale of their own (Mondrian
  conformal): predictions shrink towards the mean, so the best cells' residuals are
  larger than the rest's, and one global scale left their intervals too narrow.

Held-out residuals come from out-of-fold members (plain fits) or leave-one-out refits of
the affine map (transfer, jackknife+). Other levels scale the same width as a Gaussian.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

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

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0) or not (math.isfinite(self.floor) and self.floor >= 0):
            raise ValueError(f"interval scale must be > 0 and floor >= 0, got {self.scale}, {self.floor}")
        if (self.top_scale is None) != (self.top_from is None) or (self.top_scale is not None and not
                                                                    (math.isfinite(self.top_scale) and self.top_scale > 0)):
            raise ValueError(f"top_from and top_scale go together (scale > 0), got {self.top_from}, {self.top_scale}")
        if self.map_cov and np.shape(self.map_cov) != (len(self.sources) + 1,) * 2:
            raise ValueError(f"map_cov must be {len(self.sources) + 1}x{len(self.sources) + 1} "
                             f"(sources + offset), got {np.shape(self.map_cov)}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sources"], d["map_cov"] = list(self.sources), [list(r) for r in self.map_cov]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "IntervalModel":
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown interval fields {sorted(unknown)}")
        return cls(**{**d, "sources": tuple(d.get("sources", ())),
                      "map_cov": tuple(tuple(float(v) for v in r) for r in d.get("map_cov", ()))})

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
            scale = np.where(mean_z >= self.top_from, self.top_scale, scale)
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
               base: IntervalModel = IntervalModel(), method: str = "", mean_z: np.ndarray | None = None
               ) -> IntervalModel:
    """``base`` (its sources and map covariance) with floor and scale set from held-out
    ``residuals`` (n,) of cells whose member spread is ``spread`` (n,) and prediction
    ``mean_z`` (n,), all in z units."""
    r = np.abs(np.asarray(residuals, dtype=np.float64))
    floor = 0.5 * float(np.median(r))
    shaped = IntervalModel(1.0, max(floor, 1e-3), base.sources, base.map_cov)
    scores = r / np.sqrt(shaped.variance(np.asarray(spread, dtype=np.float64), source_z))
    scale = max(conformal_quantile(scores) / Z90, 0.05)
    top_from = top_scale = None
    if mean_z is not None and len(r) >= TOP_BIN_MIN_CELLS:
        top_from = float(np.quantile(mean_z, 0.75))
        top_scale = max(conformal_quantile(scores[np.asarray(mean_z) >= top_from]) / Z90, 0.05)
    return IntervalModel(scale, shaped.floor, base.sources, base.map_cov, method or base.method, len(r),
                         top_from, top_scale)


def conservative(method: str, held_out: int = 0) -> IntervalModel:
    """Too few held-out labels to calibrate: one target standard deviation on top of the
    spread, doubled (a wide interval that says it is not calibrated)."""
    return IntervalModel(scale=2.0, floor=1.0, method=method, held_out=held_out)
