"""Home: what nagui does, each stage's status, and one button that builds what is missing."""
import streamlit as st

from nagui.viz.pipeline import pipeline_svg
from nagui.workflows.pipeline import (QUICK_BUILD_TIME, build_missing, compute_device, pipeline_ready, shipped_origin,
                                      stage_status)
from app_ui.common import load_benchmark, run_store, task_panel, tasks

st.title("nagui")
st.markdown("**Multi-objective neural architecture search you can steer.** A graph diffusion model, guided by a "
            "performance predictor, generates NAS-Bench-201 cells near the accuracy–cost Pareto front. They are "
            "folded into one super-network whose blocks can be switched off; it is trained once, and you pick the "
            "deployed sub-network afterwards with sliders while every choice is measured again live.")

PICTURE = st.empty()  # the pipeline, drawn once the stages' status is known

store = run_store()
st.subheader("Pipeline status")
st.caption(f"Compute: {compute_device()}. Runs and models live in `{store.root}` and survive a restart.")
stages = stage_status(store)
PICTURE.image(pipeline_svg(pipeline_ready(store, stages)), width="stretch")
cols = st.columns(len(stages))
for col, stage in zip(cols, stages):
    with col:
        st.metric(stage.title, "ready" if stage.ready else "missing", border=True,
                  delta="✓" if stage.ready else "to build", delta_color="normal" if stage.ready else "off")
        st.caption(stage.detail)
origin = shipped_origin(store)
if origin:
    st.caption(f"Shipped super-network: {origin}. Train your own on the **Supernet** page; the newest trained "
               "run is then the CLI's default.", help="nagui supernet ship made it; its provenance.json lists "
               "the commands that remake it")

manager = tasks()
task = manager.get("pipeline:build-missing")
missing = [s.title for s in stages if not s.ready]
if missing:
    st.info("Missing: " + ", ".join(missing) + ". One click builds them on the defaults (CIFAR-10, accuracy vs "
            f"FLOPs, the quick super-network preset: {QUICK_BUILD_TIME}). "
            "The Generate page works as soon as the predictor and the diffusion prior are ready.")
busy = task is not None and task.running
if st.button("Build everything missing", type="primary", disabled=busy or not missing, key="build_missing"):
    def job(t):
        return build_missing(run_store(), load_benchmark, report=t.report)

    task = manager.start("pipeline:build-missing", "Building the missing stages", job)
task_panel(task, key="build_missing",
           next_page=("app_pages/deploy.py", "Next: choose a sub-network on the Deploy page"))

st.subheader("Pages")
st.markdown("""
- **Search space** — browse, filter and sort all 15,625 cells; any cell as a DAG with its metrics and class.
- **Predictor** — train or load the multi-objective predictor; predicted vs true and Kendall τ per objective.
- **Generate** — guided samples for your objectives and constraints, on the whole table's Pareto scatter.
- **Supernet** — build the super-network from the generated front, train it, see its blocks.
- **Deploy** — sliders choose the blocks; every choice is measured again here; download ONNX / PyTorch.
- **Benchmarks** — the search harness's results against the baselines.
""")
