"""Deploy: metric sliders choose the blocks; every choice is measured again here; download it."""
import streamlit as st

from nagui.nets.supernet import EDGE_STATES, BlockMask, MaskError
from nagui.space import EDGES
from nagui.supernet.profile import table_accuracy
from nagui.supernet.select import Limits, pareto_set
from nagui.viz import macro_svg, subnet_scatter, supercell_svg
from nagui.workflows.deploy import SLIDER_METRICS, Deployment, accuracy_context, slider_range
from nagui.workflows.pipeline import QUICK_BUILD_TIME
from nagui.workflows.supernet_runs import is_shipped, origin_of, stage_of, supernet_runs
from app_ui.common import benchmark_or_stop, diagram, load_benchmark, pick_run_or_stop, run_store
from app_ui.how_it_works import how_it_works

SCATTER_HEIGHT = 420   # px: the sub-network scatter, and the space kept for it while a new one is measured

STATE_WORDS = {"on": "on (its op)", "skip": "skip", "none": "off"}

bench = benchmark_or_stop()
store = run_store()
st.title("Deploy")
st.caption("Move the limits: the most accurate measured sub-network within them is chosen, drawn with its blocks, "
           "and measured again on this machine (FLOPs with thop, latency with onnxruntime, accuracy on held-out "
           "images after BN recalibration). Toggle blocks by hand to try any other sub-network; a new one is "
           "measured live (its costs first, then its accuracy), then cached.")
how_it_works("deploy")

run_id = pick_run_or_stop(
    [r for r in supernet_runs(store) if stage_of(r) == "profiled"], "Super-network", "dep_run",
    empty="No trained and profiled super-network yet. Train one on the **Supernet** page, or press **Build "
          f"everything missing** on the **Home** page (the quick preset takes {QUICK_BUILD_TIME}).",
    describe=lambda r: f"{r.name} · {r.id}").id


@st.cache_resource(max_entries=4, show_spinner="Loading the super-network and its held-out images…")
def deployment_for(run_id: str, trained_at: float | None) -> Deployment:
    return Deployment(run_store().get(run_id), bench=load_benchmark())


run = store.get(run_id)
if is_shipped(run):
    st.caption(f"The shipped super-network: {origin_of(run)}. Its sub-networks were measured there (test-split "
               "accuracy included); a sub-network measured again here uses this machine.")
try:
    deployment = deployment_for(run.id, run.finished)
    bounds = deployment.bounds()
except (ValueError, OSError) as exc:
    st.error(f"This super-network cannot be used: {exc}")
    st.stop()
spec = deployment.spec


def _slider(label, key, metric, fmt, help_):
    limit = SLIDER_METRICS[metric]          # "max" for a cost, "min" for accuracy (nagui.objectives decides)
    lo, hi, step = slider_range(bounds[metric], limit)
    return st.slider(label, lo, hi, hi if limit == "max" else lo, step, format=fmt, key=key, help=help_)


@st.fragment
def chooser():
    c1, c2, c3 = st.columns(3)
    with c1:
        max_lat = _slider("Max latency here (ms)", "dep_max_latency", "latency_ms", "%.3f",
                          "onnxruntime p50 latency on this machine, batch 1")
    with c2:
        max_flops = _slider("Max FLOPs (M)", "dep_max_flops", "flops", "%.2f", "thop, per image")
    with c3:
        min_acc = _slider("Min held-out accuracy (%)", "dep_min_accuracy", "accuracy", "%.1f",
                          "Shared-weight accuracy on the held-out images after BN recalibration")
    sel = deployment.choose(max_latency_ms=max_lat, max_flops=max_flops, min_accuracy=min_acc)
    base = sel.best["mask"] if sel.ok else sel.nearest["mask"]
    manual = st.toggle("Adjust blocks by hand", key="dep_manual",
                       help="Start from the sub-network the sliders chose and switch edges and cells yourself")
    if manual:
        st.info(f"Adjusted by hand, starting from `{base}` (the sliders' choice). The sliders' limits are "
                "checked against the measurement below.")
    elif sel.ok:
        st.success(f"Chosen: the most accurate of {sel.feasible} measured sub-networks within the limits.")
    else:
        st.error(sel.message)
        st.caption("Shown below: the nearest feasible sub-network.")
    mask_text = hand_adjusted_mask(base) if manual else base
    if deployment.busy():
        st.caption("Another session is measuring a sub-network; a new measurement here waits its turn "
                   "(measurements take turns so they never share the cores).")
    holder = st.empty()     # a new sub-network: its costs first, then everything once its accuracy is in
    try:
        record = deployment.cached(mask_text)
        if record is None:
            costs = deployment.measure_costs(mask_text)
            with holder.container():
                show_subnetwork(costs)
            record = deployment.measure(mask_text, costs)
            record["wall_s"] = round(costs["wall_s"] + record["wall_s"], 4)
    except MaskError as exc:
        holder.error(f"That combination of blocks is not a working network: {exc}")
        return
    with holder.container():
        if manual:
            over = Limits(max_latency_ms=max_lat, max_flops=max_flops, min_accuracy=min_acc).exceeded(record)
            if over:
                st.warning("This hand-made sub-network is outside the limits: " + "; ".join(over) + ".")
            else:
                st.caption("This hand-made sub-network is within the limits.")
        show_subnetwork(record)


def hand_adjusted_mask(base: str) -> str:
    """Edge and slot controls, starting from the chosen ``base`` mask; the mask they spell."""
    start = BlockMask.parse(base, spec)
    cols = st.columns(len(EDGES))
    edges = []
    for k, ((s, d), col) in enumerate(zip(EDGES, cols)):
        choices = [c for c in EDGE_STATES if c in spec.edge_choices(k)]
        edges.append(col.selectbox(f"edge {s}→{d} ({spec.super_cell.ops[k]})", choices,
                                   index=choices.index(start.edges[k]) if start.edges[k] in choices else 0,
                                   format_func=STATE_WORDS.get, key=f"dep_edge_{k}::{base}"))
    cols = st.columns(len(spec.slots))
    slots = []
    for si, (n, col) in enumerate(zip(spec.slots, cols)):
        with col:
            slots.append("".join("1" if st.checkbox(f"cell {si + 1}.{i + 1}", value=bool(start.slots[si][i]),
                                                    key=f"dep_slot_{si}_{i}::{base}") else "0"
                                 for i in range(n)))
    return ",".join(edges) + "|" + ",".join(slots)


def show_subnetwork(record: dict) -> None:
    """The sub-network: its numbers, its cell and macro figures, its place among the others,
    downloads. A record without an accuracy (a new sub-network whose costs are measured and
    whose accuracy is being measured) shows all but the accuracy, its place and the downloads."""
    measuring = "accuracy" not in record
    st.markdown(f"**Sub-network** `{record['mask']}` → cell `{record['cell']}`, depth {record['depth']}")
    m = st.columns(4)   # costs on one row, accuracies (with their context) on the next: values stay readable
    m[0].metric("FLOPs", f"{record['flops']:.3f} M", border=True)
    m[1].metric("Params", f"{record['params']:.4f} M", border=True)
    m[2].metric("Latency here (onnxruntime)", f"{record['latency_ms']:.3f} ms", border=True,
                help=f"p50; p90 {record['latency_p90_ms']:.3f} ms; "
                     f"{record.get('measured_on', 'latency cpu')}")
    m[3].metric("Measured", "from cache" if record["cached"] else
                f"costs in {record['wall_s']:.1f} s" if measuring else f"{record['wall_s']:.1f} s", border=True,
                help="Measured now, taking the time shown, or read from the run's cache: each sub-network is "
                     "measured once per checkpoint. A new one shows its costs first, then its accuracy"
                     + ("; it waited for another session's measurement" if record.get("queued") else ""))
    a = st.columns(4)
    table = table_accuracy(record)
    a[0].metric("Held-out accuracy (shared weights)", "…" if measuring else f"{record['accuracy']:.2f}%",
                border=True, help=f"{record.get('heldout_images', 'The')} held-out images, BN recalibrated for "
                                  "this sub-network")
    a[1].metric("NB201 table, same cell alone", f"{table:.2f}%" if table is not None else "—", border=True,
                help="CIFAR-10 test accuracy of this cell trained alone for 200 epochs (NB201); only full-depth "
                     "sub-networks are NB201 cells")
    st.caption("Measuring its held-out accuracy now: BN statistics recalibrated for this sub-network, then "
               "the held-out images scored …" if measuring else accuracy_context(record))
    if record.get("queued") and not record["cached"]:
        st.caption("This measurement waited for another session's to finish before timing.")
    left, right = st.columns([5, 6])
    with left:
        diagram(supercell_svg(spec.super_cell, record["mask"], title="Cell: which edges are on"))
    with right:
        if measuring:                        # its place among the others once the accuracy is in
            st.container(height=SCATTER_HEIGHT, border=False).caption("Placed among the measured sub-networks "
                                                                      "once its accuracy is in …")
        else:
            records = deployment.records()
            st.plotly_chart(subnet_scatter(records, current=record, height=SCATTER_HEIGHT,
                                           pareto=pareto_set(records, ("accuracy", "latency_ms"))),
                            key="dep_scatter", config={"displaylogo": False})
    diagram(macro_svg(spec, record["mask"]))
    if measuring:
        return
    name = "subnet-" + record["mask"].replace(",", "").replace("|", "_")
    d1, d2 = st.columns(2)
    d1.download_button("Download ONNX", data=lambda m=record["mask"]: deployment.export(m)["onnx"].read_bytes(),
                       file_name=f"{name}.onnx", mime="application/octet-stream", on_click="ignore",
                       key="dep_dl_onnx", icon=":material/download:")
    d2.download_button("Download PyTorch (safetensors + JSON)",
                       data=lambda m=record["mask"]: deployment.pytorch_zip(m), file_name=f"{name}.zip",
                       mime="application/zip", on_click="ignore", key="dep_dl_torch", icon=":material/download:",
                       help="Load with nagui.supernet.export.load_subnetwork(folder) after unzipping")


chooser()
