"""A trained super-network shipped in ``assets/supernet/<name>``, and its first use.

:func:`ship_supernet` packages a trained run folder::

    assets/supernet/<name>/
      build.json              the run's build (super-cell, slots, channels, preset)
      checkpoint/supernet.json the checkpoint JSON (spec, training config, history), pointing at
      checkpoint/weights.safetensors  the weights (fp16 when that moves neither the largest nor the
                              smallest sub-network's test accuracy by more than 0.1 points, else fp32)
      profile.json            the COMPLETE profile: one record per distinct mask (FLOPs, params,
                              onnxruntime latency, held-out accuracy, test-split accuracy, the
                              cell's NB201 table accuracy at full depth), where it was measured
      provenance.json         device, date, epochs, training recipe, the commands that remake it,
                              and the sha256 of every other file

:func:`provide_shipped_supernet` copies a package into the user's run store (once;
atomically, safe under racing processes) as an ordinary ``supernet`` run at stage
``profiled``, its profile records already in the run's ``profile.sqlite`` under the key
the Deploy page reads, so a fresh machine deploys sub-networks without training or
measuring anything. No Streamlit here.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save

import nagui

from ..checkpoint_files import published_folder, sha256_of
from ..data import Benchmark
from ..diffusion.generate import resolve_device
from ..progress import Report, quiet
from ..runs import RunStore
from .distributed import device_name
from .profile import (CACHE_NAME, ProfileCache, Profiler, ProfileSettings, accuracy, kendall_tau, masks_to_profile,
                      record_line)
from .run_folder import read_build
from .select import pareto_set
from .shipped_package import (BUILD_NAME, CHECKPOINT_DIR, DEFAULT_NAME, DEFAULT_RECIPE_NOTE, ENV_VAR, FP16_TOLERANCE,
                              MAX_PACKAGE_BYTES, META_NAME, PACKAGE_FORMAT, PROFILE_NAME, PROVENANCE_NAME,
                              SHIPPED_SUPERNET_DIR, WEIGHTS_NAME, ShippedSupernetError, _clean, _fp16_check,
                              _fp16_tensors, _nan_if_none, _pick, _ship_command, _test_images, _train_command,
                              _write_json, is_shipped, provenance_line, read_profile, read_provenance, shipped_dir,
                              shipped_run_folder, shipped_supernets, verify_shipped)
from .train import read_checkpoint_meta


def _trained_run(run_dir: Path, name: str) -> tuple[dict, dict]:
    """The build record and checkpoint description of a fully trained run (or why it cannot ship)."""
    if not run_dir.is_dir():
        raise ShippedSupernetError(f"no such run folder: {run_dir}")
    if not name or "/" in name or name.startswith(".") or name != name.strip():
        raise ShippedSupernetError(f"package name {name!r} must be a plain folder name")
    build = read_build(run_dir)
    meta = read_checkpoint_meta(run_dir)
    if meta is None:
        raise ShippedSupernetError(f"{run_dir} has no trained checkpoint: train the super-network first")
    if meta["epochs_done"] < meta["config"]["epochs"]:
        raise ShippedSupernetError(f"{run_dir} is trained for {meta['epochs_done']} of {meta['config']['epochs']} "
                                   "epochs: finish training (it resumes) before shipping it")
    return build, meta


def _write_weights(stage: Path, run_dir: Path, meta: dict, use_fp16: bool) -> dict:
    """The run's weights (fp16 or fp32) and their description into ``stage``; returns the description."""
    ckpt = stage / CHECKPOINT_DIR
    ckpt.mkdir()
    state = load_file(str(run_dir / CHECKPOINT_DIR / meta["weights"]))
    state = _fp16_tensors(state) if use_fp16 else {k: v.contiguous() for k, v in state.items()}
    (ckpt / WEIGHTS_NAME).write_bytes(save(state, metadata={"format": meta["format"]}))
    shipped_meta = {**meta, "weights": WEIGHTS_NAME, "train_state": "train-state.safetensors",
                    "train_state_shipped": False, "weights_dtype": "float16" if use_fp16 else "float32",
                    "sha256": {WEIGHTS_NAME: sha256_of(ckpt / WEIGHTS_NAME)}}
    _write_json(ckpt / META_NAME, shipped_meta)
    return shipped_meta


def _profile_every_mask(profiler, test, eval_split: str, dataset: str, batch_size: int,
                        progress: Report) -> tuple[list[dict], dict]:
    """One record per distinct mask (the Profiler's measurements plus test-split accuracy)
    and where they were measured."""
    masks = masks_to_profile(profiler.spec)
    where = {"accuracy_device": device_name(profiler.device), "latency_device": device_name("cpu"),
             "host": os.uname().nodename}
    records = []
    for i, mask in enumerate(masks):
        rec = {k: v for k, v in profiler.measure(mask).items() if k != "cached"}
        test_acc = accuracy(profiler.calibrated(mask), test, batch_size)
        table = rec.get("table_acc")
        rec.update({"heldout_acc": rec["accuracy"], "test_acc": round(test_acc, 3), "test_split": eval_split,
                    "test_images": len(test),
                    f"table_test_acc@{dataset}": table if rec["full_depth"] else None, **where})
        records.append(_clean(rec))
        progress(f"  {i + 1}/{len(masks)}  {record_line(rec)}  test {rec['test_acc']:.2f}%", (i + 1) / len(masks))
    return records, where


def _provenance(stage: Path, name: str, device, meta: dict, build: dict, shipped_meta: dict, check, recipe_note: str,
                profile: dict, command: str, started: float) -> dict:
    """Where, when and how the package in ``stage`` was made, and every file's sha256."""

    files = sorted(p for p in stage.rglob("*") if p.is_file())
    return {
        "format": PACKAGE_FORMAT, "name": name,
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "device": device_name(device), "torch_device": str(device), "latency_device": device_name("cpu"),
        "host": os.uname().nodename, "epochs": meta["epochs_done"], "world_size": meta.get("world_size", 1),
        "train_s": meta.get("train_s"), "preset": build.get("preset"), "spec": meta["spec"],
        "config": meta["config"], "recipe": recipe_note, "data": meta.get("data"),
        "last_epoch": (meta.get("history") or [{}])[-1],
        "weights_dtype": shipped_meta["weights_dtype"], "fp16_check": check,
        "fp16_tolerance_points": FP16_TOLERANCE, "profile": profile, "command": command,
        "train_command": _train_command(meta, str(build.get("preset")), str(device)),
        "versions": {"nagui": nagui.__version__, "torch": torch.__version__, "python": sys.version.split()[0]},
        "ship_s": round(time.perf_counter() - started, 1),
        "sha256": {p.relative_to(stage).as_posix(): sha256_of(p) for p in files}}


def ship_supernet(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
                  name: str = DEFAULT_NAME, assets_dir: str | os.PathLike | None = None, fp16: bool = True,
                  eval_split: str = "test", eval_images: int | None = None, settings=None, data_root=None,
                  bench=None, dataset: str = "cifar10", device: str = "auto", recipe_note: str = DEFAULT_RECIPE_NOTE,
                  command: str | None = None, max_bytes: int = MAX_PACKAGE_BYTES,
                  progress: Report = quiet) -> Path:
    """Package the fully trained run in ``run_dir`` into ``out_dir`` (default
    ``<assets_dir>/<name>``, ``assets_dir`` defaulting to :func:`shipped_dir`) and return it.

    Every distinct mask is profiled with ``settings`` (a ``ProfileSettings``; default the
    Profiler's) on ``device`` (BN recalibration and accuracy; latency on the CPU), plus
    its accuracy on the ``eval_split`` images (all, or ``eval_images`` of them). The
    package is built in a temporary folder and renamed into place; a package over
    ``max_bytes`` is refused."""
    run_dir = Path(run_dir)
    build, meta = _trained_run(run_dir, name)
    out = Path(out_dir) if out_dir is not None else shipped_dir(assets_dir) / name
    device = resolve_device(device)
    settings = settings or ProfileSettings()
    if bench is None:
        bench = Benchmark.load()
    started = time.perf_counter()
    with published_folder(out, replace=True) as staged:     # an older package is replaced whole
        stage = staged.path
        # 1. fp32 or fp16: the largest and smallest sub-network's test accuracy decides
        source = Profiler(run_dir, data_root=data_root, settings=settings, bench=bench, dataset=dataset,
                          device=device)
        test = _test_images(data_root, eval_split, eval_images)
        check = _fp16_check(source, test, settings.batch_size) if fp16 else None
        use_fp16 = bool(check) and all(c["change"] <= FP16_TOLERANCE for c in check.values())
        del source
        # 2. the checkpoint: weights (+ JSON naming them); the optimizer state is not shipped
        shipped_meta = _write_weights(stage, run_dir, meta, use_fp16)
        shutil.copyfile(run_dir / BUILD_NAME, stage / BUILD_NAME)
        # 3. the complete profile, measured on the shipped weights
        profiler = Profiler(stage, data_root=data_root, settings=settings, bench=bench, dataset=dataset,
                            device=device)
        records, where = _profile_every_mask(profiler, test, eval_split, dataset, settings.batch_size, progress)
        del profiler
        (stage / "profile.sqlite").unlink(missing_ok=True)   # the Profiler's cache: the store makes its own
        tau, n_tau = kendall_tau(records)
        weights_sha = shipped_meta["sha256"][WEIGHTS_NAME]
        settings_dict = {k: v for k, v in asdict(settings).items() if k != "compute_threads"}
        profile = {"format": PACKAGE_FORMAT, "checkpoint_sha256": weights_sha, "settings": settings_dict,
                   "settings_key": settings.key(), "dataset": dataset, "test_split": eval_split,
                   "test_images": len(test), "masks": len(records), "complete": True,
                   "kendall_tau_vs_table": _clean(tau), "tau_cells": n_tau,
                   "pareto_masks": [r["mask"] for r in pareto_set(records)], "measured": where,
                   "records": records}
        _write_json(stage / PROFILE_NAME, profile)
        # 4. provenance: where, when, how, and every file's sha256
        provenance = _provenance(stage, name, device, meta, build, shipped_meta, check, recipe_note,
                                 {"masks": len(records), "settings": settings_dict, "test_split": eval_split,
                                  "test_images": len(test), "kendall_tau_vs_table": _clean(tau)},
                                 command or _ship_command(run_dir, name, fp16, eval_split, eval_images), started)
        _write_json(stage / PROVENANCE_NAME, _clean(provenance))
        size = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file())
        if size > max_bytes:
            raise ShippedSupernetError(f"the package of {run_dir} is {size / 2**20:.1f} MB, over the "
                                       f"{max_bytes / 2**20:.0f} MB limit for assets/ (weights "
                                       f"{shipped_meta['weights_dtype']}); ship a smaller super-network")
    return out


def provide_shipped_supernet(store, assets_dir: str | os.PathLike | None = None, name: str | None = None):
    """The shipped super-network as a run of ``store`` (copied in on first use), or None when
    nothing is shipped. The run is stage ``profiled``; its profile records (with test-split
    and table accuracies) are in its ``profile.sqlite`` under the checkpoint's sha256 and
    its profile settings, so Deploy reads them without measuring. Idempotent; the copy is
    made in a temporary folder and renamed, so racing processes end with one folder and
    one run."""
    package = _pick(assets_dir, name)
    if package is None:
        return None
    store = store if store is not None else RunStore()
    prov = read_provenance(package)
    target = shipped_run_folder(store, package, prov)
    if (target / PROVENANCE_NAME).is_file():     # provided before: every page load asks, so answer from the index
        done = next((r for r in store.list("supernet") if r.path.resolve() == target.resolve()), None)
        if done is not None:
            return done
    else:
        verify_shipped(package)
        profile = read_profile(package)
        # another process may provide it first: then its copy stands and this one is dropped
        with published_folder(target, present=lambda t: (t / PROVENANCE_NAME).is_file()) as staged:
            shutil.copytree(package, staged.path, dirs_exist_ok=True)
            cache = ProfileCache(staged.path / CACHE_NAME)
            key = ProfileSettings(**profile["settings"]).key()
            for rec in profile["records"]:
                cache.put(profile["checkpoint_sha256"], key, rec["mask"], rec)
    profile = read_profile(target)
    build = json.loads((target / BUILD_NAME).read_text())
    params = {"dataset": profile.get("dataset", "cifar10"), "preset": build.get("preset"), "strategy": "shipped",
              "train_overrides": {}, "profile_settings": profile["settings"], "shipped": package.name,
              "shipped_from": str(package)}
    summary = {"stage": "profiled", "shipped": True, "build": build.get("build") or {},
               "provenance": {k: prov.get(k) for k in ("name", "date", "device", "latency_device", "epochs",
                                                       "world_size", "preset", "config", "recipe", "weights_dtype",
                                                       "fp16_check", "command", "train_command", "profile")},
               "origin": f"shipped in {package}: " + provenance_line(prov),
               "train": {"epochs_done": prov.get("epochs"), "epochs": (prov.get("config") or {}).get("epochs")},
               "profiled_masks": len(profile["records"]),
               "kendall_tau": _nan_if_none(profile.get("kendall_tau_vs_table")),
               "tau_cells": profile.get("tau_cells"), "pareto_masks": len(profile.get("pareto_masks") or [])}
    run_name = f"shipped · {package.name} ({prov.get('epochs')} epochs on {prov.get('device')})"
    for attempt in range(3):
        try:
            return store.adopt("supernet", target, name=run_name, params=params, summary=summary)
        except sqlite3.IntegrityError:       # another process indexed it between our look and our insert
            if attempt == 2:
                raise
    return None


__all__ = ["DEFAULT_NAME", "ENV_VAR", "MAX_PACKAGE_BYTES", "SHIPPED_SUPERNET_DIR", "ShippedSupernetError",
           "device_name", "is_shipped", "provenance_line", "provide_shipped_supernet", "read_profile",
           "read_provenance", "ship_supernet", "shipped_dir", "shipped_supernets", "verify_shipped"]
