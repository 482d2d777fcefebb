"""Profiling masks of a (briefly) trained super-network on real images, selecting by
limits, exporting the choice, and the `nagui supernet` commands around them."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nagui.cli import main
from nagui.measure.flops import thop_cost_of_module
from nagui.nets.supernet import BlockMask, MaskError, SuperNetSpec
from nagui.space import Arch
from nagui.supernet.checkpoint import load_supernet
from nagui.supernet.config import SupernetTrainConfig
from nagui.supernet.export import (SubnetworkFileError, export_subnetwork, load_subnetwork, onnx_logits,
                                   onnx_metadata)
from nagui.supernet.images import normalise
from nagui.supernet.profile import ProfileSettings, Profiler, kendall_tau, masks_to_profile
from nagui.supernet.run_folder import RunFolderError, read_build, write_build
from nagui.supernet.select import Limits, SelectionError, pareto_set, select
from nagui.supernet.trainer import train_supernet

SUPER = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"


@pytest.fixture(scope="module")
def run(tmp_path_factory, images_root):
    run = tmp_path_factory.mktemp("supernet-run")
    spec = SuperNetSpec(Arch.parse(SUPER), (1, 1, 2), channels=4, num_classes=10)
    config = SupernetTrainConfig(epochs=1, batch_size=32, train_per_class=20, heldout=100, random_masks=1)
    train_supernet(run, spec, config, data_root=images_root)
    write_build(run, spec, "quick", {"strategy": "test"})
    return run


@pytest.fixture(scope="module")
def profiler(run, images_root, bench):
    settings = ProfileSettings(calibration_images=64, latency_runs=3, latency_warmup=1)
    return Profiler(run, data_root=images_root, settings=settings, bench=bench)


def test_measure_records_real_numbers_and_caches_them(profiler):
    mask = BlockMask.parse("on,skip,on,skip,none,on|1,1,11", profiler.spec)
    first = profiler.measure(mask)
    assert not first["cached"] and first["cell"] == mask.sub_cell(profiler.spec).to_str()
    sub = profiler.calibrated(mask).cpu()
    assert first["flops"] == pytest.approx(thop_cost_of_module(sub).flops, abs=1e-4)
    assert first["latency_ms"] > 0 and 0 <= first["accuracy"] <= 100 and first["heldout_images"] == 100
    assert first["table_acc"] == pytest.approx(profiler.bench.lookup(mask.sub_cell(profiler.spec))["test_acc@cifar10"])
    again = profiler.measure(mask.to_str())
    assert again["cached"] and {k: v for k, v in again.items() if k != "cached"} == \
        {k: v for k, v in first.items() if k != "cached"}
    assert mask.to_str() in {r["mask"] for r in profiler.records()}


def test_bn_recalibration_gives_each_mask_its_own_statistics(profiler):
    big = profiler.calibrated(BlockMask.largest(profiler.spec))
    small = profiler.calibrated(BlockMask.smallest(profiler.spec))
    shared = profiler.supernet.lastact[0].running_mean
    assert not torch.allclose(big.lastact[0].running_mean, small.lastact[0].running_mean)
    assert not torch.allclose(big.lastact[0].running_mean, shared)
    # the shared weights are untouched by profiling
    assert torch.equal(profiler.supernet.lastact[0].running_mean, shared)


def test_masks_to_profile_lists_distinct_networks(profiler):
    spec = profiler.spec
    masks = masks_to_profile(spec)
    assert masks[0] == BlockMask.largest(spec) and masks[1] == BlockMask.smallest(spec)
    assert len(set(masks)) == len(masks)
    from nagui.space import prune
    full = [m for m in masks if m.depth() == spec.slots]
    assert len({prune(m.sub_cell(spec)) for m in full}) == len(full)
    assert any(m.depth() != spec.slots for m in masks[2:])
    sample = masks_to_profile(spec, limit=10, seed=3)
    assert len(sample) == 10 and sample[:2] == masks[:2] and set(sample) <= set(masks)


def test_select_is_the_most_accurate_within_limits(profiler):
    records = profiler.profile(masks_to_profile(profiler.spec, limit=8))
    lat = sorted(r["latency_ms"] for r in records)
    limits = Limits(max_latency_ms=lat[len(lat) // 2])
    chosen = select(records, limits)
    ok = [r for r in records if r["latency_ms"] <= limits.max_latency_ms]
    assert chosen.ok and chosen.feasible == len(ok)
    assert chosen.best["accuracy"] == max(r["accuracy"] for r in ok)
    front = pareto_set(records)
    assert chosen.best["mask"] in {r["mask"] for r in front} or any(
        r["accuracy"] >= chosen.best["accuracy"] and r["latency_ms"] <= chosen.best["latency_ms"] for r in front)
    tau, n = kendall_tau(records)
    assert n == sum(r["full_depth"] for r in records) and -1 <= tau <= 1
    slowest = max(records, key=lambda r: r["latency_ms"])
    assert limits.exceeded(chosen.best) == [] and limits.exceeded(slowest)[0].startswith("latency ")
    assert Limits(min_accuracy=101.0).exceeded(chosen.best) == [f"held-out accuracy {chosen.best['accuracy']:.4g} % "
                                                                 "< 101 %"]


def test_infeasible_limits_name_the_nearest_option_and_what_to_relax(profiler):
    records = profiler.records()
    fastest = min(r["latency_ms"] for r in records)
    sel = select(records, Limits(max_latency_ms=fastest / 2))
    assert not sel.ok and sel.nearest["latency_ms"] == fastest
    assert sel.message.startswith("infeasible") and "nearest feasible option is" in sel.message
    assert sel.relax[0]["key"] == "latency_ms" and sel.relax[0]["by"] == pytest.approx(fastest / 2)
    assert "raise latency_ms <= " in sel.message
    both = select(records, Limits(max_latency_ms=fastest / 2, min_accuracy=0.0))
    assert both.alone and both.alone[0]["key"] == "latency_ms" and "Or relax one limit alone" in both.message
    with pytest.raises(SelectionError, match="max_flops must be > 0"):
        Limits(max_flops=0)
    with pytest.raises(SelectionError, match="min_accuracy must be a finite number"):
        Limits(min_accuracy=float("nan"))
    with pytest.raises(SelectionError, match="run `nagui supernet profile` first"):
        select([], Limits())


def test_export_stands_alone_in_pytorch_and_onnx(profiler, tmp_path):
    mask = BlockMask.parse("on,on,none,skip,on,on|1,1,10", profiler.spec)
    sub = profiler.calibrated(mask).cpu()
    paths = export_subnetwork(sub, tmp_path / "out", {"mask": mask.to_str()}, classes=profiler.heldout.classes)
    loaded, config = load_subnetwork(tmp_path / "out")
    assert config["mask"] == mask.to_str() and config["depth"] == [1, 1, 1]
    assert config["classes"] == list(profiler.heldout.classes) and len(config["input"]["mean"]) == 3
    x = normalise(profiler.heldout.images[:4])
    with torch.no_grad():
        expected = sub(x)
        assert torch.allclose(loaded(x), expected, atol=1e-6)
    # the ONNX file takes any batch size and carries its own description
    assert np.allclose(onnx_logits(paths["onnx"], x.numpy()), expected.numpy(), atol=1e-4)
    assert np.allclose(onnx_logits(paths["onnx"], x[:1].numpy()), expected[:1].numpy(), atol=1e-4)
    described = onnx_metadata(paths["onnx"])
    assert described["mask"] == mask.to_str() and described["classes"] == config["classes"]
    assert described["input"] == config["input"] and described["input"]["shape"][0] == "batch"
    # the ONNX graph holds no op of a disabled block: fewer Conv nodes than the largest mask's
    import onnx
    convs = sum(n.op_type == "Conv" for n in onnx.load(str(paths["onnx"])).graph.node)
    full = export_subnetwork(profiler.calibrated(BlockMask.largest(profiler.spec)).cpu(), tmp_path / "full", {})
    assert convs < sum(n.op_type == "Conv" for n in onnx.load(str(full["onnx"])).graph.node)


def test_broken_exports_are_refused(profiler, tmp_path):
    sub = profiler.calibrated(BlockMask.largest(profiler.spec)).cpu()
    export_subnetwork(sub, tmp_path / "a", {})
    (tmp_path / "a" / "subnetwork.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(SubnetworkFileError, match="not a readable safetensors file"):
        load_subnetwork(tmp_path / "a")
    export_subnetwork(sub, tmp_path / "b", {})
    config = json.loads((tmp_path / "b" / "subnetwork.json").read_text())
    config["cell"] = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    (tmp_path / "b" / "subnetwork.json").write_text(json.dumps(config))
    with pytest.raises(SubnetworkFileError, match="does not match subnetwork.json"):
        load_subnetwork(tmp_path / "b")
    with pytest.raises(SubnetworkFileError, match="has no subnetwork.json"):
        load_subnetwork(tmp_path / "missing")


def test_run_folder_refuses_to_replace_a_trained_build(run):
    other = SuperNetSpec(Arch.parse("|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|"
                                    "avg_pool_3x3~2|"), (1, 1, 2), 4)
    with pytest.raises(RunFolderError, match="already holds a super-network trained with super-cell"):
        write_build(run, other, "quick", {})
    assert read_build(run)["spec"]["super_cell"] == SUPER


def test_cli_select_export_and_bad_input(run, images_root, profiler, tmp_path, capsys):
    common = ["--run", str(run), "--images", str(images_root), "--calibration-images", "64"]
    assert main(["supernet", "profile", *common, "--limit", "4", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)      # one object per profiled mask
    assert len(records) == 4 and all(r["test_acc"] is None and 0 <= r["heldout_acc"] <= 100 for r in records)
    assert all((r["table_acc"] is not None) == r["full_depth"] for r in records)
    assert main(["supernet", "profile", *common, "--limit", "4", "--json", "--summary"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["masks"] == 4 and summary["pareto"]
    slowest = max(r["latency_ms"] for r in summary["pareto"])
    assert main(["supernet", "select", *common, "--max-latency", str(slowest), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["best"]["latency_ms"] <= slowest
    assert main(["supernet", "select", *common, "--min-accuracy", "101"]) == 3
    assert "infeasible" in capsys.readouterr().out
    assert main(["supernet", "export", *common, "--mask", "on,on,on,none,none,none|1,1,11"]) == 2
    assert "keep edge" in capsys.readouterr().err
    assert main(["supernet", "export", *common, "--max-latency", str(slowest), "--out", str(tmp_path / "e")]) == 0
    assert "ONNX vs PyTorch max |logit difference|" in capsys.readouterr().out
    assert load_subnetwork(tmp_path / "e")[1]["source_checkpoint_sha256"] == profiler.checkpoint
    assert main(["supernet", "profile", "--run", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert f"no such run folder: {tmp_path / 'nothing'}" in err and "nagui supernet build --run" in err
    with pytest.raises(MaskError):
        BlockMask.parse("on,on|1,1,1", profiler.spec)


def test_cli_train_runs_under_torchrun_with_two_processes(tmp_path, images_root, monkeypatch):
    """`nagui supernet train --nproc 2` launches torchrun (gloo, 2 CPU processes) on the built spec."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    run = tmp_path / "ddp"
    spec = SuperNetSpec(Arch.parse(SUPER), (1, 1, 1), channels=4, num_classes=10)
    write_build(run, spec, "quick", {"strategy": "test"})
    argv = ["supernet", "train", "--run", str(run), "--images", str(images_root), "--nproc", "2", "--epochs", "1",
            "--train-per-class", "20", "--batch-size", "32"]
    assert main(argv) == 0
    model, meta = load_supernet(run)
    assert meta["world_size"] == 2 and meta["complete"] and model.spec.super_cell == spec.super_cell
