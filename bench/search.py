"""Search strategies on the same budget of trained architectures (work in progress: the
tables below; the Plotly curves and the talk's last table come next).

    nagui bench search --datasets cifar10,cifar100,ImageNet16-120 --budget 100 --seeds 30 \
        --strategies all --out DIR

Single objective (test accuracy): best accuracy ± 95% CI at 5/10/20/50/100 trained
architectures and how many it takes to come within 0.1 and 0.5 points of the optimum.
Multi-objective (acc–FLOPs, acc–raspi4): HV ratio ± 95% CI at the same budgets. Every
query of every run goes to DIR/queries.csv.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

AT = (5, 10, 20, 50, 100)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def ci95(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(1.96 * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def reached(best: np.ndarray, target: float) -> float:
    """Trained architectures until ``best`` first reaches ``target`` (NaN if never)."""
    hit = np.nonzero(best >= target)[0]
    return float(hit[0] + 1) if len(hit) else float("nan")


def main(argv=None) -> None:
    from nagui.data import Benchmark
    from nagui.search.harness import STRATEGIES, make_context, run_many
    from nagui.search.problem import SearchProblem, true_front

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    p.add_argument("--problems", default="test_acc,test_acc+flops,test_acc+raspi4",
                   help="objective sets separated by commas, objectives within one by +")
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--strategies", default="all")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    p.add_argument("--data-dir")
    p.add_argument("--out", default="bench-search")
    args = p.parse_args(argv)
    names = sorted(STRATEGIES) if args.strategies == "all" else args.strategies.split(",")
    bench = Benchmark.load(args.data_dir)
    table = bench.table
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    at = [b for b in AT if b <= args.budget]
    rows, lines = [], []
    with open(out / "queries.csv", "w", newline="") as fq:
        qw = csv.writer(fq)
        qw.writerow(["dataset", "objectives", "strategy", "seed", "trained", "index", "values", "seconds"])
        for dataset in args.datasets.split(","):
            for objectives in args.problems.split(","):
                problem = SearchProblem.parse(dataset, objectives.replace("+", ","))
                context = make_context(table, problem)
                front = true_front(table, problem) if problem.multi else None
                optimum = float(table[problem.accuracy].max())
                for name in names:
                    if problem.multi and name in ("rea", "local"):
                        continue                                  # single-objective strategies
                    start = time.perf_counter()
                    runs = run_many(table, problem, name, args.budget, range(args.seeds), args.processes, context)
                    wall = time.perf_counter() - start
                    for r in runs:
                        for q in r.queries:
                            qw.writerow([dataset, "+".join(problem.objectives), name, r.seed, q.trained, q.index,
                                         q.values, round(q.seconds, 4)])
                    row = {"dataset": dataset, "objectives": "+".join(problem.objectives), "strategy": name,
                           "seeds": len(runs), "wall_s": round(wall, 1)}
                    if problem.multi:
                        hv = np.array([r.hv_at(front, at) for r in runs])
                        for j, b in enumerate(at):
                            row[f"hv@{b}"] = f"{hv[:, j].mean():.3f} ± {ci95(hv[:, j]):.3f}"
                    else:
                        best = np.array([r.best_so_far() for r in runs])
                        for b in at:
                            row[f"best@{b}"] = f"{best[:, b - 1].mean():.2f} ± {ci95(best[:, b - 1]):.2f}"
                        for gap in (0.1, 0.5):
                            hits = np.array([reached(x, optimum - gap) for x in best])
                            row[f"to_{gap}"] = (f"{np.nanmean(hits):.1f} ({int(np.isfinite(hits).sum())}/{len(hits)})"
                                                if np.isfinite(hits).any() else f"> {args.budget}")
                    rows.append(row)
                    say(f"{dataset} {row['objectives']} {name}: {row}")
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(out / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(rows)
    for group in sorted({(r["dataset"], r["objectives"]) for r in rows}):
        sel = [r for r in rows if (r["dataset"], r["objectives"]) == group]
        cols = [k for k in keys if k not in ("dataset", "objectives") and any(k in r for r in sel)]
        lines += [f"\n{group[0]}, {group[1]} (budget {args.budget}, {args.seeds} seeds; mean ± 95% CI; "
                  "to_x: trained architectures to come within x points of the optimum, mean over the runs that did)",
                  "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in sel]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
