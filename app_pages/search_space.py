"""Search space page: browse, filter and inspect the 15,625 NAS-Bench-201 cells, each with its
isomorphism class."""
import math

import streamlit as st

from nagui.data import COLUMN_DOCS
from nagui.data.filters import (ACCURACY_COLUMNS, COLUMN_HELP, DEFAULT_COLUMNS, PAGE_ROWS, TableFilter, apply_filter,
                                column_groups, iso_class, page_count, slider_bounds, sorted_page)
from nagui.space import OPS, Arch, InvalidArchError, iso_key
from nagui.viz import axis_label, cell_svg
from app_ui.common import benchmark_or_stop, diagram

BEST_METRIC = "test_acc@cifar10"
METRICS = [("CIFAR-10 test acc", "test_acc@cifar10", "{:.2f}%"), ("CIFAR-100 test acc", "test_acc@cifar100", "{:.2f}%"),
           ("ImageNet16-120 test acc", "test_acc@ImageNet16-120", "{:.2f}%"),
           ("FLOPs", "flops", "{:.2f} M"), ("Params", "params", "{:.3f} M")]


def fmt(value, pattern="{:.4g}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return pattern.format(value) if isinstance(value, float) else str(value)


bench = benchmark_or_stop()
table = bench.table

# ---- sidebar: filters -----------------------------------------------------------
with st.sidebar:
    st.header("Filters")
    acc_col = st.selectbox("Accuracy column", ACCURACY_COLUMNS, key="acc_column", help="Column the slider below filters on")
    min_acc = st.slider("Minimum accuracy (%)", 0.0, 100.0, 0.0, 0.5, key="min_acc", help=COLUMN_DOCS[acc_col])
    flops_lo, flops_hi = slider_bounds(table["flops"])
    flops = st.slider("FLOPs (M)", flops_lo, flops_hi, (flops_lo, flops_hi), 1.0, key="flops_range",
                      help=COLUMN_DOCS["flops"])
    params_lo, params_hi = slider_bounds(table["params"], decimals=2)
    params = st.slider("Params (M)", params_lo, params_hi, (params_lo, params_hi), 0.01, key="params_range",
                       help=COLUMN_DOCS["params"])
    unique_only = st.checkbox("Unique cells only", key="unique_only",
                              help="One cell per isomorphism class (canonical_id == index): 6,466 cells")
    connected_only = st.checkbox("Hide disconnected cells", key="connected_only",
                                 help="Drop cells whose output is always zero")
    ops = st.multiselect("Contains op", OPS, key="contains_ops", help="Keep cells that use every selected op")
    search = st.text_input("Search arch string", key="arch_search", placeholder="e.g. nor_conv_3x3~0")
    shown_cols = ["arch"]
    with st.expander("Columns shown in the table"):
        for group, cols in column_groups().items():
            shown_cols += st.multiselect(group, cols, default=[c for c in cols if c in DEFAULT_COLUMNS],
                                         key=f"cols::{group}")

flt = TableFilter(acc_column=acc_col, min_acc=min_acc or None,
                  flops_range=None if flops == (flops_lo, flops_hi) else tuple(flops),
                  params_range=None if params == (params_lo, params_hi) else tuple(params),
                  unique_only=unique_only, connected_only=connected_only, contains_ops=tuple(ops), search=search)
shown = apply_filter(table, flt)

# ---- main: the table ----------------------------------------------------------------
st.title("Search space")
st.caption("Every cell of the NAS-Bench-201 search space with its accuracies, cost and measured latencies. "
           "Sort and page through them here, click a row to inspect the cell.")
st.markdown(f"**{len(shown):,}** of {len(table):,} cells match", help="Change the filters in the sidebar")
sort_col, order_col, page_col = st.columns([3, 2, 2])
sort_options = ["index", *shown_cols[1:]]
if st.session_state.get("table_sort", "index") not in sort_options:   # its column was hidden
    st.session_state["table_sort"] = "index"
sort_by = sort_col.selectbox("Sort by", sort_options, key="table_sort",
                             help="Sorts every matching cell, not only this page (NaN last)")
descending = order_col.toggle("Descending", key="table_descending", value=False)
pages = page_count(len(shown))
if st.session_state.get("table_page", 1) > pages:   # a filter shrank the table under the page shown
    st.session_state["table_page"] = pages
page_number = page_col.number_input(f"Page (of {pages:,})", 1, pages, key="table_page",
                                    help=f"{PAGE_ROWS} cells per page: all of them at once made the page slow")
view = sorted_page(shown, sort_by, descending, page_number)
st.caption(f"Showing {view.caption()}, sorted by {sort_by}{' descending' if descending else ''}. "
           "A click on a column header sorts this page only.")

column_config = {"_index": st.column_config.NumberColumn("index", help=COLUMN_HELP["index"]),
                 "arch": st.column_config.TextColumn("arch", help=COLUMN_HELP["arch"], width="medium", pinned=True),
                 "output_connected": st.column_config.CheckboxColumn("output_connected",
                                                                     help=COLUMN_HELP["output_connected"])}
for col in shown_cols[1:]:
    if col != "output_connected":
        fmt_ = "%d" if col == "canonical_id" else ("%.3f" if col == "params" else "%.2f")
        column_config[col] = st.column_config.NumberColumn(col, help=COLUMN_HELP[col], format=fmt_)
event = st.dataframe(view.rows[shown_cols], on_select="rerun", selection_mode="single-row", key="bench_table",
                     column_config=column_config, height=420, placeholder="–")

# ---- which cell to inspect: the newest of a row selection and a typed query --------
rows = list(event.selection.rows)
if rows != st.session_state.get("_bench_rows"):  # the selection changed in this run
    st.session_state["_bench_rows"] = rows
    if rows and rows[0] < len(view.rows):
        st.session_state["_selected_cell"] = int(view.rows.index[rows[0]])
        st.session_state["_cell_source"] = "table"
    else:
        st.session_state.pop("_selected_cell", None)


def _query_changed():
    st.session_state["_cell_source"] = "query"


st.subheader("Inspect a cell")
query = st.text_input("Cell (arch string or NB201 index)", key="cell_query", on_change=_query_changed,
                      placeholder="|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
                                  "skip_connect~2|   or   1").strip()
selected = st.session_state.get("_selected_cell")
index, origin = None, None
if query and (selected is None or st.session_state.get("_cell_source") == "query"):
    try:
        index, origin = bench.index_of(query), "Typed query"
    except InvalidArchError as exc:
        st.error(f"Not a valid cell: {exc}")
elif selected is not None:
    index, origin = selected, "Selected row"
else:
    index = int(table[BEST_METRIC].idxmax())
    origin = f"Nothing selected: showing the CIFAR-10 best cell (highest {BEST_METRIC})"

if index is not None:
    values = bench.lookup(index)
    st.caption(f"{origin} — NB201 index **{index}**: `{values['arch']}`")
    left, right = st.columns([5, 4])
    with left:
        diagram(cell_svg(values["arch"]))
        if not values["output_connected"]:
            st.warning("This cell's output is disconnected from its input: it always outputs zero.")
    with right:
        grid = st.columns(2)
        for k, (label, col, pattern) in enumerate(METRICS):
            grid[k % 2].metric(label, fmt(values[col], pattern), help=COLUMN_DOCS[col], border=True)
        grid[len(METRICS) % 2].metric("Unique cell", "yes" if values["canonical_id"] == index else
                                      f"no, #{values['canonical_id']}", border=True,
                                      help="canonical_id: smallest NB201 index of its isomorphism class")

    # ---- the cell's isomorphism class (NB201's rule) ------------------------------
    st.subheader("Canonical class")
    members = iso_class(table, index)
    cid, size = int(values["canonical_id"]), len(members)
    st.caption("Cells that differ only in how the same computation is drawn (parallel branches swapped, a "
               "`none` edge or a zero input in another place) form one isomorphism class under NB201's rule "
               "(6,466 classes). The class is named by its canonical id, its smallest NB201 index. Each cell "
               "was trained separately, so accuracies within a class differ by training noise.")
    c1, c2, c3 = st.columns([1, 1, 3])
    c1.metric("Canonical id", f"#{cid}", border=True, help=COLUMN_HELP["canonical_id"])
    c2.metric("Class size (cells)", f"{size:,}", border=True,
              help="Number of NB201 cells in this isomorphism class, this one included")
    with c3:
        st.markdown(f"Canonical cell: `{table.at[cid, 'arch']}`" + (" (this cell)" if cid == index else ""))
        st.markdown(f"Class key: `{iso_key(Arch.from_str(values['arch']))}`",
                    help="NB201's to_unique_str: each node as the sorted sum of (input)@op terms, # = zero")
    others = members[members.index != index]
    if others.empty:
        st.info("No other cell is isomorphic to this one: its class has this cell only.")
    else:
        class_cols = ["arch", *(c for _, c, _ in METRICS)]
        st.markdown(f"The other **{len(others):,}** cell{'' if len(others) == 1 else 's'} of class #{cid}:")
        st.dataframe(others[class_cols], key="iso_class", height=min(36 + 35 * len(others), 300),
                     column_config={"_index": st.column_config.NumberColumn("index", help=COLUMN_HELP["index"]),
                                    "arch": st.column_config.TextColumn("arch", width="large",
                                                                        help=COLUMN_HELP["arch"]),
                                    **{c: st.column_config.NumberColumn(axis_label(c), help=COLUMN_DOCS[c],
                                                                        format="%.3f" if c == "params" else "%.2f")
                                       for _, c, _ in METRICS}})

    with st.expander("All values of this cell"):
        st.dataframe({"column": list(values), "value": [fmt(v) for v in values.values()],
                      "description": [COLUMN_HELP.get(c, "") for c in values]}, hide_index=True, key="cell_values",
                     column_config={"value": st.column_config.TextColumn(width="medium")})
