"""The built NB201 table kept on disk between calls: the same table, checked sources, safe fallbacks."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from nagui.data import Benchmark, DataError
from nagui.data import benchmark as benchmark_module
from nagui.data import table_cache
from nagui.data.manifest import NB201_FILES


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(table_cache.ENV_VAR, raising=False)
    return tmp_path / "cache" / "nagui" / "tables"


def _no_rebuild(root):
    raise AssertionError("the table was rebuilt although a valid cache was on disk")


def test_a_second_load_reads_the_cache_and_gives_the_same_table(data_dir, fresh_cache, monkeypatch, bench):
    built = Benchmark.load(data_dir)
    files = list(fresh_cache.glob("nb201-*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(benchmark_module, "build_table", _no_rebuild)
    cached = Benchmark.load(data_dir)
    pd.testing.assert_frame_equal(cached.table, built.table, check_exact=True)
    pd.testing.assert_frame_equal(cached.table, bench.table, check_exact=True)
    assert cached.latency_artefacts == built.latency_artefacts
    assert cached.index_of(cached.table.at[7690, "arch"]) == 7690


def test_an_unreadable_cache_is_rebuilt_not_an_error(data_dir, fresh_cache, bench):
    Benchmark.load(data_dir)
    (path,) = fresh_cache.glob("nb201-*.npz")
    path.write_bytes(b"PK\x03\x04 half a zip file")
    reloaded = Benchmark.load(data_dir)
    pd.testing.assert_frame_equal(reloaded.table, bench.table, check_exact=True)
    assert table_cache.load(path.stem.removeprefix("nb201-")) is not None   # rewritten whole


def test_a_corrupt_source_is_refused_even_with_a_warm_cache(data_dir, fresh_cache, tmp_path):
    root = tmp_path / "d"
    for s in NB201_FILES:
        target = root / "nb201" / s.file
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(data_dir / "nb201" / s.file, target)
    Benchmark.load(root)
    assert list(fresh_cache.glob("nb201-*.npz"))
    csv = root / "nb201/NAS-Landscapes/cifar10_avg.csv"
    csv.unlink()
    csv.write_bytes((data_dir / "nb201/NAS-Landscapes/cifar10_avg.csv").read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DataError, match=r"cifar10_avg.csv is corrupt.*nagui data fetch"):
        Benchmark.load(root)


def test_the_key_follows_the_sources_and_the_code(tmp_path):
    code = tmp_path / "builder.py"
    code.write_text("A = 1\n")
    key = table_cache.table_key(["aa", "bb"], [code])
    assert table_cache.table_key(["aa", "bb"], [code]) == key
    assert table_cache.table_key(["aa", "bc"], [code]) != key
    code.write_text("A = 2\n")
    assert table_cache.table_key(["aa", "bb"], [code]) != key


def test_the_cache_can_be_switched_off_and_an_unwritable_one_is_only_logged(data_dir, fresh_cache, monkeypatch,
                                                                           caplog):
    monkeypatch.setenv(table_cache.ENV_VAR, "off")
    Benchmark.load(data_dir)
    assert not fresh_cache.exists()
    monkeypatch.delenv(table_cache.ENV_VAR)
    fresh_cache.parent.mkdir(parents=True)
    fresh_cache.write_text("a file where the cache folder should be")
    with caplog.at_level("WARNING"):
        assert len(Benchmark.load(data_dir)) == 15_625
    assert "could not write the table cache" in caplog.text
