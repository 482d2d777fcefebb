"""The Home page's "Build everything missing", timed, on whatever device is present.

    nagui bench pipeline [--home DIR] [--device auto] [--json OUT]

On a fresh user data dir (default: a new temporary one) this runs what the button runs:
the guiding predictor and diffusion prior (shipped copies are used when present), a
quick-preset super-network built from the generated front, trained (10 epochs) and
profiled (60 masks), then one generation of 256 samples on the same device and on the
CPU. It reports each stage's wall time and which device computed what, as the app shows.
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
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    os.environ["XDG_DATA_HOME"] = str(Path(args.home or tempfile.mkdtemp(prefix="nagui-pipeline-")))

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


if __name__ == "__main__":
    sys.exit(main())
