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
