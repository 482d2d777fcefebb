"""Streamlit helpers shared by the pages (the only place besides app.py and app_pages/ that
imports Streamlit). Pages stay thin: widgets and plots here, work in `nagui`."""
