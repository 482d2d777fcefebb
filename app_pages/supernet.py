"""Supernet: build from the generated front, train once with progress, see the blocks."""
import hashlib

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from nagui.space import InvalidArchError
from nagui.supernet.config import PRESETS
from nagui.supernet.run_folder import RunFolderError, build_spec
from nagui.viz import axis_label, front_frame, macro_svg, search_space_scatter, supercell_svg
from nagui.workflows.pipeline import compute_device
from nagui.workflows.supernet_runs import (build_run, create_run, is_shipped, origin_of, profile_run, stage_of,
                                           sub_cell_indices, supernet_runs, train_run)
from app_ui.common import (benchmark_or_stop, diagram, fmt_time, load_benchmark, run_store, scatter_toggles,
                           task_panel, tasks)
from app_ui.how_it_works import how_it_works

DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
STAGE_ICON = {"built": "built", "trained": "trained", "profiled": "profiled", None: "–"}   # words: no emoji font on every machine

bench = benchmark_or_stop()
store = run_store()
manager = tasks()
st.title("Supernet")
st.caption("One super-network whose blocks can be switched off: each of the six cell edges can run its op, "
           "become a skip or be cut, and each cell slot of a stage can be dropped. It is chosen to cover the "
           f"generated Pareto front, trained once, then profiled. Compute here: {compute_device()}.")
how_it_works("supernet")

# ---- build ------------------------------------------------------------------------------
SOURCES = {"engine": "Generate super-cells for the front (direct)", "generated": "From a generated set (assemble)",
           "assemble": "Generate cells, then assemble", "hand": "A super-cell typed by hand"}
generated_sets = [r for r in store.list("generate") if r.status == "done" and len(r.params["objectives"].split(",")) == 2]
with st.expander("Build a new super-network", expanded=not store.list("supernet")):
    with st.form("sn_build"):
        source = st.radio("Super-cell from", list(SOURCES), format_func=SOURCES.get, key="sn_source", horizontal=True)
        c1, c2, c3 = st.columns(3)
        dataset = c1.selectbox("Dataset", list(DATASETS), format_func=DATASETS.get, key="sn_dataset",
                               help="Not used with a generated set: its own dataset and objectives are")
        cost = c2.selectbox("Cost objective", ["flops", "latency@raspi4", "params", "latency@pixel3"],
                            format_func=axis_label, key="sn_cost")
        preset = c3.selectbox("Preset", list(PRESETS), key="sn_preset",
                              help="quick: 8 channels, 2 cells per stage, 10 epochs (about 5 minutes on 2 CPU "
                                   "cores); full: NB201's size (16 channels, 5 cells per stage, 100 epochs: a GPU)")
        gen_id = st.selectbox("Generated set (for 'from a generated set')", [r.id for r in generated_sets],
                              key="sn_gen_set", index=0 if generated_sets else None,
                              format_func=lambda i: next(f"{r.name} · {fmt_time(r.created)}" for r in generated_sets
                                                         if r.id == i),
                              placeholder="no generated set with two objectives yet: use the Generate page")
        by_hand = st.text_input("Super-cell (for 'typed by hand')", key="sn_cell",
                                placeholder="|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|"
                                            "nor_conv_1x1~1|avg_pool_3x3~2|")
        go_build = st.form_submit_button("Build", type="primary")
    if go_build:
        if source == "hand":
            try:
                run = create_run(store, by_hand.strip(), preset=preset, dataset=dataset)
                st.session_state["sn_run"] = run.id
                st.success(f"Created {run.name}")
            except (InvalidArchError, ValueError) as exc:
                st.error(f"Cannot use that super-cell: {exc}")
        elif source == "generated" and not gen_id:
            st.error("There is no generated set with one accuracy and one cost objective yet: make one on the "
                     "Generate page first.")
        else:
            gen_run = store.get(gen_id) if source == "generated" else None
            strategy = "direct" if source == "engine" else "assemble"
            what = f"from {gen_run.name}" if gen_run else f"{DATASETS[dataset]}, accuracy vs {cost}"
            key = "supernet:build:" + hashlib.sha256(f"{source}{gen_id}{dataset}{cost}{preset}".encode()).hexdigest()[:10]

            def job(task, dataset=dataset, cost=cost, preset=preset, strategy=strategy, gen_run=gen_run):
                return build_run(run_store(), load_benchmark(), dataset=dataset, objectives=f"test_acc,{cost}",
                                 preset=preset, strategy=strategy, from_generation=gen_run, report=task.report).id

            manager.start(key, f"Building a {preset} super-network ({what})", job)
            st.session_state["sn_build_task"] = key
    task_panel(manager.get(st.session_state.get("sn_build_task", "")), key="sn_build")
    build_task = manager.get(st.session_state.get("sn_build_task", ""))
    if build_task is not None and build_task.status == "done" and st.session_state.get("_sn_built") != build_task.result:
        st.session_state["_sn_built"] = build_task.result
        st.session_state["sn_run"] = build_task.result

# ---- runs -------------------------------------------------------------------------------
runs = supernet_runs(store)
if not runs:
    st.info("No super-network yet. Build one above (it uses the generated front of the objectives you choose), "
            "or press **Build everything missing** on the Home page.")
    st.stop()
st.subheader("Runs")
st.dataframe(pd.DataFrame([{"name": r.name, "stage": STAGE_ICON.get(stage_of(r), stage_of(r)), "status": r.status,
                            "created": fmt_time(r.created),
                            "coverage": (r.summary.get("build") or {}).get("true_coverage"),
                            "epochs": (r.summary.get("train") or {}).get("epochs_done"),
                            "kendall τ": r.summary.get("kendall_tau"), "id": r.id} for r in runs]),
             hide_index=True, key="sn_runs_table",
             column_config={"coverage": st.column_config.NumberColumn(format="%.4f", help="HV ratio of its "
                            "sub-cells' true values against the true front"),
                            "kendall τ": st.column_config.NumberColumn(format="%.3f")})
ids = [r.id for r in runs]
if st.session_state.get("sn_run") not in ids:
    st.session_state["sn_run"] = ids[0]
run_id = st.selectbox("Run", ids, key="sn_run", format_func=lambda i: next(f"{r.name} · {r.id}" for r in runs
                                                                              if r.id == i))
run = store.get(run_id)
if is_shipped(run):
    st.info(f"The shipped super-network: {origin_of(run)}.")
try:
    spec, preset_name = build_spec(run.path)
except RunFolderError as exc:
    st.error(str(exc))
    st.stop()

# ---- the network and its blocks ---------------------------------------------------------------
st.subheader("The super-network and its blocks")
st.caption(f"Preset **{preset_name}** · {spec.channels} channels · slots per stage {list(spec.slots)} · "
           f"super-cell `{spec.super_cell.to_str()}`")
diagram(macro_svg(spec))
left, right = st.columns([5, 6])
with left:
    diagram(supercell_svg(spec.super_cell, title="Super-cell: every edge can be on, skip or off"))
with right:
    info = run.summary.get("build") or {}
    objectives = info.get("objectives") or ["test_acc@" + run.params.get("dataset", "cifar10"), "flops"]
    acc_col, cost_col = objectives[0], objectives[1]
    subs = sub_cell_indices(bench, spec)
    sub_df = bench.table.loc[subs, [acc_col, cost_col]].assign(index=subs)
    full_range, every_cell = scatter_toggles("sn", "the sub-cells")
    fig = search_space_scatter(bench.table, cost_col, acc_col, front=front_frame(bench.table, cost_col, acc_col),
                               samples=sub_df, height=380, one_per_class=True, focus=not full_range,
                               background=every_cell)
    fig.for_each_trace(lambda t: t.update(name="its sub-cells") if t.name == "generated" else None)
    st.plotly_chart(fig, key="sn_coverage", config={"displaylogo": False})
    if info.get("true_coverage") is not None:
        st.caption(f"{len(subs)} distinct sub-cells cover **{info['true_coverage']:.4f}** of the true front's "
                   f"hypervolume (the best of all 15,625 super-cells: {info.get('exhaustive_optimum', 0):.4f}; "
                   f"predicted {info.get('predicted_coverage', 0):.3f}).")

# ---- train --------------------------------------------------------------------------------------
st.subheader("Train once")
stage = stage_of(run)
train_key = f"supernet:train:{run.id}"
c1, c2 = st.columns([1, 3])
device = c1.selectbox("Device", ["auto", "cpu", "cuda"], key="sn_device",
                      help="auto = the GPU when there is one; quick preset on 2 CPU cores: about 5 minutes")
busy = any(t.running for t in (manager.get(train_key), manager.get(f"supernet:profile:{run.id}")) if t)
label = "Resume training" if run.status in ("interrupted", "cancelled", "failed") and stage == "built" else "Train"
if c1.button(label, type="primary", disabled=busy or stage in ("trained", "profiled"), key="sn_train"):
    def job(task, run=run, device=device):
        return train_run(run_store(), run, device=device, report=task.report).id

    manager.start(train_key, f"Training {run.name}", job)
task_panel(manager.get(train_key), key="sn_train")
history = (run.summary.get("train") or {}).get("history") or []
if history:
    h = pd.DataFrame(history)
    fig = go.Figure([go.Scatter(x=h["epoch"], y=h["heldout_acc_largest"], name="largest sub-network",
                                mode="lines+markers"),
                     go.Scatter(x=h["epoch"], y=h["heldout_acc_smallest"], name="smallest sub-network",
                                mode="lines+markers")])
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="Epoch",
                      yaxis_title="Held-out accuracy (%)", legend=dict(orientation="h", y=1.1))
    c2.plotly_chart(fig, key="sn_history", config={"displayModeBar": False})
    t = run.summary["train"]
    precision = f" ({t['precision']})" if t.get("precision") else ""     # recorded since 2026-12-08
    epochs = f"{t['epochs_done']} epoch{'' if t['epochs_done'] == 1 else 's'}"
    c2.caption(f"{epochs} in {t['train_s']:.0f} s on {run.summary.get('train_device', '?')}{precision}, "
               f"{t.get('images_per_s') or 0:.0f} images/s.")

# ---- profile ------------------------------------------------------------------------------------
st.subheader("Profile the sub-networks")
profile_key = f"supernet:profile:{run.id}"
limit = st.slider("Masks to measure", 10, 200, 60, 10, key="sn_limit",
                  help="A seeded sample (the largest and smallest always included); each is measured once and "
                       "cached: FLOPs (thop), onnxruntime latency here, held-out accuracy after BN recalibration")
if st.button("Profile", disabled=busy or stage not in ("trained", "profiled"), key="sn_profile"):
    def job(task, run=run, limit=limit):
        return profile_run(run_store(), run, limit=limit, bench=load_benchmark(), report=task.report).id

    manager.start(profile_key, f"Profiling {run.name}", job)
task_panel(manager.get(profile_key), key="sn_profile")
if stage == "profiled":
    st.success(f"{run.summary['profiled_masks']} sub-networks measured; Kendall τ between their shared-weight "
               f"accuracy and the table's is {run.summary['kendall_tau']:.3f} over {run.summary['tau_cells']} "
               "full-depth sub-cells. Pick one on the **Deploy** page.")
elif stage == "built":
    st.info("Train the super-network first.")
