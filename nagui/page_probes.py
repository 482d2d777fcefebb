"""What the browser tests and the app benchmarks read from, and do to, a live page.

JavaScript run in the page through Playwright (``page.evaluate``) to find a Plotly point's
pixel position and whether other points crowd it, and the Python steps built on it: find
the chart that draws a trace, click one of its points as a person would (dragging a zoom
box around it first when its neighbours are too close to tell apart). Nothing here imports
Streamlit or Playwright; the caller hands in a Playwright page.
"""
from __future__ import annotations

import time

# Pixel position (in the page) of point i of the named trace of the plot `el`, its data
# coordinates (dx, dy) and its customdata.
POINT_JS = """([el, name, i]) => {
  const tr = el._fullData && el._fullData.find(t => t.name === name);
  if (!tr) return null;
  const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, bb = el.getBoundingClientRect();
  const px = xa.l2p(tr.x[i]), py = ya.l2p(tr.y[i]);
  return {x: bb.left + xa._offset + px, y: bb.top + ya._offset + py,
          id: tr.customdata[i], n: tr.x.length, dx: tr.x[i], dy: tr.y[i],
          shown: px >= 0 && px <= xa._length && py >= 0 && py <= ya._length};
}"""
# Pixel distance from point i of the named trace to the nearest point drawn elsewhere. Points
# drawn at the very same place (the same cell in two layers, or two cells with equal values)
# are one spot to a person: clicking it shows one of them, so they do not count.
CLEARANCE_JS = """([el, name, i]) => {
  const SAME_SPOT_PX = 0.5;
  const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
  const tr = el._fullData.find(t => t.name === name), px = xa.l2p(tr.x[i]), py = ya.l2p(tr.y[i]);
  let best = Infinity;
  for (const t of el._fullData) {
    if (!t.x || t.visible === false) continue;
    for (let j = 0; j < t.x.length; j++) {
      if (t === tr && j === i) continue;
      const d = Math.hypot(xa.l2p(t.x[j]) - px, ya.l2p(t.y[j]) - py);
      if (d > SAME_SPOT_PX && d < best) best = d;
    }
  }
  return best;
}"""
# True once every named trace is drawn in some Plotly chart of the page.
HAS_TRACES_JS = """(names) => names.every(n => [...document.querySelectorAll('.js-plotly-plot')]
  .some(el => el.data && el.data.some(t => t.name === n)))"""
# Indices of the named trace's points inside the axes' current ranges (what a person can see
# and click; the focused y range leaves the poorest cells out).
VISIBLE_JS = """([el, name]) => {
  const tr = el._fullData && el._fullData.find(t => t.name === name);
  if (!tr) return [];
  const [x0, x1] = el._fullLayout.xaxis.range.map(Number), [y0, y1] = el._fullLayout.yaxis.range.map(Number);
  const out = [];
  for (let i = 0; i < tr.x.length; i++)
    if (tr.x[i] >= Math.min(x0, x1) && tr.x[i] <= Math.max(x0, x1) && tr.y[i] >= Math.min(y0, y1)
        && tr.y[i] <= Math.max(y0, y1)) out.push(i);
  return out;
}"""
CLEAR_PX = 6          # a point this far from every other can be clicked without hitting another
# True once the "selected" ring of the chart sits on data point [dx, dy] (within rounding).
SELECTED_AT_JS = """([dx, dy]) => [...document.querySelectorAll('.js-plotly-plot')].some(el => el.data && el.data
  .some(t => t.name === 'selected' && Math.abs(t.x[0] - dx) <= 1e-3 * (1 + Math.abs(dx))
             && Math.abs(t.y[0] - dy) <= 1e-3 * (1 + Math.abs(dy))))"""


def plot_with(pg, trace_name: str, timeout_ms: int = 60_000):
    """The Plotly element that has a trace named ``trace_name`` (waits until it is drawn;
    looks again when a rerun replaced the chart between the wait and the look)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        pg.wait_for_function(HAS_TRACES_JS, arg=[trace_name], timeout=max(1, (deadline - time.monotonic()) * 1000))
        for el in pg.locator(".js-plotly-plot").element_handles():
            if pg.evaluate("([el, n]) => !!el.data && el.data.some(t => t.name === n)", [el, trace_name]):
                return el
        if time.monotonic() > deadline:
            raise TimeoutError(f"no chart with a trace named {trace_name!r} within {timeout_ms / 1000:.0f} s")
        pg.wait_for_timeout(100)


def visible_points(pg, trace_name: str) -> list[int]:
    """Indices of the trace's points inside the chart's current axis ranges."""
    return pg.evaluate(VISIBLE_JS, [plot_with(pg, trace_name), trace_name])


def click_point(pg, trace_name: str, i: int, box_px: int = 30, max_zooms: int = 5) -> dict:
    """Click point ``i`` of the named trace as a person would: when another point lies within
    :data:`CLEAR_PX` pixels, first drag a zoom box around it (up to ``max_zooms`` times,
    each smaller). The chart is looked up again before every step (a rerun may have drawn it
    anew) and scrolled into view first. Returns the clicked point's ``{x, y, id, n, clearance, zooms}``; the caller
    resets the zoom when it wants the whole chart back."""
    plot_with(pg, trace_name).scroll_into_view_if_needed()   # the mouse only reaches what is on screen
    box, zooms = box_px, 0
    for _ in range(max_zooms):
        if pg.evaluate(CLEARANCE_JS, [plot_with(pg, trace_name), trace_name, i]) > CLEAR_PX:
            break
        zooms += 1
        p = pg.evaluate(POINT_JS, [plot_with(pg, trace_name), trace_name, i])
        pg.mouse.move(p["x"] - box, p["y"] - box)
        pg.mouse.down()
        pg.mouse.move(p["x"] + box, p["y"] + box, steps=5)
        pg.mouse.up()
        pg.wait_for_timeout(400)
        box = max(box // 2, 8)
    plot = plot_with(pg, trace_name)
    chosen = pg.evaluate(POINT_JS, [plot, trace_name, i])
    chosen["clearance"] = pg.evaluate(CLEARANCE_JS, [plot, trace_name, i])
    chosen["zooms"] = zooms
    pg.mouse.click(chosen["x"], chosen["y"])
    return chosen
