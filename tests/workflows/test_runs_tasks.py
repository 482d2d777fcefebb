"""The run store (folders + SQLite index) and background tasks (progress, cancel, errors)."""
import threading
import time

import pytest

from nagui.runs import RunStore, RunStoreError
from nagui.tasks import Cancelled, TaskManager, readable_error


def test_run_store_survives_a_restart_and_merges_summaries(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("generate", {"n": 64}, name="first")
    assert run.path == tmp_path / "generate" / run.id and run.path.is_dir() and run.status == "running"
    store.write_json(run, "samples.json", [{"index": 1}])
    store.update(run.id, "done", summary={"samples": 1})
    store.update(run.id, summary={"hv": 0.9})
    again = RunStore(tmp_path).get(run.id)  # a new store object = a restarted server
    assert again.status == "done" and again.summary == {"samples": 1, "hv": 0.9} and again.finished
    assert again.params == {"n": 64} and RunStore(tmp_path).read_json(again, "samples.json") == [{"index": 1}]
    store.create("generate", name="second")
    assert [r.name for r in store.list("generate")] == ["second", "first"]
    assert store.latest("generate").id == run.id  # the newest *done* one
    assert store.list("supernet") == []


def test_run_store_refuses_paths_leaving_the_run_and_bad_ids(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("generate")
    for bad in ("../x.json", "../../index.sqlite", "/etc/passwd", "a/../../b", ""):
        with pytest.raises(RunStoreError):
            run.file(bad)
    assert run.file("export/abc/subnetwork.onnx").is_relative_to(run.path)
    for bad_id in ("../generate", "x; DROP TABLE runs", "nope"):
        with pytest.raises(RunStoreError):
            store.get(bad_id)
    with pytest.raises(RunStoreError, match="kind"):
        store.create("../up")
    with pytest.raises(RunStoreError, match="status"):
        store.update(run.id, "finished")


def test_a_running_run_whose_process_died_reads_as_interrupted(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("supernet")
    with store._connect() as db:  # as if written by a process that is gone
        db.execute("UPDATE runs SET pid = ? WHERE id = ?", (2 ** 22 + 12345, run.id))
    assert store.get(run.id).status == "interrupted"


def test_adopt_indexes_an_existing_folder_once(tmp_path):
    store = RunStore(tmp_path / "store")
    folder = tmp_path / "cli-run"
    folder.mkdir()
    a = store.adopt("supernet", folder, name="CLI default run")
    b = store.adopt("supernet", folder, name="again")
    assert a.id == b.id and a.path == folder.resolve() and len(store.list("supernet")) == 1


def test_task_reports_progress_and_returns_its_result():
    tm = TaskManager()
    gate = threading.Event()

    def job(task):
        task.report("half way", 0.5)
        gate.wait(5)
        return 42

    task = tm.start("k", "Job", job)
    for _ in range(100):
        if task.fraction == 0.5:
            break
        time.sleep(0.01)
    assert task.running and task.text == "half way" and task.fraction == 0.5
    gate.set()
    assert task.wait(5) and task.status == "done" and task.result == 42 and task.fraction == 1.0


def test_a_second_start_of_a_running_key_returns_the_same_task():
    tm = TaskManager()
    gate = threading.Event()
    calls = []

    def job(task):
        calls.append(1)
        gate.wait(5)

    first = tm.start("train", "Train", job)
    second = tm.start("train", "Train", job)  # the double click
    assert second is first
    gate.set()
    first.wait(5)
    assert calls == [1]
    third = tm.start("train", "Train", lambda t: None)  # finished: a new start is allowed
    assert third is not first and third.wait(5)


def test_cancel_stops_the_job_at_its_next_report():
    tm = TaskManager()
    reached = []

    def job(task):
        for i in range(1000):
            task.report(f"step {i}", i / 1000)
            reached.append(i)
            time.sleep(0.005)

    task = tm.start("c", "Counting", job)
    time.sleep(0.05)
    task.cancel()
    assert task.wait(5) and task.status == "cancelled" and "cancelled" in task.error
    assert len(reached) < 1000


def test_failures_become_one_readable_line():
    from nagui.space import Arch

    tm = TaskManager()
    task = tm.start("f", "Parse", lambda t: Arch.parse("|bogus~0|"))
    assert task.wait(5) and task.status == "failed"
    assert "Traceback" not in task.error and "bogus" in task.error
    assert readable_error(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"
    with pytest.raises(Cancelled):
        t = tm.start("x", "X", lambda t: time.sleep(0.2))
        t.cancel()
        t.check()


def test_cancel_acts_within_two_seconds_inside_a_long_step_that_does_not_report(bench):
    """A predictor fit reports once per member; its training loop's cancel point
    (nagui.progress.cancel_point) stops it long before the member is done."""
    from nagui.predictor.ensemble import Predictor, TrainConfig

    archs = [bench.arch(i) for i in range(0, 15625, 250)]
    labels = {"test_acc@cifar10": bench.table["test_acc@cifar10"].to_numpy()[::250]}
    tm = TaskManager()
    task = tm.start("fit", "Fitting", lambda t: Predictor.fit(archs, labels, train_config=TrainConfig(
        members=1, epochs=100_000)))
    time.sleep(1.0)
    assert task.running                      # the member alone takes minutes
    asked = time.monotonic()
    task.cancel()
    assert task.wait(10) and task.status == "cancelled"
    assert time.monotonic() - asked < 2.0
