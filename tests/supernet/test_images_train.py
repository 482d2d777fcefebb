"""Images (loading, cache, errors, held-out split, batching) and super-network training
(checkpoint, exact resume, refusal of foreign checkpoints, kill -9, torchrun) on the real
CIFAR-10 JPEGs, with tiny networks."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from nagui.nets.supernet import BlockMask, SuperNetSpec
from nagui.supernet.checkpoint import SupernetCheckpointError, load_supernet, read_checkpoint_meta
from nagui.supernet.config import PRESETS, SupernetTrainConfig
from nagui.supernet.evaluation import recalibrated_accuracy
from nagui.supernet.images import (ImageDataError, augment, batches, default_image_root, first_per_class,
                                   load_image_folder, normalise, train_heldout_split)
from nagui.supernet.precision import cpu_has_amx
from nagui.supernet.sandwich import preset, sandwich_masks, training_phase
from nagui.supernet.trainer import CALIBRATION_IMAGES, train_supernet
from nagui.supernet.training_data import load_train_heldout

REPO = Path(__file__).resolve().parents[2]
CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"
SPEC = SuperNetSpec(CELL, (1, 1, 1), 4)
TINY = SupernetTrainConfig(epochs=2, batch_size=32, lr=0.05, train_per_class=20, heldout=20, seed=3)
TINY_ARGS = ["--super-cell", CELL, "--channels", "4", "--slots", "1,1,1", "--train-per-class", "20",
             "--heldout", "20", "--batch-size", "32", "--seed", "3", "--quiet"]


@pytest.fixture(scope="module")
def cifar_root():
    root = default_image_root()
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        pytest.skip(f"CIFAR-10 JPEGs not found (looked in {root}); set NAGUI_DATA_DIR to a data dir holding "
                    "cifar10-jpeg/train and cifar10-jpeg/test")
    return root


@pytest.fixture(scope="module")
def data_home(tmp_path_factory):
    """A private user data dir, so the image cache of the tests stays out of the real one; one
    torch thread per training (tiny networks: more threads only cost, and a busy machine
    makes spinning OpenMP threads very slow)."""
    home = tmp_path_factory.mktemp("xdg-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(home))
        mp.setenv("OMP_NUM_THREADS", "1")
        yield home


def _env(data_home: Path) -> dict:
    return {**os.environ, "XDG_DATA_HOME": str(data_home), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


def _small_copy(cifar_root: Path, dest: Path, per_class: int = 2, classes=("cat", "dog")) -> Path:
    for split in ("train", "test"):
        for c in classes:
            (dest / split / c).mkdir(parents=True)
            for f in sorted((cifar_root / split / c).iterdir())[:per_class]:
                shutil.copy(f, dest / split / c / f.name)
    return dest


def _digests(images: torch.Tensor) -> list[str]:
    return [hashlib.sha1(x.numpy().tobytes()).hexdigest() for x in images]


# -------------------------------------------------------------------------------- images
def test_loads_shapes_labels_and_classes(cifar_root, data_home):
    s = load_image_folder(cifar_root, "test", limit_per_class=5, seed=1)
    assert s.images.shape == (50, 3, 32, 32) and s.images.dtype == torch.uint8
    assert s.labels.dtype == torch.int64 and s.per_class_counts() == [5] * 10
    assert s.classes == sorted(s.classes) and s.classes[0] == "airplane" and len(s.classes) == 10
    assert s.images.float().std() > 20                      # real pictures, not a constant


def test_cache_hit_returns_identical_arrays(cifar_root, data_home):
    first = load_image_folder(cifar_root, "test", limit_per_class=4, seed=2)
    cached = list((data_home / "nagui" / "image-cache").glob("*.npz"))
    assert cached
    again = load_image_folder(cifar_root, "test", limit_per_class=4, seed=2)
    fresh = load_image_folder(cifar_root, "test", limit_per_class=4, seed=2, cache=False)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert torch.equal(first.images, fresh.images)
    other = load_image_folder(cifar_root, "test", limit_per_class=4, seed=3)
    assert not torch.equal(first.images, other.images)      # the seed picks other files, another cache entry


def test_corrupt_jpeg_is_named(cifar_root, data_home, tmp_path):
    root = _small_copy(cifar_root, tmp_path / "imgs")
    bad = sorted((root / "train" / "dog").iterdir())[1]
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg " * 10)
    with pytest.raises(ImageDataError, match=bad.name) as err:
        load_image_folder(root, "train")
    assert str(bad) in str(err.value)


def test_missing_folder_and_class_mismatch(cifar_root, data_home, tmp_path):
    with pytest.raises(ImageDataError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere", "train")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(ImageDataError, match="no class subfolders"):
        load_image_folder(tmp_path / "empty", "train")
    root = _small_copy(cifar_root, tmp_path / "imgs")
    (root / "test" / "dog").rename(root / "test" / "horse")
    with pytest.raises(ImageDataError, match="differ") as err:
        load_image_folder(root, "test")
    assert "horse" in str(err.value) and "dog" in str(err.value)


def test_differing_sizes_refused_unless_resized(cifar_root, data_home, tmp_path):
    from PIL import Image

    root = _small_copy(cifar_root, tmp_path / "imgs")
    odd = sorted((root / "train" / "cat").iterdir())[1]
    Image.open(odd).resize((20, 24)).save(odd.with_suffix(".png"))
    odd.unlink()
    with pytest.raises(ImageDataError, match=odd.with_suffix(".png").name):
        load_image_folder(root, "train")
    assert load_image_folder(root, "train", size=32).images.shape == (4, 3, 32, 32)


def test_heldout_split_is_disjoint_stratified_and_seeded(cifar_root, data_home):
    images = load_image_folder(cifar_root, "train", limit_per_class=30, seed=0)
    train, held = train_heldout_split(images, 53, seed=7)
    assert len(train) + len(held) == len(images) == 300
    assert held.per_class_counts() == [6, 6, 6] + [5] * 7        # 53 spread evenly, remainder to the first classes
    assert set(_digests(train.images)).isdisjoint(_digests(held.images))
    assert sorted(_digests(train.images) + _digests(held.images)) == sorted(_digests(images.images))
    again = train_heldout_split(images, 53, seed=7)[1]
    assert torch.equal(again.images, held.images)
    assert not torch.equal(train_heldout_split(images, 53, seed=8)[1].images, held.images)
    with pytest.raises(ImageDataError, match="heldout"):
        train_heldout_split(images, 300, seed=0)


def test_batches_shard_disjointly_and_augment(cifar_root, data_home):
    images = load_image_folder(cifar_root, "test", limit_per_class=5, seed=0)

    def seen(rank):
        g = torch.Generator().manual_seed(11)
        return [d for x, _ in batches(images, 8, True, g, False, rank, 2) for d in _digests(x)]

    a, b = seen(0), seen(1)
    assert len(a) == len(b) == 25 and set(a).isdisjoint(b) and set(a) | set(b) == set(_digests(images.images))
    x = images.images[:16]
    out = augment(x, torch.Generator().manual_seed(0))
    assert out.shape == (16, 3, 32, 32) and out.dtype == torch.float32
    assert torch.equal(out, augment(x, torch.Generator().manual_seed(0)))
    assert not torch.equal(out, normalise(x))
    assert normalise(x).mean().abs() < 1.0


# ------------------------------------------------------------------------------ training
def test_config_is_validated_and_presets_are_sized():
    for bad, field in (({"epochs": 0}, "epochs"), ({"train_per_class": 0}, "train_per_class"),
                       ({"label_smoothing": 1.0}, "label_smoothing"), ({"grad_clip": -1}, "grad_clip"),
                       ({"distill": "yes"}, "distill")):
        with pytest.raises(ValueError, match=field):
            SupernetTrainConfig(**bad)
    with pytest.raises(ValueError, match="unknown training settings"):
        SupernetTrainConfig.from_dict({**TINY.as_dict(), "warmup": 1})
    assert SupernetTrainConfig.from_dict(TINY.as_dict()) == TINY
    spec, config = preset("quick", CELL, epochs=3, lr=None)
    assert (spec.channels, spec.slots, config.epochs, config.lr) == (16, (1, 1, 1), 3, PRESETS["quick"]["config"].lr)
    assert config.train_per_class is None and config.largest_only > 0      # every image, progressive shrinking
    spec, config = preset("full", CELL)
    assert (spec.channels, spec.slots, config.batch_size, config.train_per_class) == (16, (5, 5, 5), 256, None)


def test_sandwich_masks_are_reproducible():
    config = SupernetTrainConfig(random_masks=3)
    masks = sandwich_masks(SPEC, config, 4, 17)
    assert masks == sandwich_masks(SPEC, config, 4, 17) and len(masks) == 5
    assert masks[:2] == [BlockMask.largest(SPEC), BlockMask.smallest(SPEC)]
    assert masks[2:] != sandwich_masks(SPEC, config, 4, 18)[2:]


def test_progressive_shrinking_phases_largest_then_full_depth_then_sandwich():
    config = SupernetTrainConfig(epochs=10, random_masks=2, largest_only=0.4, full_depth_only=0.3)
    assert config.recipe == "progressive"
    steps = 10
    phases = [training_phase(config, e, s, steps) for e in range(10) for s in range(steps)]
    assert phases.count("largest") == 40 and phases.count("full_depth") == 30 and phases.count("sandwich") == 30
    assert phases == sorted(phases, key=["largest", "full_depth", "sandwich"].index)   # in that order
    assert sandwich_masks(SPEC, config, 0, 0, steps) == [BlockMask.largest(SPEC)]
    full = sandwich_masks(SPEC, config, 5, 0, steps)
    assert len(full) == 4 and full[0] == BlockMask.largest(SPEC)
    assert all(all(all(slot) for slot in m.slots) for m in full)          # every slot on
    assert len({m.edges for m in full}) > 1                               # edges switch
    late = sandwich_masks(SPEC, config, 9, 9, steps)
    assert late[:2] == [BlockMask.largest(SPEC), BlockMask.smallest(SPEC)]
    assert sandwich_masks(SPEC, SupernetTrainConfig(), 0, 0, steps)[1] == BlockMask.smallest(SPEC)  # plain sandwich


def test_recipes_are_named_and_bad_fractions_refused():
    assert SupernetTrainConfig().recipe == "sandwich"
    assert SupernetTrainConfig(distill=False).recipe == "sandwich-no-distill"
    assert SupernetTrainConfig(largest_only=0.1).recipe == "custom"
    _, config = preset("quick", CELL, recipe="progressive", epochs=3, train_per_class="all")
    assert config.recipe == "progressive" and config.train_per_class is None and config.epochs == 3
    for bad in ({"largest_only": 1.0}, {"largest_only": -0.1}, {"largest_only": 0.6, "full_depth_only": 0.5},
                {"full_depth_only": True}):
        with pytest.raises(ValueError, match="fraction|leave some steps"):
            SupernetTrainConfig(**bad)
    with pytest.raises(ValueError, match="unknown recipe 'ofa'"):
        preset("quick", CELL, recipe="ofa")


def _weights(run_dir: Path) -> dict:
    return load_supernet(run_dir)[0].state_dict()


@pytest.fixture(scope="module")
def two_epoch_run(tmp_path_factory, cifar_root, data_home):
    run = tmp_path_factory.mktemp("run2")
    events = []
    summary = train_supernet(run, SPEC, TINY, data_root=cifar_root,
                             progress=lambda text, fraction=None: events.append((text, fraction)))
    return run, summary, events


def test_training_writes_checkpoint_and_reports(two_epoch_run):
    run, summary, events = two_epoch_run
    assert summary["epochs_done"] == 2 and summary["complete"] and summary["resumed_from"] is None
    meta = read_checkpoint_meta(run)
    assert meta["spec"] == SPEC.as_dict() and meta["config"] == TINY.as_dict() and meta["train_s"] > 0
    # the precision it trained in is recorded: bf16 autocast on a CPU with AMX, else fp32
    assert meta["precision"] == summary["precision"] == ("bf16 autocast (cpu, AMX)" if cpu_has_amx() else "fp32")
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    assert {"heldout_acc_largest", "heldout_acc_smallest", "images_per_s"} <= set(meta["history"][-1])
    assert sorted(p.name for p in (run / "checkpoint").iterdir()) == [
        "supernet.json", "train-state-e0002.safetensors", "weights-e0002.safetensors"]
    assert [text.split(":")[0] for text, _ in events if " done: " in text] == ["epoch 1/2 done", "epoch 2/2 done"]
    assert all("loss" in text and "img/s" in text and "s left" in text for text, _ in events)
    fractions = [f for _, f in events]
    assert all(0 < f <= 1 for f in fractions) and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_loaded_supernet_reproduces_recorded_accuracy(two_epoch_run, cifar_root):
    run, summary, _ = two_epoch_run
    model, meta = load_supernet(run)
    train, heldout = load_train_heldout(TINY, cifar_root)
    calibration = first_per_class(train, CALIBRATION_IMAGES // len(train.classes))
    for name, mask in (("largest", BlockMask.largest(SPEC)), ("smallest", BlockMask.smallest(SPEC))):
        acc = recalibrated_accuracy(model, mask, calibration, heldout, torch.device("cpu"))
        assert round(acc, 2) == meta["history"][-1][f"heldout_acc_{name}"]
    x = torch.randn(4, 3, 32, 32)
    again = load_supernet(run)[0]
    with torch.no_grad():
        assert torch.equal(model(x, BlockMask.largest(SPEC)), again(x, BlockMask.largest(SPEC)))


def test_already_complete_returns_at_once(two_epoch_run, cifar_root):
    run, summary, _ = two_epoch_run
    again = train_supernet(run, SPEC, TINY, data_root=cifar_root)
    assert again["epochs_trained_now"] == 0 and again["epochs_done"] == 2 and again["resumed_from"] == 2


def test_a_checkpoint_from_before_the_recipe_settings_still_resumes(two_epoch_run, tmp_path, cifar_root):
    """Checkpoints written before largest_only/full_depth_only existed were trained with
    their defaults (the plain sandwich) and still count as the same config."""
    run = tmp_path / "old"
    shutil.copytree(two_epoch_run[0], run)
    path = run / "checkpoint" / "supernet.json"
    meta = json.loads(path.read_text())
    for key in ("largest_only", "full_depth_only"):
        del meta["config"][key]
    path.write_text(json.dumps(meta))
    again = train_supernet(run, SPEC, TINY, data_root=cifar_root)
    assert again["resumed_from"] == 2 and again["epochs_trained_now"] == 0
    with pytest.raises(SupernetCheckpointError, match=r"config\.largest_only: checkpoint has 0\.0, asked for 0\.4"):
        train_supernet(run, SPEC, SupernetTrainConfig(**{**TINY.as_dict(), "largest_only": 0.4}), data_root=cifar_root)


def test_resume_is_exact(two_epoch_run, tmp_path, cifar_root):
    run, _, _ = two_epoch_run
    part = tmp_path / "part"
    first = train_supernet(part, SPEC, TINY, data_root=cifar_root, stop_after_epochs=1)
    assert first["epochs_done"] == 1 and not first["complete"]
    events = []
    second = train_supernet(part, SPEC, TINY, data_root=cifar_root,
                            progress=lambda text, fraction=None: events.append((text, fraction)))
    assert second["resumed_from"] == 1 and second["epochs_done"] == 2
    assert events[0] == ("resuming after epoch 1/2 (checkpoint found)", 0.5)
    resumed, straight = _weights(part), _weights(run)
    assert resumed.keys() == straight.keys()
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    assert read_checkpoint_meta(part)["history"][-1]["loss"] == read_checkpoint_meta(run)["history"][-1]["loss"]


def test_foreign_checkpoint_is_refused(two_epoch_run, cifar_root):
    run, _, _ = two_epoch_run
    before = (run / "checkpoint" / "supernet.json").read_bytes()
    with pytest.raises(SupernetCheckpointError, match=r"spec\.channels: checkpoint has 4, asked for 8"):
        train_supernet(run, SuperNetSpec(CELL, (1, 1, 1), 8), TINY, data_root=cifar_root)
    with pytest.raises(SupernetCheckpointError, match=r"config\.lr"):
        train_supernet(run, SPEC, SupernetTrainConfig(**{**TINY.as_dict(), "lr": 0.2}), data_root=cifar_root)
    with pytest.raises(SupernetCheckpointError, match="never overwritten"):
        train_supernet(run, SPEC, TINY, data_root=cifar_root, resume=False)
    assert (run / "checkpoint" / "supernet.json").read_bytes() == before


def test_damaged_checkpoints_are_refused(two_epoch_run, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(two_epoch_run[0], run)
    ckpt = run / "checkpoint"
    weights = ckpt / "weights-e0002.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF                                           # one flipped byte inside a tensor
    weights.write_bytes(bytes(data))
    with pytest.raises(SupernetCheckpointError, match="sha256"):
        load_supernet(run)
    weights.write_bytes(b"garbage")
    meta = json.loads((ckpt / "supernet.json").read_text())
    meta["sha256"][weights.name] = hashlib.sha256(b"garbage").hexdigest()
    (ckpt / "supernet.json").write_text(json.dumps(meta))
    with pytest.raises(SupernetCheckpointError, match="not a readable safetensors"):
        load_supernet(run)
    shutil.copy(two_epoch_run[0] / "checkpoint" / weights.name, weights)
    meta = json.loads((two_epoch_run[0] / "checkpoint" / "supernet.json").read_text())
    meta["spec"]["slots"] = [2, 1, 1]
    (ckpt / "supernet.json").write_text(json.dumps(meta))
    with pytest.raises(SupernetCheckpointError, match=r"problem\(s\), first: missing tensor stages\.0\.1\."):
        load_supernet(run)
    (ckpt / "supernet.json").write_text("{not json")
    with pytest.raises(SupernetCheckpointError, match="not valid JSON"):
        load_supernet(run)
    (ckpt / "supernet.json").unlink()
    with pytest.raises(SupernetCheckpointError, match="train the super-network first"):
        load_supernet(run)


# ----------------------------------------------------------------------- real processes
def test_kill_9_keeps_a_loadable_checkpoint_and_resumes(cifar_root, data_home, tmp_path):
    """kill -9 at three random moments (seeded): after each, the checkpoint on disk loads
    (never half written) and the next run resumes from it; the last run completes."""
    import random

    rng = random.Random(9)
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "nagui.cli.supernet_train", "--run", str(run), "--data-root", str(cifar_root),
           "--epochs", "8", *TINY_ARGS]
    meta_path = run / "checkpoint" / "supernet.json"
    saved = 0
    for kill in range(3):
        proc = subprocess.Popen(cmd, cwd=REPO, env=_env(data_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and (
                not meta_path.exists() or json.loads(meta_path.read_text())["epochs_done"] <= saved):
            time.sleep(0.02)                                     # until this run has saved an epoch of its own
        assert proc.poll() is None, f"training ended before it could be killed: {proc.communicate()[1].decode()}"
        time.sleep(rng.uniform(0.0, 0.6))                        # anywhere in the next epoch or its checkpoint write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, meta = load_supernet(run)                             # never half-written
        assert saved < meta["epochs_done"] < 8, (kill, saved, meta["epochs_done"])
        saved = meta["epochs_done"]
    done = subprocess.run(cmd, cwd=REPO, env=_env(data_home), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["resumed_from"] == saved and summary["epochs_done"] == 8 and summary["complete"]
    assert [h["epoch"] for h in summary["history"]] == list(range(1, 9))
    assert len(list((run / "checkpoint").glob("*.safetensors"))) == 2


def test_torchrun_two_cpu_processes(cifar_root, data_home, tmp_path):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
           "nagui.cli.supernet_train", "--run-dir", str(run), "--data-root", str(cifar_root), "--epochs", "1", *TINY_ARGS]
    done = subprocess.run(cmd, cwd=REPO, env=_env(data_home), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)                            # only rank 0 prints
    assert summary["epochs_done"] == 1 and summary["complete"]
    model, meta = load_supernet(run)
    assert meta["world_size"] == 2 and meta["data"]["train_images"] == 200
    assert meta["steps_per_epoch"] == 200 // 32
    with torch.no_grad():
        assert torch.isfinite(model(torch.randn(2, 3, 32, 32), BlockMask.largest(SPEC))).all()
