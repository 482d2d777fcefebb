"""The Search space page and app.py under Streamlit's AppTest (no browser)."""
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "app_pages" / "search_space.py")
APP = str(REPO / "app.py")
BEST = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
OTHER = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"

# `bench` and `data_dir` come from tests/conftest.py and skip where the NB201 tables are absent.


@pytest.fixture
def at_page(data_dir):
    return AppTest.from_file(PAGE, default_timeout=60).run()


def count_text(at) -> str:
    return next(m.value for m in at.markdown if "cells match" in m.value)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_missing_data_shows_error_not_traceback(tmp_path, monkeypatch):
    st.cache_resource.clear()  # a benchmark cached by an earlier test would hide the problem
    monkeypatch.setenv("NAGUI_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and str(tmp_path) in at.error[0].value and "nagui data fetch" in at.error[0].value
    assert len(at.dataframe) == 0


def test_renders_all_cells_and_default_best(at_page, bench):
    assert not at_page.exception
    assert at_page.title[0].value == "Search space"
    assert count_text(at_page).startswith("**15,625** of 15,625")
    table = at_page.dataframe[0].value
    assert list(table.index) == list(range(500))      # the first page, sorted by index
    assert any("Showing rows 1–500 of 15,625, sorted by index" in c.value for c in at_page.caption)
    assert list(table.columns[:4]) == ["arch", "test_acc@cifar10", "test_acc@cifar100", "test_acc@ImageNet16-120"]
    best = bench.table["test_acc@cifar10"].idxmax()
    assert any("CIFAR-10 best cell" in c.value and f"**{best}**" in c.value for c in at_page.caption)
    assert metric(at_page, "CIFAR-10 test acc") == f"{bench.table.at[best, 'test_acc@cifar10']:.2f}%"
    assert sum('data-diagram="cell"' in m.value for m in at_page.markdown) == 1   # the cell's DAG, as SVG
    assert not at_page.error


def test_filters_reduce_the_count(at_page):
    at_page.checkbox(key="unique_only").check().run()
    assert count_text(at_page).startswith("**6,466** of")
    assert len(at_page.dataframe[0].value) == 500
    at_page.number_input(key="table_page").set_value(13).run()     # the last page: 6,466 = 12 x 500 + 466
    assert len(at_page.dataframe[0].value) == 466
    at_page.multiselect(key="contains_ops").select("avg_pool_3x3").run()
    at_page.slider(key="min_acc").set_value(90.0).run()
    n = int(count_text(at_page).split("**")[1].replace(",", ""))
    last_page = -(-n // 500)
    assert 0 < n < 6_466 and last_page < 13
    # page 13 lies past the new end: the last page is shown, not an empty one or an error
    assert at_page.number_input(key="table_page").value == last_page
    assert len(at_page.dataframe[0].value) == n - 500 * (last_page - 1)
    assert (at_page.dataframe[0].value["test_acc@cifar10"] >= 90.0).all()
    assert not at_page.exception


def test_sorting_covers_every_matching_cell_and_pages_walk_through_them(at_page, bench):
    col = "test_acc@ImageNet16-120"
    at_page.selectbox(key="table_sort").set_value(col).run()
    at_page.toggle(key="table_descending").set_value(True).run()
    top = at_page.dataframe[0].value
    assert top.index[0] == bench.table[col].idxmax() and top[col].is_monotonic_decreasing
    at_page.number_input(key="table_page").set_value(2).run()
    second = at_page.dataframe[0].value
    assert second[col].max() <= top[col].min() and not set(second.index) & set(top.index)
    assert any("Showing rows 501–1,000 of 15,625, sorted by " + col + " descending" in c.value
               for c in at_page.caption)
    at_page.session_state["bench_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at_page.run()                                      # a row of page 2 is that cell, not row 0 of the table
    assert any("Selected row" in c.value and f"**{second.index[0]}**" in c.value for c in at_page.caption)
    assert not at_page.exception


def test_typed_arch_shows_its_metrics(at_page, bench):
    at_page.text_input(key="cell_query").input(OTHER).run()
    assert not at_page.exception and not at_page.error
    row = bench.lookup(OTHER)
    assert metric(at_page, "CIFAR-10 test acc") == f"{row['test_acc@cifar10']:.2f}%"
    assert metric(at_page, "CIFAR-100 test acc") == f"{row['test_acc@cifar100']:.2f}%"
    assert metric(at_page, "FLOPs") == f"{row['flops']:.2f} M"
    assert any(f"**{row['index']}**" in c.value for c in at_page.caption)
    # an NB201 index works too
    at_page.text_input(key="cell_query").input("1234").run()
    assert metric(at_page, "ImageNet16-120 test acc") == f"{bench.table.at[1234, 'test_acc@ImageNet16-120']:.2f}%"


def test_junk_query_shows_error_and_page_keeps_working(at_page):
    junk = BEST.replace("nor_conv_1x1~0", "conv9x9~0")
    at_page.text_input(key="cell_query").input(junk).run()
    assert not at_page.exception
    assert len(at_page.error) == 1 and "'conv9x9'" in at_page.error[0].value
    assert len(at_page.metric) == 0
    at_page.checkbox(key="connected_only").check().run()  # the rest of the at_page still works
    assert not at_page.exception and len(at_page.dataframe[0].value) < 15_625
    at_page.text_input(key="cell_query").input("not an arch").run()
    assert "'not an arch'" in at_page.error[0].value and not at_page.exception


def test_row_selection_shows_that_cell(at_page, bench):
    at_page.checkbox(key="unique_only").check().run()
    shown = at_page.dataframe[0].value
    at_page.session_state["bench_table"] = {"selection": {"rows": [3], "columns": [], "cells": []}}
    at_page.run()
    index = int(shown.index[3])
    assert any("Selected row" in c.value and f"**{index}**" in c.value for c in at_page.caption)
    assert metric(at_page, "CIFAR-10 test acc") == f"{bench.table.at[index, 'test_acc@cifar10']:.2f}%"
    # typing a query afterwards wins over the selection
    at_page.text_input(key="cell_query").input(OTHER).run()
    assert metric(at_page, "CIFAR-10 test acc") == f"{bench.lookup(OTHER)['test_acc@cifar10']:.2f}%"


def test_app_runs(data_dir):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    at.switch_page("app_pages/search_space.py").run()
    assert not at.exception and at.title[0].value == "Search space"
    assert any("cells match" in m.value for m in at.markdown)


def test_canonical_class_of_a_cell(at_page, bench):
    table = bench.table
    # the default (CIFAR-10 best) cell is alone in its class
    assert metric(at_page, "Class size (cells)") == "1"
    assert any("No other cell is isomorphic" in i.value for i in at_page.info)
    # cell 72 belongs to the class of cell 3 (60 cells)
    at_page.text_input(key="cell_query").input("72").run()
    assert not at_page.exception and not at_page.error
    cid = int(table.at[72, "canonical_id"])
    members = table.index[table["canonical_id"] == cid]
    assert metric(at_page, "Canonical id") == f"#{cid}" and cid == members.min() < 72
    assert metric(at_page, "Class size (cells)") == f"{len(members)}" == "60"
    others = at_page.dataframe[1].value  # [0] the cells, [1] the class, [2] all values
    assert sorted(others.index) == sorted(i for i in members if i != 72)
    assert (others["arch"] == table.loc[others.index, "arch"]).all()
    assert any(f"`{table.at[cid, 'arch']}`" in m.value for m in at_page.markdown)
