"""Super-network runs in the run store and the Deploy workflow on a tiny real run."""
import zipfile
import io

import numpy as np
import pytest

from nagui.nets.supernet import BlockMask, MaskError, extract_subnetwork
from nagui.runs import RunStore
from nagui.workflows.deploy import Deployment
from nagui.workflows.supernet_runs import adopt_cli_default, stage_of, supernet_runs


@pytest.fixture(scope="module")
def store(trained_home):
    return RunStore(trained_home / "nagui" / "runs")


@pytest.fixture(scope="module")
def deployment(store, images_root, bench):
    run = store.list("supernet")[0]
    return Deployment(run, data_root=images_root, bench=bench)


def test_trained_run_is_indexed_with_its_stage(store):
    (run,) = store.list("supernet")
    assert run.status == "done" and stage_of(run) == "profiled"
    assert run.summary["profiled_masks"] == 24 and -1 <= run.summary["kendall_tau"] <= 1
    assert run.summary["train"]["epochs_done"] == 1
    assert (run.path / "build.json").is_file() and (run.path / "checkpoint").is_dir()


def test_sliders_choose_the_best_measured_mask_and_say_what_to_relax(deployment):
    b = deployment.bounds()
    assert b["latency_ms"].lo < b["latency_ms"].hi and b["flops"].lo < b["flops"].hi
    loose = deployment.choose()
    assert loose.ok and loose.best["accuracy"] == max(r["accuracy"] for r in deployment.records())
    tight = deployment.choose(max_flops=b["flops"].lo)
    assert tight.ok and tight.best["flops"] <= b["flops"].lo
    impossible = deployment.choose(max_flops=b["flops"].lo, min_accuracy=100.0)
    assert not impossible.ok and impossible.message.startswith("infeasible") and "accuracy >= 100" in impossible.message
    assert "(by " in impossible.message  # how far to relax


def test_a_new_mask_is_measured_once_then_cached(deployment):
    spec = deployment.spec
    known = {r["mask"] for r in deployment.records()}
    gen = __import__("torch").Generator().manual_seed(5)
    mask = next(m for m in (BlockMask.random(spec, gen) for _ in range(500)) if m.to_str() not in known)
    first = deployment.measure(mask)
    assert not first["cached"] and first["latency_ms"] > 0 and first["flops"] > 0 and first["wall_s"] > 0
    second = deployment.measure(mask.to_str())
    assert second["cached"] and second["latency_ms"] == first["latency_ms"]
    assert mask.to_str() in {r["mask"] for r in deployment.records()}
    with pytest.raises(MaskError):
        deployment.measure("on,on,on,on,on,on|00,11,11")


def test_a_new_masks_costs_come_first_and_its_full_measurement_reuses_them(deployment):
    spec = deployment.spec
    known = {r["mask"] for r in deployment.records()}
    gen = __import__("torch").Generator().manual_seed(11)
    fresh = (m for m in (BlockMask.random(spec, gen) for _ in range(500)) if m.to_str() not in known)
    mask, other = next(fresh), next(fresh)
    assert deployment.cached(mask) is None
    costs = deployment.measure_costs(mask)
    assert not costs["cached"] and "accuracy" not in costs and costs["wall_s"] > 0
    assert costs["flops"] > 0 and costs["params"] > 0 and costs["latency_ms"] > 0 and costs["cell"]
    assert deployment.cached(mask) is None                     # costs alone are not a record
    full = deployment.measure(mask, costs)
    assert not full["cached"] and full["accuracy"] >= 0
    assert {k: full[k] for k in ("flops", "params", "latency_ms")} == {k: costs[k] for k in
                                                                     ("flops", "params", "latency_ms")}
    assert "calibrate" in full["measure_steps_s"] and "export" not in full["measure_steps_s"]   # not measured twice
    assert deployment.cached(mask)["accuracy"] == full["accuracy"]
    assert deployment.measure_costs(mask)["cached"]             # now the whole record
    # costs need no BN recalibration: counted on the uncalibrated sub-network, the same FLOPs and params
    direct = deployment.measure(other)                          # measured whole, no costs first
    assert "export" in direct["measure_steps_s"]
    uncalibrated = extract_subnetwork(deployment.profiler.supernet, other)
    recount, _ = deployment.profiler._costs(uncalibrated)
    assert (recount["flops"], recount["params"]) == (direct["flops"], direct["params"])


def test_export_runs_in_onnxruntime_and_zip_loads_without_the_supernet(deployment, tmp_path):
    import torch

    from nagui.supernet.export import load_subnetwork, onnx_logits

    mask = deployment.choose().best["mask"]
    paths = deployment.export(mask)
    assert paths["onnx"].is_relative_to(deployment.run.path)
    x = np.random.default_rng(0).normal(size=(2, 3, 32, 32)).astype(np.float32)
    logits = onnx_logits(paths["onnx"], x)
    with zipfile.ZipFile(io.BytesIO(deployment.pytorch_zip(mask))) as z:
        assert sorted(z.namelist()) == ["subnetwork.json", "subnetwork.safetensors"]
        z.extractall(tmp_path)
    sub, config = load_subnetwork(tmp_path)
    assert config["mask"] == mask
    with torch.no_grad():
        assert np.abs(sub(torch.from_numpy(x)).numpy() - logits).max() < 1e-4


def test_cli_default_run_is_adopted(tmp_path, monkeypatch):
    from nagui.nets.supernet import SuperNetSpec
    from nagui.space import Arch
    from nagui.supernet.run_folder import default_run_dir, write_build

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert adopt_cli_default(RunStore()) is None
    spec = SuperNetSpec(Arch.parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"), (1, 1, 1), 4)
    write_build(default_run_dir(), spec, "quick", {"strategy": "test"})
    runs = supernet_runs(RunStore())
    assert len(runs) == 1 and runs[0].name == "CLI default run" and stage_of(runs[0]) == "built"
    assert len(supernet_runs(RunStore())) == 1


def test_cancelled_training_keeps_the_last_epoch_and_resumes(tmp_path, monkeypatch, images_root):
    from nagui.tasks import Cancelled
    from nagui.workflows.supernet_runs import create_run, train_run

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    store = RunStore()
    run = create_run(store, "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
                     slots=(1, 1, 1), channels=4,
                     train_overrides={"epochs": 2, "batch_size": 50, "train_per_class": 10, "heldout": 50,
                                      "random_masks": 1})
    seen = []

    def cancel_in_epoch_two(text, fraction=None):
        seen.append(text)
        if text.startswith("epoch 2/2"):
            raise Cancelled("Training: cancelled")

    with pytest.raises(Cancelled):
        train_run(store, run, device="cpu", data_root=images_root, report=cancel_in_epoch_two)
    stopped = store.get(run.id)
    assert stopped.status == "cancelled" and stage_of(stopped) == "built"
    assert any(t.startswith("epoch 1/2 done") for t in seen)
    done = train_run(store, stopped, device="cpu", data_root=images_root)
    assert done.status == "done" and stage_of(done) == "trained"
    assert done.summary["train"]["resumed_from"] == 1 and done.summary["train"]["epochs_done"] == 2


def test_slider_ends_are_each_feasible(deployment):
    from nagui.workflows.deploy import Bounds, slider_range

    b = deployment.bounds()
    lo, hi, step = slider_range(b["flops"], "max")
    assert b["flops"].lo <= lo < b["flops"].lo + step and hi >= b["flops"].hi
    assert deployment.choose(max_flops=lo).ok and deployment.choose(max_flops=hi).best == deployment.choose().best
    lo, hi, step = slider_range(b["accuracy"], "min")
    assert lo <= b["accuracy"].lo and b["accuracy"].hi - step < hi <= b["accuracy"].hi
    assert deployment.choose(min_accuracy=hi).ok
    assert slider_range(Bounds(1.0, 1.0), "max")[1] > 1.0  # a single value still gives a slider
    with pytest.raises(ValueError):
        slider_range(b["flops"], "between")


def test_two_sessions_measurements_take_turns(deployment, monkeypatch):
    """Two new masks measured from two threads at once (two browser sessions): they never
    time on the cores together; the one that waited says so."""
    import threading
    import time

    spec = deployment.spec
    known = {r["mask"] for r in deployment.records()}
    gen = __import__("torch").Generator().manual_seed(11)
    masks = []
    for m in (BlockMask.random(spec, gen) for _ in range(1000)):
        if m.to_str() not in known and m.to_str() not in {x.to_str() for x in masks}:
            masks.append(m)
        if len(masks) == 2:
            break
    records, inside = {}, []
    calibrated = deployment.profiler._calibrated_channels_last   # what a measurement calls

    def spy(mask):                              # runs inside the measurement (BN recalibration)
        t0 = time.perf_counter()
        out = calibrated(mask)
        inside.append((t0, time.perf_counter()))
        return out

    monkeypatch.setattr(deployment.profiler, "_calibrated_channels_last", spy)

    def measure(k):
        records[k] = deployment.measure(masks[k])

    threads = [threading.Thread(target=measure, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)                       # the second asks while the first is measuring
    for t in threads:
        t.join()
    assert not records[0]["cached"] and not records[1]["cached"]
    assert records[1]["queued"] and not deployment.busy()
    (a0, a1), (b0, b1) = sorted(inside)
    assert b0 >= a1                            # one after the other, never together


def test_accuracy_is_shown_with_its_images_noise_and_the_table_value_of_the_same_cell(deployment, bench):
    from nagui.workflows.deploy import accuracy_context, accuracy_interval

    assert accuracy_interval(70.0, 1000) == pytest.approx(2.84, abs=0.01)     # 1.96 * sqrt(.7 * .3 / 1000)
    assert accuracy_interval(70.0, 10_000) < accuracy_interval(70.0, 1000)
    full = next(r for r in deployment.records() if r["full_depth"])
    text = accuracy_context(full)
    table = float(bench.lookup(full["cell"])["test_acc@cifar10"])
    assert f"{full['accuracy']:.2f}% on {full['heldout_images']:,} held-out images" in text
    assert f"the NB201 table gives this cell {table:.2f}%" in text
    assert f"costs it {table - full['accuracy']:.1f} points" in text
    shallow = next(r for r in deployment.records() if not r["full_depth"])
    assert "NB201 table has no value" in accuracy_context(shallow)
    shipped = {**full, "test_acc": 91.5, "test_images": 10_000, "accuracy_device": "NVIDIA H200"}
    text = accuracy_context(shipped)
    assert "91.50% on the 10,000 CIFAR-10 test images" in text and "measured on NVIDIA H200" in text
    assert f"costs it {table - 91.5:.1f} points" in text
