"""Start-up cost of the CLI as users call it: `nagui generate` wall time, warm and cold.

    nagui bench cli [--runs 5] [--json OUT]

Each command runs as its own process (`python -m nagui.cli ...`, what the `nagui` script
runs), after one untimed call that trains or fetches anything missing. "warm": the
derived caches are in place (the joined table in ~/.cache/nagui/tables, the guiding
predictor's outputs over all cells in ~/.cache/nagui/predictions); "cold caches": the
same command with XDG_CACHE_HOME pointing at an empty folder each run, so both are
rebuilt (what the first call after an upgrade pays). Target (issue #19): warm
`nagui generate --n 256` <= 5 s wall on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

COMMANDS = {
    "generate acc-FLOPs": ["generate", "--dataset", "cifar10", "--objectives", "test_acc,flops", "--n", "256"],
    "generate acc-raspi4, max 60 MFLOPs": ["generate", "--dataset", "cifar10", "--objectives", "test_acc,raspi4",
                                           "--n", "256", "--max-flops", "60"],
}
TARGET_S = 5.0


def run_once(args: list[str], out: str, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nagui.cli", *args, "--json", out], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nagui {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="timed runs per command and setting")
    p.add_argument("--json", help="write the record here")
    a = p.parse_args(argv)
    if a.runs < 1:
        raise SystemExit("--runs must be >= 1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "samples.json")
        for name, args in COMMANDS.items():
            env = dict(os.environ)
            run_once(args, out, env)                                   # trains/fetches what is missing
            warm = [run_once(args, out, env) for _ in range(a.runs)]
            cold = []
            for i in range(a.runs):
                cold_env = {**env, "XDG_CACHE_HOME": os.path.join(tmp, f"cache-{name}-{i}".replace(" ", "_"))}
                cold.append(run_once(args, out, cold_env))
            for setting, walls in (("warm", warm), ("cold caches", cold)):
                row = {"command": "nagui " + " ".join(args) + " --json OUT", "setting": setting,
                       "runs": len(walls), "p50_s": round(float(np.median(walls)), 2),
                       "max_s": round(max(walls), 2), "walls_s": [round(w, 2) for w in walls]}
                rows.append(row)
                print(f"{name:38s} {setting:12s} p50 {row['p50_s']:.2f} s  max {row['max_s']:.2f} s", flush=True)
    record = {"bench": "cli", "target_warm_s": TARGET_S, "rows": rows,
              "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "python": platform.python_version()},
              "date": time.strftime("%Y-%m-%d")}
    met = all(r["max_s"] <= TARGET_S for r in rows if r["setting"] == "warm")
    print(f"warm nagui generate <= {TARGET_S:.0f} s: {'met' if met else 'NOT met'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
