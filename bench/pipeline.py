"""The Home page's "Build everything missing", timed, on whatever device is present.

    nagui bench pipeline [--home DIR] [--device auto] [--json OUT]

On a fresh user data dir (default: a new temporary one) this runs what the button runs:
the guiding predictor and diffusion prior (shipped copies are used when present), a
quick-preset super-network built from the generated front, trained (10 epochs) and
profiled (60 masks), then one generation of 256 samples on the same device and on the
CPU. It reports each stage's wall time and which device computed what, as the app shows.

``--through-app`` times the button itself instead: the server started as `make run` starts
it (`nagui app`) on the fresh user data dir, the Home page opened in the system Chromium,
the button clicked, and the clock stopped when the page offers the next step (the link to
Deploy). Target (issue #19): <= 6 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", help="user data dir (default: a fresh temporary one)")
    p.add_argument("--device", default="auto", help="auto (the GPU when present), cpu or cuda")
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--through-app", action="store_true",
                   help="click the Home page's button in the app as `make run` serves it, in Chromium")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    os.environ["XDG_DATA_HOME"] = str(Path(args.home or tempfile.mkdtemp(prefix="nagui-pipeline-")))
    if args.through_app:
        return through_app(Path(os.environ["XDG_DATA_HOME"]), args.json)

    from nagui.data import Benchmark
    from nagui.diffusion.generate import GenerateRequest, resolve_device
    from nagui.runs import RunStore
    from nagui.workflows.generation import run_generation
    from nagui.workflows.pipeline import build_missing, compute_device, stage_status
    from nagui.workflows.supernet_runs import supernet_runs

    store = RunStore()
    out = {"compute": compute_device(), "device": resolve_device(args.device), "date": time.strftime("%Y-%m-%d"),
           "cores": os.cpu_count(), "stages": {}}
    marks, start = [], time.perf_counter()

    def report(text, fraction=None):
        marks.append((round(time.perf_counter() - start, 1), text))
        if fraction is None or len(marks) % 25 == 0 or "done" in text:
            print(f"{marks[-1][0]:7.1f}s  {text}", file=sys.stderr, flush=True)

    out["missing_before"] = [s.key for s in stage_status(store) if not s.ready]
    build_missing(store, Benchmark.load, report=report, device=args.device)
    out["build_everything_s"] = round(time.perf_counter() - start, 1)
    run = supernet_runs(store)[0]
    train = run.summary["train"]
    out["supernet"] = {"super_cell": run.summary["build"]["spec"]["super_cell"],
                       "true_coverage": run.summary["build"]["true_coverage"],
                       "train_device": run.summary["train_device"], "epochs": train["epochs_done"],
                       "train_s": train["train_s"], "images_per_s": train["images_per_s"],
                       "heldout_acc_largest": train["heldout_acc_largest"],
                       "heldout_acc_smallest": train["heldout_acc_smallest"],
                       "profiled_masks": run.summary["profiled_masks"], "kendall_tau": run.summary["kendall_tau"]}
    bench = Benchmark.load()
    for device in dict.fromkeys([args.device, "cpu"]):
        for attempt in ("first", "again"):  # the first call also loads and adapts the guiding predictor
            t0 = time.perf_counter()
            gen = run_generation(store, bench, GenerateRequest(n=args.samples), device=device)
            out["stages"][f"generate {args.samples} on {gen.summary['device']} ({attempt})"] = {
                "wall_s": round(time.perf_counter() - t0, 2), "sample_s": round(gen.summary["metrics"]["sample_s"], 2),
                "hv_ratio": round(gen.summary["metrics"]["hv_ratio"], 4)}
    out["log"] = marks[-40:]
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


def through_app(home: Path, json_out: str | None, timeout_s: float = 1800) -> int:
    from playwright.sync_api import expect, sync_playwright

    from nagui.app_server import CHROMIUM, CHROMIUM_ARGS, running_app
    from nagui.runs import RunStore
    from nagui.workflows.pipeline import stage_status
    from nagui.workflows.supernet_runs import supernet_runs

    store = RunStore()
    out = {"through": "nagui app (as make run), Home page button, system Chromium", "home": str(home),
           "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(),
           "missing_before": [s.key for s in stage_status(store) if not s.ready]}
    with sync_playwright() as pw, running_app({"XDG_DATA_HOME": str(home)}) as app:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1100})
        pg.set_default_timeout(120_000)
        pg.goto(app.url)
        button = pg.get_by_role("button", name="Build everything missing")
        expect(button).to_be_enabled()
        start = time.perf_counter()
        button.click()
        next_step = pg.get_by_text("Next: choose a sub-network on the Deploy page")
        while not next_step.count():
            if time.perf_counter() - start > timeout_s:
                raise SystemExit(f"not done within {timeout_s:.0f} s")
            if pg.locator('[data-testid="stException"]').count() or pg.get_by_text("Building the missing stages failed").count():
                raise SystemExit("the build failed in the page:\n" + pg.locator("body").inner_text()[-2000:])
            pg.wait_for_timeout(1000)
        out["build_everything_s"] = round(time.perf_counter() - start, 1)
        out["page_exceptions"] = pg.locator('[data-testid="stException"]').count()
        browser.close()
        out["server_log_problems"] = [line[:300] for line in app.log().splitlines()
                                      if any(k in line for k in ("Traceback", "WARNING", "Inotify"))]
    out["missing_after"] = [s.key for s in stage_status(store) if not s.ready]
    run = supernet_runs(store)[0]
    train = run.summary["train"]
    out["supernet"] = {"train_s": train["train_s"], "epochs": train["epochs_done"],
                       "images_per_s": train["images_per_s"], "profiled_masks": run.summary["profiled_masks"]}
    text = json.dumps(out, indent=2)
    print(text)
    if json_out:
        Path(json_out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
