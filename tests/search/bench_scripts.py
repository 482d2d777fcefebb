"""Load a bench/ script as a module (the way `nagui bench NAME` runs it, without a subprocess)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_bench_script(filename: str):
    spec = importlib.util.spec_from_file_location(f"bench_{Path(filename).stem}", REPO / "bench" / filename)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
