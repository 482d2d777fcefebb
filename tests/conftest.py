"""Shared fixtures: the real NB201 tables, skipped only where the data is truly absent."""
from __future__ import annotations

import numpy as np
import pytest

from nagui.data.sources import resolve_data_dir


def _data_dir_or_skip():
    root = resolve_data_dir()
    if not (root / "nb201").is_dir():
        pytest.skip(f"NB201 tables not found (looked in {root}); set NAGUI_DATA_DIR or run `nagui data fetch`")
    return root


@pytest.fixture(scope="session")
def data_dir():
    return _data_dir_or_skip()


@pytest.fixture(scope="session")
def bench(data_dir):
    from nagui.data import Benchmark

    return Benchmark.load(data_dir)


# Small real models shared by the diffusion and supernet tests: a briefly trained denoiser
# and a briefly trained noise-aware predictor on real table labels (quality is not under
# test; the benchmarks measure it).
@pytest.fixture(scope="session")
def tiny_model():
    from nagui.diffusion import DiffusionModel, DiffusionTrainConfig

    return DiffusionModel.train(config=DiffusionTrainConfig(steps=150, width=32, layers=2))


@pytest.fixture(scope="session")
def tables(bench):
    from nagui.diffusion.tables import CellTables

    return CellTables(bench)


@pytest.fixture(scope="session")
def tiny_predictor(bench):
    from nagui.predictor.ensemble import Predictor, TrainConfig

    idx = np.random.default_rng(0).choice(len(bench), 300, replace=False)
    archs = [bench.arch(int(i)) for i in idx]
    values = bench.table["test_acc@cifar10"].to_numpy()[idx]
    return Predictor.fit(archs, {"test_acc@cifar10": values}, train_config=TrainConfig(members=2, epochs=10),
                         noise_aware=True, hidden=32, layers=2)


# A user data dir holding one tiny, really trained and profiled super-network run (the app
# pages and the browser tests read it through the run store). Training quality is not
# under test; the numbers are real measurements of this tiny network.
TINY_SUPER_CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"
TINY_TRAIN = {"epochs": 1, "batch_size": 32, "train_per_class": 20, "heldout": 100, "random_masks": 1}
TINY_PROFILE = {"calibration_images": 64, "latency_runs": 5, "latency_warmup": 1}


@pytest.fixture(scope="session")
def images_root(data_dir):
    root = data_dir / "cifar10-jpeg"
    if not (root / "train").is_dir():
        pytest.skip(f"CIFAR-10 images not found at {root}; run `nagui data fetch` or set NAGUI_DATA_DIR")
    return root


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory, images_root, bench):
    """``XDG_DATA_HOME`` for tests: a run store with one profiled tiny super-network run."""
    import os

    from nagui.runs import RunStore
    from nagui.workflows.supernet_runs import create_run, profile_run, train_run

    home = tmp_path_factory.mktemp("xdg-data")
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(home)
    try:
        store = RunStore()
        run = create_run(store, TINY_SUPER_CELL, slots=(2, 2, 2), channels=4, train_overrides=TINY_TRAIN,
                         profile_settings=TINY_PROFILE, name="tiny test run")
        run = train_run(store, run, device="cpu", data_root=images_root)
        profile_run(store, run, limit=24, bench=bench, data_root=images_root)
    finally:
        if old is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = old
    return home


# A tiny super-network (45 distinct masks) trained on CPU and shipped by `nagui supernet ship`
# into a temporary assets folder (never the real assets/): a complete profile (every distinct
# mask) with test-split accuracy on a few images.
SHIP_SUPER_CELL = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|"
SHIP_EVAL_IMAGES = 200


@pytest.fixture(scope="session")
def shipped_assets(tmp_path_factory, images_root):
    """(assets dir, package folder, the ship command's stdout) of the shipped tiny super-network."""
    import subprocess
    import sys

    from nagui.nets.supernet import SuperNetSpec
    from nagui.space import Arch
    from nagui.supernet.run_folder import write_build
    from nagui.supernet.train import SupernetTrainConfig, train_supernet

    run = tmp_path_factory.mktemp("ship-run")
    spec = SuperNetSpec(Arch.parse(SHIP_SUPER_CELL), (1, 1, 1), channels=4, num_classes=10)
    train_supernet(run, spec, SupernetTrainConfig(**TINY_TRAIN), data_root=images_root)
    write_build(run, spec, "quick", {"strategy": "test"})
    assets = tmp_path_factory.mktemp("assets") / "supernet"
    r = subprocess.run([sys.executable, "-m", "nagui", "supernet", "ship", "--run", str(run), "--name", "tiny-test",
                        "--assets", str(assets), "--eval-images", str(SHIP_EVAL_IMAGES), "--calibration-images", "64",
                        "--images", str(images_root), "--device", "cpu"], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    return assets, assets / "tiny-test", r.stdout
