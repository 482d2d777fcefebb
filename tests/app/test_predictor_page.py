"""The Predictor page under Streamlit's AppTest (no browser), with a temporary user data dir."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "app_pages" / "predictor.py")
SOURCES = ("Guiding predictor (transfer)", "Train a new predictor", "Load a trained predictor")
TRAIN_TASK = "predictor-train"


@pytest.fixture
def home(tmp_path, monkeypatch, data_dir):
    """A fresh user data dir (run store, model cache) and no task left from an earlier test."""
    from nagui.tasks import task_manager

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    manager = task_manager()
    for key in (TRAIN_TASK, "predictor-guiding::cifar10"):
        task = manager.get(key)
        if task is not None:
            task.wait(120)
            manager.forget(key)
    return tmp_path


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=90).run()


def wait_for(key: str):
    from nagui.tasks import task_manager

    task = task_manager().get(key)
    assert task is not None, f"no task {key}"
    assert task.wait(120), f"task {key} still running"
    assert task.status == "done", task.error
    return task


def scores(at) -> "list[dict]":
    table = next(d.value for d in at.dataframe if "Kendall τ" in d.value.columns)
    return table.to_dict("records")


def test_page_runs_with_empty_states(home):
    at = page()
    assert not at.exception and not at.error
    assert at.title[0].value == "Predictor"
    assert any("Build and score" in i.value for i in at.info)
    at.radio(key="source").set_value(SOURCES[2]).run()
    assert not at.exception and any("No trained predictor yet" in i.value for i in at.info)
    at.radio(key="source").set_value(SOURCES[1]).run()
    assert not at.exception and any("press **Train**" in i.value for i in at.info)


def test_no_objective_is_a_readable_error(home):
    from nagui.runs import RunStore

    at = page()
    at.radio(key="source").set_value(SOURCES[1]).run()
    at.multiselect(key="train_objectives").set_value([]).run()
    at.button(key="train_go").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "Choose at least one objective" in at.error[0].value
    assert RunStore().list("predictor") == []


def test_train_a_tiny_predictor_then_load_it_back(home):
    from nagui.runs import RunStore

    at = page()
    at.radio(key="source").set_value(SOURCES[1]).run()
    at.multiselect(key="train_objectives").set_value(["test_acc@cifar10", "latency@pixel3"])
    at.number_input(key="train_size").set_value(50)
    at.number_input(key="train_members").set_value(2)
    at.number_input(key="train_epochs").set_value(3)
    at.button(key="train_go").click().run()
    assert not at.exception and not at.error
    task = wait_for(TRAIN_TASK)
    at.run()
    assert not at.exception and not at.error
    runs = RunStore().list("predictor")
    assert len(runs) == 1 and runs[0].status == "done" and runs[0].id == task.result["run_id"]
    assert (runs[0].path / "weights.safetensors").is_file()
    assert at.selectbox(key="train_models").value.startswith("GIN + DAG-execution")     # the default
    assert runs[0].params["member_kinds"] == ["gin", "dag-exec"]
    rows = scores(at)
    assert [r["objective"] for r in rows] == ["test_acc@cifar10", "latency@pixel3"]
    assert all(-1 <= r["Kendall τ"] <= 1 and -1 <= r["Spearman ρ"] <= 1 and r["MAE"] >= 0 for r in rows)
    assert any("Trained on 50 uniform random cells" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 2

    # a new session loads it from the run store and scores it again
    again = page()
    again.radio(key="source").set_value(SOURCES[2]).run()
    assert not again.exception and not again.error
    assert again.selectbox(key="load_run").value == runs[0].id
    loaded = scores(again)
    assert [r["Kendall τ"] for r in loaded] == pytest.approx([r["Kendall τ"] for r in rows], abs=1e-6)
    charts = again.get("plotly_chart")
    assert len(charts) == 2
    assert "Predicted test_acc@cifar10 (%)" in charts[0].proto.spec
    assert "True latency@pixel3 (ms)" in charts[1].proto.spec


def test_guiding_predictor_is_built_in_the_background(home, monkeypatch):
    """The real transfer path with a tiny spec (the default pretrains for minutes)."""
    import nagui.diffusion.problem as problem

    real = problem.accuracy_predictor
    tiny = problem.PredictorSpec(k=5, members=1, epochs=2, pretrain_cells=200)
    monkeypatch.setattr(problem, "accuracy_predictor",
                        lambda bench, dataset, spec, say: real(bench, dataset, tiny, cache_root=home, say=say))
    at = page()
    at.selectbox(key="transfer_dataset").set_value("cifar10")
    at.button(key="transfer_go").click().run()
    assert not at.exception
    wait_for("predictor-guiding::cifar10")
    at.run()
    assert not at.exception and not at.error
    rows = scores(at)
    assert [r["objective"] for r in rows] == ["test_acc@cifar10"] and -1 <= rows[0]["Kendall τ"] <= 1
    assert rows[0]["cells scored"] == 15_625 - 5
    assert any("never test_acc@cifar10" in m.value for m in at.markdown)
    assert any("Its test_acc@cifar10 interval: jackknife+" in m.value for m in at.markdown)
    assert 0 <= rows[0]["90% coverage, best 5%"] <= 1
    assert any("test_acc@cifar10: jackknife+" in c.value for c in at.caption)  # how its interval was calibrated
    assert len(at.get("plotly_chart")) == 1
