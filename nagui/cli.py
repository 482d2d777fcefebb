"""The ``nagui`` command.

    nagui info ARCH [--json]          every table value of a cell (ARCH: string or NB201 index)
    nagui measure ARCH [--json]       FLOPs, params, ORT / eager latency, peak activation memory
    nagui data fetch [--dest DIR]     download the NB201 tables at their pinned commits
    nagui data check [DIR]            verify a data dir (sizes and sha256)
    nagui predictor train [...]      fit the multi-objective predictor on table cells, save it
    nagui predictor predict DIR ARCH  predictions with 90% intervals from a saved predictor
    nagui predictor measure-local     measure k cells here and fit latency@local
    nagui predictor proxies ARCH      zero-cost proxies (synflow, jacov, nwot) of a cell on a batch of images
    nagui diffusion train [...]       train the graph diffusion prior, save it (safetensors + JSON)
    nagui generate [...] --json OUT   guided samples near the Pareto front, one JSON object each
    nagui bench NAME                  run a benchmark script from bench/ (flops, latency, predictor, generate,
                                      supernet, search, talk-table, app, pipeline, screenshots, load)
    nagui models status|ship          the default models: cached / shipped in assets/models; remake the shipped ones
    nagui app [--port N]              start the Streamlit app (binds 127.0.0.1 unless --address says otherwise)

Exit codes: 0 ok, 1 data problem, 2 bad input (one-line message on stderr).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import runpy
import sys
from pathlib import Path
from typing import Sequence

from .data.sources import REPO_ROOT, DataError, check_data_dir, fetch, resolve_data_dir
from .space import Arch, InvalidArchError

EXIT_DATA, EXIT_USAGE = 1, 2
BENCH_SCRIPTS = {"flops": "flops_vs_naslib.py", "latency": "latency_cells.py", "predictor": "predictor.py",
                 "generate": "generate.py", "supernet": "supernet.py", "search": "search.py", "talk-table": "talk_table.py",
                 "app": "app.py", "pipeline": "pipeline.py", "screenshots": "screenshots.py", "load": "load.py"}


class UsageError(Exception):
    pass


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _print_record(record: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(record, allow_nan=False))
        return
    width = max(len(k) for k in record)
    for key, value in record.items():
        print(f"{key:<{width}}  {_fmt(value)}")


def cmd_info(args) -> int:
    from .data import Benchmark

    bench = Benchmark.load(args.data_dir)
    record = bench.lookup(args.arch)
    _print_record({"arch": record.pop("arch"), "index": record.pop("index"), **record}, args.json)
    return 0


def _index_without_table(arch: Arch, data_dir) -> int | None:
    """NB201 index from configs.txt alone (cheap); None if the data is not there."""
    from .data.sources import verified_path

    try:
        path = verified_path(resolve_data_dir(data_dir), "lighton-cena/configs.txt")
    except DataError as exc:
        print(f"note: NB201 index unknown ({exc})", file=sys.stderr)
        return None
    text = arch.to_str()
    for i, line in enumerate(path.read_text().splitlines()):
        if line.strip() == text:
            return i
    return None


def _parse_arch_or_index(value: str, data_dir) -> Arch:
    if value.strip().isdigit():
        from .data import Benchmark

        return Benchmark.load(data_dir).arch(int(value))
    return Arch.from_str(value)


def cmd_measure(args) -> int:
    from .measure.flops import analytic_cost, thop_cost
    from .measure.latency import LatencyConfig, measure_latency
    from .measure.memory import peak_activation_bytes
    from .nets import NetConfig

    arch = _parse_arch_or_index(args.arch, args.data_dir)
    try:
        net_config = NetConfig(channels=args.channels, cells_per_stage=args.cells, num_classes=args.classes)
        lat_config = LatencyConfig(batch_size=args.batch_size, threads=args.threads, warmup=args.warmup,
                                   runs=args.runs, input_hw=args.input_size)
        analytic_cost(arch, net_config, args.input_size)  # validates input size
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    cost = thop_cost(arch, net_config, args.input_size)
    report = measure_latency(arch, net_config, lat_config)
    record = {
        "arch": arch.to_str(),
        "index": _index_without_table(arch, args.data_dir),
        "flops": cost.flops,
        "params": cost.params,
        "latency@local-ort": report.ort.p50_ms,
        "latency_p90@local-ort": report.ort.p90_ms,
        "latency@local-eager": report.eager.p50_ms,
        "latency_p90@local-eager": report.eager.p90_ms,
        "peak_activation_mb": peak_activation_bytes(arch, net_config, args.input_size, args.batch_size) / 2 ** 20,
        "onnx_nodes": report.onnx_nodes,
        "onnx_export_s": report.export_s,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "runs": args.runs,
    }
    _print_record(record, args.json)
    return 0


def cmd_data_fetch(args) -> int:
    def progress(source, status):
        print(f"{status:>8}  {source.file}", file=sys.stderr)

    dest = fetch(args.dest, force=args.force, base_url=args.base_url, progress=progress)
    print(f"NB201 tables ready in {dest}")
    return 0


def cmd_data_check(args) -> int:
    root = resolve_data_dir(args.dir)
    problems = check_data_dir(root)
    if problems:
        for p in problems:
            print(p.message(root), file=sys.stderr)
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return EXIT_DATA
    images = root / "cifar10-jpeg"
    note = "images: cifar10-jpeg present" if images.is_dir() else "images: no cifar10-jpeg/ (needed for training only)"
    print(f"data dir {root}: all NB201 files present, sizes and sha256 match; {note}")
    return 0


def cmd_bench(args) -> int:
    script = REPO_ROOT / "bench" / BENCH_SCRIPTS[args.name]
    if not script.is_file():
        raise UsageError(f"benchmark script {script} not found (run from a checkout of the repo)")
    sys.argv = [str(script), *args.rest]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def cmd_predictor_train(args) -> int:
    from .data import Benchmark
    from .predictor.report import PredictorSetupError, train_on_random_cells

    bench = Benchmark.load(args.data_dir)
    if not 1 <= args.train_size <= len(bench):
        raise UsageError(f"--train-size must be in 1..{len(bench)}, got {args.train_size}")
    try:
        predictor = train_on_random_cells(bench, args.objectives.split(","), args.train_size, members=args.members,
                                          epochs=args.epochs, seed=args.seed, noise_aware=args.noise_aware,
                                          progress=lambda i, n: print(f"member {i}/{n} trained", file=sys.stderr))
    except PredictorSetupError as exc:
        raise UsageError(str(exc)) from None
    out = predictor.save(args.out)
    print(f"saved predictor of {list(predictor.objectives)} ({args.train_size} cells, "
          f"{bench.counter.count} distinct cells queried) to {out}")
    return 0


def cmd_predictor_predict(args) -> int:
    from .predictor.ensemble import CheckpointError, Predictor

    try:
        predictor = Predictor.load(args.checkpoint)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    arch = _parse_arch_or_index(args.arch, args.data_dir)
    pred = predictor.predict([arch])
    record: dict = {"arch": arch.to_str()}
    for j, o in enumerate(predictor.objectives):
        lo, hi = pred.interval(o, 0.9)
        record[o] = float(pred.mean[0, j])
        record[f"{o}:lo90"], record[f"{o}:hi90"] = float(lo[0]), float(hi[0])
    _print_record(record, args.json)
    return 0


def cmd_predictor_proxies(args) -> int:
    from .measure.proxies import PROXIES, cell_proxies
    from .nets import NetConfig
    from .supernet.images import ImageDataError, default_image_root, load_image_folder, normalise

    names = tuple(n.strip() for n in args.proxies.split(",") if n.strip())
    unknown = [n for n in names if n not in PROXIES]
    if unknown or not names:
        raise UsageError(f"--proxies: unknown {unknown or 'empty list'}; choose from {', '.join(PROXIES)}")
    if not 2 <= args.batch <= 1024:
        raise UsageError(f"--batch must be in 2..1024, got {args.batch}")
    arch = _parse_arch_or_index(args.arch, args.data_dir)
    root = Path(args.images) if args.images else default_image_root(args.data_dir)
    try:
        images = load_image_folder(root, "train", limit_per_class=max(1, -(-args.batch // 10)), seed=args.seed)
    except (ImageDataError, OSError) as exc:
        raise UsageError(f"cannot read images from {root}: {exc}") from None
    import torch

    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(args.seed))[: args.batch]
    config = NetConfig(args.channels, args.cells_per_stage, len(images.classes))
    record = {"arch": arch.to_str(), **cell_proxies(arch, normalise(images.images[order]), config, args.seed, names),
              "images": str(root), "batch": int(len(order)), "channels": args.channels,
              "cells_per_stage": args.cells_per_stage, "seed": args.seed}
    _print_record(record, args.json)
    return 0


def cmd_predictor_measure_local(args) -> int:
    import numpy as np

    from .data import Benchmark
    from .measure.cache import LatencyCache, measure_cells
    from .measure.latency import LatencyConfig
    from .predictor.device import LOCAL, DeviceHead, device_basis

    bench = Benchmark.load(args.data_dir)
    connected = np.nonzero(bench.table["output_connected"].to_numpy())[0]
    idx = np.random.default_rng(args.seed).choice(connected, args.k, replace=False)
    cache = LatencyCache(args.cache)
    latency = measure_cells([bench.arch(int(i)) for i in idx], LatencyConfig(threads=args.threads), cache,
                            progress=lambda i, n: print(f"measured {i}/{n}", file=sys.stderr))
    basis = device_basis(bench.table)
    head = DeviceHead.fit(basis[idx], np.array(latency))
    pred = head.predict(basis)
    best = int(np.argmin(pred))
    print(f"{LOCAL}: adapted from {args.k} cells measured here (cache {cache.path}, "
          f"{cache.count()} measurements); predicted range {pred.min():.3f}-{pred.max():.3f} ms; "
          f"fastest predicted cell {best}: {bench.table.at[best, 'arch']}")
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _device(name: str) -> str:
    from .diffusion.generate import resolve_device

    try:
        return resolve_device(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _diffusion_config(args):
    from .diffusion.model import DiffusionTrainConfig

    try:
        given = {"schedule": args.schedule, "train_set": args.train_set, "steps": args.steps, "seed": args.seed}
        return DiffusionTrainConfig(**{k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_diffusion_train(args) -> int:
    from .diffusion.generate import default_model_dir
    from .diffusion.model import DiffusionModel

    config = _diffusion_config(args)
    device = _device(args.device)
    out = Path(args.out) if args.out else default_model_dir(config)
    model = DiffusionModel.train(config=config, device=device,
                                 progress=lambda s, n, loss: _say(f"step {s}/{n}  loss {loss:.4f}")
                                 if s % 500 == 0 or s == n else None)
    model.save(out)
    print(f"trained the {config.schedule} diffusion prior on {model.info['train_cells']} {config.train_set} cells "
          f"in {model.info['train_s']:.1f} s on {device}; saved to {out}")
    return 0


def cmd_generate(args) -> int:
    from .data import Benchmark
    from .diffusion import (ConstraintError, Constraints, DiffusionCheckpointError, InfeasibleConstraintsError,
                            PredictorSpec, Problem, ProblemError, parse_preferences)
    from .diffusion.generate import GenerateRequest, generate, load_or_train

    try:
        problem = Problem.parse(args.dataset, args.objectives)
        constraints = Constraints(max_flops=args.max_flops, max_params=args.max_params,
                                  max_latency=tuple(args.max_latency or ()),
                                  forbidden_ops=tuple(_op_list(args.forbid)), required_ops=tuple(_op_list(args.require)))
        prefs = parse_preferences(args.preference, len(problem.objectives)) if args.preference else None
        spec = PredictorSpec(labels=args.labels, k=args.k, seed=args.seed)
        if not 1 <= args.n <= 100_000:
            raise UsageError(f"--n must be in 1..100000, got {args.n}")
        if not (math.isfinite(args.scale) and args.scale >= 0):
            raise UsageError(f"--scale must be a number >= 0, got {args.scale}")
        if args.steps < 1 or args.polish < 0:
            raise UsageError("--steps must be >= 1 and --polish >= 0")
        request = GenerateRequest(dataset=problem.dataset, objectives=",".join(problem.objectives), n=args.n,
                                  constraints=constraints, preferences=prefs, scale=args.scale,
                                  scalarisation=args.scalarisation, steps=args.steps, polish_sweeps=args.polish,
                                  seed=args.seed, predictor=spec, guided=args.scale > 0)
    except (ProblemError, ConstraintError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    device = _device(args.device)
    guiding = _guiding_predictor(args.predictor, problem) if args.predictor else None
    bench = Benchmark.load(args.data_dir)
    try:
        model = load_or_train(args.model, device=device, say=_say)
        result = generate(bench, request, model, predictor=guiding, device=device, say=_say)
    except (DiffusionCheckpointError, InfeasibleConstraintsError) as exc:
        raise UsageError(str(exc)) from None
    out = sys.stdout if args.json == "-" else None
    text = (json.dumps(result.records, indent=1, allow_nan=False) if not str(args.json).endswith(".jsonl")
            else "\n".join(json.dumps(r, allow_nan=False) for r in result.records)) + "\n"
    if out:
        out.write(text)
    else:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(text)
        tmp.replace(path)
    m = result.metrics
    lines = [f"{m['n']} samples for {problem.dataset} {' vs '.join(problem.objectives)} in {m['sample_s']:.2f} s "
             f"on {result.samples.device}; " + (f"guided by the predictor in {args.predictor}" if args.predictor else
                                                 f"guided by a predictor from {spec.labels} labels"
                                                 + (f" (k={spec.k})" if spec.labels == "transfer" else ""))
             if request.guided else "unguided (--scale 0)",
             f"validity {m['validity']:.0%}, unique {m['uniqueness']:.0%}, novel {m.get('novelty', float('nan')):.0%}",
             f"table truth: HV ratio {m['hv_ratio']:.4f} vs the {m.get('front', 'true front')} "
             f"({m['true_front_size']} cells); "
             f"{m['on_front']:.0%} of distinct samples on it, {m['within_0.5']:.0%} within 0.5 points"]
    if "constraint_satisfaction" in m:
        lines.append(f"constraints ({'; '.join(constraints.describe())}): {m['constraint_satisfaction']:.1%} satisfied")
    if out is None:
        lines.append(f"wrote {len(result.records)} records to {args.json}")
    for line in lines:
        _say(line)
    return 0


def _guiding_predictor(path: str, problem):
    """A saved predictor usable for guidance: noise-aware, with the problem's accuracy head."""
    from .predictor.ensemble import CheckpointError, Predictor

    try:
        predictor = Predictor.load(path)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    if not predictor.model_config.noise_aware:
        raise UsageError(f"predictor {path} was not trained noise-aware; guidance needs one "
                         f"(nagui predictor train --noise-aware ...)")
    if problem.accuracy not in predictor.objectives:
        raise UsageError(f"predictor {path} predicts {list(predictor.objectives)}, not {problem.accuracy}")
    predictor.protocol.setdefault("stage", f"loaded from {path}")
    return predictor


def _op_list(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _default_model_dirs() -> dict[str, Path]:
    from .data.benchmark import DATASETS
    from .diffusion.generate import default_model_dir
    from .diffusion.problem import pretrained_predictor_dir

    dirs = {"diffusion prior": default_model_dir()}
    dirs.update({f"guiding predictor base ({d})": pretrained_predictor_dir(d) for d in DATASETS})
    return dirs


def cmd_models_status(args) -> int:
    from .shipped_models import SHIPPED_DIR

    for what, path in _default_model_dirs().items():
        cached = "cached" if path.is_dir() else "missing"
        shipped = "shipped" if (SHIPPED_DIR / path.name).is_dir() else "not shipped"
        print(f"{what:<40} {cached:<8} {shipped:<12} {path}")
    return 0


def cmd_models_ship(args) -> int:
    """Train what is missing (exactly as the app and `nagui generate` would) and copy the
    default models into assets/models."""
    from .data import Benchmark
    from .data.benchmark import DATASETS
    from .diffusion.generate import load_or_train
    from .diffusion.problem import pretrained_predictor
    from .shipped_models import ship

    def say(text):
        print(text, file=sys.stderr)

    load_or_train(say=say)
    table = Benchmark.load(args.data_dir).table
    for d in DATASETS:
        pretrained_predictor(table, d, say=say)
    for what, path in _default_model_dirs().items():
        print(f"{what}: {ship(path)}")
    return 0


def cmd_app(args) -> int:
    from .app_server import AppServerError, app_command

    env = dict(os.environ)
    if args.data_dir:
        env["NAGUI_DATA_DIR"] = str(Path(args.data_dir).resolve())
    try:
        cmd = app_command(args.port, args.address)
    except AppServerError as exc:
        raise UsageError(str(exc)) from None
    # Become the server (exec): signals reach Streamlit directly and no parent is left behind.
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(REPO_ROOT)
    os.execve(cmd[0], cmd, env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nagui", description="Multi-objective NAS workbench on NAS-Bench-201.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir_arg(p):
        p.add_argument("--data-dir", help="data dir holding nb201/ (default: $NAGUI_DATA_DIR, "
                                          "../shared/data next to the repo, then the user cache dir)")

    p = sub.add_parser("info", help="every table value of one cell")
    p.add_argument("arch", help="official arch string |op~0|+|op~0|op~1|+|...| or NB201 index")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    data_dir_arg(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("measure", help="FLOPs, params, latency and memory of one cell, measured here")
    p.add_argument("arch", help="official arch string or NB201 index")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="intra-op threads for onnxruntime and torch")
    p.add_argument("--runs", type=int, default=30, help="timed runs (median and p90 over these)")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--input-size", type=int, default=32, help="input height = width (multiple of 4)")
    p.add_argument("--channels", type=int, default=16, help="C of the first stage")
    p.add_argument("--cells", type=int, default=5, help="N cells per stage")
    p.add_argument("--classes", type=int, default=10)
    data_dir_arg(p)
    p.set_defaults(func=cmd_measure)

    data = sub.add_parser("data", help="download or verify the NB201 tables").add_subparsers(dest="data_command",
                                                                                            required=True)
    p = data.add_parser("fetch", help="download the pinned NB201 files (sha256-checked, atomic writes)")
    p.add_argument("--dest", help="data dir to fill (default: the user cache dir)")
    p.add_argument("--force", action="store_true", help="download even files that are already fine")
    p.add_argument("--base-url", help="host laid out like raw.githubusercontent.com (default: GitHub, or $NAGUI_DATA_MIRROR)")
    p.set_defaults(func=cmd_data_fetch)
    p = data.add_parser("check", help="verify a data dir against the pinned sizes and sha256")
    p.add_argument("dir", nargs="?", help="data dir (default: the one nagui would use)")
    p.set_defaults(func=cmd_data_check)

    p = sub.add_parser("bench", help="run a benchmark from bench/")
    p.add_argument("name", choices=sorted(BENCH_SCRIPTS))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the script")
    p.set_defaults(func=cmd_bench)

    pred = sub.add_parser("predictor", help="train and use the multi-objective predictor").add_subparsers(
        dest="predictor_command", required=True)
    p = pred.add_parser("train", help="fit on random table cells and save (safetensors + JSON)")
    p.add_argument("--objectives", default="test_acc@cifar10,latency@raspi4",
                   help="comma-separated table columns (flops and params are always added)")
    p.add_argument("--train-size", type=int, default=100, help="labelled cells")
    p.add_argument("--members", type=int, help="ensemble size (default: TrainConfig's, 4)")
    p.add_argument("--epochs", type=int, help="training epochs (default: TrainConfig's, 300)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise-aware", action="store_true", help="train for soft/noisy inputs (guidance)")
    p.add_argument("--out", required=True, help="directory for predictor.json + weights.safetensors")
    data_dir_arg(p)
    p.set_defaults(func=cmd_predictor_train)
    p = pred.add_parser("predict", help="predict one cell with a saved predictor")
    p.add_argument("checkpoint", help="directory written by `nagui predictor train`")
    p.add_argument("arch", help="arch string or NB201 index")
    p.add_argument("--json", action="store_true")
    data_dir_arg(p)
    p.set_defaults(func=cmd_predictor_predict)
    p = pred.add_parser("measure-local", help="measure k random cells here and adapt latency@local")
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", help="SQLite file (default: the user data dir)")
    data_dir_arg(p)
    p.set_defaults(func=cmd_predictor_measure_local)
    p = pred.add_parser("proxies", help="zero-cost proxies of a cell's untrained network on a batch of images")
    p.add_argument("arch", help="arch string or NB201 index")
    p.add_argument("--proxies", default="synflow,jacov,nwot", help="comma-separated, from synflow, jacov, nwot")
    p.add_argument("--images", help="ImageFolder root with a train/ split (default: the CIFAR-10 images)")
    p.add_argument("--batch", type=int, default=32, help="images in the batch (2..1024)")
    p.add_argument("--channels", type=int, default=16, help="C of the scored network (NB201: 16)")
    p.add_argument("--cells-per-stage", type=int, default=5, help="N of the scored network (NB201: 5)")
    p.add_argument("--seed", type=int, default=0, help="random weights and which images")
    p.add_argument("--json", action="store_true")
    data_dir_arg(p)
    p.set_defaults(func=cmd_predictor_proxies)

    diff = sub.add_parser("diffusion", help="the graph diffusion prior").add_subparsers(
        dest="diffusion_command", required=True)
    p = diff.add_parser("train", help="train the denoiser on NB201 cells and save it")
    p.add_argument("--schedule", choices=["categorical", "gaussian"], help="noise (default categorical)")
    p.add_argument("--train-set", choices=["unique", "all"], help="cells to learn (default: one per "
                                                                   "isomorphism class, 6,466)")
    p.add_argument("--steps", type=int, help="optimiser steps (default 3000)")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu or cuda[:N]")
    p.add_argument("--out", help="checkpoint dir (default: the user data dir, where generate looks)")
    p.set_defaults(func=cmd_diffusion_train)

    p = sub.add_parser("generate", help="guided samples near the Pareto front")
    p.add_argument("--dataset", default="cifar10", help="cifar10, cifar100 or ImageNet16-120")
    p.add_argument("--objectives", default="test_acc,flops",
                   help="comma-separated: test_acc plus any of flops, params, latency@DEVICE (or DEVICE)")
    p.add_argument("--n", type=int, default=256, help="samples")
    p.add_argument("--max-flops", type=float, help="hard limit, MFLOPs")
    p.add_argument("--max-params", type=float, help="hard limit, M parameters")
    p.add_argument("--max-latency", action="append", metavar="DEVICE=MS",
                   help="hard limit on a device's latency, e.g. raspi4=5 (repeatable)")
    p.add_argument("--forbid", help="comma-separated ops no sample may use")
    p.add_argument("--require", help="comma-separated ops every sample must use")
    p.add_argument("--preference", action="append", metavar="W1,W2,..",
                   help="weights per objective (repeatable; default: aimed evenly along the predicted front)")
    p.add_argument("--scale", type=float, default=100.0, help="guidance scale (0 = unguided)")
    p.add_argument("--scalarisation", choices=["chebyshev", "weighted"], default="chebyshev")
    p.add_argument("--steps", type=int, default=16, help="reverse steps")
    p.add_argument("--polish", type=int, default=4, help="corrector sweeps after the reverse process")
    p.add_argument("--labels", choices=["transfer", "all"], default="transfer",
                   help="guiding predictor: transfer from the other datasets + k target labels, or all labels")
    p.add_argument("--k", type=int, default=20, help="target labels for --labels transfer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--predictor", help="a saved noise-aware predictor dir to guide with (instead of --labels/--k)")
    p.add_argument("--model", help="diffusion checkpoint dir (default: the user data dir; trained if missing)")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu or cuda[:N]")
    p.add_argument("--json", required=True, metavar="OUT",
                   help="write the samples: a JSON array (OUT.jsonl: one object per line; -: stdout)")
    data_dir_arg(p)
    p.set_defaults(func=cmd_generate)

    from .supernet.commands import add_parsers as add_supernet_parsers

    add_supernet_parsers(sub)

    models = sub.add_parser("models", help="the default models (diffusion prior, guiding predictor bases)"
                            ).add_subparsers(dest="models_command", required=True)
    p = models.add_parser("status", help="which default models are cached and which are shipped")
    p.set_defaults(func=cmd_models_status)
    p = models.add_parser("ship", help="train what is missing and copy the default models into assets/models")
    data_dir_arg(p)
    p.set_defaults(func=cmd_models_ship)

    p = sub.add_parser("app", help="start the Streamlit app")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)")
    data_dir_arg(p)
    p.set_defaults(func=cmd_app)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except (InvalidArchError, UsageError) as exc:
        print(f"nagui {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DataError as exc:
        print(f"nagui {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_DATA


if __name__ == "__main__":
    sys.exit(main())
