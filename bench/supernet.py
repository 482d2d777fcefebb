"""The super-network: coverage, shared-weight accuracy, standalone gap, speed.

    nagui bench supernet --parts coverage --seeds 3 --out OUT              # no training
    nagui bench supernet --parts train --preset quick --out OUT            # 2 CPU cores
    nagui bench supernet --parts train --preset full --device cuda --budget-s 240 --out OUT
    nagui bench supernet --parts recipes --recipes sandwich,progressive --epochs 30 --preset full --device cuda --out OUT

Parts:

1. coverage — for every dataset x {flops, raspi4}: the chosen super-cell's true HV ratio
   (``direct`` and ``assemble``, guiding predictor in transfer mode, k = 20), the best of
   all 15,625 super-cells (exhaustive optimum, with both down states, none only, skip
   only) and the best single cell (what one architecture covers);
2. train — train the super-network of the CIFAR-10 acc-FLOPs build with a preset, profile
   its masks, Kendall tau between shared-weight and NB201 table accuracy (full-depth
   sub-cells), 3 sub-networks trained standalone with the same recipe vs their
   shared-weight accuracy, onnxruntime vs eager latency, the time to measure a new mask
   and to re-select after a limit changes;
3. recipes — the weight-sharing recipes side by side: each trained once with the same
   spec, data, epochs and seed, every distinct full-depth sub-cell scored on the CIFAR-10
   test split, Kendall τ against the table's 3-seed mean and the gap to the same cell
   trained alone (the table), with BN recalibrated and with batch statistics.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from nagui.progress import printed, quiet


say = printed(seconds=2)   # progress and summaries on stderr


def machine() -> dict:
    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


# ------------------------------------------------------------------------------ coverage
def part_coverage(args) -> list[dict]:
    from nagui.data import Benchmark
    from nagui.diffusion.generate import load_or_train
    from nagui.diffusion.problem import PredictorSpec, accuracy_predictor
    from nagui.problem import Problem
    from nagui.diffusion.tables import CellTables
    from nagui.supernet.build import BuildRequest, build
    from nagui.supernet.coverage import CoverageScorer

    bench = Benchmark.load(args.data_dir)
    tables = CellTables(bench)
    model = load_or_train(say=say)
    every = tables.space.all_indices.numpy()
    rows = []
    for dataset in args.datasets.split(","):
        for cost in args.costs.split(","):
            problem = Problem.parse(dataset, f"test_acc,{cost}")
            truth = CoverageScorer(np.stack([tables.column(o) for o in problem.objectives], 1), problem.objectives)
            optimum = {d: float(truth.ratio(every, down=d).max()) for d in ("both", "none", "skip")}
            # one architecture alone: its HV ratio against the same front
            single = float(_single_cell_hv(truth).max())
            predictor = accuracy_predictor(bench, dataset, PredictorSpec(), say=say)
            for strategy in ("direct", "assemble"):
                for seed in range(args.seeds):
                    r = build(bench, BuildRequest(dataset=dataset, objectives=f"test_acc,{cost}", strategy=strategy,
                                                  seed=seed, n=args.n), model, predictor=predictor, tables=tables,
                              say=quiet)
                    rows.append({"dataset": dataset, "objectives": f"test_acc,{cost}", "strategy": strategy,
                                 "seed": seed, "super_cell": r.spec.super_cell.to_str(),
                                 "true_coverage": r.true_coverage, "predicted_coverage": r.predicted_coverage,
                                 "optimum_both": optimum["both"], "optimum_none_only": optimum["none"],
                                 "optimum_skip_only": optimum["skip"], "best_single_cell": single,
                                 "candidates": r.candidates, "build_s": round(r.seconds, 2)})
                    say(f"{dataset} {cost} {strategy} seed {seed}: coverage {r.true_coverage:.4f} "
                        f"(optimum {optimum['both']:.4f}, best single cell {single:.4f})")
    return rows


def _single_cell_hv(scorer) -> np.ndarray:
    from nagui.pareto import hypervolume_2d

    pts = scorer.normalised[:, None, :]
    return hypervolume_2d(pts) / scorer.front_hv


def coverage_table(rows: list[dict]) -> str:
    out = ["| dataset | objectives | strategy | chosen super-cell's coverage (mean ± sd over seeds) | exhaustive optimum "
           "(both / none only / skip only) | best single cell |", "|---|---|---|---|---|---|"]
    keys = sorted({(r["dataset"], r["objectives"], r["strategy"]) for r in rows}, key=str)
    for d, o, s in keys:
        sel = [r for r in rows if (r["dataset"], r["objectives"], r["strategy"]) == (d, o, s)]
        cov = np.array([r["true_coverage"] for r in sel])
        r0 = sel[0]
        out.append(f"| {d} | {o} | {s} | {cov.mean():.4f} ± {cov.std():.4f} | {r0['optimum_both']:.4f} / "
                   f"{r0['optimum_none_only']:.4f} / {r0['optimum_skip_only']:.4f} | {r0['best_single_cell']:.4f} |")
    return "\n".join(out)


# --------------------------------------------------------------------------------- train
def part_train(args) -> dict:
    from nagui.nets.supernet import BlockMask, SubNetwork
    from nagui.supernet.profile import Profiler, ProfileSettings, kendall_tau, masks_to_profile
    from nagui.supernet.sandwich import preset
    from nagui.supernet.select import Limits, select
    from nagui.supernet.standalone import train_standalone
    from nagui.supernet.trainer import train_supernet
    from nagui.supernet.training_data import load_train_heldout

    run = Path(args.run or Path(args.out) / f"run-{args.preset}")
    spec, config = preset(args.preset, args.super_cell, epochs=args.epochs, batch_size=args.batch_size,
                          train_per_class=args.train_per_class)
    if args.budget_s:            # size the epochs to a time budget: time one epoch of a throwaway run first
        probe = run.parent / f"{run.name}-probe"
        summary = train_supernet(probe, spec, _replace(config, epochs=50), args.images, args.device,
                                 stop_after_epochs=1)
        epoch_s = summary["history"][0]["epoch_s"]
        epochs = max(1, int(args.budget_s // epoch_s))
        say(f"one epoch takes {epoch_s:.1f} s: {epochs} epochs fit {args.budget_s} s")
        config = _replace(config, epochs=epochs)
    start = time.perf_counter()
    summary = train_supernet(run, spec, config, args.images, args.device, progress=say)
    wall = time.perf_counter() - start
    result = {"preset": args.preset, "spec": spec.as_dict(), "config": config.as_dict(), "device": args.device,
              "machine": machine(), "train_s": summary["train_s"], "train_wall_s": round(wall, 1),
              "heldout_acc_largest": summary["heldout_acc_largest"],
              "heldout_acc_smallest": summary["heldout_acc_smallest"], "history": summary["history"]}
    _dump(args, "train", result)

    bench = None
    try:
        from nagui.data import Benchmark
        bench = Benchmark.load(args.data_dir)
    except Exception as exc:  # the GPU machine has no tables: tau is computed afterwards from the records
        say(f"no NB201 table here ({exc}); Kendall tau is left to --records")
    profiler = Profiler(run, data_root=args.images, settings=ProfileSettings(calibration_images=500),
                        bench=bench, device=args.device)
    masks = masks_to_profile(spec, limit=args.limit, seed=0)
    say(f"profiling {len(masks)} masks ...")
    profile_start = time.perf_counter()
    records = profiler.profile(masks, say)
    result["profile"] = {"masks": len(records), "of": len(masks_to_profile(spec)),
                         "measure_s_mean": float(np.mean([r["measure_s"] for r in records])),
                         "measure_s_p95": float(np.percentile([r["measure_s"] for r in records], 95)),
                         "heldout_images": records[0]["heldout_images"],
                         "wall_s": round(time.perf_counter() - profile_start, 1)}
    result["records"] = records
    if bench is not None:
        result["kendall_tau"], result["tau_cells"] = kendall_tau(records)
    _dump(args, "train", result)

    # re-selecting after a limit change: every slider move is one select() call
    rng = np.random.default_rng(0)
    lat = np.array([r["latency_ms"] for r in records])
    times = []
    for _ in range(200):
        limits = Limits(max_latency_ms=float(rng.uniform(lat.min(), lat.max())),
                        min_accuracy=float(rng.uniform(0, 50)))
        t = time.perf_counter()
        select(records, limits)
        times.append((time.perf_counter() - t) * 1e3)
    result["reselect_ms_p95"] = float(np.percentile(times, 95))

    # onnxruntime vs eager latency of the same sub-networks (batch 1, one thread)
    from nagui.measure.latency import LatencyConfig, eager_latency, export_onnx, ort_latency
    latency_rows = []
    for r in sorted(records, key=lambda r: r["flops"])[:: max(1, len(records) // 5)][:5]:
        sub = profiler.calibrated(r["mask"]).cpu()
        cfg = LatencyConfig(runs=30, warmup=10)
        latency_rows.append({"mask": r["mask"], "flops": r["flops"], "ort_ms": ort_latency(export_onnx(sub), cfg).p50_ms,
                             "eager_ms": eager_latency(sub, cfg).p50_ms})
    result["latency"] = latency_rows
    _dump(args, "train", result)

    # 3 sub-networks trained standalone with the same recipe
    if args.standalone:
        train_images, heldout = load_train_heldout(config, args.images)
        full = sorted([r for r in records if r["full_depth"]], key=lambda r: r["flops"])
        picks = [full[-1], full[len(full) // 2], full[0]]
        gap = []
        for r in picks:
            mask = BlockMask.parse(r["mask"], spec)
            torch.manual_seed(config.seed)
            sub = SubNetwork(mask.sub_cell(spec), mask.depth(), spec.channels, spec.num_classes)
            timing = train_standalone(sub, config, train_images, args.device)
            from nagui.supernet.evaluation import accuracy
            acc = accuracy(sub.eval(), profiler.heldout)
            gap.append({"mask": r["mask"], "cell": r["cell"], "flops": r["flops"], "shared_weight_acc": r["accuracy"],
                        "standalone_acc": round(acc, 2), "gap": round(acc - r["accuracy"], 2), **timing})
            say(f"standalone {r['mask']}: {acc:.2f}% vs shared {r['accuracy']:.2f}%")
            result["standalone"] = gap
            _dump(args, "train", result)
    return result


# ------------------------------------------------------------------------------- recipes
def part_recipes(args) -> dict:
    """Train the super-network once per recipe (same spec, data, epochs and seed), then score
    every distinct full-depth sub-cell on the CIFAR-10 test split (BN recalibrated, and with
    batch statistics) against the table: one row per recipe."""
    from nagui.nets.supernet import BlockMask
    from nagui.supernet.checkpoint import load_supernet
    from nagui.supernet.images import default_image_root, first_per_class, load_image_folder
    from nagui.supernet.ranking import against_table, full_depth_masks, score_masks
    from nagui.supernet.sandwich import preset
    from nagui.supernet.trainer import train_supernet
    from nagui.supernet.training_data import load_train_heldout

    bench = _bench_or_none(args)
    root = Path(args.images) if args.images else default_image_root()
    test = load_image_folder(root, "test")
    if args.test_images:
        test = first_per_class(test, max(1, args.test_images // len(test.classes)))
    rows, records = [], {}
    for recipe in args.recipes.split(","):
        spec, config = preset(args.preset, args.super_cell, recipe=recipe, epochs=args.epochs,
                              batch_size=args.batch_size, train_per_class=args.train_per_class)
        run = Path(args.out) / f"recipe-{recipe}-{args.preset}-e{config.epochs}"
        say(f"{recipe}: training {config.epochs} epochs into {run}")
        summary = train_supernet(run, spec, config, args.images, args.device, progress=say)
        model, meta = load_supernet(run, args.device)
        train_images, _ = load_train_heldout(config, args.images)
        order = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(1234))
        calibration = train_images.subset(order[:500])
        masks = full_depth_masks(model)
        say(f"{recipe}: scoring {len(masks)} full-depth sub-cells on {len(test)} test images")
        scored = score_masks(model, masks, calibration, test, args.device)
        largest, smallest = score_masks(model, [BlockMask.largest(spec), BlockMask.smallest(spec)], calibration,
                                        test, args.device)
        speeds = [h["images_per_s"] for h in summary["history"]]
        row = {"recipe": recipe, "preset": args.preset, "epochs": config.epochs, "device": meta.get("device"),
               "images_per_s": round(float(np.median(speeds)), 1), "train_s": summary["train_s"],
               "largest_test_acc": largest["acc_recalibrated"], "smallest_test_acc": smallest["acc_recalibrated"],
               "test_images": len(test), "config": config.as_dict()}
        if bench is not None:
            row.update(against_table(scored, bench))
        rows.append(row)
        records[recipe] = scored
        say(json.dumps({k: v for k, v in row.items() if k != "config"}))
        _dump(args, "recipes", {"rows": rows, "records": records, "machine": machine()})
    return {"rows": rows, "records": records, "machine": machine()}


def _bench_or_none(args):
    try:
        from nagui.data import Benchmark
        return Benchmark.load(args.data_dir)
    except Exception as exc:  # the GPU machine has no tables: tau is added afterwards with --records
        say(f"no NB201 table here ({exc}); the table columns are left to --records")
        return None


def recipes_report(result: dict) -> str:
    lines = ["| recipe | epochs | images/s | largest / smallest test acc | Kendall τ vs table (recalibrated BN / "
             "batch stats) | gap to table, mean / worst (recalibrated BN) | on the front: mean / worst | "
             "full-depth cells | device |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        tau = (f"{r['tau_recalibrated']:.3f} / {r['tau_batch_stats']:.3f}" if "tau_recalibrated" in r else "n/a")
        gap = (f"{r['gap_mean_recalibrated']:.2f} / {r['gap_worst_recalibrated']:.2f}"
               if "gap_mean_recalibrated" in r else "n/a")
        front = (f"{r['front_gap_mean_recalibrated']:.2f} / {r['front_gap_worst_recalibrated']:.2f} "
                 f"({r['front_cells']} cells)" if "front_gap_mean_recalibrated" in r else "n/a")
        lines.append(f"| {r['recipe']} | {r['epochs']} | {r['images_per_s']:.0f} | {r['largest_test_acc']:.2f}% / "
                     f"{r['smallest_test_acc']:.2f}% | {tau} | {gap} | {front} | {r.get('cells', 'n/a')} | "
                     f"{r['device']} |")
    return "\n".join(lines)


def _measured_elsewhere(path: str, data_dir=None):
    """(the JSON written by a run where the table was absent, e.g. the GPU machine; the table)."""
    from nagui.data import Benchmark

    return json.loads(Path(path).read_text()), Benchmark.load(data_dir)


def recipes_records_report(path: str, data_dir=None) -> str:
    """The recipe table for records scored where the table was absent (e.g. the GPU run)."""
    from nagui.supernet.ranking import against_table

    result, bench = _measured_elsewhere(path, data_dir)
    for row in result["rows"]:
        row.update(against_table(result["records"][row["recipe"]], bench))
    return recipes_report(result)


def _replace(config, **kw):
    from dataclasses import replace
    return replace(config, **kw)


def _dump(args, name: str, payload) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.json.part"
    tmp.write_text(json.dumps(payload, indent=2, default=float))
    tmp.replace(out / f"{name}.json")


def train_report(result: dict) -> str:
    lines = [f"preset {result['preset']} on {result['device']} ({result['machine']}): super-cell "
             f"{result['spec']['super_cell']}, slots {result['spec']['slots']}, C = {result['spec']['channels']}, "
             f"{result['config']['epochs']} epochs, batch {result['config']['batch_size']}",
             f"- training: {result['train_s']:.0f} s; held-out accuracy largest {result['heldout_acc_largest']:.2f}%, "
             f"smallest {result['heldout_acc_smallest']:.2f}%"]
    if "profile" in result:
        p = result["profile"]
        lines.append(f"- profiled {p['masks']} of {p['of']} masks in {p.get('wall_s', float('nan')):.0f} s; measuring a new mask: mean {p['measure_s_mean']:.2f} s,"
                     f" p95 {p['measure_s_p95']:.2f} s ({p['heldout_images']} held-out images)")
    if "kendall_tau" in result:
        lines.append(f"- Kendall tau, shared-weight vs NB201 table accuracy: {result['kendall_tau']:.3f} "
                     f"over {result['tau_cells']} full-depth sub-cells")
    if "reselect_ms_p95" in result:
        lines.append(f"- re-selecting after a limit change: p95 {result['reselect_ms_p95']:.2f} ms")
    for r in result.get("latency", []):
        lines.append(f"- latency {r['mask']} ({r['flops']:.1f} MFLOPs): onnxruntime {r['ort_ms']:.3f} ms, "
                     f"eager {r['eager_ms']:.3f} ms")
    for r in result.get("standalone", []):
        lines.append(f"- standalone {r['mask']} ({r['flops']:.1f} MFLOPs): {r['standalone_acc']:.2f}% vs "
                     f"shared-weight {r['shared_weight_acc']:.2f}% (gap {r['gap']:+.2f}; {r['train_s']:.0f} s)")
    return "\n".join(lines)


def records_report(path: str, data_dir=None) -> str:
    """Kendall tau for records measured where the table was absent (e.g. the GPU run)."""
    from nagui.supernet.profile import kendall_tau

    result, bench = _measured_elsewhere(path, data_dir)
    for r in result["records"]:
        r["table_acc"] = float(bench.lookup(r["cell"])["test_acc@cifar10"])
    result["kendall_tau"], result["tau_cells"] = kendall_tau(result["records"])
    return train_report(result)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="coverage,train")
    p.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    p.add_argument("--costs", default="flops,latency@raspi4")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--preset", default="quick")
    p.add_argument("--super-cell", default="|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_1x1~0|"
                   "nor_conv_1x1~1|nor_conv_1x1~2|", help="default: what `nagui supernet build` chooses for "
                   "CIFAR-10 acc-FLOPs (transfer, k = 20)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--train-per-class", type=lambda t: t if t == "all" else int(t),
                   help="training images per class, or 'all'")
    p.add_argument("--recipes", default="sandwich,progressive", help="recipes compared by --parts recipes")
    p.add_argument("--test-images", type=int, help="test-split images scored by --parts recipes (default: all)")
    p.add_argument("--budget-s", type=float, help="size the epochs to this training time")
    p.add_argument("--limit", type=int, default=60, help="masks profiled")
    p.add_argument("--no-standalone", dest="standalone", action="store_false")
    p.add_argument("--device", default="cpu")
    p.add_argument("--images", help="ImageFolder root (default: <data dir>/cifar10-jpeg)")
    p.add_argument("--data-dir")
    p.add_argument("--run")
    p.add_argument("--records", help="print the report of a train.json measured elsewhere (adds Kendall tau)")
    p.add_argument("--out", default="bench-supernet")
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    if args.records:
        report = recipes_records_report if Path(args.records).name == "recipes.json" else records_report
        print(report(args.records, args.data_dir))
        return
    parts = args.parts.split(",")
    if "coverage" in parts:
        rows = part_coverage(args)
        _dump(args, "coverage", rows)
        print(coverage_table(rows))
    if "train" in parts:
        print(train_report(part_train(args)))
    if "recipes" in parts:
        print(recipes_report(part_recipes(args)))


if __name__ == "__main__":
    main()
