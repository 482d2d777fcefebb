"""nagui's Streamlit app: `streamlit run app.py` (or `nagui app`). Each page lives in pages/;
the pages stay thin and call the `nagui` package."""
import streamlit as st

st.set_page_config(page_title="nagui", layout="wide", page_icon=":material/hub:")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/search_space.py", title="Search space", icon=":material/table_chart:"),
    st.Page("app_pages/predictor.py", title="Predictor", icon=":material/query_stats:"),
    st.Page("app_pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
    st.Page("app_pages/supernet.py", title="Supernet", icon=":material/account_tree:"),
    st.Page("app_pages/deploy.py", title="Deploy", icon=":material/tune:"),
    st.Page("app_pages/benchmarks.py", title="Benchmarks", icon=":material/leaderboard:"),
]

st.navigation(PAGES).run()
