"""Home, Generate, Supernet, Deploy and Benchmarks under Streamlit's AppTest (no browser).

The run store and model cache live in a temporary user data dir (``XDG_DATA_HOME``);
``trained_home`` (tests/conftest.py) holds one really trained, profiled tiny super-network."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nagui.tasks import task_manager

REPO = Path(__file__).resolve().parents[2]


def page(name: str) -> AppTest:
    return AppTest.from_file(str(REPO / "app_pages" / f"{name}.py"), default_timeout=120)


def wait_task(at: AppTest, state_key: str, timeout: float = 300):
    task = task_manager().get(at.session_state[state_key])
    assert task is not None and task.wait(timeout), "task did not finish"
    assert task.status == "done", task.error
    return task


@pytest.fixture
def home(trained_home, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(trained_home))
    return trained_home


@pytest.fixture
def empty_home(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("NAGUI_SHIPPED_SUPERNETS", str(tmp_path / "no-shipped-supernet"))   # nothing shipped
    return tmp_path


def test_home_shows_every_stage_and_the_build_button(home):
    at = AppTest.from_file(str(REPO / "app_pages" / "home.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    stages = {m.label: m.value for m in at.metric}
    assert set(stages) == {"Data", "Guiding predictor", "Diffusion prior", "Super-network"}
    assert stages["Super-network"] == "ready" and stages["Data"] == "ready"
    # shipped models count as ready: nothing to build on this home
    assert all(v == "ready" for v in stages.values())
    assert at.button(key="build_missing").disabled


def test_home_on_a_fresh_machine_offers_to_build_the_supernet(empty_home):
    at = AppTest.from_file(str(REPO / "app_pages" / "home.py"), default_timeout=60).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Super-network"] == "missing"
    assert not at.button(key="build_missing").disabled
    assert any("Super-network" in i.value for i in at.info)


def test_a_fresh_machine_opens_on_the_shipped_supernet(tmp_path, monkeypatch, data_dir, shipped_assets):
    assets, _, _ = shipped_assets
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("NAGUI_SHIPPED_SUPERNETS", str(assets))
    at = AppTest.from_file(str(REPO / "app_pages" / "home.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Super-network"] == "ready"
    origin = [c.value for c in at.caption if c.value.startswith("Shipped super-network:")]
    assert origin and "trained on" in origin[0] and "1 epochs" in origin[0] and "tiny-test" in origin[0]
    dep = page("deploy").run()
    assert not dep.exception and not dep.error
    assert any("The shipped super-network" in c.value for c in dep.caption)


def test_generate_runs_from_the_widgets_and_survives_a_restart(empty_home, bench):
    at = page("generate").run()
    assert not at.exception and any("No generated set yet" in i.value for i in at.info)
    at.slider(key="gen_n").set_value(32)
    at.selectbox(key="gen_baseline").set_value("random")
    at.get("form_submit_button")[0].click().run()
    wait_task(at, "gen_task")
    at.run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert 0 < float(metrics["HV ratio (true values)"]) <= 1 and metrics["Computed on"] == "CPU"
    assert any("Side by side: **random**" in c.value for c in at.caption)
    chart = at.get("plotly_chart")[0]
    assert '"name":"generated"' in chart.proto.spec.replace(" ", "") and "true front" in chart.proto.spec
    # the y axis spans where the points are; the toggle gives every cell's range
    assert len(json.loads(chart.proto.spec)["layout"]["yaxis"]["range"]) == 2
    at.toggle(key="gen_full_range").set_value(True).run()
    assert not at.exception and "range" not in json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["yaxis"]
    # the grey cloud of every cell (a WebGL chart: ~0.4 s more per visit) only on request
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "all cells" not in [t.get("name") for t in spec["data"]] and {t["type"] for t in spec["data"]} == {"scatter"}
    at.toggle(key="gen_all_cells").set_value(True).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not at.exception and [t.get("name") for t in spec["data"]][0] == "all cells"
    # a new session (a restarted server reads the same run store) finds the set again
    again = page("generate").run()
    assert not again.exception and len(again.selectbox(key="gen_pick").options) == 1


def test_generate_offers_every_computed_objective_and_guides_on_memory(empty_home, bench):
    at = page("generate").run()
    assert "Memory (MB)" in at.selectbox(key="gen_cost").options          # shown by its axis title
    at.selectbox(key="gen_cost").set_value("memory")
    at.slider(key="gen_n").set_value(16)
    at.number_input(key="gen_max_flops").set_value(60.0)
    at.get("form_submit_button")[0].click().run()
    wait_task(at, "gen_task")
    at.run()
    assert not at.exception and not at.error
    chart = at.get("plotly_chart")[0]
    assert "Memory (MB)" in chart.proto.spec and '"name":"generated"' in chart.proto.spec.replace(" ", "")
    # the constraints read as words, not as a Python list
    caption = next(c.value for c in at.caption if c.value.startswith("Constraints ("))
    assert caption.startswith("Constraints (flops ≤ 60 MFLOPs) satisfied by") and "[" not in caption


def test_generate_rejects_contradictory_constraints_readably(empty_home):
    at = page("generate").run()
    at.number_input(key="gen_max_flops").set_value(0.5)   # below every cell
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    task = task_manager().get(at.session_state["gen_task"]) if "gen_task" in at.session_state else None
    if task is not None:  # constraints are checked when guidance is built: a readable task error
        task.wait(120)
        at.run()
        assert task.status == "failed" and "Traceback" not in task.error
        assert any("failed" in e.value for e in at.error)
    else:
        assert at.error


def test_supernet_page_shows_the_run_blocks_and_coverage(home):
    at = page("supernet").run()
    assert not at.exception and not at.error
    assert at.dataframe[0].value["name"].tolist() == ["tiny test run"]
    assert at.dataframe[0].value["stage"].tolist() == ["profiled"]      # a word: no emoji font everywhere
    names = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(names) == 2  # coverage scatter, training history; the drawings are SVG:
    assert {d for d in ("macro", "supercell") if any(f'data-diagram="{d}"' in m.value for m in at.markdown)} \
        == {"macro", "supercell"}
    assert any("its sub-cells" in s for s in names)
    coverage = json.loads(next(s for s in names if "its sub-cells" in s))
    # the grey cloud (a WebGL chart: ~0.4 s more per visit) only on request
    assert "all cells" not in [t.get("name") for t in coverage["data"]]
    assert {t["type"] for t in coverage["data"]} == {"scatter"}
    at.toggle(key="sn_all_cells").set_value(True).run()
    coverage = json.loads(next(c.proto.spec for c in at.get("plotly_chart") if "its sub-cells" in c.proto.spec))
    assert [t.get("name") for t in coverage["data"]][0] == "all cells"
    assert at.button(key="sn_train").disabled  # already trained
    assert any("Kendall" in s.value for s in at.success)
    # how it trained: epochs, time, device and the precision the run recorded
    from nagui.supernet.precision import precision_name
    assert any(c.value.startswith("1 epoch in ") and f"({precision_name('cpu')})," in c.value for c in at.caption)


def test_supernet_by_hand_rejects_a_bad_cell(empty_home):
    at = page("supernet").run()
    at.radio(key="sn_source").set_value("hand")
    at.text_input(key="sn_cell").set_value("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and any("Cannot use that super-cell" in e.value for e in at.error)


def test_deploy_sliders_choose_and_measure_and_infeasible_says_what_to_relax(home):
    at = page("deploy").run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Held-out accuracy (shared weights)"].endswith("%")
    assert metrics["Latency here (onnxruntime)"].endswith(" ms")
    # the shared-weight accuracy beside the table's value of the same cell (full-depth masks only)
    context = next(c.value for c in at.caption if "held-out images (±" in c.value)
    if metrics["NB201 table, same cell alone"] == "—":
        assert "the NB201 table has no value" in context
    else:
        assert metrics["NB201 table, same cell alone"].endswith("%") and "the NB201 table gives this cell" in context
    largest = metrics["FLOPs"]
    flops = at.slider(key="dep_max_flops")
    flops.set_value(flops.min).run()
    assert not at.exception
    small = {m.label: m.value for m in at.metric}
    assert float(small["FLOPs"].split()[0]) < float(largest.split()[0])
    acc = at.slider(key="dep_min_accuracy")
    acc.set_value(acc.max).run()  # max accuracy with min FLOPs: infeasible
    assert any(e.value.startswith("infeasible") and "(by " in e.value for e in at.error)
    assert len(at.get("download_button")) == 2


def test_deploy_manual_toggle_measures_a_new_mask(home):
    at = page("deploy").run()
    assert any(s.value.startswith("Chosen: the most accurate") for s in at.success)
    at.toggle(key="dep_manual").set_value(True).run()
    assert not at.exception
    # by hand it is no longer the sliders' choice, and the page says so
    assert not any(s.value.startswith("Chosen:") for s in at.success)
    assert any(i.value.startswith("Adjusted by hand, starting from") for i in at.info)
    slot = next(c for c in at.checkbox if c.label == "cell 2.2")
    slot.uncheck().run()
    assert not at.exception and not at.error
    macro = next(m.value for m in at.markdown if 'data-diagram="macro"' in m.value)
    assert '<g data-block="cell 2.2" data-state="off">' in macro       # the drawing follows the hand-made mask
    assert "|" in next(m.value for m in at.markdown if m.value.startswith("**Sub-network**"))
    measured = next(m.value for m in at.metric if m.label == "Measured")
    assert measured == "from cache" or (measured.endswith(" s") and len(measured) <= 8)
    accuracy = [m.value for m in at.metric if m.label.startswith("Held-out accuracy")]
    assert len(accuracy) == 1 and accuracy[0].endswith("%")         # the costs-first view was replaced
    assert len([m for m in at.metric if m.label == "FLOPs"]) == 1
    assert (any(w.value.startswith("This hand-made sub-network is outside the limits: ") for w in at.warning)
            or any(c.value == "This hand-made sub-network is within the limits." for c in at.caption))


def test_deploy_without_a_run_says_what_to_do(empty_home):
    at = page("deploy").run()
    assert not at.exception and any("No trained and profiled super-network" in i.value for i in at.info)


def test_benchmarks_page_shows_a_search_benchmark(empty_home, data_dir, monkeypatch, tmp_path):
    """Empty: how to make results. Then a real (small) `nagui bench search` in the run
    store: its tables, its curves, the talk's table and the targets. (The checkout's own
    `bench-search/`, where a user's `nagui bench search` writes, is kept out of it.)"""
    import importlib.util

    import nagui.workflows.benchmarks

    monkeypatch.setattr(nagui.workflows.benchmarks, "REPO_ROOT", tmp_path)
    at = page("benchmarks").run()
    assert not at.exception and any("nagui bench search" in i.value for i in at.info)
    spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).parents[2] / "bench" / "search.py")
    bench_search = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_search)
    from nagui.runs import RunStore

    out = RunStore().root / "search-bench" / "small"
    assert bench_search.main(["--datasets", "cifar10", "--problems", "test_acc,test_acc+flops", "--budget", "10", "--seeds",
                              "2", "--strategies", "random,transfer", "--processes", "1", "--data-dir",
                              str(data_dir), "--out", str(out), "--no-png"]) == 0
    at = page("benchmarks").run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["cifar10 · test_acc@cifar10", "cifar10 · test_acc@cifar10+flops",
                                               "The talk's last table: cheapest trained cell above an accuracy "
                                               "(CIFAR-10, acc–FLOPs)", "DiffusionNAG's Table 2, side by side"]
    frame = at.dataframe[1].value
    # columns in words, not the CSV's names (hv@10, wall_s, min_to_0.5)
    assert list(frame["strategy"]) == ["random", "transfer"] and "HV ratio after 10 trained" in frame.columns
    assert "best accuracy after 10 trained" not in frame.columns    # no empty single-objective columns
    assert "search minutes to within 0.5 of the optimum" in at.dataframe[0].value.columns
    assert not any("@" in c or c.endswith("_s") for c in [*frame.columns, *at.dataframe[0].value.columns])
    assert any("| table truth |" in m.value for m in at.markdown)
    # the talk's table joins the same folder (`nagui bench talk-table --out` it)
    spec = importlib.util.spec_from_file_location("bench_talk", Path(__file__).parents[2] / "bench" / "talk_table.py")
    bench_talk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_talk)
    assert bench_talk.main(["--seeds", "2", "--budget", "6", "--processes", "1", "--data-dir", str(data_dir),
                            "--out", str(out)]) == 0
    at = page("benchmarks").run()
    assert not at.exception and at.subheader[-1].value == "The talk's result table, reproduced on NB201"
    assert any("| search time to within 0.5 of the optimum (min) |" in m.value and "talk: DiffusionNAG" in m.value
               for m in at.markdown)
    assert any("another setting" in c.value for c in at.caption)


def test_supernet_builds_from_a_generated_set(empty_home, bench):
    at = page("generate").run()
    at.slider(key="gen_n").set_value(32)
    at.selectbox(key="gen_baseline").set_value("none")
    at.get("form_submit_button")[0].click().run()
    wait_task(at, "gen_task")
    sn = page("supernet").run()
    assert not sn.exception and len(sn.selectbox(key="sn_gen_set").options) == 1
    sn.radio(key="sn_source").set_value("generated")
    sn.get("form_submit_button")[0].click().run()
    wait_task(sn, "sn_build_task")
    sn.run()
    assert not sn.exception and not sn.error
    from nagui.runs import RunStore

    (run,) = RunStore().list("supernet")
    assert run.params["strategy"] == "assemble" and run.params["from_generation"]
    assert run.summary["stage"] == "built" and 0 < run.summary["build"]["true_coverage"] <= 1
    assert any("its sub-cells" in c.proto.spec for c in sn.get("plotly_chart"))


def test_an_unexpected_page_error_is_a_readable_message_not_a_traceback(home, monkeypatch):
    import nagui.workflows.pipeline as pipeline

    def broken(store, dataset="cifar10"):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(pipeline, "stage_status", broken)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()  # Home is the default page
    assert not at.exception
    assert any("Something went wrong on this page" in e.value and "the disk went away" in e.value
               and "Traceback" not in e.value for e in at.error)


@pytest.mark.parametrize("name", ["generate", "supernet", "deploy"])
def test_generate_supernet_and_deploy_explain_how_they_work(empty_home, name):
    at = page(name).run()
    assert not at.exception
    box = next(e for e in at.expander if e.label == "How it works")
    text = " ".join(m.value for m in box.markdown)
    assert "**The idea.**" in text and "**The numbers.**" in text


def test_generated_cells_are_green_only_once_a_set_exists_and_a_finished_build_leads_to_deploy(empty_home):
    from nagui.runs import RunStore
    from nagui.workflows.pipeline import pipeline_ready, stage_status

    store = RunStore()
    assert pipeline_ready(store, stage_status(store))["generated"] is False
    store.update(store.create("generate", {"n": 1}).id, "done")
    assert pipeline_ready(store, stage_status(store))["generated"] is True

    manager = task_manager()
    assert manager.get("pipeline:build-missing") is None
    manager.start("pipeline:build-missing", "Building the missing stages", lambda t: None).wait(10)
    try:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()    # Home, as `make run` opens it
        assert not at.exception and any(s.value.startswith("Building the missing stages: done in")
                                        for s in at.success)
        link = at.get("page_link")[0]
        assert link.proto.label == "Next: choose a sub-network on the Deploy page" and "deploy" in link.proto.page
    finally:
        manager.forget("pipeline:build-missing")
