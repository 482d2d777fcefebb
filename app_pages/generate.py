"""Generate: guided samples for chosen objectives and constraints, on the whole table's Pareto scatter."""
import hashlib
import json

import numpy as np
import pandas as pd
import streamlit as st

from nagui.diffusion.constraints import ConstraintError, Constraints
from nagui.diffusion.generate import GenerateRequest
from nagui.problem import ProblemError, cost_objectives
from nagui.runs import RunStoreError
from nagui.space import OPS
from nagui.viz import axis_label, cell_svg, front_frame, search_space_scatter
from nagui.workflows.generation import BASELINES, load_generation, run_generation
from nagui.workflows.pipeline import compute_device
from app_ui.common import (benchmark_or_stop, diagram, fmt_time, load_benchmark, pick_run_or_stop, run_store,
                           scatter_toggles, task_panel, tasks)
from app_ui.how_it_works import how_it_works

DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}

bench = benchmark_or_stop()
table = bench.table
store = run_store()
st.title("Generate")
st.caption("The diffusion engine samples cells, guided by the predictor towards the front of your objectives. "
           "Accuracy is predicted (transfer from the other datasets plus 20 target labels); FLOPs, params and "
           "device latencies are exact. Every sample is then looked up in the table to show its true place.")
how_it_works("generate")

# ---- the request --------------------------------------------------------------------
with st.form("generate_form", border=True):
    c1, c2, c3, c4 = st.columns(4)
    dataset = c1.selectbox("Dataset", list(DATASETS), format_func=DATASETS.get, key="gen_dataset")
    cost_options = cost_objectives()
    cost = c2.selectbox("Cost objective", cost_options, index=0, format_func=axis_label, key="gen_cost",
                        help="Accuracy is always the first objective; pick what it is traded against")
    extra = c3.multiselect("More cost objectives", [c for c in cost_options], key="gen_extra",
                           format_func=axis_label, help="Optional: guide on three or more objectives")
    device = c4.selectbox("Device", ["auto", "cpu", "cuda"], key="gen_device",
                          help=f"auto = GPU when present. This machine: {compute_device()}")
    c1, c2, c3, c4 = st.columns(4)
    n = c1.slider("Samples", 16, 512, 128, 16, key="gen_n")
    scale = c2.slider("Guidance scale", 0.0, 300.0, 100.0, 10.0, key="gen_scale",
                      help="0 = unguided (the diffusion prior alone); higher pulls harder towards the front")
    seed = c3.number_input("Seed", 0, 10_000, 0, key="gen_seed")
    baseline = c4.selectbox("Baseline at the same budget", ["none", *BASELINES], index=2, key="gen_baseline",
                            help="A search method given as many table queries as there are distinct samples")
    with st.expander("Constraints and preferences"):
        k1, k2, k3 = st.columns(3)
        max_flops = k1.number_input("Max FLOPs (M)", 0.0, 250.0, 0.0, 1.0, key="gen_max_flops",
                                    help="0 = no limit")
        max_params = k2.number_input("Max params (M)", 0.0, 2.0, 0.0, 0.01, key="gen_max_params",
                                     help="0 = no limit")
        lat_device = k3.selectbox("Latency limit on", ["none", *bench.devices], key="gen_lat_device")
        max_latency = k3.number_input("Max latency (ms)", 0.0, 1000.0, 0.0, 0.5, key="gen_max_latency",
                                      help="0 = no limit")
        forbid = st.multiselect("Forbidden ops", [o for o in OPS if o != "none"], key="gen_forbid")
        aim = st.radio("Preference", ["Spread along the predicted front", "Aim at one trade-off"], horizontal=True,
                       key="gen_aim")
        acc_weight = st.slider("Weight on accuracy (the rest split over the costs)", 0.0, 1.0, 0.5, 0.05,
                               key="gen_weight", help="Used with 'Aim at one trade-off'")
    submitted = st.form_submit_button("Generate", type="primary")

objectives = ",".join(dict.fromkeys(["test_acc", cost, *extra]))
if submitted:
    try:
        constraints = Constraints(max_flops=max_flops or None, max_params=max_params or None,
                                  max_latency=((lat_device, max_latency),) if lat_device != "none" and max_latency
                                  else (), forbidden_ops=tuple(forbid))
        n_obj = len(objectives.split(","))
        prefs = None
        if aim.startswith("Aim"):
            rest = (1 - acc_weight) / (n_obj - 1)
            prefs = np.array([[acc_weight] + [rest] * (n_obj - 1)])
        request = GenerateRequest(dataset=dataset, objectives=objectives, n=int(n), constraints=constraints,
                                  preferences=prefs, scale=float(scale), seed=int(seed))
    except (ConstraintError, ProblemError, ValueError) as exc:
        st.error(f"Cannot generate: {exc}")
    else:
        params = json.dumps([dataset, objectives, n, scale, seed, baseline, constraints.describe(),
                             None if prefs is None else prefs.tolist(), device], default=str)
        task_key = "generate:" + hashlib.sha256(params.encode()).hexdigest()[:12]

        def job(task, request=request, device=device, baseline=baseline):
            return run_generation(run_store(), load_benchmark(), request, device=device,
                                  baseline=None if baseline == "none" else baseline, report=task.report).id

        tasks().start(task_key, f"Generating {n} samples ({DATASETS[dataset]}, {objectives})", job)
        st.session_state["gen_task"] = task_key

current = tasks().get(st.session_state.get("gen_task", "")) if st.session_state.get("gen_task") else None
task_panel(current, key="generate")
if current is not None and current.status == "done" and current.result:
    if st.session_state.get("_gen_seen") != current.result:  # a new set: show it
        st.session_state["_gen_seen"] = current.result
        st.session_state["gen_pick"] = current.result

# ---- results ------------------------------------------------------------------------
run = pick_run_or_stop(
    [r for r in store.list("generate") if r.status == "done"], "Generated set", "gen_pick",
    empty="No generated set yet. Choose the objectives above and press **Generate** — on 2 CPU cores 128 "
          "samples take a few seconds once the models are loaded.",
    describe=lambda r: f"{r.name} · {fmt_time(r.created)}")
try:
    result = load_generation(store, run)
except RunStoreError as exc:
    st.error(f"This run cannot be read: {exc}")
    st.stop()
samples = result["samples"]
objs = run.summary.get("objectives") or list(result["samples"][0]["truth"])[:2]
acc_col, costs = objs[0], objs[1:]
m = run.summary.get("metrics", {})
cols = st.columns(5)
cols[0].metric("HV ratio (true values)", f"{m.get('hv_ratio', float('nan')):.3f}", border=True,
               help="Hypervolume of the samples' true values over the true front's (1.0 = the whole front)")
cols[1].metric("On the true front", f"{m.get('on_front', 0):.0%}", border=True)
cols[2].metric("Unique cells", f"{m.get('uniqueness', 0):.0%}", border=True,
               help="Distinct isomorphism classes among the samples")
cols[3].metric("Sampling time", f"{m.get('sample_s', 0):.1f} s", border=True)
cols[4].metric("Computed on", str(run.summary.get("device", "?")).upper(), border=True,
               help="Where the diffusion sampler and the predictor ran")
if "constraint_satisfaction" in m:
    limits = "; ".join(run.params.get("constraints") or []).replace("<=", "≤")
    st.caption(f"Constraints ({limits}) satisfied by {m['constraint_satisfaction']:.0%} "
               "of the samples; the front drawn is the feasible cells' front.")

x = st.selectbox("x axis", costs, format_func=axis_label, key="gen_x") if len(costs) > 1 else costs[0]
df = pd.DataFrame([{"index": s["index"], "arch": s["arch"], acc_col: s["truth"][acc_col], x: s["truth"][x],
                    "predicted": s["predicted"][acc_col]["mean"]} for s in samples]).drop_duplicates("index")
base_df = None
if "baseline" in result:
    base = result["baseline"]
    base_df = table.loc[base["indices"], [acc_col, x]].assign(index=base["indices"])
selected = st.session_state.get(f"gen_selected::{run.id}")
if selected is None:
    selected = int(df.loc[df[acc_col].idxmax(), "index"])
full_range, every_cell = scatter_toggles("gen", "these points", clickable=True)
fig = search_space_scatter(table, x, acc_col, front=front_frame(table, x, acc_col), samples=df,
                           baseline=base_df, baseline_name=f"baseline: {result.get('baseline', {}).get('strategy')}",
                           selected=selected, one_per_class=True, focus=not full_range, background=every_cell)
event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=f"gen_scatter::{run.id}",
                        config={"displaylogo": False})
points = getattr(getattr(event, "selection", None), "points", None) or []
clicked = [p for p in points if p.get("customdata") is not None]
if clicked:
    value = clicked[0]["customdata"]
    new = int(value[0] if isinstance(value, (list, tuple)) else value)
    if new != selected:
        st.session_state[f"gen_selected::{run.id}"] = new
        st.rerun()

if base_df is not None:
    b = result["baseline"]
    hv = b.get("hv_ratio")
    st.caption(f"Side by side: **{b['strategy']}** with the same budget ({b['budget']} table queries) reached "
               f"HV ratio {hv:.3f} and best accuracy {b['best_accuracy']:.2f}% in {b['seconds']:.1f} s; "
               f"the generated set: HV ratio {m.get('hv_ratio', float('nan')):.3f}, best accuracy "
               f"{df[acc_col].max():.2f}%." if hv is not None else
               f"Baseline {b['strategy']}: best accuracy {b['best_accuracy']:.2f}% with {b['budget']} queries.")

# ---- the selected cell ----------------------------------------------------------------
values = bench.lookup(int(selected))
sample = next((s for s in samples if s["index"] == selected), None)
st.subheader(f"Cell #{selected}" + (" (generated)" if sample else " (from the table)"))
st.caption(f"`{values['arch']}` — click any point of the scatter to inspect it.")
left, right = st.columns([5, 4])
with left:
    diagram(cell_svg(values["arch"]))
with right:
    g = st.columns(2)
    g[0].metric(f"True {axis_label(acc_col)}", f"{values[acc_col]:.2f}", border=True)
    if sample:
        p = sample["predicted"][acc_col]
        g[1].metric("Predicted (90% interval)", f"{p['mean']:.2f}", f"{p['lo90']:.1f} – {p['hi90']:.1f}",
                    delta_color="off", delta_arrow="off", border=True,
                    help="The guiding predictor's mean and 90% interval for this cell (never its table value)")
    for k, c in enumerate(costs + [c for c in ("flops", "params") if c not in costs]):
        g[k % 2].metric(axis_label(c), f"{values[c]:.3f}", border=True)
with st.expander("Samples of this set"):
    st.dataframe(df.sort_values(acc_col, ascending=False), hide_index=True, key="gen_samples_table")
st.download_button("Download the samples (JSON)", json.dumps(samples, indent=1), file_name=f"samples-{run.id}.json",
                   mime="application/json", key="gen_download")
with st.expander("Protocol (what every model was trained on)"):
    st.json(result["protocol"], expanded=False)
