"""``nagui diffusion train`` and ``nagui generate``: the graph diffusion prior and guided samples
near the Pareto front."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ..checkpoint_files import write_atomically
from ..data import Benchmark
from .common import UsageError, add_data_dir_arg, say
# Each command's machinery (torch, the models, the table) is imported inside the command:
# `nagui --help` imports this module and stays fast.


def _device(name: str) -> str:
    # deferred: keeps `nagui --help` fast
    from ..diffusion.generate import resolve_device

    try:
        return resolve_device(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _diffusion_config(args):
    from ..diffusion.model import DiffusionTrainConfig

    try:
        given = {"schedule": args.schedule, "train_set": args.train_set, "steps": args.steps, "seed": args.seed}
        return DiffusionTrainConfig(**{k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_diffusion_train(args) -> int:
    from ..diffusion.generate import default_model_dir
    from ..diffusion.model import DiffusionModel

    config = _diffusion_config(args)
    device = _device(args.device)
    out = Path(args.out) if args.out else default_model_dir(config)
    model = DiffusionModel.train(config=config, device=device,
                                 progress=say)
    model.save(out)
    print(f"trained the {config.schedule} diffusion prior on {model.info['train_cells']} {config.train_set} cells "
          f"in {model.info['train_s']:.1f} s on {device}; saved to {out}")
    return 0


def cmd_generate(args) -> int:
    from ..diffusion import (ConstraintError, Constraints, DiffusionCheckpointError, InfeasibleConstraintsError,
                             PredictorSpec, Problem, ProblemError, parse_preferences)
    from ..diffusion.generate import GenerateRequest, generate, load_or_train

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
        model = load_or_train(args.model, device=device, say=say)
        result = generate(bench, request, model, predictor=guiding, device=device, say=say)
    except (DiffusionCheckpointError, InfeasibleConstraintsError) as exc:
        raise UsageError(str(exc)) from None
    out = sys.stdout if args.json == "-" else None
    text = (json.dumps(result.records, indent=1, allow_nan=False) if not str(args.json).endswith(".jsonl")
            else "\n".join(json.dumps(r, allow_nan=False) for r in result.records)) + "\n"
    if out:
        out.write(text)
    else:
        write_atomically(args.json, text)
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
        say(line)
    return 0


def _guiding_predictor(path: str, problem):
    """A saved predictor usable for guidance: noise-aware, with the problem's accuracy head."""
    from ..predictor.ensemble import CheckpointError, Predictor

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


def add_parsers(sub) -> None:
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
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_generate)
