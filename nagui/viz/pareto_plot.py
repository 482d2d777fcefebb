"""Objective scatter plots: the whole search space with its true Pareto front and
generated cells, and the profiled sub-networks of a super-network.

Every point carries an id in ``customdata`` (NB201 index, or mask text for sub-networks)
so a click in the app maps back to an architecture. Axis labels name units
(:func:`axis_label`); accuracies are maximised, every cost minimised (:func:`maximise`).
The search-space plot uses WebGL throughout: Plotly draws WebGL traces above SVG ones,
so mixing them would hide the front under the 15,625 grey points.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..objectives import OTHER, kind_of, maximise
from ..pareto import record_front, true_front

OBJECTIVE_COLORS: dict[str, str] = {
    "accuracy": "#2ca02c",
    "flops": "#1f77b4",
    "params": "#9467bd",
    "latency": "#d62728",
    "memory": "#ff7f0e",
}
OTHER_COLOR = "#31333f"
BACKGROUND_COLOR = "#c8c8c8"
FRONT_COLOR = "#31333f"
GENERATED_COLOR = "#e45756"
BASELINE_COLOR = "#4c78a8"
SELECTED_COLOR = "#ff7f0e"

_DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120",
                  "cifar10-valid": "CIFAR-10 (train split)"}
_ACC_METRICS = {"test_acc": "test accuracy", "valid_acc": "validation accuracy",
                "test_acc_12ep": "test accuracy, 12 epochs", "valid_acc_12ep": "validation accuracy, 12 epochs"}


def objective_kind(column: str) -> str | None:
    """"accuracy" | "flops" | "params" | "latency" | "memory" | ..., or None if unknown."""
    k = kind_of(column)
    return None if k is OTHER else k.name


def objective_color(column: str) -> str:
    return OBJECTIVE_COLORS.get(objective_kind(column) or "", OTHER_COLOR)


_FIELD_LABELS = {"accuracy": "Held-out accuracy (%)", "latency_ms": "Latency here, onnxruntime (ms)",
                 "latency_p90_ms": "Latency here, onnxruntime p90 (ms)"}
_UNIT_WORDS = {"MFLOPs": "M", "M params": "M"}


def axis_label(column: str) -> str:
    """A human axis title with units, e.g. ``"test_acc@cifar10"`` -> ``"CIFAR-10 test accuracy (%)"``."""
    if column in _FIELD_LABELS:
        return _FIELD_LABELS[column]
    metric, _, where = column.partition("@")
    kind = kind_of(column)
    if kind is OTHER:
        return column
    if kind.name == "accuracy":
        words = _ACC_METRICS.get(metric, metric.replace("_", " "))
        if where:
            return f"{_DATASET_NAMES.get(where, where)} {words} (%)"
        return f"{words[0].upper()}{words[1:]} (%)"
    if kind.name == "latency" and where == "local":
        return "Latency on this machine (ms)"
    title = "Peak activation memory" if kind.name == "memory" and "activation" in metric else kind.title
    unit = _UNIT_WORDS.get(kind.unit, kind.unit)
    return f"{title} on {where} ({unit})" if where else f"{title} ({unit})"


def direction_hint(column: str, axis: str) -> str:
    """Which way is better along ``axis`` ("x" or "y"): "→ better", "← better", "↑ better", "↓ better"."""
    up = maximise(column)
    if axis == "x":
        return "→ better" if up else "← better"
    return "↑ better" if up else "↓ better"


def _corner_hint(x: str, y: str) -> str:
    corners = {(True, True): "↗", (False, True): "↖", (True, False): "↘", (False, False): "↙"}
    return corners[(maximise(x), maximise(y))]


def front_frame(table: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The rows of ``table`` non-dominated in (``x``, ``y``) (accuracy maximised, costs
    minimised; rows with NaN in either are ignored), sorted by ``x`` then ``y``."""
    return table.iloc[true_front(table, [x, y])].sort_values([x, y], kind="stable")


def _nb201_index(df: pd.DataFrame) -> np.ndarray:
    if "index" in df.columns:
        return df["index"].to_numpy()
    return df.index.to_numpy()


def _as_frame(points, x: str, y: str, what: str) -> pd.DataFrame:
    """A DataFrame with columns x and y from a DataFrame, records, or an (n, 2) array."""
    if isinstance(points, pd.DataFrame):
        df = points
    elif isinstance(points, np.ndarray) or (isinstance(points, Sequence) and points and
                                            not isinstance(points[0], Mapping)):
        arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        df = pd.DataFrame({x: arr[:, 0], y: arr[:, 1]})
    else:
        df = pd.DataFrame(list(points))
    missing = [c for c in (x, y) if c not in df.columns]
    if missing and len(df):
        raise KeyError(f"{what} lacks column(s) {missing}; it has {list(df.columns)}")
    return df


def _cell_values(table: pd.DataFrame, idx: int, x: str, y: str) -> tuple[float, float]:
    """(x, y) of NB201 cell ``idx`` in ``table`` (indexed by NB201 index, or with an
    ``index`` column); a clear KeyError when the table does not hold it."""
    if "index" in table.columns:
        rows = table[table["index"].to_numpy() == idx]
        if not len(rows):
            raise KeyError(f"cell #{idx} is not in the table drawn")
        row = rows.iloc[0]
    elif idx in table.index:
        row = table.loc[idx]
    else:
        raise KeyError(f"cell #{idx} is not in the table drawn")
    return float(row[x]), float(row[y])


def _hover(x: str, y: str, head: str) -> str:
    return f"{head}<br>{axis_label(x)}: %{{x:.4g}}<br>{axis_label(y)}: %{{y:.4g}}<extra></extra>"


def _axis(column: str, axis: str) -> dict:
    return dict(title=dict(text=f"{axis_label(column)}  {direction_hint(column, axis)}",
                           font=dict(color=objective_color(column))), zeroline=False)


def focus_range(values, low_percentile: float = 1.0, pad: float = 0.04, fence: float | None = 3.0) -> list[float] | None:
    """An axis range over where ``values`` are: from their ``low_percentile``-th percentile
    (raised to Tukey's far-out fence, ``fence`` interquartile ranges below the first quartile,
    when that is higher) to their maximum, padded by ``pad`` of the span (None when there is
    no finite value). Accuracies of interest (85-94% on CIFAR-10) then fill the chart instead
    of a thin band above the 10% of disconnected cells, even when a few such cells are drawn.
    ``fence=None`` keeps the percentile alone."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    lo, hi = float(np.percentile(v, low_percentile)), float(v.max())
    if fence is not None:
        q1, q3 = np.percentile(v, [25, 75])
        lo = max(lo, float(q1 - fence * (q3 - q1)))
    span = hi - lo or max(abs(hi), 1.0) * 0.01
    return [lo - pad * span, hi + pad * span]


def _note_points_below(fig: go.Figure, values: np.ndarray, low: float) -> None:
    """Say on the chart how many foreground points lie below the focused y range."""
    below = int(np.sum(np.asarray(values, dtype=float) < low))
    if below:
        fig.add_annotation(
            x=1, y=0, xref="paper", yref="paper", xanchor="right", yanchor="bottom", showarrow=False,
            text=f"{below} point{'s' if below > 1 else ''} below this range: 'Full range' or autoscale shows "
                 f"{'them' if below > 1 else 'it'}", font=dict(size=11, color="#6b6b6b"),
            bgcolor="rgba(255,255,255,0.8)")


def _legend_on_top() -> dict:
    return dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0)


def search_space_scatter(table: pd.DataFrame, x: str, y: str, *, front=None, samples=None, baseline=None,
                         baseline_name: str = "baseline", selected=None, height: int = 520,
                         one_per_class: bool = False, focus: bool = True, background: bool = True) -> go.Figure:
    """Every cell of ``table`` as a grey background ("all cells"), the true Pareto ``front``
    ("true front", e.g. :func:`front_frame`), ``samples`` ("generated") and ``baseline``
    (``baseline_name``) as DataFrames or records with columns ``x``, ``y`` and ``index``,
    and ``selected`` (an NB201 index, or a mapping with ``x``, ``y`` and ``index``) as a
    ring. ``customdata`` of every point is its NB201 index. None leaves a layer out.
    ``one_per_class`` draws one background cell per isomorphism class (lighter to send and draw).
    ``focus`` sets the y range to where the drawn points are (:func:`focus_range` of the
    generated and selected points, else the baseline's, else the front; the baseline's and
    the front's best on top) and says how many drawn points lie below it; ``focus=False``
    shows every cell's range. ``background=False`` leaves the grey cells out and draws the
    rest as SVG: under software rendering a WebGL chart costs ~0.3 s before its first point
    (BENCHMARKS.md, the app), which only thousands of points repay."""
    fig = go.Figure()
    Scatter = go.Scattergl if background else go.Scatter
    shown: list[tuple[str, np.ndarray]] = []   # (layer, y values) of the foreground points (focus)
    full_table = table               # the selected cell is looked up here: any member of its class
    if one_per_class and "canonical_id" in table.columns:  # 6,466 points instead of 15,625: a lighter page
        table = table[table["canonical_id"].to_numpy() == _nb201_index(table)]
    if background:
        cloud = table[[x, y]]
        fig.add_trace(go.Scattergl(
            x=cloud[x].to_numpy().round(4), y=cloud[y].to_numpy().round(4), mode="markers",
            name="all cells", customdata=_nb201_index(table), marker=dict(size=4, color=BACKGROUND_COLOR, opacity=0.55),
            hovertemplate=_hover(x, y, "cell #%{customdata}" + (" (one per isomorphism class)" if one_per_class
                                                                else ""))))
    if front is not None:
        df = _as_frame(front, x, y, "front").sort_values([x, y], kind="stable")
        trace = dict(x=df[x].to_numpy(), y=df[y].to_numpy(), mode="lines+markers", name="true front",
                     line=dict(color=FRONT_COLOR, width=1.5, shape="hv" if not maximise(x) else "vh"),
                     marker=dict(size=6, color=FRONT_COLOR))
        if isinstance(front, pd.DataFrame):
            trace.update(customdata=_nb201_index(df), hovertemplate=_hover(x, y, "true front: cell #%{customdata}"))
        else:
            trace.update(hovertemplate=_hover(x, y, "true front"))
        fig.add_trace(Scatter(**trace))
    for points, name, role, color, symbol in ((baseline, baseline_name, "baseline", BASELINE_COLOR, "diamond"),
                                              (samples, "generated", "generated", GENERATED_COLOR, "circle")):
        if points is None:
            continue
        df = _as_frame(points, x, y, name)
        if not len(df):
            continue
        shown.append((role, df[y].to_numpy(dtype=float)))
        fig.add_trace(Scatter(
            x=df[x].to_numpy(), y=df[y].to_numpy(), mode="markers", name=name,
            customdata=_nb201_index(df),
            marker=dict(size=8, color=color, symbol=symbol, opacity=0.85, line=dict(color="white", width=0.5)),
            hovertemplate=_hover(x, y, f"{name}: arch #%{{customdata}}")))
    if selected is not None:
        if isinstance(selected, Mapping) or isinstance(selected, pd.Series):
            sel = dict(selected)
            idx, sx, sy = sel.get("index", getattr(selected, "name", None)), sel[x], sel[y]
        else:
            idx = int(selected)
            sx, sy = _cell_values(full_table, idx, x, y)
        shown.append(("selected", np.array([sy], dtype=float)))
        fig.add_trace(Scatter(
            x=[sx], y=[sy], mode="markers", name="selected", customdata=[idx],
            marker=dict(size=22, symbol="circle-open", color=SELECTED_COLOR, line=dict(width=3, color=SELECTED_COLOR)),
            hovertemplate=_hover(x, y, "selected: arch #%{customdata}")))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=70, b=10),
        title=dict(text=f"{axis_label(y)} vs {axis_label(x)}  ·  {_corner_hint(x, y)} better", x=0, xanchor="left",
                   font=dict(size=14)),
        xaxis=_axis(x, "x"), yaxis=_axis(y, "y"), legend=_legend_on_top(),
        clickmode="event+select", hovermode="closest", dragmode="zoom",
    )
    if focus:
        _focus_y(fig, y, shown)
    return fig


def _focus_y(fig: go.Figure, y: str, shown: list[tuple[str, np.ndarray]]) -> None:
    """Set the y range around the generated and selected points (``shown``: (layer, y values)),
    the front's best point on top (only the front when nothing else is drawn); a baseline only
    raises the top, unless it is all there is: its cheapest Pareto points (10% cells) would
    otherwise stretch the chart. Says how many drawn points lie below the range."""
    front_y = [np.asarray(t.y, dtype=float) for t in fig.data if t.name == "true front"]
    if not (shown or front_y):
        return

    def best_of(v: np.ndarray) -> np.ndarray:
        return np.array([np.nanmax(v) if maximise(y) else np.nanmin(v)])

    best = [best_of(front_y[0])] if front_y else []
    every = [v for _, v in shown]
    ours = [v for who, v in shown if who != "baseline"]
    if ours:
        around = np.concatenate(ours + best + [best_of(v) for who, v in shown if who == "baseline"])
    else:
        around = np.concatenate(every + best) if every else front_y[0]
    y_range = focus_range(around)
    if y_range is not None:
        fig.update_yaxes(range=y_range)
        if every:
            _note_points_below(fig, np.concatenate(every), y_range[0])


def _record_value(r: Mapping, key: str) -> float:
    v = r.get(key)
    return float("nan") if v is None else float(v)


def _record_hover(r: Mapping) -> str:
    parts = [f"<b>{r.get('mask')}</b>"]
    for key in ("accuracy", "latency_ms", "flops", "params"):
        if key in r and r[key] is not None:
            parts.append(f"{axis_label(key)}: {float(r[key]):.4g}")
    return "<br>".join(parts)


def subnet_scatter(records: Iterable[Mapping], *, x: str = "latency_ms", y: str = "accuracy",
                   current: Mapping | None = None, pareto: Iterable[Mapping] | None = None,
                   height: int = 420) -> go.Figure:
    """Profiled sub-networks (dicts with mask, accuracy, latency_ms, flops, params): all
    points ("sub-networks", customdata = mask text), the ``pareto`` set connected ("pareto
    set"; None computes the (x, y) front of ``records``), ``current`` as a star ("current choice")."""
    records = list(records)
    fig = go.Figure()
    if records:
        fig.add_trace(go.Scatter(
            x=[_record_value(r, x) for r in records], y=[_record_value(r, y) for r in records], mode="markers",
            name="sub-networks", customdata=[str(r.get("mask")) for r in records],
            marker=dict(size=8, color=objective_color(y), opacity=0.55),
            hovertext=[_record_hover(r) for r in records], hoverinfo="text"))
        if pareto is None:
            pareto = record_front(records, (x, y))
        front = sorted(pareto, key=lambda r: (_record_value(r, x), _record_value(r, y)))
        if front:
            fig.add_trace(go.Scatter(
                x=[_record_value(r, x) for r in front], y=[_record_value(r, y) for r in front],
                mode="lines+markers", name="pareto set", customdata=[str(r.get("mask")) for r in front],
                line=dict(color=FRONT_COLOR, width=1.5), marker=dict(size=9, color=FRONT_COLOR),
                hovertext=[_record_hover(r) for r in front], hoverinfo="text"))
    else:
        fig.add_annotation(x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                           text="no sub-networks profiled yet", font=dict(size=14, color="#8a8a8a"))
    if current is not None:
        fig.add_trace(go.Scatter(
            x=[_record_value(current, x)], y=[_record_value(current, y)], mode="markers", name="current choice",
            customdata=[str(current.get("mask"))],
            marker=dict(size=20, symbol="star", color=SELECTED_COLOR, line=dict(color="#31333f", width=1)),
            hovertext=[_record_hover(current)], hoverinfo="text"))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=40, b=10),
        xaxis=_axis(x, "x"), yaxis=_axis(y, "y"), legend=_legend_on_top(),
        clickmode="event+select", hovermode="closest",
    )
    return fig


__all__ = ["OBJECTIVE_COLORS", "axis_label", "direction_hint", "focus_range", "maximise", "objective_color", "objective_kind",
           "search_space_scatter", "subnet_scatter", "front_frame"]
