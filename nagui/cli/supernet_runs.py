"""Which run a ``nagui supernet`` command uses, and ``nagui supernet ship``.

``build``/``train`` use ``--run`` or the CLI default folder; ``profile``/``select``/``export``
use ``--run`` (which must exist), else the most recently trained run of the run store (the
app's or the CLI default's), else the shipped super-network (copied into the run store
on first use), and say which on stderr.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from ..progress import printed
# The commands' machinery (torch, the profiler, the run store and the app's workflows) is imported
# inside the functions that use it: `nagui --help` imports this module and stays fast.

_say = printed(seconds=2)   # progress and summaries on stderr, a line with a fraction at most every 2 s


def _run_dir(args) -> Path:
    """The run folder ``build`` writes and ``train`` trains: ``--run`` or the CLI default."""
    from ..supernet.run_folder import RunFolderError, default_run_dir

    if getattr(args, "_resolved_run", None) is not None:
        return args._resolved_run
    if args.run:
        run = Path(args.run)
        if args.supernet_command != "build" and not run.is_dir():
            raise RunFolderError(f"no such run folder: {run} (build one with `nagui supernet build --run {run}`)")
        return run
    return default_run_dir()


def _trained_run_dir(args) -> Path:
    """The run ``profile``/``select``/``export`` use: ``--run`` (which must exist), else the
    most recently trained run of the run store (the app's or the CLI default's), else the
    shipped super-network (copied into the run store on first use). Says which on stderr."""
    from ..supernet.run_folder import default_run_dir

    if getattr(args, "_resolved_run", None) is not None:
        return args._resolved_run
    if args.run:
        run = _run_dir(args)
        args._profile_base = _shipped_settings(run)
    else:
        from ..runs import RunStore
        from ..workflows.supernet_runs import latest_trained_run, origin_of

        store = RunStore()
        found = latest_trained_run(store)
        if found is None:
            run = default_run_dir()
            _say(f"using {run}: no trained super-network in the run store {store.root} and none shipped "
                 "(train one with `nagui supernet build` and `nagui supernet train`)")
        else:
            run = found.path
            args._profile_base = found.params.get("profile_settings") or {}
            _say(f"using run {found.id} '{found.name}' ({run}), {origin_of(found)}")
    args._resolved_run = run
    return run


def _shipped_settings(run: Path) -> dict:
    """The profile settings a shipped package (or a run provided from one) was measured with."""
    if not (run / "profile.json").is_file():
        return {}
    from ..supernet.shipped import ShippedSupernetError, read_profile

    try:
        return dict(read_profile(run)["settings"])
    except ShippedSupernetError:
        return {}


def _settings(args):
    """Profile settings: the run's own (a shipped run's, an app run's), then the flags given."""
    from ..supernet.profile import ProfileSettings

    _trained_run_dir(args)
    base = dict(getattr(args, "_profile_base", None) or {})
    if args.calibration_images is not None:
        base["calibration_images"] = args.calibration_images
    if args.eval_images is not None:
        base["eval_images"] = args.eval_images
    return ProfileSettings(**base)


def json_record(r: dict, dataset: str = "cifar10") -> dict:
    """What ``profile --json`` prints per mask: test accuracy when the run measured it (a
    shipped run does), held-out accuracy, and the cell's table accuracy at full depth only."""
    from ..supernet.profile import table_accuracy

    return {"mask": r["mask"], "cell": r["cell"], "flops": r["flops"], "params": r["params"],
            "latency_ms": r["latency_ms"], "test_acc": r.get("test_acc"),
            "heldout_acc": r.get("heldout_acc", r["accuracy"]),
            "table_acc": table_accuracy(r, dataset), "full_depth": bool(r.get("full_depth")),
            "cached": r.get("cached")}


def cmd_ship(args) -> int:
    from ..data import Benchmark
    from ..supernet.profile import ProfileSettings
    from ..supernet.shipped import ship_supernet, verify_shipped

    run = _run_dir(args)
    settings = ProfileSettings(**{k: v for k, v in (("calibration_images", args.calibration_images),
                                                      ("eval_images", args.heldout_images)) if v is not None})
    command = "nagui " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if Path(sys.argv[0]).name in ("nagui", "__main__.py") else None
    _say(f"shipping {run} as {args.name!r}: profiling every distinct mask (test split: "
         f"{args.eval_images or 'all'} images) ...")

    out = ship_supernet(run, args.out, name=args.name, assets_dir=args.assets, fp16=not args.no_fp16,
                        eval_split=args.eval_split, eval_images=args.eval_images, settings=settings,
                        data_root=args.images, bench=Benchmark.load(args.data_dir), device=args.device,
                        command=command, progress=_say)
    prov = verify_shipped(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"shipped {run} to {out} ({size / 2**20:.2f} MB, {prov['weights_dtype']} weights, "
          f"{prov['profile']['masks']} masks profiled on {prov['device']})")
    for rel, sha in sorted(prov["sha256"].items()):
        print(f"  {sha}  {rel}")
    return 0


def add_ship_parser(sn, guarded) -> None:
    """``nagui supernet ship``; ``guarded`` turns known bad input into one line and exit 2."""
    p = sn.add_parser("ship", help="package a trained run into assets/supernet/NAME (weights, complete profile "
                      "with test-split accuracy, provenance, sha256s)")
    p.add_argument("--run", required=True, help="the trained run folder")
    p.add_argument("--images", help="ImageFolder root with train/ and test/ (default: <data dir>/cifar10-jpeg)")
    p.add_argument("--data-dir", help="NB201 data folder (default: NAGUI_DATA_DIR or ../shared/data)")
    p.add_argument("--name", default="cifar10-flops", help="package name (folder under the assets dir)")
    p.add_argument("--assets", help="assets folder (default: $NAGUI_SHIPPED_SUPERNETS or assets/supernet)")
    p.add_argument("--out", help="package folder (default: ASSETS/NAME)")
    p.add_argument("--eval-images", type=int, help="test-split images scored per mask (default: all 10,000)")
    p.add_argument("--eval-split", default="test", help="split scored as the test accuracy")
    p.add_argument("--heldout-images", type=int, help="held-out images scored per mask (default: all set aside)")
    p.add_argument("--calibration-images", type=int, help="train images for BN recalibration (default 500)")
    p.add_argument("--no-fp16", action="store_true", help="ship fp32 weights even when fp16 keeps the accuracy")
    p.add_argument("--device", default="auto", help="where BN recalibration and accuracy run (auto: the GPU)")
    p.set_defaults(func=guarded(cmd_ship))
