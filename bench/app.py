"""The app's speed targets, measured on the real server in the system Chromium.

    nagui bench app [--epochs 1] [--profile 30] [--moves 30] [--new-masks 20] [--json OUT]

Targets (issue #6), on 2 CPU cores:
- cold start to an interactive Generate page <= 3 min on a fresh user data dir (first
  run), <= 15 s after that (a restarted server, same data dir);
- page switch <= 1 s after warm-up;
- Deploy: a slider move to new measured numbers, p95 <= 1.5 s for a mask never measured
  before and <= 0.2 s for a cached one. A new mask's clock stops when its FLOPs, params and
  latency measured here are shown (issue #15: those live, its accuracy after them); the time
  until its held-out accuracy is shown too is reported beside it (``new_mask_with_accuracy_s``).

Every time is wall-clock in the browser: from the click (or key press) until the page
shows the result. The super-network for the Deploy part is the quick preset's recipe at 8 channels and
2 cells per stage (1,000 held-out images, 500 calibration images, 200 training images per
class), trained for
``--epochs`` (timings do not depend on how well it is trained; 1 epoch keeps the
benchmark short) and profiled on ``--profile`` masks; a "new" mask is one no one measured.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nagui.progress import printed

SUPER_CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"
PAGES = ["Home", "Search space", "Predictor", "Generate", "Supernet", "Deploy", "Benchmarks"]


say = printed(seconds=2)   # progress and summaries on stderr


def stats(xs) -> dict:
    xs = np.asarray(xs, dtype=np.float64)
    if not len(xs):
        return {"n": 0}
    return {"n": int(len(xs)), "p50": round(float(np.percentile(xs, 50)), 3),
            "p95": round(float(np.percentile(xs, 95)), 3), "max": round(float(xs.max()), 3)}


def idle(pg, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit's "running" indicator is gone."""
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                         timeout=timeout_ms)


def interactive_generate(pg, url: str, started: float) -> float:
    from playwright.sync_api import expect

    pg.goto(f"{url}/generate")
    expect(pg.get_by_role("button", name="Generate")).to_be_enabled(timeout=300_000)
    return time.perf_counter() - started


# In the page: remember when the chosen sub-network's line ("Sub-network ...") changes: it is
# written with its FLOPs, params and latency, right after they are measured (a new sub-network
# shows them first), and when its held-out accuracy is shown too (a value in %, not "…").
ARM_JS = """() => {
  const text = () => { const els = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
      .filter(e => e.innerText.startsWith('Sub-network')); return els.length ? els[els.length - 1].innerText : ''; };
  const accuracyShown = () => { const els = [...document.querySelectorAll('[data-testid="stMetric"]')]
      .filter(e => e.innerText.startsWith('Held-out accuracy'));
    const v = els.length ? els[els.length - 1].querySelector('[data-testid="stMetricValue"]') : null;
    return v !== null && v.innerText.trim().endsWith('%'); };
  const before = text();
  window.__naguiChanged = null;
  window.__naguiComplete = null;
  if (window.__naguiObserver) window.__naguiObserver.disconnect();
  window.__naguiObserver = new MutationObserver(() => {
    if (window.__naguiChanged === null && text() && text() !== before) window.__naguiChanged = performance.now();
    if (window.__naguiChanged !== null && window.__naguiComplete === null && accuracyShown())
      window.__naguiComplete = performance.now();
  });
  window.__naguiObserver.observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__naguiArmed = performance.now();
  return window.__naguiArmed;
}"""
SETTLE_JS = "() => new Promise(r => requestIdleCallback(() => r(), {timeout: 3000}))"


class BrowserWork:
    """The browser's own share of a wait: seconds its main thread spent on tasks (all of
    them, and the script / layout / style parts), from Chromium's Performance domain. The
    rest of a wall-clock wait is the server, the connection and idle frames: the split the
    issue asks for when software rendering may be what holds a target back."""

    NAMES = {"TaskDuration": "task_s", "ScriptDuration": "script_s", "LayoutDuration": "layout_s",
             "RecalcStyleDuration": "style_s"}

    def __init__(self, pg):
        self.cdp = pg.context.new_cdp_session(pg)
        self.cdp.send("Performance.enable")
        self.samples: dict[str, list[dict]] = {}

    def now(self) -> dict:
        metrics = {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}
        return {key: float(metrics.get(name, 0.0)) for name, key in self.NAMES.items()}

    def note(self, what: str, before: dict, wall_s: float) -> None:
        after = self.now()
        self.samples.setdefault(what, []).append({"wall_s": wall_s, **{k: after[k] - before[k] for k in after}})

    def split(self) -> dict:
        """Per kind of wait: p50 of the wall time and of each part, and the browser's share."""
        out = {}
        for what, rows in self.samples.items():
            p50 = {k: round(float(np.median([r[k] for r in rows])), 3) for k in rows[0]}
            share = float(np.median([r["task_s"] / r["wall_s"] for r in rows if r["wall_s"] > 0]))
            out[what] = {"n": len(rows), "p50": p50, "browser_main_thread_share_p50": round(share, 2)}
        return out


def timed_change(pg, work: BrowserWork, action, what: str, timeout_s: float = 30.0) -> float | None:
    """Seconds from ``action()`` until the chosen sub-network's line changes in the page
    (None: it did not change). Starts once the page is idle, as when a person moves a slider."""
    pg.evaluate(SETTLE_JS)
    t0 = pg.evaluate(ARM_JS)
    before = work.now()
    action()
    try:
        pg.wait_for_function("() => window.__naguiChanged !== null", timeout=timeout_s * 1000, polling="raf")
    except Exception:  # noqa: BLE001 - no change within the timeout
        return None
    wall = (pg.evaluate("() => window.__naguiChanged") - t0) / 1000
    work.note(what, before, wall)
    return wall


def complete_s(pg, timeout_s: float = 30.0) -> float | None:
    """Seconds from the last :func:`timed_change` action until the sub-network's held-out
    accuracy was shown as well (None: not within the timeout)."""
    try:
        pg.wait_for_function("() => window.__naguiComplete !== null", timeout=timeout_s * 1000, polling="raf")
    except Exception:  # noqa: BLE001 - no accuracy within the timeout
        return None
    return pg.evaluate("() => (window.__naguiComplete - window.__naguiArmed) / 1000")


def measured_label(pg) -> str:
    return pg.locator('[data-testid="stMetric"]').filter(has_text="Measured").locator(
        '[data-testid="stMetricValue"]').last.inner_text()


def slider(pg, label: str):
    return pg.locator('[data-testid="stSlider"]').filter(has_text=label).get_by_role("slider")


def press(pg, label: str, key: str):
    def act():
        s = slider(pg, label)
        s.focus()
        s.press(key)
    return act


def bench_deploy(pg, work: BrowserWork, url: str, moves: int, new_masks: int) -> dict:
    from playwright.sync_api import expect

    pg.goto(f"{url}/deploy")
    expect(pg.get_by_text("Sub-network").first).to_be_visible(timeout=120_000)
    idle(pg)
    cached, cached_click = [], []
    for i in range(moves):  # between the largest and smallest measured masks: always another mask
        label = "Max FLOPs (M)" if i % 2 == 0 else "Max latency here (ms)"
        for key in ("Home", "End"):
            dt = timed_change(pg, work, press(pg, label, key), "deploy slider move")
            idle(pg)
            if dt is not None and measured_label(pg) == "from cache":
                cached.append(dt)
    pg.get_by_text("Adjust blocks by hand").click()
    idle(pg)
    # Walk over the slot layouts one click at a time: each stage cycles 11 -> 10 -> 11 -> 01 -> 11
    # (never 00), so every click is a valid mask; the ones nobody measured yet are "new".
    new, new_complete, server_s, counters, step = [], [], [], [0, 0, 0], 0
    while len(new) < new_masks and step < 8 * new_masks:
        stage = step % 3
        slot = (2, 2, 1, 1)[counters[stage] % 4]
        counters[stage] += 1
        step += 1
        box = pg.locator('[data-testid="stCheckbox"]').filter(has_text=f"cell {stage + 1}.{slot}").last
        dt = timed_change(pg, work, box.click, "deploy block toggle")
        complete = complete_s(pg) if dt is not None else None   # a new mask: its accuracy comes second
        idle(pg)
        if dt is None:
            continue
        label = measured_label(pg)      # "from cache", or the seconds a new measurement took ("1.2 s")
        if label != "from cache":
            new.append(dt)
            if complete is not None:
                new_complete.append(complete)
            server_s.append(float(label.removesuffix(" s")))
        else:
            cached_click.append(dt)
    return {"cached_move_s": stats(cached), "cached_block_toggle_s": stats(cached_click), "new_mask_s": stats(new),
            "new_mask_with_accuracy_s": stats(new_complete), "new_mask_server_measure_s": stats(server_s)}


# In the page: when the new page's title appears, and when the page stops changing (the
# last DOM mutation before 300 ms of quiet): what a person sees as "the page is there".
ARM_PAGE_JS = """(title) => {
  window.__naguiTitle = null; window.__naguiLast = performance.now();
  const seen = () => [...document.querySelectorAll('h1')].some(e => e.innerText.trim() === title);
  if (window.__naguiPageObserver) window.__naguiPageObserver.disconnect();
  window.__naguiPageObserver = new MutationObserver(() => {
    window.__naguiLast = performance.now();
    if (window.__naguiTitle === null && seen()) window.__naguiTitle = performance.now();
  });
  window.__naguiPageObserver.observe(document.body, {subtree: true, childList: true, characterData: true,
                                                     attributes: true});
  return performance.now();
}"""
SETTLED_JS = ("() => window.__naguiTitle !== null && performance.now() - window.__naguiLast > 300 "
              "&& !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def page_switches(pg, work: BrowserWork, url: str, rounds: int) -> dict:
    pg.goto(url)
    idle(pg)
    nav = pg.locator('[data-testid="stSidebarNav"]')
    for title in PAGES:  # warm-up: every page once
        nav.get_by_role("link", name=title, exact=True).click()
        idle(pg, 300_000)
    shown, settled = {t: [] for t in PAGES}, {t: [] for t in PAGES}
    for _ in range(rounds):
        for title in PAGES:
            heading = "nagui" if title == "Home" else title
            pg.evaluate(SETTLE_JS)
            t0 = pg.evaluate(ARM_PAGE_JS, heading)
            before = work.now()
            nav.get_by_role("link", name=title, exact=True).click()
            pg.wait_for_function(SETTLED_JS, polling="raf", timeout=60_000)
            t_title, t_last = pg.evaluate("() => [window.__naguiTitle, window.__naguiLast]")
            # the 300 ms of quiet the wait needs adds little main-thread work
            work.note(f"page switch: {title}", before, (t_last - t0) / 1000)
            shown[title].append((t_title - t0) / 1000)
            settled[title].append((t_last - t0) / 1000)
    return {"settled_per_page": {t: stats(v) for t, v in settled.items()},
            "title_shown": stats([x for v in shown.values() for x in v]),
            "all": stats([x for v in settled.values() for x in v])}


def deploy_run(epochs: int, profile: int, name: str = "bench app") -> tuple[float, float]:
    """A small super-network for Deploy in the current user data dir: the quick preset's
    recipe at 8 channels and 2 cell slots per stage (the preset's own 16 x 1 slot leaves no
    cell to switch off by hand), 200 images per class, trained for ``epochs`` and profiled
    on ``profile`` masks. Timings do not depend on how well it is trained. Returns the
    (training, profiling) seconds."""
    from nagui.data import Benchmark
    from nagui.runs import RunStore
    from nagui.workflows.supernet_runs import create_run, profile_run, train_run

    store, t0 = RunStore(), time.perf_counter()
    run = create_run(store, SUPER_CELL, preset="quick", slots=(2, 2, 2), channels=8,
                     train_overrides={"epochs": epochs, "train_per_class": 200}, name=name)
    run = train_run(store, run, device="cpu")
    train_s = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    profile_run(store, run, limit=profile, bench=Benchmark.load())
    return train_s, round(time.perf_counter() - t0, 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", help="user data dir to use (default: a fresh temporary one: a true first run)")
    p.add_argument("--epochs", type=int, default=1, help="training epochs of the quick super-network")
    p.add_argument("--profile", type=int, default=30, help="masks profiled before the browser part")
    p.add_argument("--moves", type=int, default=15, help="slider round trips (2 cached moves each)")
    p.add_argument("--new-masks", type=int, default=20, help="never-measured masks to time")
    p.add_argument("--rounds", type=int, default=3, help="page-switch rounds over all pages")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from nagui.app_server import CHROMIUM, CHROMIUM_ARGS, running_app

    home = Path(args.home or tempfile.mkdtemp(prefix="nagui-bench-home-"))
    os.environ["XDG_DATA_HOME"] = str(home)
    env = {"XDG_DATA_HOME": str(home)}
    out = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
           "date": time.strftime("%Y-%m-%d"), "home": str(home)}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1200})
        pg.set_default_timeout(120_000)
        work = BrowserWork(pg)

        say("cold start: a fresh user data dir, the server starting, the Generate page interactive ...")
        with running_app(env) as app:
            out["cold_start_interactive_s"] = round(interactive_generate(pg, app.url, app.started), 2)
            start = time.perf_counter()
            pg.get_by_role("button", name="Generate").click()
            pg.get_by_text("HV ratio (true values)").wait_for(timeout=600_000)
            out["first_generation_s"] = round(time.perf_counter() - start, 2)
        say(f"  {out['cold_start_interactive_s']} s to interactive; first generation {out['first_generation_s']} s")

        say(f"a quick-preset super-network ({args.epochs} epoch(s), {args.profile} masks profiled) for Deploy ...")
        out["supernet_train_s"], out["supernet_profile_s"] = deploy_run(args.epochs, args.profile)

        say("restart: the same user data dir ...")
        with running_app(env) as app:
            out["warm_start_interactive_s"] = round(interactive_generate(pg, app.url, app.started), 2)
            say(f"  {out['warm_start_interactive_s']} s; page switches ...")
            out["page_switch_s"] = page_switches(pg, work, app.url, args.rounds)
            say(f"  {out['page_switch_s']['all']}; Deploy sliders ...")
            out["deploy"] = bench_deploy(pg, work, app.url, args.moves, args.new_masks)
            assert "Traceback" not in app.log(), app.log()[-3000:]
        out["browser_split"] = work.split()
        browser.close()
    targets = {"cold start <= 180 s": out["cold_start_interactive_s"] <= 180,
               "warm start <= 15 s": out["warm_start_interactive_s"] <= 15,
               "page switch p95 <= 1 s": out["page_switch_s"]["all"]["p95"] <= 1.0,
               "new mask p95 <= 1.5 s": out["deploy"]["new_mask_s"].get("p95", 99) <= 1.5,
               "cached move p95 <= 0.2 s": out["deploy"]["cached_move_s"].get("p95", 99) <= 0.2}
    out["targets_met"] = targets
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
