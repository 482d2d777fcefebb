"""The app under load: N browser sessions at once on one real server, for M minutes.

    nagui bench load --home DIR [--sessions 8] [--generators 2] [--minutes 2] [--json OUT]

DIR is a user data dir holding a trained, profiled super-network (as for `nagui bench
screenshots`). Sessions 1..N-G sit on Deploy and move its sliders, all at once each round
(Home or End on the FLOPs or latency limit, in turn: between the smallest and the largest
measured sub-network, so every move changes the choice); sessions N-G+1..N sit on Generate and start
a generation whenever the last one is done. Reported: errors of any kind (page errors,
crashes, exception blocks, "Connection error", tracebacks in the server log), slider
latency under that load (key press to the chosen sub-network's line changing, in the
page), generations finished, and the server's memory (RSS): after the warm-up against the
end, and the median of the first quarter after the warm-up against the last quarter's.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

LABELS = ["Max latency here (ms)", "Max FLOPs (M)"]


def app_helpers():
    """bench/app.py's in-page timing helpers (ARM_JS, slider, idle, stats)."""
    from nagui.cli.bench import bench_module

    return bench_module("app.py")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB), from /proc."""
    total = 0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def windowed_growth(memory: list[tuple[float, float]], warmup: float) -> dict:
    """RSS swings by ~100 MB with each generation, so one sample against another is noisy:
    also the median of the first quarter after the warm-up against the last quarter's."""
    import numpy as np

    after = [mb for t, mb in memory if t >= warmup]
    if len(after) < 4:
        return {}
    q = len(after) // 4
    first, last = float(np.median(after[:q])), float(np.median(after[-q:]))
    return {"median_first_quarter": round(first, 1), "median_last_quarter": round(last, 1),
            "median_growth_pct": round(100 * (last / first - 1), 1)}


def page_problems(pg) -> list[str]:
    out = []
    if pg.locator('[data-testid="stException"]').count():
        out.append("an exception block")
    if pg.get_by_text("Connection error").count():
        out.append("'Connection error'")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", required=True, help="user data dir with a profiled super-network run")
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--generators", type=int, default=2, help="of the sessions, how many generate")
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--warmup", type=float, default=30.0, help="seconds before the memory baseline")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    if not 1 <= args.generators < args.sessions:
        p.error("--generators must be at least 1 and fewer than --sessions")

    from playwright.sync_api import expect, sync_playwright

    from nagui.app_server import CHROMIUM, CHROMIUM_ARGS, running_app
    from nagui.runs import RunStore

    H = app_helpers()
    home = Path(args.home).resolve()
    store = RunStore(home / "nagui" / "runs")
    generations_before = len(store.list("generate"))
    problems: list[str] = []
    latencies, missed, rounds, generate_clicks = [], 0, 0, 0
    with sync_playwright() as pw, running_app({"XDG_DATA_HOME": str(home)}) as app:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []
        for k in range(args.sessions):
            pg = browser.new_context(viewport={"width": 1300, "height": 1000}).new_page()
            pg.set_default_timeout(120_000)
            pg.on("pageerror", lambda e, k=k: problems.append(f"session {k + 1}: page error {e}"))
            pg.on("crash", lambda _, k=k: problems.append(f"session {k + 1}: the page crashed"))
            pages.append(pg)
        deployers, generators = pages[:args.sessions - args.generators], pages[args.sessions - args.generators:]
        for pg in deployers:
            pg.goto(f"{app.url}/deploy")
        for pg in generators:
            pg.goto(f"{app.url}/generate")
        for pg in deployers:
            expect(pg.get_by_text("Sub-network").first).to_be_visible()
        for pg in generators:                         # warm-up: the models load once, not in the timing
            expect(pg.get_by_role("button", name="Generate")).to_be_enabled()
            pg.get_by_role("button", name="Generate").click()
        for pg in generators:
            pg.get_by_text("HV ratio (true values)").first.wait_for(timeout=600_000)
        start = time.perf_counter()
        end = start + 60 * args.minutes
        baseline = None
        memory = []
        last_click = [-1e9] * len(generators)
        while time.perf_counter() < end:
            now = time.perf_counter()
            for j, pg in enumerate(generators):       # a new generation when the last is done
                running = pg.get_by_role("button", name="Cancel").count() > 0
                if not running and now - last_click[j] > 5:
                    seed = pg.get_by_label("Seed")               # a new seed: a new generation, not a cached one
                    seed.fill(str(generate_clicks + 1))
                    seed.press("Enter")
                    pg.get_by_role("button", name="Generate").click()
                    last_click[j] = now
                    generate_clicks += 1
            armed = []
            for pg in deployers:                      # every deploy session moves a slider at once
                t0 = pg.evaluate(H.ARM_JS)
                s = H.slider(pg, LABELS[rounds // 2 % 2])
                s.focus()
                s.press("End" if rounds % 2 else "Home")
                armed.append((pg, t0))
            for pg, t0 in armed:
                try:
                    pg.wait_for_function("() => window.__naguiChanged !== null", timeout=15_000, polling="raf")
                    latencies.append((pg.evaluate("() => window.__naguiChanged") - t0) / 1000)
                except Exception:  # noqa: BLE001 - the move chose the same sub-network (or no change)
                    missed += 1
            rounds += 1
            memory.append((round(time.perf_counter() - start, 1), round(rss_mb(app.process.pid), 1)))
            if baseline is None and time.perf_counter() - start >= args.warmup:
                baseline = memory[-1][1]
        for k, pg in enumerate(pages):
            pg.wait_for_timeout(1000)
            problems += [f"session {k + 1}: {x}" for x in page_problems(pg)]
        if "Traceback" in app.log():
            problems.append("a traceback in the server log: " + app.log()[-2000:])
        final = rss_mb(app.process.pid)
        browser.close()
    baseline = baseline or memory[0][1]
    generations = len(store.list("generate")) - generations_before
    out = {"sessions": args.sessions, "generators": args.generators, "minutes": args.minutes, "rounds": rounds,
           "slider_moves": len(latencies) + missed, "slider_moves_changed": len(latencies),
           "slider_latency_s": H.stats(latencies), "generations_finished": generations,
           "generate_clicks": generate_clicks, "errors": len(problems), "problems": problems[:20],
           "server_rss_mb": {"after_warmup": baseline, "end": round(final, 1),
                             "growth_pct": round(100 * (final / baseline - 1), 1),
                             **windowed_growth(memory, args.warmup)},
           "memory_trace": memory[:: max(1, len(memory) // 40)]}
    out["targets_met"] = {"0 errors": not problems, "memory growth < 10%": out["server_rss_mb"]["growth_pct"] < 10}
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
