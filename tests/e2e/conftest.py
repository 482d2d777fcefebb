"""One real `streamlit run app.py` on 127.0.0.1 for all browser tests, driven by the system
Chromium through Playwright (never a downloaded browser). The server's user data dir is
``trained_home`` (tests/conftest.py): a run store with a tiny, really trained super-network."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing; the e2e tests use the system Chromium "
                                       "(`apt-get install -y chromium`) and never download one")
        for item in items:
            if "e2e" in str(item.fspath):
                item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(trained_home, tmp_path_factory):
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    log = open(log_path, "w+")
    env = {**os.environ, "XDG_DATA_HOME": str(trained_home)}
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not become healthy within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        text = log.read()
        log.close()
        assert "Traceback" not in text, f"the server logged a traceback:\n{text[-4000:]}"


@pytest.fixture(scope="session")
def chromium_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(chromium_browser):
    """A fresh browser context (= a new Streamlit session) per call."""
    contexts = []

    def make(viewport=(1500, 1300)):
        ctx = chromium_browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(90_000)
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
