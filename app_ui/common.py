"""Process-wide resources for the pages (cached once per server) and small widgets."""
from __future__ import annotations

import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from nagui.data import Benchmark, DataError
from nagui.runs import RunStore
from nagui.tasks import Task, TaskManager, task_manager


@st.cache_resource(show_spinner="Loading the NAS-Bench-201 tables…")
def load_benchmark() -> Benchmark:
    return Benchmark.load()  # data dir: NAGUI_DATA_DIR, ../shared/data or the user cache


def benchmark_or_stop() -> Benchmark:
    """The tables, or a readable error on the page and a stop."""
    try:
        return load_benchmark()
    except DataError as exc:
        st.error(str(exc))
        st.stop()


def run_store() -> RunStore:
    # not cached: cheap, and a cached one would keep a deleted user data dir's path
    return RunStore()


def tasks() -> TaskManager:
    return task_manager()


def task_panel(task: Task | None, *, key: str, show_log: bool = True, next_page: tuple[str, str] | None = None) -> None:
    """Progress, cancel button and outcome of a background task. While it runs, the panel
    refreshes itself every second (a fragment), and reruns the page once when it ends.
    ``next_page`` (page file, label): where to go once the task is done."""
    if task is None:
        return

    @st.fragment(run_every=1.0 if task.running else None)
    def _panel():
        if task.running:
            label = f"{task.label}: {task.text or 'starting…'} ({task.elapsed:.0f} s)"
            st.progress(task.fraction or 0.0, text=label)
            if st.button("Cancel", key=f"cancel::{key}", help="Stop at the next progress point"):
                task.cancel()
                st.toast(f"Cancelling {task.label}…")
            st.session_state[f"_was_running::{key}"] = True
        else:
            if task.status == "done":
                st.success(f"{task.label}: done in {task.elapsed:.0f} s")
                if next_page is not None:
                    try:
                        st.page_link(next_page[0], label=next_page[1], icon=":material/arrow_forward:")
                    except StreamlitAPIException:   # the page alone, outside the app's navigation
                        st.caption(next_page[1])
            elif task.status == "cancelled":
                st.warning(task.error or f"{task.label} was cancelled")
            else:
                st.error(f"{task.label} failed: {task.error}")
            if st.session_state.pop(f"_was_running::{key}", False):
                st.rerun()  # the page shows the new result
        if show_log and task.lines:
            with st.expander("Log", expanded=False):
                st.code("\n".join(task.lines), language=None)

    _panel()


def scatter_toggles(key_prefix: str, points: str, *, clickable: bool = False) -> tuple[bool, bool]:
    """The two view toggles above a :func:`nagui.viz.search_space_scatter`: ``(full_range,
    every_cell)``, keys ``{key_prefix}_full_range`` and ``{key_prefix}_all_cells``. The grey
    cloud of every cell is off by default: it needs a WebGL chart, ~0.4 s more per visit on
    2 cores (BENCHMARKS.md, issue #19); the Search space page lists every cell."""
    left, right = st.columns(2)
    full_range = left.toggle("Full range", key=f"{key_prefix}_full_range",
                             help=f"Show every cell's range on the y axis instead of where {points} are")
    every_cell = right.toggle("All cells behind", key=f"{key_prefix}_all_cells",
                              help=f"Draw every NB201 cell (one per isomorphism class) in grey behind {points}"
                                   + ("; they can be clicked too" if clickable else ""))
    return full_range, every_cell


def fmt_time(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "–"


def pick_run_or_stop(runs: list, label: str, key: str, *, empty: str, describe) -> object:
    """A select box over ``runs`` (newest first) that keeps the user's pick across reruns
    and falls back to the newest when it is gone; ``empty`` as an info and a stop when there
    is none. ``describe(run)`` is each option's text. Returns the picked run."""
    if not runs:
        st.info(empty)
        st.stop()
    by_id = {r.id: r for r in runs}
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = runs[0].id
    picked = st.selectbox(label, list(by_id), key=key, format_func=lambda i: describe(by_id[i]))
    return by_id[picked]


def diagram(svg: str) -> None:
    """Show one of :mod:`nagui.viz.diagram_svg`'s drawings (inline SVG: a few ms for the
    browser, against 50-120 ms for the same drawing as a Plotly chart)."""
    st.markdown(svg, unsafe_allow_html=True)
