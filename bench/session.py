"""A scripted browser session over the whole app, counting every error a user could meet.

    nagui bench session --home DIR [--generations 5] [--clicks 50] [--seed 0] [--json OUT]

The server starts as `make run` starts it (`nagui app`, watcher off) on the user data dir
DIR (as for `nagui bench load`: models cached, ideally a trained super-network). Then, in
the system Chromium:

1. ``--generations`` generated sets, each from a fresh session, each with other settings
   (none; max FLOPs; a device latency as the cost with a latency limit; CIFAR-100 with a
   forbidden op and a params limit; params as the cost, aimed at one trade-off): the form
   is filled and submitted as a person would, and the set is awaited in the page;
2. after each set, ``--clicks`` / ``--generations`` random points the scatter shows
   (generated, the true front or any background cell in view), each zoomed in on
   first when its neighbours crowd it (``nagui.page_probes.click_point``); the page must
   then show that cell ("Cell #N");
3. after each set, every page from a fresh session.

Counted: exception blocks in the page after every step, JavaScript errors, clicks whose
cell did not show, pages that did not finish, and tracebacks or warnings in the server
log. Target (issue #19): 0 of each over 50 clicks and 5 generations.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from pathlib import Path

from nagui.progress import printed

PAGES = {"": "nagui", "search_space": "Search space", "predictor": "Predictor", "generate": "Generate",
         "supernet": "Supernet", "deploy": "Deploy", "benchmarks": "Benchmarks"}
# One generated set each: (label, form settings). Labels are the Generate page's own.
SETTINGS = [
    ("defaults", {}),
    ("max FLOPs 50", {"Max FLOPs (M)": "50"}),
    ("raspi4 latency cost, at most 20 ms there", {"Cost objective": "Latency on raspi4 (ms)",
                                                  "Latency limit on": "raspi4", "Max latency (ms)": "20"}),
    ("CIFAR-100, no avg pool, params <= 0.8 M", {"Dataset": "CIFAR-100", "Forbidden ops": "avg_pool_3x3",
                                                  "Max params (M)": "0.8"}),
    ("params cost, one trade-off", {"Cost objective": "Params (M)", "Preference": "Aim at one trade-off"}),
]
TRACES = ("generated", "true front", "all cells")        # clicked in this proportion: 3 : 1 : 1
# True once the "Generated set" box shows the named set (its value, or its text).
SHOWS_SET_JS = """(name) => [...document.querySelectorAll('[data-testid="stSelectbox"]')]
  .filter(box => box.innerText.includes('Generated set'))
  .some(box => box.innerText.includes(name) || [...box.querySelectorAll('input')].some(i => i.value.includes(name)))"""
CONSTRAINT_FIELDS = {"Max FLOPs (M)", "Max params (M)", "Latency limit on", "Max latency (ms)", "Forbidden ops",
                     "Preference"}

say = printed(seconds=2)


def idle(pg, timeout_ms: int = 120_000) -> None:
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def exceptions(pg) -> list[str]:
    blocks = pg.locator('[data-testid="stException"]')
    return [blocks.nth(i).inner_text()[:300] for i in range(blocks.count())]


def choose(pg, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox or multiselect labelled ``label``."""
    box = pg.locator('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]').filter(has_text=label).first
    box.click()
    pg.keyboard.type(option)            # long lists draw only the options in view: filter first
    pg.get_by_role("option", name=option, exact=True).click()
    pg.keyboard.press("Escape")


def fill_form(pg, settings: dict) -> None:
    if CONSTRAINT_FIELDS & set(settings):
        pg.get_by_text("Constraints and preferences").click()
    for label, value in settings.items():
        if label == "Preference":
            pg.get_by_text(value, exact=True).click()
        elif label.startswith("Max "):
            box = pg.get_by_label(label, exact=True)
            box.fill(value)
            box.press("Tab")
        else:
            choose(pg, label, value)


def generate(pg, url: str, store, settings: dict, timeout_s: float = 600) -> str:
    """Submit the Generate form with ``settings`` in a fresh session; the new run's id once
    the page shows its set."""
    from playwright.sync_api import expect

    pg.goto(f"{url}/generate")
    expect(pg.get_by_role("button", name="Generate")).to_be_enabled(timeout=300_000)
    idle(pg)
    before = {r.id for r in store.list("generate")}
    fill_form(pg, settings)
    pg.get_by_role("button", name="Generate").click()
    deadline = time.monotonic() + timeout_s
    while True:
        new = [r for r in store.list("generate") if r.id not in before]
        if new and new[0].status in ("done", "failed", "cancelled"):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"no generated set within {timeout_s:.0f} s ({settings})")
        time.sleep(0.5)
    run = new[0]
    if run.status != "done":
        raise SystemExit(f"the generation {settings} ended {run.status}: {run.summary}")
    # the page shows the new set by itself (its task panel reruns it when the task is done)
    pg.wait_for_function(SHOWS_SET_JS, arg=run.name, timeout=60_000)
    idle(pg)
    return run.id


def click_random_points(pg, url: str, clicks: int, rng: random.Random) -> dict:
    from playwright.sync_api import expect

    from nagui.page_probes import SELECTED_AT_JS, click_point, plot_with, visible_points

    out = {"clicks": 0, "zoomed": 0, "not_shown": [], "exceptions": []}
    for _ in range(clicks):
        plot_with(pg, "generated")
        pg.wait_for_timeout(300)            # let the chart finish drawing
        trace = rng.choice(TRACES[:1] * 3 + TRACES[1:])
        shown = visible_points(pg, trace)       # a person clicks what the chart shows
        if not shown:
            trace, shown = "generated", visible_points(pg, "generated")
        chosen = click_point(pg, trace, rng.choice(shown))
        out["clicks"] += 1
        # the page must show a cell drawn at the clicked spot: the "selected" ring moves there
        # and the heading names the cell (two cells with equal values share a spot)
        try:
            pg.wait_for_function(SELECTED_AT_JS, arg=[chosen["dx"], chosen["dy"]], timeout=30_000)
            idle(pg)
            expect(pg.get_by_role("heading", name=re.compile(r"^Cell #\d+"))).to_be_visible(timeout=10_000)
        except Exception:  # noqa: BLE001 - counted, the session goes on
            out["not_shown"].append(f"{trace} #{chosen['id']} at ({chosen['dx']}, {chosen['dy']}), "
                                    f"clearance {chosen['clearance']:.1f} px")
        idle(pg)
        out["exceptions"] += exceptions(pg)
        out["zoomed"] += chosen["zooms"] > 0
        if chosen["zooms"]:
            pg.goto(f"{url}/generate")       # the whole chart again (a new session's view of it)
            idle(pg)
    return out


def visit_every_page(browser, url: str) -> dict:
    """Every page from one fresh session; exception blocks and pages that did not finish."""
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(f"JS: {e}"))
    out = {"pages": 0, "exceptions": [], "unfinished": []}
    for path, heading in PAGES.items():
        pg.goto(f"{url}/{path}")
        try:
            expect(pg.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=120_000)
            idle(pg)
        except Exception as exc:  # noqa: BLE001 - reported, the session goes on
            out["unfinished"].append(f"{heading}: {exc}"[:300])
        out["pages"] += 1
        out["exceptions"] += [f"{heading}: {e}" for e in exceptions(pg)]
    out["js_errors"] = errors
    ctx.close()
    return out


def log_problems(text: str) -> list[str]:
    keep = ("Traceback", "Error", "WARNING", "Warning:", "Inotify")
    return [line[:300] for line in text.splitlines() if any(k in line for k in keep)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", required=True, help="the user data dir the server uses")
    p.add_argument("--generations", type=int, default=5)
    p.add_argument("--clicks", type=int, default=50, help="scatter clicks in all (spread over the sets)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--with-supernet", action="store_true",
                   help="first train and profile a small super-network in DIR when it has none "
                        "(as `nagui bench app` does), so Deploy has sub-networks to show")
    p.add_argument("--json", help="write the record here")
    a = p.parse_args(argv)
    if not 1 <= a.generations <= len(SETTINGS) * 4 or a.clicks < 0:
        raise SystemExit(f"--generations must be in 1..{len(SETTINGS) * 4} and --clicks >= 0")

    from playwright.sync_api import sync_playwright

    from nagui.app_server import CHROMIUM, CHROMIUM_ARGS, running_app
    from nagui.runs import RunStore

    home = Path(a.home).expanduser().resolve()
    os.environ["XDG_DATA_HOME"] = str(home)
    store, rng = RunStore(), random.Random(a.seed)
    if a.with_supernet and not store.list("supernet", status="done"):
        say("training and profiling a small super-network for Deploy ...")
        from nagui.cli.bench import bench_module

        bench_module("app.py").deploy_run(epochs=1, profile=30, name="bench session")
    record = {"bench": "session", "home": str(home), "date": time.strftime("%Y-%m-%d"),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "generations": [], "page_visits": [], "clicks": 0, "zoomed_first": 0}
    problems = {"exceptions": [], "js_errors": [], "clicks_not_shown": [], "pages_unfinished": [], "server_log": []}
    start = time.perf_counter()
    with sync_playwright() as pw, running_app({"XDG_DATA_HOME": str(home)}) as app:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for g in range(a.generations):
            name, settings = SETTINGS[g % len(SETTINGS)]
            ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
            pg = ctx.new_page()
            pg.set_default_timeout(120_000)
            pg.on("pageerror", lambda e: problems["js_errors"].append(f"JS: {e}"))
            t0 = time.perf_counter()
            run_id = generate(pg, app.url, store, settings)
            problems["exceptions"] += [f"after generating {name}: {e}" for e in exceptions(pg)]
            clicks = a.clicks // a.generations + (1 if g < a.clicks % a.generations else 0)
            clicked = click_random_points(pg, app.url, clicks, rng)
            ctx.close()
            record["clicks"] += clicked["clicks"]
            record["zoomed_first"] += clicked["zoomed"]
            problems["clicks_not_shown"] += clicked["not_shown"]
            problems["exceptions"] += [f"after a click ({name}): {e}" for e in clicked["exceptions"]]
            visit = visit_every_page(browser, app.url)
            problems["exceptions"] += [f"page visit after {name}: {e}" for e in visit["exceptions"]]
            problems["js_errors"] += visit["js_errors"]
            problems["pages_unfinished"] += visit["unfinished"]
            record["page_visits"].append(visit["pages"])
            record["generations"].append({"settings": name, "run": run_id, "clicks": clicked["clicks"],
                                          "seconds": round(time.perf_counter() - t0, 1)})
            say(f"set {g + 1}/{a.generations} ({name}): {clicked['clicks']} clicks, {visit['pages']} pages, "
                f"{sum(len(v) for v in problems.values())} problems so far, {time.perf_counter() - t0:.0f} s")
            for kind, found in problems.items():
                for line in found[-3:]:
                    say(f"  {kind}: {line}")
        browser.close()
        problems["server_log"] = log_problems(app.log())
    record["seconds"] = round(time.perf_counter() - start, 1)
    record["problems"] = problems
    record["target_met"] = not any(problems.values())
    text = json.dumps(record, indent=2)
    print(text)
    if a.json:
        Path(a.json).write_text(text)
    return 0 if record["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
