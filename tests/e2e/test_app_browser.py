"""The Search space page in the real app (streamlit run + system Chromium)."""
import pytest
from browser_helpers import no_exceptions, screenshot

pytestmark = pytest.mark.e2e
OTHER = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_search_space_page_in_browser(server, open_page, bench):
    from playwright.sync_api import expect

    pg = open_page()
    pg.goto(f"{server}/search_space")
    expect(pg).to_have_title("nagui")
    expect(pg.get_by_role("heading", name="Search space")).to_be_visible()
    expect(pg.get_by_text("15,625 of 15,625 cells match")).to_be_visible()
    expect(pg.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    expect(pg.locator(".js-plotly-plot").first).to_be_visible()  # the default cell's DAG

    box = pg.get_by_label("Cell (arch string or NB201 index)")
    box.fill(OTHER)
    box.press("Enter")
    want = f"{bench.lookup(OTHER)['test_acc@cifar10']:.2f}%"
    expect(pg.get_by_text("Typed query")).to_be_visible()
    cifar10 = pg.locator('[data-testid="stMetric"]').filter(has_text="CIFAR-10 test acc")
    expect(cifar10.locator('[data-testid="stMetricValue"]')).to_have_text(want)
    expect(pg.locator(".js-plotly-plot .scatterlayer .trace").first).to_be_attached()
    no_exceptions(pg)
    assert screenshot(pg, "search_space").stat().st_size > 10_000
