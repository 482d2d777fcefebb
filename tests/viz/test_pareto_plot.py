"""Objective scatter plots: axis labels, the true front against brute force on the real table, traces."""
import numpy as np
import pandas as pd
import pytest

from nagui.viz import (OBJECTIVE_COLORS, axis_label, direction_hint, maximise, objective_color, search_space_scatter,
                       subnet_scatter, front_frame)


def brute_force_front(x: np.ndarray, y: np.ndarray, x_max: bool, y_max: bool) -> set[int]:
    """Positions of rows no other row dominates (all-minimisation, NaN rows excluded)."""
    fx, fy = (-x if x_max else x), (-y if y_max else y)
    ok = np.isfinite(fx) & np.isfinite(fy)
    fx, fy = fx[ok], fy[ok]
    pos = np.nonzero(ok)[0]
    keep = set()
    for start in range(0, len(fx), 2000):
        a, b = fx[start:start + 2000, None], fy[start:start + 2000, None]
        dominated = ((fx <= a) & (fy <= b) & ((fx < a) | (fy < b))).any(axis=1)
        keep.update(int(p) for p in pos[start:start + 2000][~dominated])
    return keep


@pytest.mark.parametrize("column, label", [
    ("test_acc@cifar10", "CIFAR-10 test accuracy (%)"),
    ("test_acc@cifar100", "CIFAR-100 test accuracy (%)"),
    ("test_acc@ImageNet16-120", "ImageNet16-120 test accuracy (%)"),
    ("valid_acc_12ep@cifar10", "CIFAR-10 validation accuracy, 12 epochs (%)"),
    ("flops", "FLOPs (M)"),
    ("params", "Params (M)"),
    ("latency@raspi4", "Latency on raspi4 (ms)"),
    ("latency@titanx_32", "Latency on titanx_32 (ms)"),
    ("latency_ms", "Latency here, onnxruntime (ms)"),
    ("accuracy", "Held-out accuracy (%)"),
    ("peak_activation_mb", "Peak activation memory (MB)"),
    ("memory_mb", "Memory (MB)"),
])
def test_axis_labels(column, label):
    assert axis_label(column) == label


def test_every_table_column_gets_a_unit(bench):
    for col in bench.table.columns:
        if col.startswith(("test_acc", "valid_acc", "latency")) or col in ("flops", "params"):
            assert axis_label(col).endswith(("(%)", "(ms)", "(M)")), col


def test_directions_and_colours():
    assert maximise("test_acc@cifar10") and maximise("accuracy") and maximise("valid_acc_12ep@cifar100")
    assert not any(maximise(c) for c in ("flops", "params", "latency@pixel3", "latency_ms", "peak_activation_mb"))
    assert direction_hint("test_acc@cifar10", "y") == "↑ better" and direction_hint("flops", "x") == "← better"
    assert direction_hint("flops", "y") == "↓ better" and direction_hint("accuracy", "x") == "→ better"
    assert set(OBJECTIVE_COLORS) == {"accuracy", "flops", "params", "latency", "memory"}
    assert len(set(OBJECTIVE_COLORS.values())) == 5
    assert objective_color("latency@raspi4") == objective_color("latency_ms") == OBJECTIVE_COLORS["latency"]
    assert objective_color("test_acc@cifar100") == objective_color("accuracy") == OBJECTIVE_COLORS["accuracy"]


@pytest.mark.parametrize("x, y", [("flops", "test_acc@cifar10"), ("latency@raspi4", "test_acc@cifar100"),
                                  ("params", "flops")])
def test_true_front_matches_brute_force(bench, x, y):
    table = bench.table
    front = front_frame(table, x, y)
    expected = brute_force_front(table[x].to_numpy(float), table[y].to_numpy(float), maximise(x), maximise(y))
    assert {table.index.get_loc(i) for i in front.index} == expected
    assert front[x].is_monotonic_increasing
    assert front[[x, y]].notna().all().all()
    if maximise(y) != maximise(x):   # cost vs accuracy: more cost buys more accuracy along the front
        assert front[y].is_monotonic_increasing


def test_search_space_scatter(bench):
    table = bench.table
    x, y = "flops", "test_acc@cifar10"
    front = front_frame(table, x, y)
    samples = table.sample(25, random_state=0).reset_index()          # 'index' column = NB201 index
    baseline = table.sample(10, random_state=1).reset_index().to_dict("records")
    fig = search_space_scatter(table, x, y, front=front, samples=samples, baseline=baseline,
                               baseline_name="random search", selected=3731)
    traces = {t.name: t for t in fig.data}
    assert list(traces) == ["all cells", "true front", "random search", "generated", "selected"]
    assert all(t.type == "scattergl" for t in fig.data)
    background = traces["all cells"]
    assert len(background.customdata) == len(table) == 15625
    assert list(background.customdata[:3]) == [0, 1, 2]
    assert list(traces["true front"].customdata) == list(front.index)
    assert list(traces["generated"].customdata) == list(samples["index"])
    assert len(traces["random search"].customdata) == 10
    sel = traces["selected"]
    assert list(sel.customdata) == [3731] and sel.x[0] == table.loc[3731, x] and sel.y[0] == table.loc[3731, y]
    assert sel.marker.symbol == "circle-open" and sel.marker.size > traces["generated"].marker.size
    assert "arch #" in traces["generated"].hovertemplate and "FLOPs (M)" in traces["generated"].hovertemplate
    assert fig.layout.xaxis.title.text.startswith("FLOPs (M)") and "← better" in fig.layout.xaxis.title.text
    assert "CIFAR-10 test accuracy (%)" in fig.layout.yaxis.title.text and "↑ better" in fig.layout.yaxis.title.text
    assert "better" in fig.layout.title.text
    assert fig.layout.clickmode == "event+select" and fig.layout.legend.orientation == "h"
    # optional layers are left out
    assert [t.name for t in search_space_scatter(table, x, y).data] == ["all cells"]
    # without the grey cloud every layer is SVG (a WebGL chart costs ~0.3 s to start in software)
    light = search_space_scatter(table, x, y, front=front, samples=samples, selected=3731, background=False)
    assert [t.name for t in light.data] == ["true front", "generated", "selected"]
    assert {t.type for t in light.data} == {"scatter"}
    assert list(light.data[1].customdata) == list(samples["index"])


def _records():
    rng = np.random.default_rng(0)
    return [{"mask": f"on,on,on,on,on,on|{i + 1:05b},11111,11111",
             "accuracy": float(rng.uniform(80, 93)), "latency_ms": float(rng.uniform(1, 6)),
             "flops": float(rng.uniform(10, 100)), "params": float(rng.uniform(0.1, 1.0))} for i in range(30)]


def test_subnet_scatter():
    records = _records()
    fig = subnet_scatter(records, current=records[4])
    traces = {t.name: t for t in fig.data}
    assert list(traces) == ["sub-networks", "pareto set", "current choice"]
    assert list(traces["sub-networks"].customdata) == [r["mask"] for r in records]
    pareto = traces["pareto set"]
    assert pareto.mode == "lines+markers" and list(pareto.x) == sorted(pareto.x)
    # the pareto set is exactly the (latency, accuracy) non-dominated records
    lat = np.array([r["latency_ms"] for r in records])
    acc = np.array([r["accuracy"] for r in records])
    expected = brute_force_front(lat, acc, x_max=False, y_max=True)
    assert set(pareto.customdata) == {records[i]["mask"] for i in expected}
    star = traces["current choice"]
    assert star.marker.symbol == "star" and list(star.customdata) == [records[4]["mask"]]
    assert fig.layout.xaxis.title.text.startswith("Latency here, onnxruntime (ms)")
    assert fig.layout.yaxis.title.text.startswith("Held-out accuracy (%)")


def test_subnet_scatter_given_pareto_and_empty():
    records = _records()
    fig = subnet_scatter(records, x="flops", y="accuracy", pareto=records[:3])
    assert len(fig.data[1].customdata) == 3 and fig.layout.xaxis.title.text.startswith("FLOPs (M)")
    empty = subnet_scatter([])
    assert len(empty.data) == 0 and "no sub-networks" in empty.layout.annotations[0].text
    empty.to_json()


def test_one_per_class_background_keeps_only_canonical_cells(bench):
    table = bench.table
    fig = search_space_scatter(table, "flops", "test_acc@cifar10", one_per_class=True)
    background = next(t for t in fig.data if t.name == "all cells")
    canonical = set(table.index[table["canonical_id"] == table.index])
    assert len(background.customdata) == len(canonical) == 6466
    assert set(int(i) for i in background.customdata) == canonical


def test_selecting_a_cell_that_is_not_the_first_of_its_class_draws_it(bench):
    """The Generate page once crashed (KeyError) when the clicked cell was not the smallest
    NB201 index of its isomorphism class: the background keeps one cell per class, and the
    selected cell was looked up in that reduced table."""
    table = bench.table
    x, y = "flops", "test_acc@cifar10"
    others = table.index[table["canonical_id"] != table.index]
    assert len(others) > 9000                       # 15,625 cells in 6,466 classes
    for idx in (int(others[0]), int(others[len(others) // 2]), 7690, 7450):
        assert table.loc[idx, "canonical_id"] != idx
        fig = search_space_scatter(table, x, y, selected=idx, one_per_class=True)
        ring = next(t for t in fig.data if t.name == "selected")
        assert list(ring.customdata) == [idx]
        assert ring.x[0] == pytest.approx(table.loc[idx, x]) and ring.y[0] == pytest.approx(table.loc[idx, y])
    with pytest.raises(KeyError, match="#99999"):
        search_space_scatter(table, x, y, selected=99999, one_per_class=True)


def test_the_y_axis_shows_where_the_points_are_unless_the_full_range_is_asked(bench):
    """Accuracies of interest (85-94%) fill the chart instead of a thin band above the 10%
    of disconnected cells; ``focus=False`` shows every cell."""
    from nagui.viz import focus_range, front_frame, search_space_scatter

    table, acc = bench.table, "test_acc@cifar10"
    top = table.nlargest(40, acc)
    samples = top[[acc, "flops"]].assign(index=top.index)
    fig = search_space_scatter(table, "flops", acc, front=front_frame(table, "flops", acc), samples=samples)
    lo, hi = fig.layout.yaxis.range
    assert samples[acc].quantile(0.01) - 1 < lo < samples[acc].min() and hi > table[acc].max()
    assert lo > 80 and table[acc].min() < 20                      # the band of interest, not 10-100%
    full = search_space_scatter(table, "flops", acc, front=front_frame(table, "flops", acc), samples=samples,
                                focus=False)
    assert full.layout.yaxis.range is None                        # plotly's autorange over every cell
    assert focus_range([1.0, float("nan"), 3.0], low_percentile=0.0) == pytest.approx([0.92, 3.08])
    assert focus_range([float("nan")]) is None


def test_a_baseline_reaching_the_10_percent_cells_does_not_stretch_the_focused_y_axis(bench):
    """An NSGA-II front spans down to the cheapest disconnected cells (10% on CIFAR-10): the
    focused axis stays on the generated points, raised to the baseline's best, and the chart
    says how many drawn points lie below it."""
    from nagui.viz import front_frame, search_space_scatter

    table, acc = bench.table, "test_acc@cifar10"
    top = table.nlargest(40, acc)
    samples = top[[acc, "flops"]].assign(index=top.index)
    cheap = table.nsmallest(12, acc)                                  # 10% cells, as a baseline front reaches them
    base = pd.concat([cheap, table.nlargest(1, acc)])
    baseline = base[[acc, "flops"]].assign(index=base.index)
    fig = search_space_scatter(table, "flops", acc, front=front_frame(table, "flops", acc), samples=samples,
                               baseline=baseline, baseline_name="NSGA-II")
    lo, hi = fig.layout.yaxis.range
    assert lo > 80 and hi > table[acc].max()
    notes = [a.text for a in fig.layout.annotations]
    assert any(n.startswith("12 points below this range") for n in notes), notes
    # only a baseline drawn: its own robust range (a few outliers are fenced off too)
    only = search_space_scatter(table, "flops", acc, baseline=pd.concat([samples, baseline.iloc[:3]]))
    assert only.layout.yaxis.range[0] > 80
    assert any(a.text.startswith("3 points below") for a in only.layout.annotations)
    unfocused = search_space_scatter(table, "flops", acc, samples=samples, baseline=baseline, focus=False)
    assert unfocused.layout.yaxis.range is None and not unfocused.layout.annotations


def test_focus_range_fences_off_far_outliers_unless_asked_not_to():
    from nagui.viz import focus_range

    values = [88.0, 89.0, 90.0, 91.0, 92.0, 93.0, 94.0] * 10 + [10.0]
    lo, hi = focus_range(values, low_percentile=0.0)
    assert 70 < lo < 88 and hi > 94                                # Q1 89 - 3 x IQR 4 = 77, padded
    assert focus_range(values, low_percentile=0.0, fence=None)[0] < 10
