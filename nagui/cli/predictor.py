"""``nagui predictor train|predict|measure-local|proxies``: the multi-objective predictor."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import Benchmark
from .common import UsageError, add_data_dir_arg, parse_arch_or_index, print_record, say
# Each command's machinery (torch, the models, the table) is imported inside the command:
# `nagui --help` imports this module and stays fast.


def cmd_predictor_train(args) -> int:
    # deferred: keeps `nagui --help` fast
    from ..predictor.model import PLAIN_MEMBER_KINDS
    from ..predictor.report import PredictorSetupError, train_on_random_cells

    bench = Benchmark.load(args.data_dir)
    if not 1 <= args.train_size <= len(bench):
        raise UsageError(f"--train-size must be in 1..{len(bench)}, got {args.train_size}")
    try:
        predictor = train_on_random_cells(bench, args.objectives.split(","), args.train_size, members=args.members,
                                          epochs=args.epochs, seed=args.seed, noise_aware=args.noise_aware,
                                          member_kinds=(args.member_kinds.split(",") if args.member_kinds
                                                        else PLAIN_MEMBER_KINDS), progress=say)
    except PredictorSetupError as exc:
        raise UsageError(str(exc)) from None
    out = predictor.save(args.out)
    print(f"saved predictor of {list(predictor.objectives)} ({args.train_size} cells, "
          f"{bench.counter.count} distinct cells queried) to {out}")
    return 0


def cmd_predictor_predict(args) -> int:
    from ..predictor.ensemble import CheckpointError, Predictor

    try:
        predictor = Predictor.load(args.checkpoint)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    arch = parse_arch_or_index(args.arch, args.data_dir)
    pred = predictor.predict([arch])
    record: dict = {"arch": arch.to_str()}
    for j, o in enumerate(predictor.objectives):
        lo, hi = pred.interval(o, 0.9)
        record[o] = float(pred.mean[0, j])
        record[f"{o}:lo90"], record[f"{o}:hi90"] = float(lo[0]), float(hi[0])
    print_record(record, args.json)
    return 0


def cmd_predictor_proxies(args) -> int:
    from ..measure.proxies import PROXIES, cell_proxies
    from ..nets import NetConfig
    from ..supernet.images import ImageDataError, default_image_root, load_image_folder, normalise

    names = tuple(n.strip() for n in args.proxies.split(",") if n.strip())
    unknown = [n for n in names if n not in PROXIES]
    if unknown or not names:
        raise UsageError(f"--proxies: unknown {unknown or 'empty list'}; choose from {', '.join(PROXIES)}")
    if not 2 <= args.batch <= 1024:
        raise UsageError(f"--batch must be in 2..1024, got {args.batch}")
    arch = parse_arch_or_index(args.arch, args.data_dir)
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
    print_record(record, args.json)
    return 0


def cmd_predictor_measure_local(args) -> int:
    from ..measure.cache import LatencyCache, measure_cells
    from ..measure.latency import LatencyConfig
    from ..predictor.device import LOCAL, DeviceHead, device_basis

    bench = Benchmark.load(args.data_dir)
    connected = np.nonzero(bench.table["output_connected"].to_numpy())[0]
    idx = np.random.default_rng(args.seed).choice(connected, args.k, replace=False)
    cache = LatencyCache(args.cache)
    latency = measure_cells([bench.arch(int(i)) for i in idx], LatencyConfig(threads=args.threads), cache,
                            progress=say)
    basis = device_basis(bench.table)
    head = DeviceHead.fit(basis[idx], np.array(latency))
    pred = head.predict(basis)
    best = int(np.argmin(pred))
    print(f"{LOCAL}: adapted from {args.k} cells measured here (cache {cache.path}, "
          f"{cache.count()} measurements); predicted range {pred.min():.3f}-{pred.max():.3f} ms; "
          f"fastest predicted cell {best}: {bench.table.at[best, 'arch']}")
    return 0


def add_parsers(sub) -> None:
    pred = sub.add_parser("predictor", help="train and use the multi-objective predictor").add_subparsers(
        dest="predictor_command", required=True)
    p = pred.add_parser("train", help="fit on random table cells and save (safetensors + JSON)")
    p.add_argument("--objectives", default="test_acc@cifar10,latency@raspi4",
                   help="comma-separated table columns (flops and params are always added)")
    p.add_argument("--train-size", type=int, default=100, help="labelled cells")
    p.add_argument("--members", type=int, help="ensemble size (default: TrainConfig's, 4)")
    p.add_argument("--epochs", type=int,
                   help="passes over the labelled cells (default: TrainConfig's, 100, in batches of 32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise-aware", action="store_true", help="train for soft/noisy inputs (guidance)")
    p.add_argument("--member-kinds",
                   help="the ensemble's member models, comma-separated, among gin and dag-exec; each gets --members "
                        "members (default: both, the best ranking in BENCHMARKS.md; gin alone fits 2-3x faster)")
    p.add_argument("--out", required=True, help="directory for predictor.json + weights.safetensors")
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_predictor_train)
    p = pred.add_parser("predict", help="predict one cell with a saved predictor")
    p.add_argument("checkpoint", help="directory written by `nagui predictor train`")
    p.add_argument("arch", help="arch string or NB201 index")
    p.add_argument("--json", action="store_true")
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_predictor_predict)
    p = pred.add_parser("measure-local", help="measure k random cells here and adapt latency@local")
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", help="SQLite file (default: the user data dir)")
    add_data_dir_arg(p)
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
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_predictor_proxies)
