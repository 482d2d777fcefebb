"""Small real models for the diffusion tests: a briefly trained denoiser and a briefly
trained noise-aware predictor on real table labels (quality is not under test here;
the benchmark measures it)."""
from __future__ import annotations

import numpy as np
import pytest


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
