"""The widgets' browser code the app prefetches: every chunk it names exists in the installed
Streamlit (an upgrade that renames one fails here, not silently in the browser)."""
from app_ui.prefetch import COMPONENTS, component_chunks, prefetch_script


def test_every_prefetched_component_has_one_chunk_in_this_streamlit():
    chunks = component_chunks()
    assert sorted(chunks) == sorted(COMPONENTS)
    assert all(f.startswith(f"{name}.") and f.endswith(".js") for name, f in chunks.items())


def test_the_script_imports_the_chunks_beside_streamlits_own_bundle_when_idle():
    script = prefetch_script(["DataFrame.abc.js", "Slider.def.js"])
    assert '["DataFrame.abc.js", "Slider.def.js"]' in script
    assert "requestIdleCallback" in script and 'src*="/static/js/index."' in script and "import(" in script
