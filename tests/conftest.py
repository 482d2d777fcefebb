"""Shared fixtures: the real NB201 tables, skipped only where the data is truly absent."""
from __future__ import annotations

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
