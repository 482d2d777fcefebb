"""The pipeline's stages, whether each is ready, and one call that builds what is missing.

Stages, in order: the NB201 data, the guiding predictor, the diffusion prior, and a
trained, profiled super-network. :func:`stage_status` only looks (cheap, no training);
:func:`build_missing` makes whatever is missing on the built-in defaults (CIFAR-10,
accuracy vs FLOPs, the quick super-network preset), reporting progress as it goes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from ..progress import Report, quiet, within
from ..runs import RunStore
# The stages' machinery (torch, the trainer, the profiler) is imported inside the functions that
# use it: the Home page imports this module and draws without waiting for torch.

DEFAULT_DATASET = "cifar10"
DEFAULT_OBJECTIVES = "test_acc,flops"
# what the quick preset's build takes (BENCHMARKS.md, "Build everything missing"): 426 s through the
# app on a 2-core Xeon with AMX (bf16 training, nagui.supernet.precision), 705-1,173 s on AMD EPYC
QUICK_BUILD_TIME = "about 7 minutes on 2 CPU cores with AMX, 12–20 without"


@dataclass(frozen=True)
class Stage:
    key: str
    title: str
    ready: bool
    detail: str


def _model_ready(path) -> tuple[bool, str]:
    from ..shipped_models import SHIPPED_DIR

    if path.is_dir():
        return True, f"cached in {path}"
    if (SHIPPED_DIR / path.name).is_dir():
        return True, f"shipped in {SHIPPED_DIR / path.name} (copied to the cache on first use)"
    return False, f"not trained yet (will be cached in {path})"


def stage_status(store: RunStore, dataset: str = DEFAULT_DATASET) -> list[Stage]:
    from ..data.sources import resolve_data_dir
    from ..diffusion.generate import default_model_dir
    from ..diffusion.problem import pretrained_predictor_dir
    from ..supernet.images import default_image_root
    from .supernet_runs import is_shipped, stage_of, supernet_runs

    root = resolve_data_dir()
    have_tables = (root / "nb201").is_dir()
    try:
        images = default_image_root()
        have_images = images.is_dir()
    except Exception:  # noqa: BLE001 - only a status line
        images, have_images = root / "cifar10-jpeg", False
    data_detail = (f"NB201 tables in {root / 'nb201'}" if have_tables else f"NB201 tables missing in {root}: "
                   "run `nagui data fetch`") + ("; training images in " + str(images) if have_images
                                                else "; CIFAR-10 images missing (needed to train the super-network)")
    pred_ok, pred_detail = _model_ready(pretrained_predictor_dir(dataset))
    diff_ok, diff_detail = _model_ready(default_model_dir())
    runs = supernet_runs(store)
    profiled = [r for r in runs if stage_of(r) == "profiled"]
    if profiled:
        sn_ok, sn_detail = True, f"{len(profiled)} trained and profiled run(s); latest: {profiled[0].name}"
        origin = shipped_origin(store, runs)
        if origin and all(is_shipped(r) for r in profiled):
            sn_ok, sn_detail = True, f"the shipped super-network, ready to deploy without training ({origin})"
    elif runs:
        sn_ok, sn_detail = False, f"{len(runs)} run(s), none profiled yet (latest: {runs[0].name}, " \
                                  f"stage {stage_of(runs[0]) or runs[0].status})"
    else:
        sn_ok, sn_detail = False, "no super-network yet"
    return [Stage("data", "Data", have_tables and have_images, data_detail),
            Stage("predictor", "Guiding predictor", pred_ok, pred_detail),
            Stage("diffusion", "Diffusion prior", diff_ok, diff_detail),
            Stage("supernet", "Super-network", sn_ok, sn_detail)]


def pipeline_ready(store: RunStore, stages: list[Stage]) -> dict[str, bool]:
    """Which boxes of the pipeline picture are done: the stages, plus ``generated`` (a
    generated set exists in the run store)."""
    return {**{s.key: s.ready for s in stages}, "generated": store.latest("generate") is not None}


def shipped_origin(store: RunStore, runs=None) -> str | None:
    """Where the shipped super-network came from (device, date, recipe from its provenance),
    once it is in the run store; None when nothing is shipped. Lists the runs (which
    copies a shipped package into the store on first use) unless ``runs`` is given."""
    from .supernet_runs import is_shipped, origin_of, supernet_runs

    shipped = [r for r in (runs if runs is not None else supernet_runs(store)) if is_shipped(r)]
    return origin_of(shipped[0]) if shipped else None


def build_missing(store: RunStore, bench_loader: Callable[[], object],
                  report: Report = quiet, *, device: str = "auto",
                  preset: str = "quick", train_overrides: dict | None = None, profile_limit: int | None = 60) -> dict:
    """Make every missing stage on the defaults; returns what it did. The data stage is
    fetched (sha256-checked) when the tables are absent."""
    from ..diffusion.generate import load_or_train
    from ..diffusion.problem import pretrained_predictor
    from .supernet_runs import build_run, profile_run, stage_of, supernet_runs, train_run

    done = []

    status = {s.key: s for s in stage_status(store)}
    if not status["data"].ready:
        from ..data.sources import resolve_data_dir

        if not (resolve_data_dir() / "nb201").is_dir():
            from ..data.sources import fetch

            report("downloading the NB201 tables (sha256-checked)", 0.0)
            fetch()
            done.append("data")
    bench = bench_loader()
    if not status["predictor"].ready:
        report("pretraining the guiding predictor on the source datasets", 0.02)
        pretrained_predictor(bench.table, DEFAULT_DATASET, say=within(report, 0.02, 0.2))
        done.append("predictor")
    model = None
    if not status["diffusion"].ready or not status["supernet"].ready:
        report("loading the diffusion prior", 0.2)
        model = load_or_train(device="cpu", say=within(report, 0.2, 0.3))
    if not status["diffusion"].ready:
        done.append("diffusion")
    if not status["supernet"].ready:
        runs = [r for r in supernet_runs(store) if r.status in ("done", "interrupted", "cancelled", "failed")
                and stage_of(r) in ("built", "trained")]
        run = runs[0] if runs else None
        if run is None:
            run = build_run(store, bench, preset=preset, device=device, train_overrides=train_overrides,
                            report=within(report, 0.3, 0.35), models={"diffusion": model})
        if stage_of(run) == "built":
            run = train_run(store, run, device=device, report=within(report, 0.35, 0.9))
        profile_run(store, run, limit=profile_limit, bench=bench, device=device, report=within(report, 0.9, 1.0))
        done.append("supernet")
    report("everything is ready", 1.0)
    return {"built": done}


def compute_device() -> str:
    """What will compute: the GPU's name when there is one, else the CPU and its cores."""
    import torch

    if torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name(0)} (cuda)"
    return f"CPU only ({os.cpu_count()} cores; no CUDA GPU found)"
