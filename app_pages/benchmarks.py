"""Benchmarks: the search harness's results (strategies against each other on one budget)."""
import pandas as pd
import streamlit as st

from nagui.workflows.benchmarks import find_search_results
from app_ui.common import fmt_time, run_store

st.title("Benchmarks")
st.caption("Search strategies compared on the same budget of trained architectures, simulated on the NB201 "
           "tables (many seeds each). Produced by `nagui bench search --out DIR`.")
st.warning("The search-harness issue (#7) has not landed yet: its targets are not met and the tables below "
           "(when there are any) are work in progress. BENCHMARKS.md in the repository says what was measured.")
results = find_search_results(run_store())
if not results:
    st.info("No search benchmark results found. Run `nagui bench search --budget 100 --seeds 10 --out "
            "~/.local/share/nagui/runs/search-bench/latest` (about half a minute on 2 cores for the baselines), "
            "then reload this page.")
    st.stop()
choice = st.selectbox("Result", list(results), key="bm_pick", format_func=lambda p: f"{p} · "
                      f"{fmt_time(results[p]['modified'])}")
res = results[choice]
for name, table in res["tables"].items():
    st.subheader(name)
    st.dataframe(pd.DataFrame(table), hide_index=True, key=f"bm_table::{name}")
if res.get("markdown"):
    with st.expander("As Markdown"):
        st.code(res["markdown"], language="markdown")
