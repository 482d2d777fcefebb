"""Shipping a trained super-network (`nagui supernet ship`) and using it on a fresh machine:
sha256s, a damaged file named, provided into a fresh run store, Deploy reading its
profile without measuring, and `nagui supernet select|profile` picking their run.
All on a tiny network really trained on CPU (tests/conftest.py); nothing is mocked and
nothing is written into the real assets/."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nagui.cli import main
from nagui.runs import RunStore
from nagui.supernet.profile import masks_to_profile
from nagui.supernet.shipped import (MAX_PACKAGE_BYTES, ShippedSupernetError, provide_shipped_supernet,
                                    read_profile, shipped_supernets, verify_shipped)
from nagui.supernet.train import SupernetCheckpointError, load_supernet

REPO = Path(__file__).resolve().parents[2]
SHIP_EVAL_IMAGES = 200                                                  # as tests/conftest.py ships it
SHIP_SUPER_CELL = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|"
TINY_PROFILE = {"calibration_images": 64, "latency_runs": 5, "latency_warmup": 1}   # trained_home's settings


def _nagui(*args, home, assets, check=True):
    env = {**os.environ, "XDG_DATA_HOME": str(home), "NAGUI_SHIPPED_SUPERNETS": str(assets)}
    r = subprocess.run([sys.executable, "-m", "nagui", *args], capture_output=True, text=True, env=env, cwd=REPO,
                       timeout=600)
    if check:
        assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_package_holds_weights_complete_profile_and_provenance(shipped_assets, images_root):
    assets, package, stdout = shipped_assets
    assert shipped_supernets(assets) == [package]
    prov = verify_shipped(package)
    files = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert files == {"build.json", "checkpoint/supernet.json", "checkpoint/weights.safetensors", "profile.json",
                     "provenance.json"}
    assert set(prov["sha256"]) == files - {"provenance.json"}
    # the ship command printed where it wrote and every sha256
    assert str(package) in stdout and all(f"{sha}  {rel}" in stdout for rel, sha in prov["sha256"].items())
    assert sum((package / f).stat().st_size for f in files) < MAX_PACKAGE_BYTES
    # provenance: device, epochs, recipe, date, the commands that remake it
    assert "cpu" in prov["device"] and prov["epochs"] == 1 and prov["config"]["train_per_class"] == 20
    assert prov["spec"]["super_cell"] == SHIP_SUPER_CELL and len(read_profile(package)["records"]) == 45
    assert prov["date"][:2] == "20" and prov["command"].startswith("nagui supernet ship --run ")
    assert "--eval-images 200" in prov["command"] and "nagui.cli.supernet_train" in prov["train_command"]
    # fp16 only when the largest and smallest sub-network's test accuracy moved <= 0.1 points
    check = prov["fp16_check"]
    assert set(check) == {"largest", "smallest"}
    fits = all(c["change"] <= 0.1 for c in check.values())
    assert prov["weights_dtype"] == ("float16" if fits else "float32")
    model, meta = load_supernet(package)
    assert meta["weights_dtype"] == prov["weights_dtype"]
    # the profile is complete: one record per distinct mask, test accuracy on the capped test split
    profile = read_profile(package)
    masks = [m.to_str() for m in masks_to_profile(model.spec)]
    assert [r["mask"] for r in profile["records"]] == masks and profile["complete"]
    assert profile["test_images"] == SHIP_EVAL_IMAGES and profile["settings"]["calibration_images"] == 64
    for r in profile["records"]:
        assert 0 <= r["test_acc"] <= 100 and r["heldout_acc"] == r["accuracy"] and r["test_images"] == 200
        assert r["flops"] > 0 and r["params"] > 0 and r["latency_ms"] > 0 and r["cell"]
        assert "cpu" in r["accuracy_device"]
        if r["full_depth"]:
            assert r["table_test_acc@cifar10"] == r["table_acc"] > 0
        else:
            assert r["table_test_acc@cifar10"] is None


def test_a_damaged_or_missing_file_is_named(shipped_assets, tmp_path):
    _, package, _ = shipped_assets
    copy = tmp_path / "pkg"
    shutil.copytree(package, copy)
    weights = copy / "checkpoint" / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ShippedSupernetError, match=r"weights\.safetensors is damaged") as err:
        verify_shipped(copy)
    assert isinstance(err.value, SupernetCheckpointError) and str(weights) in str(err.value)
    shutil.copyfile(package / "checkpoint" / "weights.safetensors", weights)
    verify_shipped(copy)
    (copy / "profile.json").write_text((copy / "profile.json").read_text().replace('"mask"', '"masc"', 1))
    with pytest.raises(ShippedSupernetError, match=r"profile\.json is damaged"):
        verify_shipped(copy)
    (copy / "profile.json").unlink()
    with pytest.raises(ShippedSupernetError, match=r"profile\.json is missing"):
        verify_shipped(copy)
    (copy / "provenance.json").write_text("{not json")
    with pytest.raises(ShippedSupernetError, match=r"provenance\.json is damaged"):
        verify_shipped(copy)
    # a damaged package is never copied into a run store
    with pytest.raises(ShippedSupernetError):
        provide_shipped_supernet(RunStore(tmp_path / "runs"), assets_dir=tmp_path, name="pkg")
    assert not list((tmp_path / "runs").glob("supernet/shipped-*"))


def test_provided_into_a_fresh_store_deploy_reads_its_profile(shipped_assets, tmp_path, monkeypatch, images_root,
                                                             bench):
    from nagui.workflows.deploy import Deployment
    from nagui.workflows.supernet_runs import stage_of, supernet_runs

    assets, package, _ = shipped_assets
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("NAGUI_SHIPPED_SUPERNETS", str(assets))
    store = RunStore()
    assert store.list("supernet") == []
    run = provide_shipped_supernet(store, assets_dir=assets)
    assert provide_shipped_supernet(store, assets_dir=assets).id == run.id      # idempotent
    (listed,) = supernet_runs(store)                                            # the pages' listing, too
    assert listed.id == run.id and stage_of(listed) == "profiled" and listed.status == "done"
    assert "shipped" in run.name and run.summary["provenance"]["device"] == verify_shipped(package)["device"]
    assert run.summary["provenance"]["epochs"] == 1 and "trained on" in run.summary["origin"]
    assert run.path.parent == store.root / "supernet" and run.path.name.startswith("shipped-tiny-test-")
    assert not list(run.path.parent.glob(".*tmp*"))
    shipped = read_profile(package)["records"]
    deployment = Deployment(run, data_root=images_root, bench=bench)
    records = deployment.records()
    assert len(records) == len(shipped) and {r["mask"] for r in records} == {r["mask"] for r in shipped}
    assert all("test_acc" in r and "table_test_acc@cifar10" in r for r in records)
    assert deployment.profiler.settings_key == json.loads(json.dumps(deployment.profiler.settings_key))
    best = deployment.choose()
    assert best.ok
    again = deployment.measure(best.best["mask"])
    assert again["cached"] and again["test_acc"] == best.best["test_acc"]       # read, not re-measured


def test_two_processes_providing_at_once_make_one_run(shipped_assets, tmp_path):
    assets, _, _ = shipped_assets
    code = ("import sys; from nagui.runs import RunStore; from nagui.supernet.shipped import provide_shipped_supernet;"
            "print(provide_shipped_supernet(RunStore(sys.argv[1]), assets_dir=sys.argv[2]).id)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "runs"), str(assets)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    assert outs[0][0].strip() == outs[1][0].strip()
    store = RunStore(tmp_path / "runs")
    assert len(store.list("supernet")) == 1
    assert [p.name for p in (tmp_path / "runs" / "supernet").iterdir()] == [store.list("supernet")[0].path.name]


def test_cli_uses_the_shipped_network_then_a_newer_user_run(shipped_assets, trained_home, tmp_path, images_root):
    assets, _, _ = shipped_assets
    home = tmp_path / "home"
    r = _nagui("supernet", "select", "--images", str(images_root), "--json", home=home, assets=assets)
    assert "using run" in r.stderr and "'shipped · tiny-test" in r.stderr and "shipped in" in r.stderr
    assert json.loads(r.stdout)["ok"]
    r = _nagui("supernet", "profile", "--images", str(images_root), "--json", home=home, assets=assets)
    assert "'shipped · tiny-test" in r.stderr and "Kendall tau" in r.stderr
    records = json.loads(r.stdout)
    assert records and all(x["cached"] for x in records)           # the shipped profile, nothing measured
    for x in records:
        assert set(x) >= {"mask", "cell", "flops", "params", "test_acc", "heldout_acc", "table_acc"}
        assert x["test_acc"] is not None
        assert (x["table_acc"] is not None) == x["full_depth"]
    r = _nagui("supernet", "profile", "--images", str(images_root), "--json", "--summary", home=home, assets=assets)
    summary = json.loads(r.stdout)
    assert summary["masks"] == len(records) and summary["pareto"]
    # a run trained by the user (here: the tiny run of trained_home, indexed as an app run) wins
    (user,) = RunStore(trained_home / "nagui" / "runs").list("supernet")
    store = RunStore(home / "nagui" / "runs")
    mine = store.root / "supernet" / "mine"
    shutil.copytree(user.path, mine)
    store.adopt("supernet", mine, name="my own run", params={"profile_settings": TINY_PROFILE},
                summary={"stage": "profiled"})
    r = _nagui("supernet", "select", "--images", str(images_root), "--json", home=home, assets=assets)
    assert "'my own run'" in r.stderr and "made in the app" in r.stderr and "shipped ·" not in r.stderr
    r = _nagui("supernet", "profile", "--images", str(images_root), "--json", "--limit", "3", home=home,
               assets=assets)
    records = json.loads(r.stdout)
    assert len(records) == 3 and all(x["test_acc"] is None for x in records)


def test_a_missing_run_folder_has_its_own_message(tmp_path, capsys):
    for command in ("select", "profile", "export", "train"):
        assert main(["supernet", command, "--run", str(tmp_path / "nowhere")]) == 2
        err = capsys.readouterr().err
        assert f"no such run folder: {tmp_path / 'nowhere'}" in err and "train the super-network first" not in err
    assert main(["supernet", "ship", "--run", str(tmp_path / "nowhere"), "--assets", str(tmp_path / "a")]) == 2
    assert "no such run folder" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_nothing_shipped_means_nothing_provided(tmp_path):
    assert shipped_supernets(tmp_path / "empty") == []
    assert provide_shipped_supernet(RunStore(tmp_path / "runs"), assets_dir=tmp_path / "empty") is None
    assert RunStore(tmp_path / "runs").list("supernet") == []


def test_exported_files_reproduce_the_shipped_test_accuracy(shipped_assets, tmp_path, monkeypatch, images_root,
                                                            bench):
    """A sub-network downloaded from Deploy (ONNX, and safetensors + JSON) scores on the
    same test images what the shipped profile says it does. Tolerance: 0.5 points (one
    image in 200), for the float differences between onnxruntime, PyTorch and the
    machine that shipped it; here it is the same machine, so it should match exactly."""
    import numpy as np
    import torch

    from nagui.supernet.export import load_subnetwork, onnx_logits
    from nagui.supernet.images import normalise
    from nagui.supernet.shipped_package import _test_images
    from nagui.workflows.deploy import Deployment

    assets, package, _ = shipped_assets
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    run = provide_shipped_supernet(RunStore(), assets_dir=assets)
    deployment = Deployment(run, data_root=images_root, bench=bench)
    records = sorted(deployment.records(), key=lambda r: r["flops"])
    test = _test_images(images_root, "test", SHIP_EVAL_IMAGES)
    x = normalise(test.images)
    for record in (records[0], records[len(records) // 2], records[-1]):
        assert record["test_images"] == len(test) == SHIP_EVAL_IMAGES
        paths = deployment.export(record["mask"])
        onnx_acc = 100.0 * float(np.mean(onnx_logits(paths["onnx"], x.numpy()).argmax(1) == test.labels.numpy()))
        net, meta = load_subnetwork(paths["onnx"].parent)
        with torch.no_grad():
            torch_acc = 100.0 * float((net.eval()(x).argmax(1) == test.labels).float().mean())
        assert meta["mask"] == record["mask"]
        assert abs(onnx_acc - record["test_acc"]) <= 0.5, (record["mask"], onnx_acc, record["test_acc"])
        assert abs(torch_acc - record["test_acc"]) <= 0.5, (record["mask"], torch_acc, record["test_acc"])
