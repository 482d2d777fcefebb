"""A cache of latencies measured on this machine, so no cell is measured twice.

SQLite in the user data dir (``$XDG_DATA_HOME/nagui/measurements.sqlite``, default
``~/.local/share/nagui/``), keyed by the cell and the *setting*: this machine's CPU, the
onnxruntime version, threads, batch size and input size. Writes are one transaction
per cell, so an interrupted run keeps what it measured.
"""
from __future__ import annotations

import json
import os
import platform
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Sequence

import onnxruntime

from ..data.sources import user_data_dir
from ..progress import Report, quiet
from ..space import Arch
from .latency import LatencyConfig, measure_latency

SCHEMA = """
CREATE TABLE IF NOT EXISTS latency (
    arch TEXT NOT NULL,
    setting TEXT NOT NULL,
    p50_ms REAL NOT NULL,
    p90_ms REAL NOT NULL,
    runs INTEGER NOT NULL,
    measured_at REAL NOT NULL,
    PRIMARY KEY (arch, setting)
)
"""


def default_cache_path() -> Path:
    return user_data_dir() / "measurements.sqlite"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def setting_key(config: LatencyConfig) -> str:
    """What makes two measurements comparable: machine, runtime and run shape."""
    return json.dumps({"cpu": cpu_name(), "cores": os.cpu_count(), "onnxruntime": onnxruntime.__version__,
                       "threads": config.threads, "batch_size": config.batch_size, "input_hw": config.input_hw},
                      sort_keys=True)


class LatencyCache:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, archs: Iterable[Arch], setting: str) -> dict[str, float]:
        """p50 latency (ms) of every cached cell among ``archs``, by arch string."""
        keys = [Arch.parse(a).to_str() for a in archs]
        out: dict[str, float] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = db.execute(f"SELECT arch, p50_ms FROM latency WHERE setting = ? AND arch IN "
                                  f"({','.join('?' * len(chunk))})", [setting, *chunk])
                out.update(dict(rows.fetchall()))
        return out

    def put(self, arch: Arch, setting: str, p50_ms: float, p90_ms: float, runs: int) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO latency VALUES (?, ?, ?, ?, ?, ?)",
                       (arch.to_str(), setting, p50_ms, p90_ms, runs, time.time()))

    def count(self, setting: str | None = None) -> int:
        with self._connect() as db:
            if setting is None:
                return db.execute("SELECT COUNT(*) FROM latency").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM latency WHERE setting = ?", (setting,)).fetchone()[0]


def measure_cells(archs: Sequence[Arch], config: LatencyConfig = LatencyConfig(), cache: LatencyCache | None = None,
                  progress: Report = quiet) -> list[float]:
    """onnxruntime p50 latency (ms) of each cell on this machine; cached cells are not measured again."""
    cache = cache or LatencyCache()
    setting = setting_key(config)
    archs = [Arch.parse(a) for a in archs]
    known = cache.get(archs, setting)
    todo = [a for a in dict.fromkeys(archs) if a.to_str() not in known]
    for i, arch in enumerate(todo):
        report = measure_latency(arch, config=config)
        cache.put(arch, setting, report.ort.p50_ms, report.ort.p90_ms, report.ort.runs)
        known[arch.to_str()] = report.ort.p50_ms
        progress(f"measured {i + 1}/{len(todo)} new cells", (i + 1) / len(todo))
    return [known[a.to_str()] for a in archs]
