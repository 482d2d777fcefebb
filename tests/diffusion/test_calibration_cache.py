"""Guidance calibration over all cells, read from disk when the same predictor already did it."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from nagui.diffusion.guidance import Guidance
from nagui.diffusion.objectives import PredictorObjective, TableObjective
from nagui.predictor import output_cache


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "nagui" / "predictions"


def _terms(tiny_predictor, tables):
    return [PredictorObjective(tiny_predictor, "test_acc@cifar10"),
            TableObjective("flops", tables.column("flops"), 6, 5)]


def test_values_on_cells_equal_the_objectives_values(tiny_predictor, tables, fresh_cache):
    cells = tables.space.all_indices
    for term in _terms(tiny_predictor, tables):
        direct = torch.cat([term.value(F.one_hot(cells[s:s + 2048], 5).float()) for s in range(0, len(cells), 2048)])
        for _ in range(2):                                     # computed, then read back from disk
            assert torch.allclose(term.values_on_cells(cells, 5), direct, atol=1e-6)


def test_calibration_is_the_same_warm_or_cold_and_warm_does_not_run_the_members(tiny_predictor, tables,
                                                                               fresh_cache, monkeypatch):
    cold = Guidance(_terms(tiny_predictor, tables)).calibrate(tables.space)
    assert len(list(fresh_cache.glob("*.npy"))) == 1

    def no_forward(*args, **kwargs):
        raise AssertionError("the members ran although their outputs were on disk")

    monkeypatch.setattr(tiny_predictor, "_member_outputs", no_forward)
    warm = Guidance(_terms(tiny_predictor, tables)).calibrate(tables.space)
    assert np.array_equal(warm.front, cold.front)
    assert np.array_equal(warm.ideal, cold.ideal) and np.array_equal(warm.nadir, cold.nadir)


def test_other_weights_or_inputs_never_read_anothers_outputs(tiny_predictor, fresh_cache):
    x = torch.rand(10, 8, 12)
    first = output_cache.cached_outputs(tiny_predictor.members, x, lambda: np.arange(3.0))
    assert np.array_equal(output_cache.cached_outputs(tiny_predictor.members, x, lambda: np.zeros(3)), first)
    other_input = output_cache.cached_outputs(tiny_predictor.members, x + 1, lambda: np.ones(3))
    assert np.array_equal(other_input, np.ones(3))
    changed = [type(m)(m.config) for m in tiny_predictor.members]
    for new, old in zip(changed, tiny_predictor.members):
        new.load_state_dict(old.state_dict())
    with torch.no_grad():
        changed[0].heads[0].bias += 1e-3
    assert np.array_equal(output_cache.cached_outputs(changed, x, lambda: np.full(3, 7.0)), np.full(3, 7.0))


def test_an_unreadable_cache_file_is_recomputed(tiny_predictor, fresh_cache):
    x = torch.rand(4, 8, 12)
    output_cache.cached_outputs(tiny_predictor.members, x, lambda: np.arange(4.0))
    (path,) = fresh_cache.glob("*.npy")
    path.write_bytes(b"\x93NUMPY truncated")
    assert np.array_equal(output_cache.cached_outputs(tiny_predictor.members, x, lambda: np.arange(4.0)),
                          np.arange(4.0))
    assert np.array_equal(np.load(path, allow_pickle=False), np.arange(4.0))   # rewritten


def test_the_cache_keeps_only_the_newest_files(tiny_predictor, fresh_cache):
    for i in range(5):
        output_cache.cached_outputs(tiny_predictor.members, torch.full((2, 3), float(i)), lambda: np.zeros(1))
    output_cache._prune(fresh_cache, keep=2)
    assert len(list(fresh_cache.glob("*.npy"))) == 2


def test_cell_tables_reuse_the_tables_computed_columns(bench, tables):
    """CellTables reorders the table's computed columns instead of recomputing them: the
    same values as computing them for the space's cells."""
    from nagui.diffusion.tables import CellTables
    from nagui.objectives import computed_columns

    standalone = CellTables()                      # no table: computed here
    fresh = computed_columns(tables.space.all_indices.numpy())
    for name, values in fresh.items():
        assert np.allclose(tables.column(name), values, rtol=1e-12), name
        assert np.array_equal(standalone.column(name), values)
    assert np.array_equal(bench.op_indices[tables.table_row], tables.space.all_indices.numpy())
