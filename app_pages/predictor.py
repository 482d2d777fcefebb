"""Predictor page: build, train or load the multi-objective predictor and see how good it is."""
import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from nagui.data import COLUMN_DOCS, DATASETS
from nagui.diffusion.problem import PredictorSpec, accuracy_predictor
from nagui.predictor.ensemble import CheckpointError, Predictor, TrainConfig
from nagui.predictor.report import (INTERVAL, MEMBER_CHOICES, RUN_KIND, PredictorSetupError, check_training_request,
                                    describe_protocol, evaluate_predictor, metrics_rows, objective_unit,
                                    train_predictor_run)
from nagui.progress import within
from nagui.runs import RunStoreError
from nagui.viz import focus_range
from app_ui.common import benchmark_or_stop, fmt_time, run_store, task_panel, tasks

SOURCES = ("Guiding predictor (transfer)", "Train a new predictor", "Load a trained predictor")
TRAIN_TASK = "predictor-train"
ERROR_BARS = 150          # cells drawn with their 90% interval
HOVER = "cell %{customdata}<br>true %{x:.3g}<br>predicted %{y:.3g}<extra></extra>"
MAX_POINTS = 16_000       # every scored cell is drawn (WebGL)

st.title("Predictor")
st.caption("The multi-objective performance predictor: a calibrated ensemble of graph networks that predicts "
           "accuracy and latency of any cell. Build the one that guides generation, train a new one, or load a "
           "trained one, and see how well it ranks the cells it never saw a label of.")
bench = benchmark_or_stop()
views = st.session_state.setdefault("_predictor_views", {})  # evaluations per predictor, this session


def _view(title: str, predictor: Predictor) -> dict:
    return {"title": title, "protocol": describe_protocol(predictor),
            "evaluation": evaluate_predictor(predictor, bench), "members": len(predictor.members)}


@st.cache_data(max_entries=16, show_spinner="Scoring the predictor on every cell of the table…")
def _run_view(run_id: str, path: str, title: str) -> dict:
    """Load a stored predictor and score it (cached per run id and folder)."""
    return _view(title, Predictor.load(path))


def _label(objective: str) -> str:
    unit = objective_unit(objective)
    return f"{objective} ({unit})" if unit else objective


def scatter(evaluation: dict, objective: str, members: int, focus: bool = True) -> go.Figure:
    pts = evaluation["points"][objective]
    true, pred, lo, hi, index = pts["true"], pts["pred"], pts["lo"], pts["hi"], pts["index"]
    fig = go.Figure()
    if len(true) > MAX_POINTS:
        keep = np.random.default_rng(0).choice(len(true), MAX_POINTS, replace=False)
        true, pred, lo, hi, index = true[keep], pred[keep], lo[keep], hi[keep], index[keep]
    fig.add_trace(go.Scattergl(x=true, y=pred, mode="markers", name="cells", customdata=index,
                               marker={"size": 4, "opacity": 0.35, "color": "#1f77b4"},
                               hovertemplate=HOVER))
    if len(true) and members > 1:
        sub = np.random.default_rng(1).choice(len(true), min(ERROR_BARS, len(true)), replace=False)
        fig.add_trace(go.Scattergl(
            x=true[sub], y=pred[sub], mode="markers", name=f"{INTERVAL:.0%} interval ({len(sub)} random cells)",
            customdata=index[sub], marker={"size": 5, "color": "#e45756"},
            error_y={"type": "data", "symmetric": False, "array": hi[sub] - pred[sub],
                     "arrayminus": pred[sub] - lo[sub], "thickness": 1, "width": 0, "color": "rgba(228,87,86,0.5)"},
            hovertemplate=HOVER))
    if len(true):
        # both axes over where the cells are (1st percentile or the far-out fence up; focus) or their whole range; wide
        # intervals (e.g. of disconnected cells) may leave the frame
        lo_v, hi_v = focus_range(np.concatenate([true, pred]), low_percentile=1.0 if focus else 0.0,
                                 fence=3.0 if focus else None)
        fig.add_trace(go.Scatter(x=[lo_v, hi_v], y=[lo_v, hi_v], mode="lines", name="y = x (perfect)",
                                 line={"color": "#31333f", "dash": "dash", "width": 1}, hoverinfo="skip"))
        fig.update_xaxes(range=[lo_v, hi_v])
        fig.update_yaxes(range=[lo_v, hi_v])
    fig.update_layout(height=430, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
                      xaxis_title=f"True {_label(objective)}", yaxis_title=f"Predicted {_label(objective)}")
    return fig


def show(view: dict | None, empty: str) -> None:
    """The protocol, the score table and one predicted-vs-true plot per objective."""
    if view is None:
        st.info(empty)
        return
    ev = view["evaluation"]
    st.subheader(view["title"])
    st.markdown(f"**How it was trained.** {view['protocol']}")
    st.caption(f"Scored on {ev['scope']}, against the table's labels; cells without a label are skipped. "
               f"τ and ρ measure how well it ranks cells (1 = perfect order, 0 = none); MAE is in the objective's "
               f"unit; coverage is the share of true values inside the {INTERVAL:.0%} interval.")
    if view["members"] == 1:
        st.warning("This predictor has one member: without an ensemble spread its intervals carry no information "
                   "(coverage near 0). Train 2 or more members for calibrated intervals.")
    rows = metrics_rows(ev)
    cov = f"{round(100 * ev['level'])}% coverage"
    st.dataframe(rows, hide_index=True, column_config={
        "objective": st.column_config.TextColumn("objective", help="Table column the head predicts"),
        "unit": st.column_config.TextColumn("unit", help="Unit of the objective (and of its MAE)"),
        "Kendall τ": st.column_config.NumberColumn(format="%.3f", help="Kendall rank correlation, -1..1"),
        "Spearman ρ": st.column_config.NumberColumn(format="%.3f", help="Spearman rank correlation, -1..1"),
        "MAE": st.column_config.NumberColumn(format="%.3f", help="Mean absolute error, in the objective's unit"),
        cov: st.column_config.NumberColumn(format="percent", help="Share of true values inside the interval"),
        f"{cov}, best 5%": st.column_config.NumberColumn(
            format="percent", help="The same share on the best 5% of the scored cells by their true value: "
                                   "the cells users look at"),
        "cells scored": st.column_config.NumberColumn(format="%d", help="Cells with a table value for it"),
    })
    objectives = ev["objectives"]
    for o in objectives:
        m = ev["metrics"][o]
        low = [f"{share:.0%} {where}" for share, where in ((m["coverage"], "of the scored cells"),
                                                          (m["coverage_top5"], "of the best 5%"))
               if isinstance(share, float) and share < ev["level"] - 0.1]
        if low and view["members"] > 1:
            st.warning(f"{o}: the {ev['level']:.0%} interval holds the truth for only {' and '.join(low)}; read its "
                       f"intervals as too narrow. Calibration: {m['interval']}.")
    st.caption("How each interval is calibrated: " + "; ".join(
        f"{o}: {ev['metrics'][o]['interval']}" for o in objectives) + ".")
    tabs = st.tabs([_label(o) for o in objectives])
    for tab, o in zip(tabs, objectives):
        with tab:
            m = ev["metrics"][o]
            if not m["cells"]:
                st.info(f"No cell with a {o} label to compare against.")
                continue
            st.caption(f"{COLUMN_DOCS.get(o, o)}. τ = {m['kendall_tau']:.3f}, ρ = {m['spearman_rho']:.3f}, "
                       f"MAE = {m['mae']:.3g} {m['unit']} over {m['cells']:,} cells."
                       if not math.isnan(m["kendall_tau"]) else f"Too few cells to rank for {o}.")
            full = st.toggle("Full range", key=f"pred_full_range::{o}",
                             help="Both axes over every cell instead of from the 1st percentile up")
            st.plotly_chart(scatter(ev, o, view["members"], focus=not full), key=f"scatter::{o}",
                            config={"displayModeBar": False})


source = st.radio("Predictor", SOURCES, key="source", horizontal=True,
                  help="The guiding predictor steers generation; a new one is trained on random table cells; "
                       "trained ones are kept in the run store")

# ---- (a) the guiding predictor of the Generate page ---------------------------------------
if source == SOURCES[0]:
    spec = PredictorSpec()
    dataset = st.selectbox("Target dataset", DATASETS, key="transfer_dataset",
                           help="The dataset whose test accuracy the predictor guides generation towards")
    st.caption(f"Pretrained on the other datasets' test accuracies of {spec.pretrain_cells:,} cells (never "
               f"{dataset}'s), then adapted on k={spec.k} random {dataset} labels; {spec.members} members × "
               f"{spec.epochs} epochs. Cached on disk: the first build pretrains for several minutes, later "
               f"ones take seconds.")
    task_key = f"predictor-guiding::{dataset}"
    view_key = f"guiding::{dataset}"
    task = tasks().get(task_key)

    def build(task, dataset=dataset):
        predictor = accuracy_predictor(bench, dataset, PredictorSpec(), say=within(task.report, 0, 0.9))
        task.report("scoring on the cells it has no label of", 0.92)
        return _view(f"Guiding predictor for {dataset} (transfer)", predictor)

    running = task is not None and task.running
    if st.button("Build and score" if view_key not in views else "Rebuild and score", key="transfer_go",
                 type="primary", disabled=running):
        views.pop(view_key, None)
        task = tasks().start(task_key, f"Guiding predictor for {dataset}", build)
    task_panel(task, key=task_key)
    if task is not None and task.status == "done" and view_key not in views:
        views[view_key] = task.result
    show(views.get(view_key), f"Press **Build and score** to load (or, the first time, pretrain) the guiding "
                              f"predictor for {dataset} and score it on every cell.")

# ---- (b) train a new predictor on random cells ---------------------------------------------
elif source == SOURCES[1]:
    options = [c for c in bench.metrics if c not in ("flops", "params")]
    objectives = st.multiselect("Objectives", options, default=["test_acc@cifar10"], key="train_objectives",
                                help="Table columns to learn (accuracies in %, latencies in ms). FLOPs and params "
                                     "are always predicted: they are computed exactly for every cell.")
    c1, c2, c3, c4 = st.columns(4)
    train_size = c1.number_input("Training cells", 1, len(bench), 200, 50, key="train_size",
                                 help="Uniformly random cells whose labels the predictor learns from")
    members = c2.number_input("Members", 1, 8, 4, 1, key="train_members",
                              help="Members per model kind; each member leaves out its own fold of the cells "
                                   "(1/8 with 4 per kind and two kinds) to calibrate the intervals "
                                   "(2 or more needed)")
    epochs = c3.number_input("Epochs", 1, 2000, TrainConfig.epochs, 50, key="train_epochs",
                             help=f"Passes over the training cells, in batches of {TrainConfig.batch_size} "
                                  f"(at most {TrainConfig.max_steps:,} steps per member: a larger set gets "
                                  "larger batches)")
    seed = c4.number_input("Seed", 0, 10_000, 0, 1, key="train_seed", help="Which random cells, and the init")
    models = st.selectbox("Member models", list(MEMBER_CHOICES), key="train_models",
                          help="GIN passes messages along the cell's graph; DAG-execution runs the cell as a "
                               "program, node after node. Together they rank cells better than GIN alone "
                               "(BENCHMARKS.md). Each kind gets the chosen number of members.")
    noise_aware = st.checkbox("Noise-aware (for guidance)", key="train_noise_aware",
                              help="Also learn from noisy soft encodings, as diffusion guidance needs")
    task = tasks().get(TRAIN_TASK)
    running = task is not None and task.running
    if st.button("Train", key="train_go", type="primary", disabled=running):
        try:
            if not objectives:
                raise PredictorSetupError("Choose at least one objective to predict (e.g. test_acc@cifar10).")
            check_training_request(bench, objectives, int(train_size), members=int(members), epochs=int(epochs),
                                   seed=int(seed), member_kinds=MEMBER_CHOICES[models])
        except PredictorSetupError as exc:
            st.error(f"Cannot train: {exc}")
        else:
            store = run_store()
            args = dict(objectives=list(objectives), train_size=int(train_size), members=int(members),
                        epochs=int(epochs), seed=int(seed), noise_aware=bool(noise_aware),
                        member_kinds=MEMBER_CHOICES[models])

            def train(task, store=store, args=args):
                run, predictor, evaluation = train_predictor_run(store, bench, **args, report=task.report)
                return {"run_id": run.id, "view": {"title": f"Trained predictor {run.name}",
                                                   "protocol": describe_protocol(predictor),
                                                   "evaluation": evaluation, "members": len(predictor.members)}}

            task = tasks().start(TRAIN_TASK, f"Training a predictor on {int(train_size):,} cells", train)
    task_panel(task, key=TRAIN_TASK)
    view = None
    if task is not None and task.status == "done" and task.result:
        views.setdefault(f"run::{task.result['run_id']}", task.result["view"])
        view = views[f"run::{task.result['run_id']}"]
        st.caption(f"Saved as run `{task.result['run_id']}`: load it again under **{SOURCES[2]}**.")
    show(view, "Choose objectives and sizes, then press **Train**. The predictor is saved in the run store. "
               "Small settings (50 cells, 1 member, 3 epochs) train in seconds; the defaults (200 cells) in about "
               "a minute on 2 cores.")

# ---- (c) a trained predictor from the run store ---------------------------------------------
else:
    try:
        runs = run_store().list(RUN_KIND)
    except (RunStoreError, OSError) as exc:
        st.error(f"Cannot read the run store: {exc}")
        st.stop()
    done = [r for r in runs if r.status == "done"]
    others = len(runs) - len(done)
    if not done:
        st.info("No trained predictor yet. Train one under **Train a new predictor**"
                + (f" ({others} earlier run(s) did not finish)." if others else "."))
    else:
        by_id = {r.id: r for r in done}

        def describe(run_id: str) -> str:
            r = by_id[run_id]
            return f"{r.name} · {fmt_time(r.created)} · {run_id}"

        run_id = st.selectbox("Trained predictor", list(by_id), format_func=describe, key="load_run",
                              help="Predictor runs of the run store, newest first")
        if others:
            st.caption(f"{others} other predictor run(s) failed, were cancelled or are still running: not listed.")
        run = by_id[run_id]
        key = f"run::{run_id}"
        if key not in views:
            try:
                views[key] = _run_view(run_id, str(run.path), f"Trained predictor {run.name}")
            except (CheckpointError, PredictorSetupError, OSError) as exc:
                st.error(f"Cannot load run {run_id}: {exc}")
        show(views.get(key), "This run could not be loaded; train a new predictor instead.")
