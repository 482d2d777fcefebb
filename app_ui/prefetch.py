"""Load the browser code of the widgets the pages use while the browser is idle.

Streamlit's frontend loads each kind of element (a data frame, a slider, a Plotly chart…)
from its own JavaScript chunk the first time a page shows one, and does so again in every
new browser tab. On 2 cores that made the first visit to Search space take 2.0–3.2 s
(56 chunks) against 0.7 s for later visits (BENCHMARKS.md, "The app"). Once the first page
has drawn, :func:`emit_prefetch` asks the browser to import those chunks when it is idle,
so the first visit to any page finds them loaded.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import streamlit as st

# the top-level element chunks the pages load (measured in Chromium: a tour of every page)
COMPONENTS = ("DataFrame", "PlotlyChart", "Selectbox", "Slider", "Checkbox", "Multiselect", "TextInput",
              "NumberInput", "Radio", "DownloadButton", "Json", "Spinner", "Metric", "Button")
CONTAINER_KEY = "nagui_prefetch"
STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"


@lru_cache(maxsize=1)
def component_chunks() -> dict[str, str]:
    """Component name -> its chunk's file name in the installed Streamlit (a name whose chunk
    is not found is left out: the page then loads it on first use, as before)."""
    found = {}
    for name in COMPONENTS:
        files = sorted(p.name for p in STATIC_JS.glob(f"{name}.*.js") if re.fullmatch(rf"{name}\.[^.]+\.js", p.name))
        if len(files) == 1:
            found[name] = files[0]
    return found


def prefetch_script(files) -> str:
    """A script that imports ``files`` (chunk names beside Streamlit's own index chunk) once
    the browser is idle; a failed import only means the page loads that chunk later."""
    return f"""<script>
(() => {{
  const main = document.querySelector('script[type="module"][src*="/static/js/index."]');
  if (!main) return;
  const base = new URL('.', main.src);
  const load = () => {json.dumps(list(files))}.forEach((f) => import(new URL(f, base).href).catch(() => {{}}));
  (window.requestIdleCallback || ((f) => setTimeout(f, 1000)))(load, {{timeout: 4000}});
}})();
</script>"""


def emit_prefetch() -> None:
    """The prefetch script, in a hidden container (no visible element). Emitted on every run,
    so the page's elements keep their places from one run to the next (a container that
    appeared on the first run only made the second remount every element below it); an
    unchanged element is not mounted again, and an import of a loaded chunk does nothing."""
    hidden = f'.st-key-{CONTAINER_KEY}, [data-testid="stLayoutWrapper"]:has(> .st-key-{CONTAINER_KEY})'
    st.html(f"<style>{hidden} {{display: none}}</style>")   # style only: takes no room
    with st.container(key=CONTAINER_KEY):        # hidden, so the page keeps its layout
        st.html(prefetch_script(component_chunks().values()), unsafe_allow_javascript=True)
