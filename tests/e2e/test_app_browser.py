"""The Search space page in the real app (streamlit run + system Chromium), and the server as
`make run` starts it."""
import os
from pathlib import Path

import pytest
from browser_helpers import no_exceptions, screenshot

from nagui.space import Arch

pytestmark = pytest.mark.e2e
OTHER = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_search_space_page_in_browser(server, open_page, bench):
    from playwright.sync_api import expect

    pg = open_page()
    outside = []      # the app works offline: nothing is fetched from another host (the favicon once was)
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server, "data:", "blob:")) else None)
    pg.goto(f"{server}/search_space")
    expect(pg).to_have_title("nagui")
    expect(pg.get_by_role("heading", name="Search space")).to_be_visible()
    expect(pg.get_by_text("15,625 of 15,625 cells match")).to_be_visible()
    expect(pg.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    expect(pg.locator('svg[data-diagram="cell"]')).to_be_visible()  # the default cell's DAG

    box = pg.get_by_label("Cell (arch string or NB201 index)")
    box.fill(OTHER)
    box.press("Enter")
    want = f"{bench.lookup(OTHER)['test_acc@cifar10']:.2f}%"
    expect(pg.get_by_text("Typed query")).to_be_visible()
    cifar10 = pg.locator('[data-testid="stMetric"]').filter(has_text="CIFAR-10 test acc")
    expect(cifar10.locator('[data-testid="stMetricValue"]')).to_have_text(want)
    expect(pg.locator('svg[data-diagram="cell"] [data-edge="0→1"]')).to_have_attribute(
        "data-op", Arch.from_str(bench.lookup(OTHER)["arch"]).ops[0])   # the typed cell's DAG
    no_exceptions(pg)
    assert screenshot(pg, "search_space").stat().st_size > 10_000
    icon = pg.eval_on_selector("link[rel*='icon']", "e => e.href")
    assert icon.startswith((server, "data:")) and outside == [], (icon, outside)


def _inotify_watches(pid: int) -> int:
    """inotify watches the process holds (one `inotify wd:` line per watch in /proc's fdinfo)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if "inotify" in os.readlink(fd):
                count += (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text().count("inotify wd:")
        except OSError:
            continue
    return count


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="counts inotify watches through Linux's /proc")
def test_the_server_make_run_starts_watches_no_files(running_server, open_page):
    """`make run` once ran Streamlit's file watcher over the whole checkout (.venv included):
    inotify overflowed and every task ran up to 10x slower. The server here is started by
    `nagui app`, as `make run` starts it; with a session open it holds no inotify watch (with
    the watcher on it holds hundreds) and its log has no watcher warning."""
    from playwright.sync_api import expect

    pid = running_server.process.pid
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:4] == [b"-m", b"streamlit", b"run"], \
        "`nagui app` becomes the Streamlit server (exec), no parent process left over"
    pg = open_page()
    pg.goto(f"{running_server.url}/generate")
    expect(pg.get_by_role("heading", name="Generate", exact=True)).to_be_visible()
    pg.wait_for_load_state("networkidle")
    assert _inotify_watches(pid) == 0
    log = running_server.log()
    assert "Inotify" not in log and "watcher" not in log.lower(), log[-2000:]
