"""``nagui bench NAME``: run a benchmark script from bench/."""
from __future__ import annotations

import argparse
import importlib.util
import runpy
import sys

from ..data.sources import REPO_ROOT
from .common import UsageError

BENCH_SCRIPTS = {"flops": "flops_vs_naslib.py", "latency": "latency_cells.py", "predictor": "predictor.py",
                 "generate": "generate.py", "supernet": "supernet.py", "search": "search.py", "talk-table": "talk_table.py",
                 "app": "app.py", "pipeline": "pipeline.py", "screenshots": "screenshots.py", "load": "load.py",
                 "cli": "cli.py", "session": "session.py"}


def bench_module(file: str):
    """A script of bench/ loaded as a module, for one benchmark to reuse another's helpers
    (bench/ is not a package, and its app.py must not shadow the repo's app.py)."""
    path = REPO_ROOT / "bench" / file
    spec = importlib.util.spec_from_file_location(f"nagui_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cmd_bench(args) -> int:
    script = REPO_ROOT / "bench" / BENCH_SCRIPTS[args.name]
    if not script.is_file():
        raise UsageError(f"benchmark script {script} not found (run from a checkout of the repo)")
    saved, sys.argv = sys.argv, [str(script), *args.rest]
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved          # a caller in the same process (a test, the app) keeps its own
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("bench", help="run a benchmark from bench/")
    p.add_argument("name", choices=sorted(BENCH_SCRIPTS))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the script")
    p.set_defaults(func=cmd_bench)
