"""A super-network as a stored run: build → train → profile, each step resumable.

Each step is a plain function the app runs in a background task (and tests call
directly). The run folder is the same one ``nagui supernet ...`` uses (``build.json``,
``checkpoint/``, the profile cache), so the CLI and the app can work on one run. The
run's ``summary["stage"]`` says how far it got: ``built``, ``trained``, ``profiled``.
"""
from __future__ import annotations

import itertools
import json
import logging

from ..progress import Report, logged, within
from ..runs import Run, RunStore
# The stages' machinery (torch, the trainer, the profiler) is imported inside the functions that
# use it: the Home page imports this module and draws without waiting for torch.

log = logging.getLogger(__name__)
KIND = "supernet"
STAGES = ("built", "trained", "profiled")
_logged = logged(log)


def stage_of(run: Run) -> str | None:
    return run.summary.get("stage")


def adopt_cli_default(store: RunStore) -> Run | None:
    """Index the CLI's default run folder (``nagui supernet build`` without ``--run``) so the
    app lists it; None when there is none."""
    from ..supernet.run_folder import default_run_dir, read_build
    from ..supernet.checkpoint import read_checkpoint_meta

    folder = default_run_dir()
    if not (folder / "build.json").is_file():
        return None
    run = store.adopt(KIND, folder, name="CLI default run", params={"preset": read_build(folder).get("preset")})
    stage = "trained" if read_checkpoint_meta(folder) else "built"
    if (folder / "profile.sqlite").exists() and stage == "trained":
        stage = "profiled"
    if stage_of(run) != stage:
        run = store.update(run.id, summary={"stage": stage})
    return run


def provide_shipped(store: RunStore) -> Run | None:
    """The shipped super-network (``assets/supernet``) as a run of ``store``, copied in on
    first use; None when none is shipped. A damaged package is logged and skipped, so
    the pages behave as without one."""
    from ..supernet.shipped import ShippedSupernetError, provide_shipped_supernet, shipped_supernets

    if not shipped_supernets():
        return None
    try:
        return provide_shipped_supernet(store)
    except (ShippedSupernetError, OSError) as exc:
        log.warning("the shipped super-network is not used: %s", exc)
        return None


def supernet_runs(store: RunStore) -> list[Run]:
    adopt_cli_default(store)
    provide_shipped(store)
    return store.list(KIND)


def is_shipped(run: Run) -> bool:
    from ..supernet.shipped import is_shipped as shipped

    return shipped(run)


def origin_of(run: Run) -> str:
    """Where a super-network run came from, in words."""
    from ..supernet.run_folder import default_run_dir

    if is_shipped(run):
        return run.summary.get("origin") or f"shipped in {run.params.get('shipped_from')}"
    if run.path.resolve() == default_run_dir().resolve():
        return "the CLI's default run (`nagui supernet build|train` without --run)"
    return "made in the app"


def _trained_at(run: Run) -> float:
    meta = run.path / "checkpoint" / "supernet.json"
    try:
        return meta.stat().st_mtime
    except OSError:
        return run.finished or run.created


def latest_trained_run(store: RunStore, *, shipped: bool = True) -> Run | None:
    """The most recently trained super-network of the store (the app's runs and the CLI's
    default run alike; by its checkpoint's time), else the shipped one (provided into
    the store on first use; not with ``shipped=False``), else None."""
    from ..supernet.checkpoint import read_checkpoint_meta

    adopt_cli_default(store)
    trained = []
    for run in store.list(KIND):
        if is_shipped(run) or stage_of(run) not in ("trained", "profiled") or run.status == "running":
            continue
        try:
            if read_checkpoint_meta(run.path) is None:
                continue
        except Exception:  # noqa: BLE001 - a damaged run is not a candidate
            continue
        trained.append(run)
    if trained:
        return max(trained, key=_trained_at)
    return provide_shipped(store) if shipped else None


def build_run(store: RunStore, bench, *, dataset: str = "cifar10", objectives: str = "test_acc,flops",
              preset: str = "quick", strategy: str = "direct", n: int = 256, seed: int = 0, device: str = "auto",
              train_overrides: dict | None = None, report: Report = _logged, models: dict | None = None,
              from_generation: Run | None = None) -> Run:
    """Choose the super-cell from the generated front and create the run (stage ``built``).
    ``from_generation`` (a ``generate`` run) assembles the super-cell from that set's
    cells instead of generating new ones; its dataset and objectives are used.
    ``train_overrides`` (SupernetTrainConfig fields) are kept for :func:`train_run`."""
    from ..diffusion.generate import resolve_device
    from ..supernet.build import BuildRequest, build_into, check_request
    from ..supernet.config import PRESETS

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    cells = None
    if from_generation is not None:
        from .generation import load_generation

        dataset, objectives = from_generation.params["dataset"], from_generation.params["objectives"]
        if len(objectives.split(",")) != 2:
            raise ValueError(f"the generated set {from_generation.name!r} has {len(objectives.split(','))} "
                             "objectives; a super-network is built for one accuracy and one cost")
        cells = sorted({r["arch"] for r in load_generation(store, from_generation)["samples"]})
        strategy = "assemble"
    p = PRESETS[preset]
    request = BuildRequest(dataset=dataset, objectives=objectives, strategy=strategy, n=n, seed=seed,
                           slots=p["slots"], channels=p["channels"])
    check_request(request)
    device = resolve_device(device)
    run = store.create(KIND, {"dataset": dataset, "objectives": objectives, "preset": preset, "strategy": strategy,
                              "n": n, "seed": seed, "train_overrides": train_overrides or {},
                              "from_generation": from_generation.id if from_generation else None},
                       name=f"{preset} · {dataset} {objectives}")
    with store.recording(run):
        report("loading the diffusion prior, then generating and ranking super-cells by predicted coverage "
               "of the front", 0.05)
        result = build_into(run.path, bench, request, preset, device=device, model=(models or {}).get("diffusion"),
                            say=within(report, 0.05, 0.95), cells=cells)
        report(f"super-cell chosen: coverage {result.true_coverage:.4f} of the true front", 1.0)
        return store.update(run.id, "done", summary={"stage": "built", "build": result.as_dict(),
                                                     "device": device})


def create_run(store: RunStore, super_cell: str, *, preset: str = "quick", slots=None, channels: int | None = None,
               dataset: str = "cifar10", train_overrides: dict | None = None, profile_settings: dict | None = None,
               name: str | None = None) -> Run:
    """A run whose super-cell is given by hand (no generation); stage ``built``.
    ``profile_settings`` (ProfileSettings fields) apply to every measurement of the run."""
    from ..space import Arch
    from ..supernet.config import PRESETS
    from ..supernet.run_folder import write_build
    from ..supernet.sandwich import preset as make_preset

    cell = Arch.parse(super_cell)
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    spec, _ = make_preset(preset, cell, channels, slots, **(train_overrides or {}))
    run = store.create(KIND, {"dataset": dataset, "preset": preset, "strategy": "by hand",
                              "train_overrides": train_overrides or {}, "profile_settings": profile_settings or {}},
                       name=name or f"{preset} · {cell.to_str()}")
    with store.recording(run):         # a failed write marks the run failed, not running forever
        write_build(run.path, spec, preset, {"strategy": "by hand", "spec": spec.as_dict()})
        return store.update(run.id, "done", summary={"stage": "built", "build": {"strategy": "by hand",
                                                                                 "spec": spec.as_dict()}})


def train_config(run: Run):
    from ..supernet.run_folder import build_spec
    from ..supernet.sandwich import preset

    spec, preset_name = build_spec(run.path)
    return preset(preset_name, spec.super_cell, spec.channels, spec.slots, **run.params.get("train_overrides", {}))


def train_run(store: RunStore, run: Run, *, device: str = "auto", data_root=None, report: Report = _logged) -> Run:
    """Train (or resume) the run's super-network; stage ``trained``. A cancel stops at the
    next step; the last finished epoch's checkpoint is kept and the next call resumes."""
    from ..diffusion.generate import resolve_device
    from ..supernet.trainer import train_supernet

    device = resolve_device(device)
    spec, config = train_config(run)
    store.update(run.id, "running", summary={"error": None})

    with store.recording(run):
        summary = train_supernet(run.path, spec, config, data_root=data_root, device=device, progress=report)
        return store.update(run.id, "done", summary={"stage": "trained", "train": _plain(summary),
                                                     "train_device": device})


def _plain(obj):
    return json.loads(json.dumps(obj, default=str))


def profile_run(store: RunStore, run: Run, *, limit: int | None = 60, seed: int = 0, data_root=None, bench=None,
                settings=None, device: str = "auto", report: Report = _logged) -> Run:
    """Measure a seeded sample of masks (FLOPs, onnxruntime latency on the CPU, held-out
    accuracy on ``device``); stage ``profiled``. Masks measured before come from the cache."""
    from ..supernet.profile import kendall_tau, masks_to_profile
    from ..supernet.select import pareto_set

    profiler = live_profiler(run, data_root=data_root, bench=bench, settings=settings, device=device)
    masks = masks_to_profile(profiler.spec, limit=limit, seed=seed)
    store.update(run.id, "running", summary={"error": None})
    with store.recording(run):
        records = profiler.profile(masks, report)
        tau, n_tau = kendall_tau(records)
        return store.update(run.id, "done", summary={"stage": "profiled", "profiled_masks": len(records),
                                                     "kendall_tau": tau, "tau_cells": n_tau,
                                                     "pareto_masks": len(pareto_set(records))})


def live_profiler(run: Run, *, data_root=None, bench=None, settings=None, device: str = "auto"):
    """The run's :class:`~nagui.supernet.profile.Profiler` (loads the checkpoint and images);
    BN recalibration and accuracy run on ``device`` (auto: the GPU when present)."""
    from ..diffusion.generate import resolve_device
    from ..supernet.profile import Profiler, ProfileSettings

    device = resolve_device(device)
    settings = settings or ProfileSettings(**run.params.get("profile_settings", {}))
    return Profiler(run.path, data_root=data_root, settings=settings, bench=bench,
                    dataset=run.params.get("dataset", "cifar10"), device=device)


def sub_cell_indices(bench, spec) -> list[int]:
    """NB201 indices of every distinct sub-cell the super-network offers at full depth
    (what its coverage of the front is measured on)."""
    from ..nets.supernet import BlockMask
    from ..space import EDGES

    found = set()
    for states in itertools.product(*(spec.edge_choices(k) for k in range(len(EDGES)))):
        try:
            mask = BlockMask.full_depth(spec, states).validate(spec)
        except ValueError:
            continue
        found.add(int(bench.index_of(mask.sub_cell(spec).to_str())))
    return sorted(found)
