"""`nagui bench load` on a small scale: sessions on one real server moving Deploy sliders
while another generates; no errors, and every figure of the report is there."""
from __future__ import annotations

import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_load_bench_reports_errors_latency_and_memory(trained_home, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_load", REPO / "bench" / "load.py")
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    import shutil

    home = tmp_path / "home"                         # a copy: the bench's generations stay out of the shared home
    shutil.copytree(trained_home, home, symlinks=True)
    out = tmp_path / "load.json"
    argv = ["--home", str(home), "--sessions", "3", "--generators", "1", "--minutes", "0.3",
            "--warmup", "4", "--json", str(out)]
    with ThreadPoolExecutor(1) as pool:              # Playwright's sync API in a thread of its own
        assert pool.submit(load.main, argv).result() == 0
    report = json.loads(out.read_text())
    assert report["errors"] == 0 and not report["problems"]
    assert report["slider_moves_changed"] >= 4 and report["slider_latency_s"]["p95"] > 0
    assert report["generations_finished"] >= 1
    rss = report["server_rss_mb"]
    assert rss["after_warmup"] > 100 and rss["end"] > 100 and "growth_pct" in rss
