"""Benchmarks: the search harness's results (strategies against each other on one budget)."""
import pandas as pd
import streamlit as st

from nagui.workflows.benchmarks import find_search_results, readable_column
from app_ui.common import fmt_time, run_store

st.title("Benchmarks")
st.caption("Search strategies compared on the same budget of trained architectures, simulated on the NB201 "
           "tables (many seeds each): `nagui bench search --out DIR`. 'Trained' = a distinct cell whose target "
           "accuracy was looked up; FLOPs and latencies are free. Mean ± 95% CI over the seeds. Search time in "
           "minutes counts NB201's own training time of every trained cell plus the strategy's own compute.")
results = find_search_results(run_store())
if not results:
    st.info("No search benchmark results found. Run `nagui bench search --seeds 10 --out "
            "~/.local/share/nagui/runs/search-bench/latest` (a few minutes on 2 cores; `--seeds 30` is the "
            "full benchmark, about 19 minutes) and `nagui bench talk-table --out` the same folder (the talk's "
            "result table, about a minute), then reload this page.")
    st.stop()
choice = st.selectbox("Result", list(results), key="bm_pick", format_func=lambda p: f"{p} · "
                      f"{fmt_time(results[p]['modified'])}")
res = results[choice]
sections = res.get("sections", {})
targets = next((body for title, body in sections.items() if title.startswith("Targets")), None)
if targets:
    with st.expander("Targets set for the search, met or not", expanded=True):
        st.markdown(targets)
for name, table in res["tables"].items():
    st.subheader(name)
    st.dataframe(pd.DataFrame(table).rename(columns=readable_column), hide_index=True, key=f"bm_table::{name}")
    if name in res.get("curves", {}):
        st.image(str(res["curves"][name]), caption="mean over seeds, 95% CI band; the dashed line is the optimum "
                 "(one objective) or the true front (HV ratio = 1)")
talk = next((title for title in sections if title.startswith("The talk")), None)
if talk:
    st.subheader(talk)
    st.markdown(sections[talk])
table2 = next((title for title in sections if title.startswith("DiffusionNAG's Table 2")), None)
if table2:
    st.subheader(table2)
    st.markdown(sections[table2])
if res.get("talk"):
    st.subheader("The talk's result table, reproduced on NB201")
    st.caption("Search time (minutes) and the inference cost of the deployed architecture, for ours, "
               "DiffusionNAG-style and RL (`nagui bench talk-table`). The talk's own numbers stand beside them: "
               "they come from another setting (its search space, networks and hardware), so compare their "
               "shape, not their values.")
    st.markdown(res["talk"])
if res.get("markdown"):
    with st.expander("As Markdown"):
        st.code(res["markdown"], language="markdown")
