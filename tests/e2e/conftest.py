"""One real `streamlit run app.py` on 127.0.0.1 for all browser tests, driven by the system
Chromium through Playwright (never a downloaded browser). The server's user data dir is
``trained_home`` (tests/conftest.py): a run store with a tiny, really trained super-network."""
from pathlib import Path

import pytest

from nagui.app_server import CHROMIUM, CHROMIUM_ARGS


def pytest_configure(config):
    try:
        from playwright.sync_api import expect
    except ImportError:
        return
    expect.set_options(timeout=60_000)  # pages that load a model or measure take seconds on 2 cores


def pytest_collection_modifyitems(items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing; the e2e tests use the system Chromium "
                                       "(`apt-get install -y chromium`) and never download one")
        for item in items:
            if "e2e" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def running_server(trained_home, tmp_path_factory):
    """The app as `make run` starts it (`nagui app`), on ``trained_home``."""
    from nagui.app_server import running_app

    with running_app({"XDG_DATA_HOME": str(trained_home)}, timeout=90,
                     log_path=tmp_path_factory.mktemp("streamlit") / "server.log") as app:
        yield app
        text = app.log()
    assert "Traceback" not in text, f"the server logged a traceback:\n{text[-4000:]}"


@pytest.fixture(scope="session")
def server(running_server):
    return running_server.url


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
