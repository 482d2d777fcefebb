"""Filtering the benchmark table: the logic behind the Benchmark page's sidebar.

:class:`TableFilter` holds the filter values (all optional; the default filter keeps
every cell), :func:`apply_filter` applies them to :attr:`Benchmark.table`.
:func:`column_groups` and :data:`DEFAULT_COLUMNS` say which columns a table view
offers and shows by default. Nothing here knows about Streamlit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from ..errors import NaguiError
from ..objectives import computed_kinds
from ..space import OPS
from .benchmark import COLUMN_DOCS, DATASETS, DEVICES, column

ACCURACY_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMN_DOCS if c.split("@")[0] in
                                          ("test_acc", "valid_acc", "test_acc_12ep", "valid_acc_12ep"))
DEFAULT_COLUMNS: tuple[str, ...] = (
    "arch",
    *(column("test_acc", ds) for ds in DATASETS),
    "flops", "params",
    column("latency", "raspi4"), column("latency", "pixel3"), column("latency", "titanx_1"),
)
# Help text for every table column (the metrics' from COLUMN_DOCS, plus the structural ones).
COLUMN_HELP: dict[str, str] = {
    "index": "NB201 index of the cell (0..15624)",
    "arch": "NB201 cell string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|: node j's inputs op~i from nodes i < j",
    **COLUMN_DOCS,
    "canonical_id": "smallest NB201 index of the cell's isomorphism class (NB201's rule, 6,466 classes)",
    "output_connected": "False when no path carries the input to the output (the cell always outputs zero)",
}


def column_groups() -> dict[str, tuple[str, ...]]:
    """Table columns by group, in display order (``arch`` is always shown, so not listed)."""
    return {
        "Accuracy, 200 epochs": tuple(c for c in ACCURACY_COLUMNS if "_12ep" not in c),
        "Accuracy, 12 epochs": tuple(c for c in ACCURACY_COLUMNS if "_12ep" in c),
        "Cost": (*(k.name for k in computed_kinds()), column("train_s", "cifar10-valid")),
        "Latency": tuple(column("latency", d) for d in DEVICES),
        "Structure": ("canonical_id", "output_connected"),
    }


class FilterError(NaguiError, ValueError):
    """Filter values that cannot select cells (unknown op, empty or non-finite range)."""


@dataclass(frozen=True)
class TableFilter:
    """Which cells to keep. Every condition is optional and they all must hold (AND).

    - ``min_acc``: keep cells whose ``acc_column`` is >= this (NaN fails).
    - ``flops_range`` / ``params_range``: inclusive (low, high) bounds.
    - ``unique_only``: one cell per isomorphism class (``canonical_id == index``).
    - ``connected_only``: drop cells whose output is disconnected.
    - ``contains_ops``: the cell uses every one of these ops on some edge.
    - ``search``: case-insensitive substrings of the arch string; whitespace-separated
      terms must all occur.
    """

    acc_column: str = column("test_acc", "cifar10")
    min_acc: float | None = None
    flops_range: tuple[float, float] | None = None
    params_range: tuple[float, float] | None = None
    unique_only: bool = False
    connected_only: bool = False
    contains_ops: tuple[str, ...] = ()
    search: str = ""

    def __post_init__(self) -> None:
        unknown = [op for op in self.contains_ops if op not in OPS]
        if unknown:
            raise FilterError(f"unknown op(s) {unknown} in contains_ops; allowed: {', '.join(OPS)}")
        for name in ("flops_range", "params_range"):
            rng = getattr(self, name)
            if rng is not None and (len(rng) != 2 or not all(math.isfinite(v) for v in rng) or rng[0] > rng[1]):
                raise FilterError(f"{name} must be (low, high), two finite numbers with low <= high, got {rng!r}")


def apply_filter(table: pd.DataFrame, flt: TableFilter) -> pd.DataFrame:
    """The rows of ``table`` that pass ``flt`` (same columns, same order, same index)."""
    keep = pd.Series(True, index=table.index)
    if flt.min_acc is not None:
        if flt.acc_column not in table.columns:
            raise KeyError(f"unknown accuracy column {flt.acc_column!r}; known: {', '.join(ACCURACY_COLUMNS)}")
        keep &= table[flt.acc_column] >= flt.min_acc  # NaN compares False
    if flt.flops_range is not None:
        keep &= table["flops"].between(*flt.flops_range)
    if flt.params_range is not None:
        keep &= table["params"].between(*flt.params_range)
    if flt.unique_only:
        keep &= table["canonical_id"].to_numpy() == table.index.to_numpy()
    if flt.connected_only:
        keep &= table["output_connected"]
    archs = table["arch"]
    for op in flt.contains_ops:
        keep &= archs.str.contains(f"|{op}~", regex=False)
    terms = flt.search.lower().split()
    if terms:
        lowered = archs.str.lower()
        for term in terms:
            keep &= lowered.str.contains(term, regex=False)
    return table[keep.to_numpy()]


def slider_bounds(values: pd.Series | Sequence[float], decimals: int = 0) -> tuple[float, float]:
    """(low, high) that enclose every finite value, rounded outwards to ``decimals``,
    so a range slider at its ends keeps every cell despite float rounding."""
    s = pd.Series(values, dtype="float64").dropna()
    scale = 10 ** decimals
    return math.floor(s.min() * scale) / scale, math.ceil(s.max() * scale) / scale


def iso_class(table: pd.DataFrame, index: int) -> pd.DataFrame:
    """Every cell of ``index``'s isomorphism class (NB201's rule: same ``canonical_id``),
    the canonical cell (smallest index) first. The cells differ only in how their ops are
    drawn; each has its own table row (the accuracies are separate training runs)."""
    if index not in table.index:
        raise KeyError(f"NB201 index {index} not in the table (0..{len(table) - 1})")
    cid = table.at[index, "canonical_id"]
    return table[table["canonical_id"].to_numpy() == cid].sort_index()


PAGE_ROWS = 500   # rows the Search space table sends at once: all 15,625 made a page switch ~2.5 s at worst


@dataclass(frozen=True)
class TablePage:
    """One page of a sorted table view: ``rows`` (``page_rows`` at most) and where they sit."""
    rows: pd.DataFrame
    page: int          # 1-based, clamped to 1..pages
    pages: int
    first: int         # 1-based position of the first row in the sorted view (0 when empty)
    total: int

    def caption(self) -> str:
        if not self.total:
            return "no rows"
        return f"rows {self.first:,}–{self.first + len(self.rows) - 1:,} of {self.total:,}"


def page_count(rows: int, page_rows: int = PAGE_ROWS) -> int:
    """Pages of ``page_rows`` that ``rows`` fill (1 when there is none: an empty page)."""
    if page_rows < 1:
        raise FilterError(f"page_rows must be >= 1, got {page_rows}")
    return max(1, math.ceil(rows / page_rows))


def sorted_page(table: pd.DataFrame, sort_by: str = "index", descending: bool = False, page: int = 1,
                page_rows: int = PAGE_ROWS) -> TablePage:
    """Rows ``page`` of ``table`` sorted by ``sort_by`` (a column, or ``index`` for the NB201
    index; NaN last either way, ties by index), ``page_rows`` per page. A page past the
    end gives the last one, so a filter that shrinks the table never shows an empty page."""
    pages = page_count(len(table), page_rows)
    if sort_by == "index":
        ordered = table.sort_index(ascending=not descending)
    elif sort_by in table.columns:
        ordered = table.sort_values([sort_by], ascending=not descending, na_position="last", kind="stable")
    else:
        raise FilterError(f"cannot sort by {sort_by!r}: not a column of the table")
    page = min(max(1, int(page)), pages)
    start = (page - 1) * page_rows
    rows = ordered.iloc[start:start + page_rows]
    return TablePage(rows, page, pages, start + 1 if len(rows) else 0, len(ordered))
