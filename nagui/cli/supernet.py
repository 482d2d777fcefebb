"""``nagui supernet build|train|profile|select|export|ship``: the super-network workflow
(argument parsing and printing only; which run a command uses lives in nagui.cli.supernet_runs)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..data import Benchmark
from ..problem import ProblemError
from .supernet_runs import (_run_dir, _say, _settings, _trained_run_dir, add_ship_parser,
                                 json_record)
from ..supernet.config import BUILD_STRATEGIES, PRESETS, RECIPES
from ..supernet.select import Limits, SelectionError, pareto_set, select
from .common import EXIT_USAGE
# Each command's machinery (torch, the models, the table) is imported inside the command:
# `nagui --help` imports this module and stays fast.

PROFILE_LIMIT = {"quick": 60, "full": None}     # masks profiled by default (None: every distinct one)
EXIT_INFEASIBLE = 3                             # select/export: no profiled sub-network within the limits


def _user_errors() -> tuple[type[Exception], ...]:
    # deferred: keeps `nagui --help` fast
    from ..nets.supernet import MaskError
    from ..supernet.build import BuildError
    from ..supernet.checkpoint import SupernetCheckpointError
    from ..supernet.export import SubnetworkFileError
    from ..supernet.images import ImageDataError
    from ..supernet.run_folder import RunFolderError

    return (ProblemError, MaskError, BuildError, SubnetworkFileError, ImageDataError, RunFolderError, SelectionError,
            SupernetCheckpointError)


def _guarded(fn):
    """Known bad input -> one readable line on stderr and exit status 2, never a traceback."""
    def run(args) -> int:
        try:
            return fn(args)
        except _user_errors() as exc:
            print(f"nagui supernet {args.supernet_command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    return run


def cmd_build(args) -> int:
    from ..diffusion.generate import resolve_device
    from ..diffusion.problem import PredictorSpec
    from ..supernet.build import BuildRequest, build_into, check_request

    preset = PRESETS[args.preset]
    slots = tuple(int(s) for s in args.slots.split(",")) if args.slots else preset["slots"]
    request = BuildRequest(dataset=args.dataset, objectives=args.objectives, strategy=args.strategy, n=args.n,
                           seed=args.seed, slots=slots, channels=args.channels or preset["channels"],
                           predictor=PredictorSpec(labels=args.labels, k=args.k))
    check_request(request)     # a bad request fails before the table loads
    run = _run_dir(args)
    result = build_into(run, Benchmark.load(args.data_dir), request, args.preset, device=resolve_device(args.device),
                        say=_say)
    out = result.as_dict()
    print(json.dumps(out, indent=2) if args.json else
          f"super-cell {result.spec.super_cell}  slots {list(result.spec.slots)}  channels {result.spec.channels}\n"
          f"  {out['sub_cells']} sub-cells; coverage of the {'-'.join(result.objectives)} front: predicted "
          f"{result.predicted_coverage:.3f}, true {result.true_coverage:.4f} (best of all 15,625 super-cells "
          f"{result.exhaustive_optimum:.4f}); {result.candidates} candidates ({result.strategy}), "
          f"{result.seconds:.1f} s\n  saved to {run / 'build.json'}")
    return 0


def _train_argv(args, spec, preset: str) -> list[str]:
    # --run-dir, not --run: torchrun would read --run as an abbreviation of its own --run-path
    argv = ["--run-dir", str(_run_dir(args)), "--super-cell", spec.super_cell.to_str(), "--preset", preset,
            "--channels", str(spec.channels), "--slots", ",".join(map(str, spec.slots)), "--device", args.device]
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--train-per-class", args.train_per_class), ("--data-root", args.images),
                        ("--recipe", args.recipe)):
        if value is not None:
            argv += [flag, str(value)]
    if args.no_resume:
        argv.append("--no-resume")
    return argv


def cmd_train(args) -> int:
    from ..supernet.run_folder import build_spec
    from . import supernet_train

    spec, preset = build_spec(_run_dir(args))
    preset = args.preset or preset
    argv = _train_argv(args, spec, preset)
    if args.nproc and args.nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}",
               "-m", "nagui.cli.supernet_train", *argv]
        _say("running: " + " ".join(cmd))
        return subprocess.call(cmd)
    return supernet_train.main(argv)


def _profiler(args):
    from ..supernet.profile import Profiler

    bench = Benchmark.load(args.data_dir)
    return Profiler(_trained_run_dir(args), data_root=args.images, settings=_settings(args), bench=bench,
                    dataset="cifar10")


def cmd_profile(args) -> int:
    from ..supernet.profile import kendall_tau, masks_to_profile, record_line
    from ..supernet.run_folder import build_spec

    _, preset = build_spec(_trained_run_dir(args))
    profiler = _profiler(args)
    limit = args.limit if args.limit is not None else PROFILE_LIMIT.get(preset)
    masks = masks_to_profile(profiler.spec, limit=limit, seed=args.seed)
    everything = masks_to_profile(profiler.spec)
    _say(f"profiling {len(masks)} of {len(everything)} distinct masks"
         + (f" (a seeded sample; --limit {limit})" if len(masks) < len(everything) else "") + " ...")
    start = time.perf_counter()

    records = profiler.profile(masks, _say)
    tau, n_tau = kendall_tau(records)
    front = pareto_set(records)
    summary = {"masks": len(records), "of": len(everything), "seconds": round(time.perf_counter() - start, 1),
               "kendall_tau_vs_table": tau, "tau_cells": n_tau, "pareto": front}
    _say(f"{len(records)} masks in {summary['seconds']} s; Kendall tau vs the NB201 table {tau:.3f} "
         f"({n_tau} full-depth sub-cells); {len(front)} on the Pareto set")
    if args.json and args.summary:
        print(json.dumps(summary, indent=2))
    elif args.json:
        print(json.dumps([json_record(r) for r in records], indent=2))
    else:
        print(f"{len(records)} masks profiled in {summary['seconds']} s; Kendall tau (shared-weight vs NB201 table "
              f"accuracy, {n_tau} full-depth sub-cells): {tau:.3f}\nPareto set (accuracy, latency, FLOPs):")
        for r in sorted(front, key=lambda r: r["latency_ms"]):
            print("  " + record_line(r))
    return 0


def _limits(args):
    return Limits(max_latency_ms=args.max_latency, max_flops=args.max_flops, max_params=args.max_params,
                  min_accuracy=args.min_accuracy)


def _selection(args):
    from ..supernet.profile import Profiler

    profiler = Profiler(_trained_run_dir(args), data_root=args.images, settings=_settings(args))
    return profiler, select(profiler.records(), _limits(args))


def cmd_select(args) -> int:
    from ..supernet.profile import record_line

    _, sel = _selection(args)
    if args.json:
        print(json.dumps({"ok": sel.ok, "best": sel.best, "feasible": sel.feasible, "nearest": sel.nearest,
                          "relax": sel.relax, "relax_one_alone": sel.alone,
                          "message": sel.message}, indent=2))
    else:
        print(sel.message)
        if sel.ok:
            print("  " + record_line(sel.best))
    return 0 if sel.ok else EXIT_INFEASIBLE


def cmd_export(args) -> int:
    import torch

    from ..supernet.export import export_subnetwork, onnx_logits
    from ..supernet.images import normalise

    if args.mask:
        from ..supernet.profile import Profiler

        profiler = Profiler(_trained_run_dir(args), data_root=args.images, settings=_settings(args))
        mask = args.mask
    else:
        profiler, sel = _selection(args)
        if not sel.ok:
            print(sel.message, file=sys.stderr)
            return EXIT_INFEASIBLE
        mask = sel.best["mask"]
    record = profiler.measure(mask)
    sub = profiler.calibrated(mask).cpu()
    out = Path(args.out) if args.out else _trained_run_dir(args) / "export"
    meta = {"mask": record["mask"], "super_cell": profiler.spec.super_cell.to_str(),
            "source_checkpoint_sha256": profiler.checkpoint, "measured": {k: record[k] for k in (
                "accuracy", "latency_ms", "flops", "params", "heldout_images")}}
    paths = export_subnetwork(sub, out, meta, classes=profiler.heldout.classes)
    x = normalise(profiler.heldout.images[:8])
    with torch.no_grad():
        eager = sub(x).numpy()
    diff = float(np.abs(onnx_logits(paths["onnx"], x.numpy()) - eager).max())
    print(f"exported {record['mask']} (accuracy {record['accuracy']:.2f}%, {record['latency_ms']:.3f} ms, "
          f"{record['flops']:.2f} MFLOPs)\n  {paths['onnx']}\n  {paths['weights']}\n  {paths['config']}\n"
          f"  ONNX vs PyTorch max |logit difference| on 8 held-out images: {diff:.2e}")
    return 0


def _add_run_args(p, images=True) -> None:
    p.add_argument("--run", help="run folder (build/train default: <user data dir>/runs/supernet/default; "
                   "profile/select/export default: the most recently trained run of the run store, else the "
                   "shipped super-network)")
    if images:
        p.add_argument("--images", help="ImageFolder root with train/ (default: <data dir>/cifar10-jpeg)")
    p.add_argument("--data-dir", help="NB201 data folder (default: NAGUI_DATA_DIR or ../shared/data)")


def _add_measuring_args(p) -> None:
    p.add_argument("--calibration-images", type=int,
                   help="train images for BN recalibration (default: the run's setting, else 500)")
    p.add_argument("--eval-images", type=int, help="held-out images scored (default: the run's setting, "
                   "else all set aside)")


def _add_limit_args(p) -> None:
    p.add_argument("--max-latency", type=float, help="ms (onnxruntime, batch 1, this machine)")
    p.add_argument("--max-flops", type=float, help="MFLOPs")
    p.add_argument("--max-params", type=float, help="millions")
    p.add_argument("--min-accuracy", type=float, help="%% held-out")


def _add_build_parser(sn) -> None:
    p = sn.add_parser("build", help="choose the super-cell from guided diffusion output (coverage of the front)")
    _add_run_args(p, images=False)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--objectives", default="test_acc,flops", help="one accuracy and one cost, e.g. test_acc,raspi4")
    p.add_argument("--strategy", choices=BUILD_STRATEGIES, default="direct",
                   help="direct: generate super-cells guided by predicted coverage; assemble: generate cells, "
                        "then merge them into super-cells")
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="macro size the run is trained at")
    p.add_argument("--channels", type=int)
    p.add_argument("--slots", help="cells per stage, e.g. 5,5,5")
    p.add_argument("--labels", choices=("transfer", "all"), default="transfer")
    p.add_argument("--k", type=int, default=20, help="target labels for the transfer predictor")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_build))


def _add_train_parser(sn) -> None:
    p = sn.add_parser("train", help="train the built super-network once (sandwich rule); resumes after a kill")
    _add_run_args(p)
    p.add_argument("--preset", choices=sorted(PRESETS), help="default: the preset the run was built with")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--train-per-class", help="training images per class, or 'all'")
    p.add_argument("--recipe", choices=sorted(RECIPES), help="weight-sharing recipe (default: the preset's; "
                   "BENCHMARKS.md compares them)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--nproc", type=int, help="processes (torchrun + DistributedDataParallel; gloo on CPU)")
    p.add_argument("--no-resume", action="store_true")
    p.set_defaults(func=_guarded(cmd_train))


def _add_profile_parser(sn) -> None:
    p = sn.add_parser("profile", help="measure sub-networks: FLOPs, onnxruntime latency, held-out accuracy")
    _add_run_args(p)
    _add_measuring_args(p)
    p.add_argument("--limit", type=int, help="masks to measure (default: 60 for quick runs, all for full)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="a JSON list, one object per profiled mask: mask, cell, "
                   "flops, params, latency_ms, test_acc (null unless measured), heldout_acc, table_acc (null "
                   "unless full depth)")
    p.add_argument("--summary", action="store_true", help="with --json: print the summary object (masks, "
                   "Kendall tau, Pareto set) instead of the records")
    p.set_defaults(func=_guarded(cmd_profile))


def _add_selecting_parser(sn, name: str, help_: str, command):
    """A command that picks a sub-network by limits: the run, measuring and limit options."""
    p = sn.add_parser(name, help=help_)
    _add_run_args(p)
    _add_measuring_args(p)
    _add_limit_args(p)
    p.set_defaults(func=_guarded(command))
    return p


def _add_select_parser(sn) -> None:
    p = _add_selecting_parser(sn, "select", "the best profiled sub-network within limits (exit 3 if infeasible)",
                              cmd_select)
    p.add_argument("--json", action="store_true")


def _add_export_parser(sn) -> None:
    p = _add_selecting_parser(sn, "export", "write a sub-network as ONNX and safetensors + JSON", cmd_export)
    p.add_argument("--mask", help="export this mask instead of selecting by limits")
    p.add_argument("--out", help="folder (default: RUN/export)")


def add_parsers(sub) -> None:
    sn = sub.add_parser("supernet", help="build, train, profile, select and export the super-network").add_subparsers(
        dest="supernet_command", required=True)
    _add_build_parser(sn)
    _add_train_parser(sn)
    _add_profile_parser(sn)
    _add_select_parser(sn)
    _add_export_parser(sn)
    add_ship_parser(sn, _guarded)
