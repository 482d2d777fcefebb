"""Predictor quality: rank correlation on held-out cells, transfer, and this machine's latency.

    nagui bench predictor --dataset cifar10 --train-sizes 20,100,1000 --seeds 5 \
        --source cifar100,ImageNet16-120 --k 0,5,20 --local-k 10,20 --local-test 100 --json OUT
    nagui bench predictor --objective valid_acc@cifar10-valid --objectives '' --train-sizes 128,256 --seeds 3
    nagui bench predictor --train-sizes '' --guided --seeds 3
    nagui bench predictor --train-sizes '' --dataset cifar100 --transfer-base guiding --k 20 --seeds 5

``--guided`` runs ``nagui generate``'s default request on three problems (CIFAR-10 accuracy
vs FLOPs; CIFAR-100 vs a device latency; ImageNet16-120 vs FLOPs under a hard FLOPs limit),
guided by the transfer predictor (k = 20 target labels, one draw per seed), and reports how
often the 90% interval it shows holds the table's truth on the cells the sampler returns.

Every record carries its protocol. Baselines in the same run: gradient-boosted trees and a
random forest on the one-hot encoding (same cells), the naive transfer score (mean
z-scored source accuracy), and FLOPs alone for local latency. Prints a markdown summary
(mean over seeds) and writes every record to --json.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time

import torch

from nagui.data import Benchmark
from nagui.measure.latency import LatencyConfig
from nagui.predictor.ensemble import TrainConfig
from nagui.predictor.evaluate import records_coverage, run_local, run_plain, run_transfer
from nagui.predictor.model import MODEL_KINDS, PLAIN_MEMBER_KINDS
from nagui.predictor.training import FULL_BATCH
from nagui.progress import printed, quiet
from nagui.report import markdown_summary as _summary


def _ints(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t.strip()] if text else []


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "ImageNet16-120"])
    p.add_argument("--train-sizes", default="20,100,1000")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--objective", help="the accuracy column to predict (any table column, e.g. "
                   "valid_acc@cifar10-valid; default: test_acc of --dataset)")
    p.add_argument("--objectives", default="latency@raspi4", help="objectives besides test accuracy, comma-separated")
    p.add_argument("--source", default="", help="source datasets for transfer, e.g. cifar100,ImageNet16-120")
    p.add_argument("--k", default="0,5,20", help="target labels for transfer")
    p.add_argument("--pretrain-cells", type=int, default=15625)
    p.add_argument("--pretrain-epochs", type=int, default=150)
    p.add_argument("--transfer-base", choices=["fresh", "guiding"], default="fresh",
                   help="fresh: pretrain a base here on --source; guiding: adapt the guiding predictor the app "
                        "and nagui generate use (pretrained on the other two datasets; shipped or cached)")
    p.add_argument("--local-k", default="", help="measured cells to adapt latency@local from, e.g. 10,20")
    p.add_argument("--local-test", type=int, default=100)
    p.add_argument("--members", type=int, default=TrainConfig.members)
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size,
                   help=f"labelled cells per step in the plain fits ({FULL_BATCH}: the full-batch schedule "
                        "before issue #16, with --epochs 300)")
    p.add_argument("--rank-weight", type=float, default=TrainConfig.rank_weight,
                   help="weight of the pairwise ranking loss in the plain fits")
    p.add_argument("--member-kinds", default=",".join(PLAIN_MEMBER_KINDS),
                   help=f"the ensemble's member models, comma-separated, among {', '.join(MODEL_KINDS)} "
                        "(each kind gets --members members)")
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--guided", action="store_true", help="coverage of the interval on guided samples (3 problems)")
    p.add_argument("--guided-n", type=int, default=256, help="samples per guided generation")
    p.add_argument("--json", help="write every record here")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    torch.set_num_threads(os.cpu_count() or 1)
    say = printed(seconds=2)

    bench = Benchmark.load(args.data_dir)
    seeds = list(range(args.seeds))
    records: list[dict] = []
    started = time.time()
    sizes = _ints(args.train_sizes)
    if args.objective and args.objective not in bench.table.columns:
        sys.exit(f"nagui bench predictor: error: unknown objective {args.objective!r}; the table's columns are "
                 f"{', '.join(map(str, bench.table.columns))}")
    if sizes:
        records += run_plain(bench, args.dataset, sizes, seeds, [o for o in args.objectives.split(",") if o],
                             TrainConfig(members=args.members, epochs=args.epochs, rank_weight=args.rank_weight,
                                         batch_size=args.batch_size),
                             baselines=not args.no_baselines,
                             say=say, target=args.objective, member_kinds=args.member_kinds.split(","))
    if args.transfer_base == "guiding":
        from nagui.data import DATASETS
        from nagui.diffusion.problem import PredictorSpec, pretrained_predictor

        sources = [d for d in DATASETS if d != args.dataset]
        records += run_transfer(bench, args.dataset, sources, _ints(args.k), seeds, say=say,
                                base=pretrained_predictor(bench.table, args.dataset, PredictorSpec(), say=say))
    elif args.source:
        records += run_transfer(bench, args.dataset, args.source.split(","), _ints(args.k), seeds,
                                pretrain_cells=args.pretrain_cells,
                                train_config=TrainConfig(members=2, epochs=args.pretrain_epochs,
                                                         batch_size=FULL_BATCH), say=say)
    if args.guided:
        records += run_guided(bench, seeds, args.guided_n, say)
    if args.local_k:
        records += run_local(bench, _ints(args.local_k), args.local_test, latency_config=LatencyConfig(runs=30),
                             say=say)
    meta = {"command": "nagui bench predictor " + " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "torch_threads": torch.get_num_threads(),
            "wall_s": time.time() - started}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "records": records}, f, indent=1, default=float)
    plain = [r for r in records if r["setting"] == "plain"]
    if plain:
        print("\n".join(_summary(plain, ("objective", "train_cells", "method"),
                                 ("kendall_tau", "spearman_rho", "mae", "coverage90", "coverage90_top5",
                                  "width90", "fit_s", "predict_all_s"))))
    transfer = [r for r in records if r["setting"] == "transfer"]
    if transfer:
        print()
        print("\n".join(_summary(transfer, ("objective", "k", "method"), ("kendall_tau", "spearman_rho", "top5_spearman",
                                                                         "coverage90", "coverage90_top5"))))
    guided = [r for r in records if r["setting"] == "guided"]
    if guided:
        print()
        print("\n".join(_summary(guided, ("problem",), ("coverage90_guided", "coverage90_guided_distinct",
                                                        "mean_width", "generate_s"))))
    local = [r for r in records if r["setting"] == "local"]
    if local:
        print()
        print("\n".join(_summary(local, ("objective", "k", "method"), ("kendall_tau", "spearman_rho"))))
    print(f"\n{meta['command']} — {meta['machine']}, {meta['wall_s']:.0f} s")


GUIDED_PROBLEMS = (
    ("cifar10", "test_acc,flops", {}),
    ("cifar100", "test_acc,latency@pixel3", {}),
    ("ImageNet16-120", "test_acc,flops", {"max_flops": 100.0}),
)


def run_guided(bench, seeds, n: int, say) -> list[dict]:
    """Coverage of the shown 90% interval on the cells ``nagui generate`` returns."""
    from nagui.diffusion import Constraints, PredictorSpec
    from nagui.diffusion.generate import GenerateRequest, generate, load_or_train

    model = load_or_train(say=say)
    records = []
    for dataset, objectives, limits in GUIDED_PROBLEMS:
        for seed in seeds:
            request = GenerateRequest(dataset=dataset, objectives=objectives, n=n, constraints=Constraints(**limits),
                                      seed=seed, predictor=PredictorSpec(k=20, seed=seed))
            start = time.perf_counter()
            result = generate(bench, request, model, say=quiet)
            problem = f"{dataset} {objectives}" + (f" max_flops={limits['max_flops']:g}" if limits else "")
            cover = records_coverage(result.records, result.problem.accuracy)
            records.append({"setting": "guided", "problem": problem, "seed": seed, "k": 20, **cover,
                            "generate_s": time.perf_counter() - start,
                            "protocol": f"nagui generate --dataset {dataset} --objectives {objectives} --n {n} "
                                        f"--seed {seed} --k 20 (transfer predictor, k=20 labels drawn by seed)"})
            say(f"guided {problem} seed={seed}: 90% coverage {cover['coverage90_guided']:.0%} of {cover['samples']} "
                f"samples ({cover['coverage90_guided_distinct']:.0%} of {cover['distinct']} distinct cells)")
    return records


if __name__ == "__main__":
    main()
