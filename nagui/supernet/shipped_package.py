"""A shipped super-network package on disk: its layout, listing, sha256 check, and the
helpers ``ship_supernet`` uses to fill it (see :mod:`.shipped` for the layout).
"""
from __future__ import annotations

import copy
import json
import math
import os
import shlex
from pathlib import Path

import torch

from ..checkpoint_files import sha256_of
from ..nets.supernet import BlockMask, extract_subnetwork
from .images import class_names, default_image_root, load_image_folder
from .profile import accuracy, recalibrate_bn
from .train import SupernetCheckpointError

SHIPPED_SUPERNET_DIR = Path(__file__).resolve().parents[2] / "assets" / "supernet"
ENV_VAR = "NAGUI_SHIPPED_SUPERNETS"   # another assets folder (tests; a second checkout)
PACKAGE_FORMAT = "nagui-shipped-supernet/1"
DEFAULT_NAME = "cifar10-flops"
BUILD_NAME, PROFILE_NAME, PROVENANCE_NAME = "build.json", "profile.json", "provenance.json"
CHECKPOINT_DIR, META_NAME, WEIGHTS_NAME = "checkpoint", "supernet.json", "weights.safetensors"
MAX_PACKAGE_BYTES = 10 * 2**20
FP16_TOLERANCE = 0.1                 # accuracy points the largest / smallest sub-network may move
SHIPPED_PREFIX = "shipped-"           # run folders in the store: <root>/supernet/shipped-<name>-<sha12>
DEFAULT_RECIPE_NOTE = ("sandwich rule (largest, smallest and random masks in one forward, in-place distillation), "
                       "SGD nesterov momentum 0.9, cosine learning rate; BN statistics re-estimated per sub-network "
                       "on training images before every accuracy")


class ShippedSupernetError(SupernetCheckpointError):
    """A shipped super-network package that is missing, damaged, too large or incomplete;
    the message names the file."""


def shipped_dir(assets_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding shipped packages: ``assets_dir``, else $NAGUI_SHIPPED_SUPERNETS,
    else ``assets/supernet`` of this checkout."""
    if assets_dir is not None:
        return Path(assets_dir)
    return Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else SHIPPED_SUPERNET_DIR


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")


def _clean(obj):
    """JSON-safe: NaN/inf become None (profile.json is written with allow_nan=False)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


# ------------------------------------------------------------------------------- listing
def shipped_supernets(assets_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every shipped package (a folder holding ``provenance.json``), sorted by name."""
    root = shipped_dir(assets_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / PROVENANCE_NAME).is_file())


def read_provenance(path: str | os.PathLike) -> dict:
    """A package's ``provenance.json`` (format checked), or :class:`ShippedSupernetError`."""
    file = Path(path) / PROVENANCE_NAME
    if not file.is_file():
        raise ShippedSupernetError(f"{file} is missing: {path} is not a shipped super-network package")
    try:
        data = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ShippedSupernetError(f"{file} is damaged (not readable JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != PACKAGE_FORMAT or not isinstance(data.get("sha256"), dict):
        raise ShippedSupernetError(f"{file} is damaged or not a shipped super-network's provenance "
                                   f"(format {PACKAGE_FORMAT!r} with a sha256 table expected)")
    return data


def verify_shipped(path: str | os.PathLike) -> dict:
    """Check every file's sha256 against ``provenance.json``; returns the provenance. A
    missing or damaged file raises :class:`ShippedSupernetError` naming it."""
    path = Path(path)
    prov = read_provenance(path)
    required = {BUILD_NAME, PROFILE_NAME, f"{CHECKPOINT_DIR}/{META_NAME}", f"{CHECKPOINT_DIR}/{WEIGHTS_NAME}"}
    missing = sorted(required - set(prov["sha256"]))
    if missing:
        raise ShippedSupernetError(f"{path / PROVENANCE_NAME} lists no sha256 for {', '.join(missing)}: "
                                   "the package is incomplete")
    for rel, expected in sorted(prov["sha256"].items()):
        file = path / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ShippedSupernetError(f"{path / PROVENANCE_NAME} names {rel!r}, which is outside the package")
        if not file.is_file():
            raise ShippedSupernetError(f"{file} is missing from the shipped super-network {path.name}")
        actual = sha256_of(file)
        if actual != expected:
            raise ShippedSupernetError(f"{file} is damaged: its sha256 is {actual}, provenance.json expects "
                                       f"{expected} (re-fetch the package or remake it with `nagui supernet ship`)")
    return prov


def read_profile(path: str | os.PathLike) -> dict:
    """A package's (or provided run's) ``profile.json``."""
    file = Path(path) / PROFILE_NAME
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise ShippedSupernetError(f"{file} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ShippedSupernetError(f"{file} is damaged (not readable JSON: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("records"), list) or "settings" not in data:
        raise ShippedSupernetError(f"{file} is not a shipped profile (records and settings expected)")
    return data


# ------------------------------------------------------------------- what a ship measures and records
def _test_images(data_root, split: str, cap: int | None):
    """The ``split`` images (all of them, or a class-stratified seeded ``cap``)."""

    root = Path(data_root) if data_root is not None else default_image_root()
    limit = None
    if cap is not None:
        if cap < 1:
            raise ValueError(f"eval_images must be >= 1, got {cap}")
        limit = -(-cap // len(class_names(root, split)))
    images = load_image_folder(root, split, limit_per_class=limit, seed=0)
    if cap is not None and len(images) > cap:
        images = images.subset(torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:cap]
                               .sort().values)
    return images


def _fp16_tensors(state: dict) -> dict:
    return {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}


def _fp16_check(profiler, test, batch_size: int) -> dict:
    """Test accuracy of the largest and smallest sub-network with fp32 and fp16-rounded weights."""

    rounded = copy.deepcopy(profiler.supernet)
    with torch.no_grad():
        for t in rounded.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half().float())
    out = {}
    for which, mask in (("largest", BlockMask.largest(profiler.spec)), ("smallest", BlockMask.smallest(profiler.spec))):
        a32 = accuracy(profiler.calibrated(mask), test, batch_size)
        sub = extract_subnetwork(rounded, mask).to(profiler.device)
        recalibrate_bn(sub, profiler.calibration, batch_size)
        a16 = accuracy(sub, test, batch_size)
        out[which] = {"mask": mask.to_str(), "fp32": round(a32, 3), "fp16": round(a16, 3),
                      "change": round(abs(a16 - a32), 3)}
    return out


def _train_command(meta: dict, preset: str, device: str) -> str:
    spec, cfg = meta["spec"], meta["config"]
    argv = ["python", "-m", "nagui.cli.supernet_train", "--run-dir", "RUN", "--super-cell", spec["super_cell"],
            "--preset", preset, "--channels", str(spec["channels"]), "--slots", ",".join(map(str, spec["slots"])),
            "--epochs", str(cfg["epochs"]), "--batch-size", str(cfg["batch_size"]), "--lr", str(cfg["lr"]),
            "--heldout", str(cfg["heldout"]), "--random-masks", str(cfg["random_masks"]), "--seed", str(cfg["seed"]),
            "--device", device]
    if cfg.get("train_per_class") is not None:
        argv += ["--train-per-class", str(cfg["train_per_class"])]
    if not cfg.get("distill", True):
        argv.append("--no-distill")
    if meta.get("world_size", 1) > 1:
        argv = ["torchrun", "--standalone", f"--nproc_per_node={meta['world_size']}", *argv[2:]]
    return shlex.join(argv)


def _ship_command(run_dir: Path, name: str, fp16: bool, eval_split: str, eval_images: int | None) -> str:
    argv = ["nagui", "supernet", "ship", "--run", str(run_dir), "--name", name]
    if eval_images is not None:
        argv += ["--eval-images", str(eval_images)]
    if not fp16:
        argv.append("--no-fp16")
    if eval_split != "test":
        argv += ["--eval-split", eval_split]
    return shlex.join(argv)



# ---------------------------------------------------------------------------- the run store
def _pick(assets_dir, name: str | None) -> Path | None:
    found = shipped_supernets(assets_dir)
    if name is not None:
        found = [p for p in found if p.name == name]
    if not found:
        return None
    preferred = [p for p in found if p.name == DEFAULT_NAME]
    return (preferred or found)[0]


def shipped_run_folder(store, package: Path, provenance: dict) -> Path:
    """Where a package lands in the store: ``<root>/supernet/shipped-<name>-<weights sha12>``."""
    sha = provenance["sha256"][f"{CHECKPOINT_DIR}/{WEIGHTS_NAME}"]
    return Path(store.root) / "supernet" / f"{SHIPPED_PREFIX}{package.name}-{sha[:12]}"


def provenance_line(provenance: dict) -> str:
    """One line saying where a shipped super-network came from."""
    spec, cfg = provenance.get("spec") or {}, provenance.get("config") or {}
    return (f"trained on {provenance.get('device')}, {provenance.get('date')}: {provenance.get('epochs')} epochs "
            f"({provenance.get('preset')} preset, {spec.get('channels')} channels, slots {spec.get('slots')}, "
            f"batch {cfg.get('batch_size')}, lr {cfg.get('lr')}; {provenance.get('recipe')}); "
            f"{provenance.get('weights_dtype')} weights")


def _nan_if_none(value):
    return float("nan") if value is None else value


def is_shipped(run) -> bool:
    return bool(run.params.get("shipped")) or run.path.name.startswith(SHIPPED_PREFIX)
