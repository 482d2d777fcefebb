"""Generate, Deploy and every page in the real app: streamlit run on 127.0.0.1 + system Chromium."""
import random
import time

import numpy as np
import pytest
from browser_helpers import no_exceptions, screenshot

from nagui.page_probes import CLEAR_PX, CLEARANCE_JS, POINT_JS, click_point, plot_with
from nagui.space import EDGES, Arch

pytestmark = pytest.mark.e2e

PAGES = {"home": "Home", "search_space": "Search space", "predictor": "Predictor", "generate": "Generate",
         "supernet": "Supernet", "deploy": "Deploy", "benchmarks": "Benchmarks"}


def metric(pg, label: str):
    return pg.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')


def test_every_page_renders_with_a_screenshot(server, open_page):
    """...and the first page prefetches the widgets' browser code, so no later page waits for it."""
    from playwright.sync_api import expect

    from app_ui.prefetch import component_chunks

    pg = open_page()
    requested = []
    pg.on("request", lambda r: requested.append(r.url.rsplit("/", 1)[-1]))
    pg.goto(server)
    expect(pg.get_by_role("heading", name="nagui", exact=True)).to_be_visible()
    chunks = set(component_chunks().values())
    for _ in range(40):                             # requested once the browser is idle
        if chunks <= set(requested):
            break
        pg.wait_for_timeout(250)
    assert chunks <= set(requested), f"not prefetched on Home: {sorted(chunks - set(requested))}"
    assert pg.get_by_role("heading", name="nagui", exact=True).bounding_box()["y"] < 110   # no gap above it
    nav = pg.locator('[data-testid="stSidebarNav"]')
    for path, title in PAGES.items():
        nav.get_by_role("link", name=title, exact=True).click()
        expect(pg).to_have_url(f"{server}/{'' if path == 'home' else path}")
        expect(pg.get_by_role("heading", name=title if path != "home" else "nagui", exact=True)).to_be_visible()
        pg.wait_for_load_state("networkidle")
        no_exceptions(pg)
        assert screenshot(pg, f"page_{path}").stat().st_size > 5_000


def test_click_a_generated_point_shows_its_dag(server, open_page, bench):
    from playwright.sync_api import expect

    pg = open_page()
    pg.goto(f"{server}/generate")
    expect(pg.get_by_role("heading", name="Generate", exact=True)).to_be_visible()
    pg.get_by_role("button", name="Generate").click()
    expect(metric(pg, "HV ratio (true values)")).to_be_visible(timeout=240_000)
    no_exceptions(pg)
    pg.wait_for_timeout(1000)
    scatter = plot_with(pg, "generated")
    assert scatter is not None
    n = pg.evaluate(POINT_JS, [scatter, "generated", 0])["n"]
    # A point NOT the first cell of its isomorphism class (such a click once crashed the page:
    # KeyError). The points of interest crowd together, so zoom in on it as a user would
    # (drag a box around it), then click it.
    # Only a point inside the axes' ranges: one the focused y axis leaves out cannot be clicked.
    canonical = bench.table["canonical_id"]
    points = [pg.evaluate(POINT_JS, [scatter, "generated", i]) for i in range(n)]
    candidates = [(pg.evaluate(CLEARANCE_JS, [scatter, "generated", i]), i) for i, p in enumerate(points)
                  if p["shown"] and canonical[int(p["id"])] != int(p["id"])]
    assert candidates, "the generated set has no point that is not the first of its class"
    _, i = max(candidates)
    chosen = click_point(pg, "generated", i)
    assert chosen["clearance"] > CLEAR_PX, "zooming in did not single the point out"
    expect(pg.get_by_role("heading", name=f"Cell #{chosen['id']}")).to_be_visible(timeout=30_000)
    arch = bench.lookup(int(chosen["id"]))["arch"]
    expect(pg.get_by_text(arch, exact=False).first).to_be_visible()
    dag = pg.locator('svg[data-diagram="cell"] [data-edge]')   # the clicked cell's DAG, edge by edge
    expect(dag).to_have_count(6)
    assert [dag.nth(k).get_attribute("data-op") for k in range(6)] == list(Arch.from_str(arch).ops)
    no_exceptions(pg)
    screenshot(pg, "generate_clicked")


def _blocks(pg) -> dict:
    """Every block's state as drawn: the cell's six edges (its DAG) and the macro network's slots."""
    pg.locator('svg[data-diagram="macro"]').wait_for(timeout=60_000)
    return pg.evaluate("""() => Object.fromEntries([
        ...[...document.querySelectorAll('svg[data-diagram="supercell"] [data-edge]')].map(g => [g.dataset.edge, g.dataset.state]),
        ...[...document.querySelectorAll('svg[data-diagram="macro"] [data-block^="cell "]')].map(g => [g.dataset.block, g.dataset.state])])""")


def test_deploy_slider_switches_blocks_off_and_latency_is_remeasured(server, open_page, trained_home, bench):
    from playwright.sync_api import expect

    from nagui.runs import RunStore
    from nagui.workflows.deploy import Deployment, slider_range

    # what the page should choose, from the same run store (earlier tests may have measured more masks)
    (run,) = RunStore(trained_home / "nagui" / "runs").list("supernet")
    deployment = Deployment(run, bench=bench)
    pg = open_page()
    pg.goto(f"{server}/deploy")
    slider = pg.locator('[data-testid="stSlider"]').filter(has_text="Max FLOPs (M)").get_by_role("slider")
    lo, hi, _ = slider_range(deployment.bounds()["flops"], "max")  # the page's FLOPs slider
    loose, tight = deployment.choose(max_flops=hi).best, deployment.choose(max_flops=lo).best
    assert tight is not None, "the slider's lowest FLOPs limit must still admit the cheapest sub-network"
    assert tight["mask"] != loose["mask"], "the smallest sub-network is also the most accurate: nothing to see"
    expect(metric(pg, "FLOPs")).to_have_text(f"{loose['flops']:.3f} M")
    expect(metric(pg, "Latency here (onnxruntime)")).to_have_text(f"{loose['latency_ms']:.3f} ms")
    pg.wait_for_timeout(800)
    before = _blocks(pg)
    assert len(before) == 6 + 6  # six edges, 2 + 2 + 2 slots
    slider.focus()
    slider.press("Home")  # the smallest FLOPs limit: the cheapest measured sub-network
    expect(metric(pg, "FLOPs")).to_have_text(f"{tight['flops']:.3f} M")
    expect(metric(pg, "Latency here (onnxruntime)")).to_have_text(f"{tight['latency_ms']:.3f} ms")
    edge_states, slot_bits = tight["mask"].split("|")
    want_slots = {f"cell {s + 1}.{i + 1}": "on" if bit == "1" else "off"
                  for s, stage in enumerate(slot_bits.split(",")) for i, bit in enumerate(stage)}
    deadline = time.monotonic() + 30  # the figures are drawn just after the numbers, the macro network last
    while True:
        after = _blocks(pg)
        if all(after[k] == v for k, v in want_slots.items()) or time.monotonic() > deadline:
            break
        pg.wait_for_timeout(300)
    assert {k: after[k] for k in want_slots} == want_slots
    switched_off = [b for b in before if before[b] == "on" and after[b] != "on"]
    assert switched_off, (before, after)  # a block that was on is drawn off (or as a skip) now
    on_edges = {f"{s}→{d}" for (s, d), st in zip(EDGES, edge_states.split(",")) if st == "on"}
    assert {e for e in on_edges | set(after) if "→" in e and after[e] == "on"} <= on_edges
    no_exceptions(pg)
    screenshot(pg, "deploy_min_flops")


def test_deploy_onnx_download_runs_in_onnxruntime(server, open_page, tmp_path):
    import onnxruntime as ort
    from playwright.sync_api import expect

    pg = open_page()
    pg.goto(f"{server}/deploy")
    button = pg.get_by_role("button", name="Download ONNX")
    expect(button).to_be_visible()
    with pg.expect_download(timeout=60_000) as info:
        button.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".onnx"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(1, 3, 32, 32)).astype(np.float32)
    (logits,) = session.run(None, {session.get_inputs()[0].name: x})
    assert logits.shape == (1, 10) and np.isfinite(logits).all()
    no_exceptions(pg)


def test_four_sessions_move_sliders_for_a_minute_without_error(server, open_page):
    from playwright.sync_api import expect

    pages = [open_page(viewport=(1300, 1100)) for _ in range(4)]
    problems = []
    for k, pg in enumerate(pages):
        pg.on("crash", lambda p, k=k: problems.append(f"session {k + 1}: the page crashed"))
        pg.on("pageerror", lambda e, k=k: problems.append(f"session {k + 1}: {e}"))
        pg.goto(f"{server}/deploy")
    for pg in pages:
        expect(metric(pg, "FLOPs")).to_be_visible()
    rng = random.Random(0)
    labels = ["Max latency here (ms)", "Max FLOPs (M)", "Min held-out accuracy (%)"]
    moves, end = 0, time.monotonic() + 60
    try:
        while time.monotonic() < end:
            for pg in pages:
                slider = pg.locator('[data-testid="stSlider"]').filter(has_text=rng.choice(labels)).get_by_role(
                    "slider")
                slider.focus(timeout=30_000)
                slider.press(rng.choice(["Home", "End", "PageUp", "PageDown", "ArrowLeft", "ArrowRight"]))
                moves += 1
            pages[0].wait_for_timeout(150)
    finally:
        for k, pg in enumerate(pages):
            screenshot(pg, f"deploy_session_{k + 1}")
        print("\n".join(problems))
    assert not problems
    for pg in pages:
        expect(metric(pg, "FLOPs")).to_be_visible()
        pg.wait_for_timeout(500)
        no_exceptions(pg)
        assert pg.get_by_text("Connection error").count() == 0
    assert moves > 40
