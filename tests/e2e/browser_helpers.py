"""Helpers for the browser tests (imported by the test modules next to this file)."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Screenshots of every page, kept as test artifacts.
ARTIFACTS = Path(os.environ.get("NAGUI_TEST_ARTIFACTS", REPO / "test-artifacts"))


def screenshot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.wait_for_timeout(400)  # let charts finish their transitions
    pg.screenshot(path=str(path), full_page=True)
    return path


def no_exceptions(pg) -> None:
    """No Streamlit exception block on the page."""
    assert pg.locator('[data-testid="stException"]').count() == 0, pg.locator(
        '[data-testid="stException"]').first.inner_text()
