"""Start the Streamlit app as a subprocess: the command `nagui app` runs, and a context
manager that waits until the server is healthy (used by the browser tests and
`nagui bench app`). Nothing here imports Streamlit."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .data.sources import REPO_ROOT
from .errors import NaguiError

APP = REPO_ROOT / "app.py"
# The distribution's Chromium, headless, as the browser tests and `nagui bench app` drive it
# (Playwright never downloads a browser here).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class AppServerError(NaguiError, RuntimeError):
    """The app did not start (its log says why)."""


# Streamlit's file watcher is off: it would watch the whole checkout, .venv included (over
# 5,000 folders), flood the log with inotify overflows and slow every task several times.
# The app is not edited while it serves; restart it after changing the code.
# Nor does it run Python's full garbage collection after every script run (Streamlit's default):
# with torch, the NB201 table and the models loaded, each gc.collect(2) held the GIL for
# 130-220 ms on 2 cores, after every slider move, click and page switch, and the browser waited
# for it (issue #19: a cached Deploy move p50 0.16 -> 0.08 s, p95 0.30 -> 0.12 s; BENCHMARKS.md).
# Python's own generational collection still runs; most memory is freed by reference counting.
SERVER_FLAGS = ("--server.headless", "true", "--server.fileWatcherType", "none", "--server.runOnSave", "false",
                "--runner.postScriptGC", "false", "--browser.gatherUsageStats", "false")


def app_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """`streamlit run app.py` with the repo's settings (.streamlit/config.toml), the file
    watcher off and the interface to listen on (127.0.0.1 unless asked otherwise). This is
    what `nagui app` (and so `make run`) runs."""
    if not APP.is_file():
        raise AppServerError(f"{APP} not found (run from a checkout of the repo)")
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
            "--server.address", address, *SERVER_FLAGS]


def nagui_app_command(port: int) -> list[str]:
    """The README's way to start the app (`nagui app`, which `make run` calls), as this
    Python runs it: the tests and `nagui bench app` start servers through it."""
    return [sys.executable, "-m", "nagui", "app", "--port", str(port)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen
    log_path: Path
    started: float = field(default_factory=time.perf_counter)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_app(env: dict | None = None, port: int | None = None, timeout: float = 180.0,
                log_path: Path | None = None):
    """Start the app with `nagui app` (as `make run` does; ``env`` added to this process's
    environment, e.g. ``XDG_DATA_HOME``), wait for ``/_stcore/health``, yield a
    :class:`RunningApp`, stop it on exit."""
    port = port or free_port()
    log_path = Path(log_path) if log_path else Path(tempfile.mkdtemp(prefix="nagui-app-")) / "server.log"
    cmd = nagui_app_command(port)
    with open(log_path, "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        app = RunningApp(f"http://127.0.0.1:{port}", proc, log_path, started)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise AppServerError(f"streamlit exited with {proc.returncode}:\n{app.log()[-4000:]}")
                try:
                    with urllib.request.urlopen(f"{app.url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AppServerError(f"the app was not healthy within {timeout:.0f} s:\n{app.log()[-4000:]}")
                time.sleep(0.2)
            yield app
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
