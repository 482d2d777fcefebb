"""nagui's Streamlit app: `streamlit run app.py` (or `nagui app`). Each page lives in app_pages/;
the pages stay thin and call the `nagui` package."""
import logging
from pathlib import Path

import streamlit as st

from app_ui.prefetch import emit_prefetch
from nagui.tasks import readable_error

# a file of our own: a :material/...: page icon makes the browser fetch the favicon from Google's font host
st.set_page_config(page_title="nagui", layout="wide", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"))

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/search_space.py", title="Search space", icon=":material/table_chart:"),
    st.Page("app_pages/predictor.py", title="Predictor", icon=":material/query_stats:"),
    st.Page("app_pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
    st.Page("app_pages/supernet.py", title="Supernet", icon=":material/account_tree:"),
    st.Page("app_pages/deploy.py", title="Deploy", icon=":material/tune:"),
    st.Page("app_pages/benchmarks.py", title="Benchmarks", icon=":material/leaderboard:"),
]

page = st.navigation(PAGES)
emit_prefetch()   # the widgets' browser code, loaded while the browser is idle
try:
    page.run()
except Exception as exc:  # noqa: BLE001 - a readable message on the page, the traceback in the log
    logging.getLogger("nagui.app").exception("page %s failed", page.title)
    st.error(f"Something went wrong on this page: {readable_error(exc)}. The details are in the server log; "
             "your runs and models are untouched.")
