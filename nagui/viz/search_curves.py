"""Search benchmark curves: best accuracy so far and hypervolume ratio against the number
of trained architectures, one line per strategy (mean over seeds, 95% CI band)."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from playwright.sync_api import sync_playwright

from ..app_server import CHROMIUM, CHROMIUM_ARGS

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
OURS_COLOR = "#d62728"


def _band(x: np.ndarray, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% CI band over the runs; NaN where no run has a value yet (e.g. a
    multi-fidelity run before its first full training)."""
    n = np.isfinite(runs).sum(axis=0)
    mean = np.full(runs.shape[1], np.nan)
    half = np.zeros(runs.shape[1])
    some, several = n > 0, n > 1
    mean[some] = np.nanmean(runs[:, some], axis=0)
    half[several] = 1.96 * np.nanstd(runs[:, several], axis=0, ddof=1) / np.sqrt(n[several])
    return mean, mean - half, mean + half


def curves_figure(x: Sequence[int], by_strategy: Mapping[str, np.ndarray], title: str, y_title: str,
                  reference: float | None = None, reference_name: str = "optimum") -> go.Figure:
    """``by_strategy``: name -> (runs, len(x)) values. ``reference``: a dashed line (the optimum)."""
    x = np.asarray(x)
    fig = go.Figure()
    for i, (name, runs) in enumerate(by_strategy.items()):
        color = OURS_COLOR if name == "ours" else PALETTE[i % len(PALETTE)]
        mean, lo, hi = _band(x, np.asarray(runs, dtype=np.float64))
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), fill="toself",
                                 fillcolor=color, opacity=0.15, line=dict(width=0), hoverinfo="skip",
                                 showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(x=x, y=mean, mode="lines", name=name, legendgroup=name,
                                 line=dict(color=color, width=3 if name == "ours" else 1.8),
                                 hovertemplate=f"{name}<br>%{{x}} trained: %{{y:.3f}}<extra></extra>"))
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dash", line_color="black", annotation_text=reference_name,
                      annotation_position="bottom right")
    fig.update_layout(title=title, xaxis_title="trained architectures", yaxis_title=y_title, template="plotly_white",
                      width=900, height=520, legend=dict(orientation="v", x=1.02, y=1))
    fig.update_xaxes(type="log")
    if reference == 1.0:                                    # a ratio: keep the axis on [0, 1]
        fig.update_yaxes(range=[0, 1.03])
    return fig


def write_figures(figures: Mapping[str, go.Figure], folder, png: bool = True) -> list[str]:
    """Each figure as ``folder/<name>.html`` (one shared plotly.min.js beside them, no
    network needed) and, with ``png``, ``<name>.png`` drawn by the system Chromium.
    Returns the files written; PNGs are skipped (and said so) without a browser."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in figures.items():
        path = folder / f"{name}.html"
        fig.write_html(path, include_plotlyjs="directory", full_html=True)
        written.append(str(path))
    if png:
        written += html_to_png([folder / f"{n}.html" for n in figures])
    return written


def html_to_png(pages: Sequence, width: int = 960, height: int = 560) -> list[str]:
    """Screenshots of local HTML figures in headless Chromium (the project's browser)."""

    if not os.path.exists(CHROMIUM):
        raise FileNotFoundError(f"no Chromium at {CHROMIUM} to draw the PNGs (apt-get install -y chromium), "
                                "or pass --no-png")
    # in a thread of its own: Playwright's sync API refuses to start in a thread where
    # another sync session (or an asyncio loop) is already running
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_screenshots, list(pages), width, height, CHROMIUM, CHROMIUM_ARGS).result()


def _screenshots(pages, width: int, height: int, chromium: str, args) -> list[str]:
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": width, "height": height})
        for html in pages:
            page.goto(html.resolve().as_uri())
            page.wait_for_selector(".plotly .main-svg", timeout=60_000)
            png = html.with_suffix(".png")
            page.screenshot(path=str(png))
            out.append(str(png))
        browser.close()
    return out
