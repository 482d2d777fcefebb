"""nagui's Streamlit app: `streamlit run app.py`. Each page lives in pages/."""
import streamlit as st

st.set_page_config(page_title="nagui", layout="wide")

PAGES = [
    st.Page("pages/benchmark.py", title="Benchmark", icon=":material/table_chart:", default=True),
]

st.navigation(PAGES).run()
