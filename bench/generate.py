"""Guided generation against the true Pareto fronts of the table.

    nagui bench generate --datasets cifar10,cifar100,ImageNet16-120 --n 256 --seeds 3 \
        --labels transfer,all --json OUT

Parts (every record carries its protocol):

1. training: the diffusion prior, categorical and Gaussian schedules (time, final loss);
2. schedules: categorical vs Gaussian — unguided distance to the training distribution
   (TV of node marginals and of op counts; floors: a same-size draw from the training
   set, and uniform random cells), validity, and guided quality on CIFAR-10 acc–FLOPs;
3. problems: every dataset x {flops, latency@raspi4, params}, plus acc–FLOPs–raspi4 on
   CIFAR-10 — methods side by side on the same seeds: ``ours`` (multi-objective guidance
   + corrector), ``ours_no_corrector``, ``acc_only`` (DiffusionNAG-style: accuracy
   guidance only) and ``unguided``; guiding predictor: transfer with k target labels
   (headline) and all labels (upper bound);
4. constraints: max FLOPs, max raspi4 latency, forbidden/required ops.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace

import numpy as np
import torch

from nagui.data import Benchmark
from nagui.diffusion import Constraints, DiffusionModel, DiffusionTrainConfig, PredictorSpec
from nagui.diffusion.evaluate import distribution_distance
from nagui.diffusion.generate import GenerateRequest, generate
from nagui.diffusion.problem import accuracy_predictor
from nagui.problem import Problem
from nagui.progress import printed
from nagui.diffusion.sampler import Sampler
from nagui.diffusion.tables import CellTables
from nagui.report import markdown_summary

PROBLEMS = ("test_acc,flops", "test_acc,latency@raspi4", "test_acc,params")
THREE_OBJECTIVES = ("cifar10", "test_acc,flops,latency@raspi4")
METRICS = ("validity", "uniqueness", "novelty", "on_front", "within_0.5", "hv_ratio", "sample_s")


say = printed(seconds=2)   # progress and summaries on stderr


def methods(request: GenerateRequest, problem: Problem) -> dict[str, GenerateRequest]:
    return {"ours": request,
            "ours_no_corrector": replace(request, polish_sweeps=0),
            "acc_only": replace(request, guide_objectives=(problem.accuracy,), preferences=None, polish_sweeps=0),
            "unguided": replace(request, guided=False)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--seeds", type=int, default=3, help="seed s picks the k labelled cells and the sampling noise")
    p.add_argument("--labels", default="transfer,all", help="guiding predictor protocols: transfer, all")
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--train-steps", type=int, default=3000)
    p.add_argument("--predictor-epochs", type=int, default=150)
    p.add_argument("--distance-n", type=int, default=4096, help="unguided samples for the distribution distance")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: schedules, problems, constraints")
    p.add_argument("--json", help="write every record here")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = time.perf_counter()
    bench = Benchmark.load(args.data_dir)
    tables = CellTables(bench)
    records: list[dict] = []
    env = {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
           "torch": torch.__version__}

    # 1. training -----------------------------------------------------------------
    models = {}
    for schedule in ("categorical", "gaussian"):
        config = DiffusionTrainConfig(schedule=schedule, steps=args.train_steps)
        say(f"training the {schedule} prior ({config.steps} steps) ...")
        models[schedule] = DiffusionModel.train(config=config)
        records.append({"part": "training", "schedule": schedule, "train_s": models[schedule].info["train_s"],
                        "final_loss": models[schedule].info["final_loss"], "steps": config.steps,
                        "train_cells": models[schedule].info["train_cells"], **env})
        say(f"  {models[schedule].info}")
    space = models["categorical"].space
    train_set = space.training_set("unique")

    predictors: dict[tuple, object] = {}

    def predictor(dataset: str, labels: str, seed: int):
        key = (dataset, labels, seed if labels == "transfer" else 0)
        if key not in predictors:
            start = time.perf_counter()
            spec = PredictorSpec(labels=labels, k=args.k, seed=seed, epochs=args.predictor_epochs)
            predictors[key] = accuracy_predictor(bench, dataset, spec, say=say)
            say(f"  guiding predictor {key} ready in {time.perf_counter() - start:.0f} s (cached on disk after the first)")
        return predictors[key]

    def run(part: str, dataset: str, objectives: str, labels: str, seed: int, method: str, request, model_name):
        result = generate(bench, request, models[model_name], predictor=predictor(dataset, labels, seed),
                          tables=tables, say=say)
        rec = {"part": part, "dataset": dataset, "objectives": objectives, "labels": labels, "method": method,
               "schedule": model_name, "seed": seed, **result.metrics, "protocol": result.protocol}
        records.append(rec)
        say(f"{part} {dataset} {objectives} {labels} {method} {model_name} seed {seed}: HV {rec['hv_ratio']:.4f} "
            f"unique {rec['uniqueness']:.2f} on {rec['on_front']:.2f} near {rec['within_0.5']:.2f} "
            f"{rec['sample_s']:.2f} s" + (f" sat {rec['constraint_satisfaction']:.3f}"
                                          if "constraint_satisfaction" in rec else ""))
        return rec

    # 2. schedules -------------------------------------------------------------------
    if "schedules" not in skip:
        rng = np.random.default_rng(0)
        for n in (args.n, args.distance_n):
            for seed in range(args.seeds):
                floor = train_set[torch.as_tensor(rng.choice(len(train_set), n, replace=True))]
                uniform = torch.as_tensor(rng.integers(0, space.num_categories, (n, space.num_nodes)))
                for name, x in (("floor: draw from the training set", floor), ("uniform random cells", uniform)):
                    records.append({"part": "distance", "schedule": name, "n": n, "seed": seed,
                                    **distribution_distance(x, train_set, space.num_categories)})
                for schedule, model in models.items():
                    out = Sampler(model).sample(n, None, seed=seed)
                    records.append({"part": "distance", "schedule": schedule, "n": n, "seed": seed,
                                    "sample_s": out.sample_s,
                                    **distribution_distance(out.indices, train_set, space.num_categories)})
        for schedule in models:
            for seed in range(args.seeds):
                request = GenerateRequest("cifar10", "test_acc,flops", n=args.n, seed=seed,
                                          predictor=PredictorSpec(k=args.k, seed=seed))
                run("schedules", "cifar10", "test_acc,flops", "transfer", seed, "ours", request, schedule)

    # 3. problems --------------------------------------------------------------------
    if "problems" not in skip:
        problems = [(d, o) for d in args.datasets.split(",") for o in PROBLEMS] + [THREE_OBJECTIVES]
        for labels in [s.strip() for s in args.labels.split(",") if s.strip()]:
            for dataset, objectives in problems:
                if dataset not in args.datasets.split(","):
                    continue
                problem = Problem.parse(dataset, objectives)
                for seed in range(args.seeds):
                    base = GenerateRequest(dataset, objectives, n=args.n, seed=seed,
                                           predictor=PredictorSpec(labels=labels, k=args.k, seed=seed))
                    for method, request in methods(base, problem).items():
                        run("problems", dataset, objectives, labels, seed, method, request, "categorical")

    # 4. constraints -----------------------------------------------------------------
    if "constraints" not in skip:
        cases = [("test_acc,flops", Constraints(max_flops=60)),
                 ("test_acc,latency@raspi4", Constraints(max_latency=(("raspi4", 5.0),))),
                 ("test_acc,flops", Constraints(forbidden_ops=("avg_pool_3x3",), required_ops=("nor_conv_3x3",))),
                 ("test_acc,flops,latency@raspi4", Constraints(max_flops=60, max_latency=(("raspi4", 20.0),),
                                                               forbidden_ops=("avg_pool_3x3",)))]
        for objectives, constraints in cases:
            for seed in range(args.seeds):
                request = GenerateRequest("cifar10", objectives, n=args.n, seed=seed, constraints=constraints,
                                          predictor=PredictorSpec(k=args.k, seed=seed))
                rec = run("constraints", "cifar10", objectives, "transfer", seed, "ours", request, "categorical")
                rec["constraints"] = "; ".join(constraints.describe())

    total = time.perf_counter() - started
    print(f"# nagui bench generate — {len(records)} records in {total:.0f} s ({env})\n")
    print("## Training\n")
    print("\n".join(markdown_summary([r for r in records if r["part"] == "training"], ("schedule",),
                                     ("train_s", "final_loss"))))
    if "schedules" not in skip:
        print("\n## Unguided distance to the training distribution\n")
        print("\n".join(markdown_summary([r for r in records if r["part"] == "distance"], ("schedule", "n"),
                                         ("tv_nodes", "tv_counts", "sample_s"))))
        print("\n## Schedules, guided (CIFAR-10 acc–FLOPs, transfer k)\n")
        print("\n".join(markdown_summary([r for r in records if r["part"] == "schedules"], ("schedule",), METRICS)))
    if "problems" not in skip:
        print("\n## Problems\n")
        print("\n".join(markdown_summary([r for r in records if r["part"] == "problems"],
                                         ("labels", "dataset", "objectives", "method"), METRICS)))
    if "constraints" not in skip:
        print("\n## Constraints (HV against the true front of the feasible cells)\n")
        print("\n".join(markdown_summary([r for r in records if r["part"] == "constraints"],
                                         ("objectives", "constraints"),
                                         ("validity", "constraint_satisfaction", "uniqueness", "hv_ratio",
                                          "sample_s"))))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1, default=float)
        say(f"wrote {len(records)} records to {args.json}")


if __name__ == "__main__":
    main()
