"""The real app: `streamlit run app.py` driven by a real (system) Chromium via Playwright."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path("/tmp/nagui_bench_page.png")
OTHER = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing; the e2e tests use the system Chromium and never download one",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"nagui_streamlit_{port}.log", "w+")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
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
                pytest.fail("streamlit did not become healthy within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser_page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1500, "height": 1300})
            pg.set_default_timeout(60_000)
            pg.goto(server)
            yield pg
        finally:
            browser.close()


def test_benchmark_page_in_browser(browser_page, bench):  # bench: tests/conftest.py
    from playwright.sync_api import expect

    pg = browser_page
    expect(pg).to_have_title("nagui")
    expect(pg.get_by_role("heading", name="NAS-Bench-201 benchmark")).to_be_visible()
    expect(pg.get_by_text("15,625 of 15,625 cells match")).to_be_visible()
    expect(pg.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    # the default cell's DAG is drawn
    expect(pg.locator(".js-plotly-plot").first).to_be_visible()

    box = pg.get_by_label("Cell (arch string or NB201 index)")
    box.fill(OTHER)
    box.press("Enter")
    want = f"{bench.lookup(OTHER)['test_acc@cifar10']:.2f}%"
    expect(pg.get_by_text("Typed query")).to_be_visible()
    cifar10 = pg.locator('[data-testid="stMetric"]').filter(has_text="CIFAR-10 test acc")
    expect(cifar10.locator('[data-testid="stMetricValue"]')).to_have_text(want)
    expect(pg.locator(".js-plotly-plot").first).to_be_visible()
    expect(pg.locator(".js-plotly-plot .scatterlayer .trace").first).to_be_attached()
    pg.wait_for_timeout(500)  # let the chart finish its transition
    pg.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
