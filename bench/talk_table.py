"""The talk's result table, reproduced on the NB201 tables: search time and the inference
cost of the generated architecture, for ours, DiffusionNAG-style and RL.

    nagui bench talk-table --seeds 10 --budget 100 --out DIR
    nagui bench talk-table --datasets cifar10,cifar100,ImageNet16-120 --strategies all --seeds 10
    nagui bench talk-table --supernet assets/supernet/cifar10-flops/provenance.json

Columns (``--strategies``, default ``ours,diffusionnag,reinforce``):

- ours: guided diffusion on accuracy and FLOPs (the problem ``test_acc+flops``);
- diffusionnag: the same prior and predictor guided by predicted accuracy alone, training
  the top generated cells (DiffusionNAG-style);
- reinforce: NB201's RL baseline; other strategies of ``nagui bench search`` may join
  (``all``: every one; single-objective ones search accuracy alone).

Rows, mean and 95% CI over the seeds, every strategy with the same budget of trained
architectures:

- search time in minutes (:mod:`nagui.search.cost`: NB201's own training time of every
  cell trained, the strategy's own compute measured here, and its setup: ours' diffusion
  prior training from its checkpoint, the super-network's from ``--supernet``) until a
  trained cell first comes within 0.5 points of the optimum, and for the whole budget;
- for each accuracy threshold: MFLOPs and device latencies of what the strategy would
  deploy, the cheapest cell it trained at or above the threshold (accuracy: the table's
  accuracy of that cell, for every strategy alike), and the search minutes until it had it;
- the most accurate cell it trained, and its MFLOPs (what an accuracy-only search deploys).

The talk's own numbers stand beside them, labelled as another setting (its networks and
its search space are not NB201's). DIR gets talk_table.md, talk_table.csv and
talk_table.json (every run's values).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from nagui.progress import printed

THRESHOLDS = {"cifar10": (94.0, 93.5, 93.0), "cifar100": (73.0, 72.0, 71.0), "ImageNet16-120": (46.5, 46.0, 45.0)}
TALK = {"ours": {"search time (min)": "23.6", "MFLOPs": "250"},
        "diffusionnag": {"search time (min)": "544", "MFLOPs": "434"},
        "reinforce": {"search time (min)": "> 2000", "MFLOPs": "670"}}
TALK_NAMES = {"ours": "Ours", "diffusionnag": "DiffusionNAG", "reinforce": "best RL methods"}
DEFAULT_STRATEGIES = "ours,diffusionnag,reinforce"


say = printed(seconds=2)   # progress and summaries on stderr


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cifar10")
    p.add_argument("--strategies", default=DEFAULT_STRATEGIES, help="names separated by commas, or 'all'")
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--devices", default="raspi4,pixel3,titanx_1", help="latency columns of the deployed cell")
    p.add_argument("--supernet", help="provenance.json of a trained super-network package (its training time "
                   "joins ours' setup)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    p.add_argument("--data-dir")
    p.add_argument("--out", default="bench-search")
    args = p.parse_args(argv)
    if args.budget < 1 or args.seeds < 2 or args.processes < 1:
        p.error("--budget and --processes must be positive and --seeds at least 2 (for a confidence interval)")
    unknown = [d for d in args.datasets.split(",") if d not in THRESHOLDS]
    if unknown:
        p.error(f"unknown dataset {', '.join(unknown)}; choose from {', '.join(THRESHOLDS)}")
    return args


def run_table(args) -> tuple[list[dict], dict]:
    """One record per (dataset, strategy) with per-run values, and the setups used."""
    from nagui.data import Benchmark
    from nagui.search import cost
    from nagui.search import summary as S
    from nagui.search.harness import SINGLE_OBJECTIVE, STRATEGIES, default_models, make_context, run_many
    from nagui.objectives import Objective
    from nagui.problem import Problem

    names = list(STRATEGIES) if args.strategies == "all" else args.strategies.split(",")
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown strategy {', '.join(unknown)}; choose from {', '.join(STRATEGIES)}")
    devices = [d for d in args.devices.split(",") if d]
    table = Benchmark.load(args.data_dir).table
    missing = [d for d in devices if f"latency@{d}" not in table.columns]
    if missing:
        raise ValueError(f"unknown device {', '.join(missing)}; the table has latency@ for "
                         + ", ".join(d for d in (Objective.parse(c).device for c in table.columns) if d))
    records, setups = [], {}
    for dataset in args.datasets.split(","):
        train_s = cost.train_seconds(table, dataset)
        for name in names:
            objectives = "test_acc" if name in SINGLE_OBJECTIVE else "test_acc,flops"
            problem = Problem.parse(dataset, objectives)
            optimum = float(table[problem.accuracy].max())
            start = time.perf_counter()
            runs = run_many(table, problem, name, args.budget, range(args.seeds), args.processes,
                            make_context(table, problem))
            if name not in setups:
                models = default_models(table, problem) if name in ("ours", "diffusionnag") else None
                setups[name] = cost.setup_seconds(name, models, args.supernet)
            setup = setups[name].seconds
            rec = {"dataset": dataset, "strategy": name, "problem": problem.describe(), "seeds": len(runs),
                   "budget": args.budget, "optimum": optimum, "wall_s": round(time.perf_counter() - start, 1),
                   "minutes_to_0.5": [cost.minutes_to_reach(r, optimum - 0.5, train_s, setup) for r in runs],
                   "minutes_budget": [cost.minutes_spent(r, train_s, setup) for r in runs],
                   "best_accuracy": [float(r.best_so_far()[-1]) for r in runs],
                   "best_mflops": [float(table.at[max(r.trained, key=lambda q: q.values[problem.accuracy]).index,
                                                  "flops"]) for r in runs],
                   "thresholds": {}}
            for t in THRESHOLDS[dataset]:
                per_run = []
                for r in runs:
                    total = cost.search_seconds(r, train_s, setup)
                    found = [(table.at[q.index, "flops"], k, q.index) for k, q in enumerate(r.queries)
                             if q.fidelity == "full" and q.values[problem.accuracy] >= t]
                    if not found:
                        per_run.append(None)
                        continue
                    mflops, _, index = min(found)
                    first = min(k for _, k, _ in found)
                    per_run.append({"index": int(index), "mflops": float(mflops),
                                    "accuracy": float(table.at[index, problem.accuracy]),
                                    "latency_ms": {d: _plain(table.at[index, f"latency@{d}"]) for d in devices},
                                    "minutes_to_first": float(total[first] / 60)})
                rec["thresholds"][str(t)] = per_run
            records.append(rec)
            reach = S.Reach(0.5, np.array(rec["minutes_to_0.5"]))
            say(f"{dataset} {name}: {rec['wall_s']} s; within 0.5 after {reach.text()} min; "
                f"best {np.mean(rec['best_accuracy']):.2f}")
    return records, setups


def _plain(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


def _mean_ci(values, digits: int = 1) -> str:
    from nagui.search import summary as S

    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if not len(v):
        return "none"
    text = S.mean_ci(v, digits) if len(v) > 1 else f"{v[0]:.{digits}f}"
    return text if len(v) == len(values) else f"{text} ({len(v)}/{len(values)} runs)"


def report(records: list[dict], setups: dict, args, total: float) -> list[str]:
    from nagui.search import cost

    devices = [d for d in args.devices.split(",") if d]
    lines = [f"The talk's result table on the NB201 tables: budget {args.budget} trained architectures, "
             f"{args.seeds} seeds, {total:.0f} s in all. Mean ± 95% CI over the seeds ('(k/n runs)': only k runs "
             "got there). Search time: NB201's own 200-epoch training time of every cell trained, plus the "
             "strategy's compute measured on this machine, plus its setup; one second here is counted as one "
             "GPU second (compute that ran on a CPU is overstated, not understated). Deployed cell: the "
             "cheapest cell the run trained at or above the threshold; its accuracy is the table's."]
    lines += cost.setup_lines(setups)
    for dataset in dict.fromkeys(r["dataset"] for r in records):
        sel = [r for r in records if r["dataset"] == dataset]
        names = [r["strategy"] for r in sel]
        talk = dataset == "cifar10" and all(n in TALK for n in ("ours", "diffusionnag", "reinforce"))
        header = names + ([f"talk: {TALK_NAMES[n]}" for n in ("ours", "diffusionnag", "reinforce")] if talk else [])
        lines += ["", f"### The talk's table, {dataset} ({cost.MEASURED[dataset]})", "",
                  "| | " + " | ".join(header) + " |", "|---|" + "---|" * len(header)]

        def row(label: str, cells: list[str], talk_key: str | None = None) -> None:
            extra = [TALK[n][talk_key] if talk_key else "" for n in ("ours", "diffusionnag", "reinforce")] if talk else []
            lines.append(f"| {label} | " + " | ".join(cells + extra) + " |")

        row("search time to within 0.5 of the optimum (min)", [_mean_ci(r["minutes_to_0.5"], 0) for r in sel],
            "search time (min)")
        row(f"search time, whole budget of {args.budget} (min)", [_mean_ci(r["minutes_budget"], 0) for r in sel])
        row("most accurate cell trained (%)", [_mean_ci(r["best_accuracy"], 2) for r in sel])
        row("its MFLOPs", [_mean_ci(r["best_mflops"], 1) for r in sel], "MFLOPs")
        for t in THRESHOLDS[dataset]:
            runs = [r["thresholds"][str(t)] for r in sel]
            row(f"deployed at >= {t}%: MFLOPs", [_mean_ci([x and x["mflops"] for x in rr], 1) for rr in runs])
            for d in devices:
                row(f"deployed at >= {t}%: latency {d} (ms)",
                    [_mean_ci([x and x["latency_ms"][d] for x in rr], 2) for rr in runs])
            row(f"deployed at >= {t}%: search time until trained (min)",
                [_mean_ci([x and x["minutes_to_first"] for x in rr], 0) for rr in runs])
        if talk:
            lines += ["", "The talk's columns come from another setting (its own search space, networks and "
                      "hardware); they are shown for shape, not for a like-for-like comparison."]
        if "ours" in names:
            lines += ["", f"#### Targets for ours, {dataset}", ""] + targets(sel, args.budget)
    lines += ["", "Ours' deployed network is the cheapest *cell* it trained: the sub-network the Deploy sliders "
              "would choose from a trained full-size super-network needs that network (issue #15's GPU run); "
              "until one is shipped it is not in this table."]
    return lines


def targets(sel: list[dict], budget: int) -> list[str]:
    """The issue's two targets, met or not, on one dataset."""
    def mean_or_inf(values):
        v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
        return float(v.mean()) if np.isfinite(v).all() else float("inf")

    ours = next(r for r in sel if r["strategy"] == "ours")
    others = [r for r in sel if r is not ours]
    against = ", ".join(r["strategy"] for r in others) or "nothing else"

    def verdict(mine: float, better: list[str], what: str) -> str:
        if not np.isfinite(mine):
            return "not met (not every run of ours got there)"
        return f"not met ({what}: {', '.join(better)})" if better else "met"

    t_ours = mean_or_inf(ours["minutes_to_0.5"])
    faster = [f"{r['strategy']} {mean_or_inf(r['minutes_to_0.5']):.0f}" for r in others
              if mean_or_inf(r["minutes_to_0.5"]) <= t_ours]
    out = [f"- least search time to within 0.5 of the optimum, against {against} ({t_ours:.0f} min): "
           + verdict(t_ours, faster, "as fast or faster")]
    mid = sorted(THRESHOLDS[ours["dataset"]])[1]
    mflops = {r["strategy"]: mean_or_inf([x and x["mflops"] for x in r["thresholds"][str(mid)]]) for r in sel}
    cheaper = [f"{n} {v:.1f}" for n, v in mflops.items() if n != "ours" and v < mflops["ours"]]
    out.append(f"- deployed at >= {mid}% costs no more MFLOPs than any other strategy with the same budget "
               f"({mflops['ours']:.1f}): " + verdict(mflops["ours"], cheaper, "cheaper"))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        records, setups = run_table(args)
    except ValueError as exc:
        say(f"nagui bench talk-table: error: {exc}")
        return 2
    total = time.perf_counter() - started
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = report(records, setups, args, total)
    (out / "talk_table.md").write_text("\n".join(lines) + "\n")
    (out / "talk_table.json").write_text(json.dumps(
        {"records": records, "setups": {k: {"parts": v.parts, "sources": v.sources, "missing": v.missing}
                                        for k, v in setups.items()}}, indent=1, allow_nan=True))
    with open(out / "talk_table.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dataset", "strategy", "seed", "minutes_to_0.5", "minutes_budget", "best_accuracy", "best_mflops"]
                   + [f"mflops_at_{t}" for t in ("hi", "mid", "lo")])
        for r in records:
            ts = [r["thresholds"][str(t)] for t in THRESHOLDS[r["dataset"]]]
            for s in range(r["seeds"]):
                w.writerow([r["dataset"], r["strategy"], s, r["minutes_to_0.5"][s], r["minutes_budget"][s],
                            r["best_accuracy"][s], r["best_mflops"][s]]
                           + [(x[s] or {}).get("mflops", "") for x in ts])
    print("\n".join(lines))
    say(f"wrote {out}/talk_table.md, talk_table.csv and talk_table.json in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
