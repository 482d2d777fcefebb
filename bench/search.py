"""Search strategies on the same budget of trained architectures, on the NB201 tables.

    nagui bench search --datasets cifar10,cifar100,ImageNet16-120 --budget 100 --seeds 30 \
        --strategies all --out DIR

Budget = distinct cells whose target accuracy was looked up ("trained"); FLOPs and device
latencies are free. For every dataset:

- single objective (test accuracy): best accuracy ± 95% CI at 5/10/20/50/100 trained
  architectures, and how many it takes to come within 0.1 and 0.5 points of the optimum;
- multi-objective (acc–FLOPs, acc–raspi4 latency): HV ratio ± 95% CI at the same budgets
  (objectives normalised by the true front's ideal and nadir, reference point 1.1);
- search time in minutes (``nagui.search.cost``): NB201's own 200-epoch training time of
  every cell a strategy trained (12/200 of it for a 12-epoch evaluation; CIFAR-100 and
  ImageNet16-120 scaled by images x pixels, an estimate), plus the strategy's own compute
  measured here, plus its setup (ours: the diffusion prior's training from its checkpoint,
  and the super-network's from ``--supernet PROVENANCE`` when given): ``min_to_0.5``
  until it first trains a cell within 0.5 points of the optimum, ``min@B`` for the budget;
- wall time per strategy; best-so-far and HV curves as HTML and PNG (DIR/curves/);
- the talk's last table: on CIFAR-10 acc–FLOPs, the MFLOPs of the cheapest trained cell
  above 94.0 / 93.5 / 93.0% accuracy, against the table's true minimum.

DIR gets summary.md (all of the above and the targets), summary.csv, queries.csv (every
query of every run) and protocol.json (what every strategy's models saw).
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

THRESHOLDS = (94.0, 93.5, 93.0)


say = printed(seconds=2)   # progress and summaries on stderr


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    p.add_argument("--problems", default="test_acc,test_acc+flops,test_acc+raspi4",
                   help="objective sets separated by commas, objectives within one by +")
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--strategies", default="all", help="'all' or names separated by commas")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    p.add_argument("--data-dir")
    p.add_argument("--out", default="bench-search")
    p.add_argument("--no-png", action="store_true", help="write the curves as HTML only")
    p.add_argument("--supernet", help="provenance.json of a trained super-network package (nagui supernet ship): "
                   "its training time joins ours' setup compute")
    args = p.parse_args(argv)
    if args.budget < 1 or args.seeds < 1 or args.processes < 1:
        p.error("--budget, --seeds and --processes must be positive")
    return args


def main(argv=None) -> int:
    from nagui.data import Benchmark
    from nagui.search import cost
    from nagui.search import summary as S
    from nagui.search.harness import SINGLE_OBJECTIVE, STRATEGIES, default_models, make_context, run_many
    from nagui.problem import Problem
    from nagui.search.problem import front_values
    from nagui.viz.search_curves import curves_figure, write_figures

    args = parse_args(argv)
    names = list(STRATEGIES) if args.strategies == "all" else args.strategies.split(",")
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        say(f"unknown strategy {', '.join(unknown)}; choose from {', '.join(STRATEGIES)}")
        return 2
    table = Benchmark.load(args.data_dir).table
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    at = [b for b in S.AT if b <= args.budget]
    curve_x = np.unique(np.geomspace(1, args.budget, 40).astype(int))
    rows, figures, protocols, talk_runs, setups = [], {}, {}, {}, {}
    started = time.perf_counter()
    with open(out / "queries.csv", "w", newline="") as fq:
        qw = csv.writer(fq)
        qw.writerow(["dataset", "objectives", "strategy", "seed", "trained", "index", "values", "seconds", "fidelity",
                     "spent"])
        for dataset in args.datasets.split(","):
            for objectives in args.problems.split(","):
                problem = Problem.parse(dataset, objectives.replace("+", ","))
                key = f"{dataset} {'+'.join(problem.objectives)}"
                context = make_context(table, problem)
                front = front_values(table, problem) if problem.multi else None
                optimum = float(table[problem.accuracy].max())
                curves = {}
                for name in names:
                    if problem.multi and name in SINGLE_OBJECTIVE:
                        continue                                  # single-objective strategies
                    start = time.perf_counter()
                    runs = run_many(table, problem, name, args.budget, range(args.seeds), args.processes, context)
                    wall = time.perf_counter() - start
                    for r in runs:
                        for q in r.queries:
                            qw.writerow([dataset, "+".join(problem.objectives), name, r.seed, q.trained, q.index,
                                         json.dumps(q.values), round(q.seconds, 4), q.fidelity, round(q.spent, 4)])
                    protocols.setdefault(key, {})[name] = runs[0].protocol
                    row = {"dataset": dataset, "objectives": "+".join(problem.objectives), "strategy": name,
                           "seeds": len(runs), "wall_s": round(wall, 1),
                           "s_per_run": round(float(np.mean([r.seconds for r in runs])), 2)}
                    if problem.multi:
                        hv = S.hv_curves(runs, front, at)
                        for j, b in enumerate(at):
                            row[f"hv@{b}"] = S.mean_ci(hv[:, j])
                            row[f"_hv@{b}"] = float(hv[:, j].mean())
                        curves[name] = S.hv_curves(runs, front, curve_x)
                        if dataset == "cifar10" and problem.costs == ("flops",):
                            talk_runs[name] = runs
                    else:
                        best = S.best_curves(runs, args.budget)
                        for b in at:
                            row[f"best@{b}"] = S.mean_ci(best[:, b - 1], digits=2)
                        for gap in S.GAPS:
                            r_ = S.reach(runs, optimum, gap)
                            row[f"to_{gap}"] = r_.text(args.budget)
                            row[f"_to_{gap}"] = r_.mean
                        if name not in setups:       # ours' prior: loaded here once, after the forked runs
                            setups[name] = cost.setup_seconds(
                                name, default_models(table, problem) if name in ("ours", "diffusionnag") else None,
                                args.supernet)
                        train_s = cost.train_seconds(table, dataset)
                        minutes = np.array([cost.minutes_to_reach(r, optimum - 0.5, train_s, setups[name].seconds)
                                            for r in runs])
                        row["min_to_0.5"] = S.Reach(0.5, minutes).text()
                        row["_min_to_0.5"] = S.Reach(0.5, minutes).mean
                        row[f"min@{args.budget}"] = S.mean_ci(
                            [cost.minutes_spent(r, train_s, setups[name].seconds) for r in runs], digits=0)
                        curves[name] = best[:, curve_x - 1]
                        row["_t2_acc"] = [float(r.best_so_far()[-1]) for r in runs]
                        row["_t2_trained"] = [r.spent_to_reach(float(r.best_so_far()[-1])) for r in runs]
                    rows.append(row)
                    say(f"{key} {name}: {wall:.1f} s, " + ", ".join(f"{k} {v}" for k, v in row.items()
                                                                      if k.startswith(("best@", "hv@", "to_"))))
                figures[key.replace(" ", "_").replace("+", "-").replace("@", "-")] = curves_figure(
                    curve_x, curves, f"{dataset}: {' vs '.join(problem.objectives)} ({args.seeds} seeds)",
                    "HV ratio" if problem.multi else "best test accuracy so far (%)",
                    reference=1.0 if problem.multi else optimum,
                    reference_name="true front" if problem.multi else f"optimum {optimum:.2f}")
    total = time.perf_counter() - started
    written = write_figures(figures, out / "curves", png=not args.no_png)
    lines = report(rows, args, table, talk_runs, total, setups)
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    public = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    keys = list(dict.fromkeys(k for r in public for k in r))
    with open(out / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(public)
    (out / "protocol.json").write_text(json.dumps(protocols, indent=1, default=str))
    print("\n".join(lines))
    say(f"wrote {out}/summary.md, summary.csv, queries.csv, protocol.json and {len(written)} curve files "
        f"in {total:.0f} s")
    return 0


def report(rows: list[dict], args, table, talk_runs: dict, total: float, setups: dict | None = None) -> list[str]:
    from nagui.search import cost
    from nagui.search import summary as S

    lines = [f"Search benchmark: budget {args.budget} trained architectures, {args.seeds} seeds, "
             f"{args.processes} processes, {total:.0f} s in all. Mean ± 95% CI over the seeds. "
             "to_x: trained architectures to come within x points of the optimum (mean over the runs; "
             "'(k/n runs)' when only k got there within the budget). min_to_0.5 / min@B: search minutes "
             "until then / for the whole budget: NB201's own training time of every cell trained (12/200 of it "
             "for bohb's 12-epoch evaluations), plus the strategy's compute measured here, plus its setup. "
             + "; ".join(f"{d}: {cost.MEASURED[d]}" for d in dict.fromkeys(r["dataset"] for r in rows)
                         if d in cost.MEASURED) + "."]
    lines += cost.setup_lines(setups or {})
    public_keys = lambda r: [k for k in r if not k.startswith("_") and k not in ("dataset", "objectives")]
    for group in dict.fromkeys((r["dataset"], r["objectives"]) for r in rows):
        sel = [r for r in rows if (r["dataset"], r["objectives"]) == group]
        cols = list(dict.fromkeys(k for r in sel for k in public_keys(r)))
        lines += ["", f"### {group[0]}, {group[1]}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in sel]
    talk_targets: list[str] = []
    if talk_runs:
        lines += ["", "### The talk's last table: cheapest trained cell above an accuracy (CIFAR-10, acc–FLOPs)", "",
                  "MFLOPs of the cheapest cell a run trained with test accuracy >= the threshold, mean over the "
                  "runs that trained one (how many did); the table's true minimum beside it.", "",
                  "| strategy | s per run | " + " | ".join(f">= {t}" for t in THRESHOLDS) + " |",
                  "|---|---|" + "---|" * len(THRESHOLDS)]
        truth = [S.true_cheapest_above(table, "test_acc@cifar10", "flops", t) for t in THRESHOLDS]
        lines.append("| table truth | | " + " | ".join(f"{v:.2f}" for v in truth) + " |")
        for name, runs in talk_runs.items():
            cells = []
            for t, true in zip(THRESHOLDS, truth):
                found = S.cheapest_above(runs, "test_acc@cifar10", "flops", table, t)
                ok = np.isfinite(found)
                cells.append(f"{found[ok].mean():.2f} ({int(ok.sum())}/{len(ok)}; {100 * (found[ok].mean() / true - 1):+.1f}%)"
                             if ok.any() else "none")
            lines.append(f"| {name} | {np.mean([r.seconds for r in runs]):.2f} | " + " | ".join(cells) + " |")
            if name == "ours":
                for t, true in zip(THRESHOLDS, truth):
                    found = S.cheapest_above(runs, "test_acc@cifar10", "flops", table, t)
                    worst = float(np.max(np.where(np.isfinite(found), found, np.inf)))
                    talk_targets.append(f"- cheapest trained cell >= {t}% on CIFAR-10: mean {np.nanmean(found):.2f} "
                                        f"MFLOPs, worst run {worst:.2f}, truth {true:.2f} (target within 5%): "
                                        f"{'met' if np.nanmean(found) <= 1.05 * true and np.isfinite(worst) else 'not met'}")
    lines += table2(rows, args.budget)
    lines += ["", "### Targets (issue #7) for ours", ""] + targets(rows) + talk_targets
    return lines


def table2(rows: list[dict], budget: int) -> list[str]:
    """DiffusionNAG's Table 2 beside this run's own numbers (one objective, per dataset)."""
    from nagui.search import summary as S
    from nagui.search.published import DIFFUSIONNAG_TABLE2, NOT_RUN, SOURCE

    single = [r for r in rows if "_t2_acc" in r]
    if not single:
        return []
    lines = ["", "### DiffusionNAG's Table 2, side by side", "",
             f"Here: test accuracy of the best cell trained within {budget} trained architectures (mean ± 95% CI "
             "over the seeds; the one-seed `test_acc@` columns) and the trained architectures it took to find it "
             f"(bohb: its 12-epoch evaluations count 12/200 each). Published: {SOURCE} (3-seed NB201 means, so "
             "94.37 / 73.51 are the optima there); it has no ImageNet16-120 column."]
    for dataset in dict.fromkeys(r["dataset"] for r in single):
        sel = [r for r in single if r["dataset"] == dataset]
        lines += ["", f"#### {dataset}", "", "| method | accuracy here | trained archs here | accuracy published "
                  "| trained archs published |", "|---|---|---|---|---|"]
        for r in sel:
            pub = DIFFUSIONNAG_TABLE2.get(r["strategy"], {}).get(dataset, ("–", "–"))
            lines.append(f"| {r['strategy']} | {S.mean_ci(r['_t2_acc'], 2)} | {S.mean_ci(r['_t2_trained'], 1)} | "
                         f"{pub[0]} | {pub[1]} |")
        for name, reason in NOT_RUN.items():
            pub = DIFFUSIONNAG_TABLE2.get(name, {}).get(dataset, ("–", "–"))
            lines.append(f"| {name} | not run: {reason} | | {pub[0]} | {pub[1]} |")
    return lines


def targets(rows: list[dict]) -> list[str]:
    out = []
    limits = {"cifar10": 5, "cifar100": 5, "ImageNet16-120": 10}
    for r in rows:
        if r["strategy"] == "ours" and "_to_0.1" in r:
            limit = limits.get(r["dataset"])
            got = r["_to_0.1"]
            met = "met" if np.isfinite(got) and limit is not None and got <= limit else "not met"
            out.append(f"- {r['dataset']}: within 0.1 of the optimum after {r['to_0.1']} trained "
                       f"(target <= {limit}): {met}")
    for group in dict.fromkeys((r["dataset"], r["objectives"]) for r in rows if "_hv@20" in r or "_hv@10" in r):
        sel = [r for r in rows if (r["dataset"], r["objectives"]) == group]
        ours = next((r for r in sel if r["strategy"] == "ours"), None)
        if ours is None:
            continue
        parts = []
        for b in (10, 20):
            if f"_hv@{b}" not in ours:
                continue
            col = f"_hv@{b}"
            best = max(sel, key=lambda r: r[col])
            rank = "the best" if best is ours else f"behind {best['strategy']} {best[col]:.3f}"
            parts.append(f"HV@{b} {ours[col]:.3f} ({rank})")
        hv20 = ours.get("_hv@20")
        if hv20 is not None:
            parts.append(f">= 0.98 at 20: {'met' if hv20 >= 0.98 else 'not met'}")
        out.append(f"- {group[0]} {group[1]}: " + "; ".join(parts))
    return out


if __name__ == "__main__":
    sys.exit(main())
