"""TableFilter / apply_filter semantics on the real NB201 table."""
import pytest

from nagui.data import COLUMN_DOCS
from nagui.data.filters import (ACCURACY_COLUMNS, COLUMN_HELP, DEFAULT_COLUMNS, FilterError, TableFilter, apply_filter,
                                column_groups, slider_bounds, sorted_page)
from nagui.space import OPS, Arch


@pytest.fixture(scope="module")
def table(bench):  # `bench`: tests/conftest.py, skips where the NB201 tables are absent
    return bench.table


def test_default_filter_keeps_everything(table):
    out = apply_filter(table, TableFilter())
    assert len(out) == 15_625
    assert out.index.equals(table.index) and list(out.columns) == list(table.columns)


def test_min_acc(table):
    col = "test_acc@cifar100"
    out = apply_filter(table, TableFilter(acc_column=col, min_acc=70.0))
    assert 0 < len(out) < len(table)
    assert (out[col] >= 70.0).all()
    assert len(out) == int((table[col] >= 70.0).sum())


def test_min_acc_unknown_column(table):
    with pytest.raises(KeyError, match="nope"):
        apply_filter(table, TableFilter(acc_column="nope", min_acc=1.0))


def test_flops_and_params_ranges_inclusive(table):
    lo, hi = float(table["flops"].min()), 50.0
    out = apply_filter(table, TableFilter(flops_range=(lo, hi)))
    assert out["flops"].between(lo, hi).all() and (out["flops"] == lo).any()
    assert len(out) == int((table["flops"] <= hi).sum())
    out = apply_filter(table, TableFilter(params_range=(0.2, 0.5)))
    assert out["params"].between(0.2, 0.5).all()
    assert len(out) == int(table["params"].between(0.2, 0.5).sum())


def test_slider_bounds_enclose_everything(table):
    for col, decimals in (("flops", 0), ("params", 2)):
        lo, hi = slider_bounds(table[col], decimals)
        assert lo <= table[col].min() and hi >= table[col].max()
        assert len(apply_filter(table, TableFilter(**{f"{col}_range": (lo, hi)}))) == len(table)


def test_unique_only(table):
    out = apply_filter(table, TableFilter(unique_only=True))
    assert len(out) == 6_466  # NB201's published number of isomorphism classes
    assert (out["canonical_id"] == out.index).all()


def test_connected_only(table):
    out = apply_filter(table, TableFilter(connected_only=True))
    assert out["output_connected"].all()
    assert len(out) == int(table["output_connected"].sum()) < len(table)


def test_contains_ops_all_of(table):
    out = apply_filter(table, TableFilter(contains_ops=("nor_conv_3x3", "avg_pool_3x3")))
    assert 0 < len(out) < len(table)
    for s in out["arch"].head(200):
        ops = Arch.from_str(s).ops
        assert "nor_conv_3x3" in ops and "avg_pool_3x3" in ops
    # 4^6 cells avoid a given op; the rest contain it
    assert len(apply_filter(table, TableFilter(contains_ops=("none",)))) == 5**6 - 4**6
    with pytest.raises(ValueError, match="conv9x9"):
        TableFilter(contains_ops=("conv9x9",))


def test_search_terms_all_match_case_insensitive(table):
    out = apply_filter(table, TableFilter(search="NOR_CONV_3X3~0|+|skip"))
    assert 0 < len(out) < len(table)
    assert out["arch"].str.contains("nor_conv_3x3~0|+|skip", regex=False).all()
    both = apply_filter(table, TableFilter(search="avg_pool_3x3~2  skip_connect~0"))
    assert both["arch"].str.contains("avg_pool_3x3~2", regex=False).all()
    assert both["arch"].str.contains("skip_connect~0", regex=False).all()
    # a full arch string finds exactly that cell
    s = table.at[1234, "arch"]
    assert list(apply_filter(table, TableFilter(search=s)).index) == [1234]
    assert apply_filter(table, TableFilter(search="no such op")).empty


def test_filters_combine_with_and(table):
    flt = TableFilter(acc_column="test_acc@cifar10", min_acc=90.0, flops_range=(0.0, 100.0), unique_only=True,
                      connected_only=True, contains_ops=("skip_connect",))
    out = apply_filter(table, flt)
    expect = ((table["test_acc@cifar10"] >= 90) & (table["flops"] <= 100) & (table["canonical_id"] == table.index)
              & table["output_connected"] & table["arch"].str.contains("|skip_connect~", regex=False))
    assert list(out.index) == list(table.index[expect])


def test_bad_range_rejected():
    with pytest.raises(ValueError, match="low <= high"):
        TableFilter(flops_range=(10.0, 1.0))


def test_column_groups_cover_the_metrics(table):
    groups = column_groups()
    listed = [c for cols in groups.values() for c in cols]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(table.columns) - {"arch"}
    assert set(DEFAULT_COLUMNS) <= set(listed) | {"arch"}
    assert set(ACCURACY_COLUMNS) <= set(COLUMN_DOCS)
    assert set(table.columns) | {"index"} == set(COLUMN_HELP)  # every column has a help text
    assert set(OPS) == {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}


def test_sorted_page_walks_the_whole_sorted_view(table):
    col = "test_acc@cifar100"
    first = sorted_page(table, col, descending=True, page=1, page_rows=500)
    assert (first.page, first.pages, first.first, first.total) == (1, 32, 1, 15_625)
    assert first.rows.index[0] == table[col].idxmax() and first.rows[col].is_monotonic_decreasing
    assert first.caption() == "rows 1–500 of 15,625"
    last = sorted_page(table, col, descending=True, page=32, page_rows=500)
    assert len(last.rows) == 125 and last.first == 15_501 and last.caption() == "rows 15,501–15,625 of 15,625"
    pages = [sorted_page(table, col, True, p, 500).rows for p in range(1, 33)]
    assert sorted(i for p in pages for i in p.index) == list(table.index)   # every cell once
    assert sorted_page(table, col, True, 99, 500).page == 32                # past the end: the last page
    by_index = sorted_page(table, "index", descending=True, page=1, page_rows=10)
    assert list(by_index.rows.index) == list(range(15_624, 15_614, -1))
    empty = sorted_page(table.iloc[:0], col, page=3)
    assert (empty.page, empty.pages, empty.first, empty.caption()) == (1, 1, 0, "no rows")
    with pytest.raises(FilterError, match="cannot sort by 'accuracy'"):
        sorted_page(table, "accuracy")
