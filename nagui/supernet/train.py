"""Train the super-network once, with weight sharing and the sandwich rule.

Each step runs the largest mask, the smallest and ``random_masks`` random ones in ONE
forward (``model(x, masks)``), sums their losses and does one backward — so it works
under DistributedDataParallel. With ``distill`` the largest mask learns from the labels
and the others from its detached soft outputs (in-place distillation).

Everything random is drawn from generators seeded by (seed, epoch[, step, rank]), so an
epoch's data order, augmentation and masks do not depend on what ran before it: a run
resumed from an end-of-epoch checkpoint computes exactly what an uninterrupted run does.
Run it as ``python -m nagui.supernet.train --run DIR --super-cell ARCH`` or under
``torchrun --nproc_per_node=N -m nagui.supernet.train ...``.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint_files import parse_meta, write_atomically
from ..nets.supernet import BlockMask, MaskError, SuperNetSpec, SuperNetwork, extract_subnetwork
from ..space import live_edges
from .config import PRESETS, SupernetTrainConfig
from .images import (ImageDataError, ImageSet, augment, batch_count, batches, class_names, default_image_root,
                     first_per_class, load_image_folder, train_heldout_split)

FORMAT = "nagui-supernet-checkpoint/1"
CHECKPOINT_DIR = "checkpoint"
META_NAME = "supernet.json"
MOMENTUM = 0.9
LOG_EVERY = 20            # steps between progress reports
EVAL_BATCH = 500
CALIBRATION_IMAGES = 500  # training images that re-estimate BN statistics before each held-out check


class SupernetCheckpointError(RuntimeError):
    """A super-network checkpoint that is missing, damaged, or from another spec/config."""


def preset(name: str, super_cell, channels: int | None = None, slots: Sequence[int] | None = None,
           **overrides) -> tuple[SuperNetSpec, SupernetTrainConfig]:
    """The spec and config of preset ``name``; ``overrides`` (config fields) that are None keep the preset's value."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    p = PRESETS[name]
    spec = SuperNetSpec(super_cell, tuple(slots) if slots is not None else p["slots"],
                        channels if channels is not None else p["channels"])
    config = dataclasses.replace(p["config"], **{k: v for k, v in overrides.items() if v is not None})
    return spec, config


# --------------------------------------------------------------------------- randomness
def derived_seed(*parts: int | str) -> int:
    """A 63-bit seed from (seed, purpose, epoch, ...): independent streams that never shift."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") >> 1


def sandwich_masks(spec: SuperNetSpec, config: SupernetTrainConfig, epoch: int, step: int) -> list[BlockMask]:
    """Largest, smallest and ``random_masks`` random masks of one step (the same on every rank)."""
    g = torch.Generator().manual_seed(derived_seed(config.seed, "masks", epoch, step))
    return ([BlockMask.largest(spec), BlockMask.smallest(spec)]
            + [BlockMask.random(spec, g) for _ in range(config.random_masks)])


def sandwich_loss(logits: list[torch.Tensor], labels: torch.Tensor, config: SupernetTrainConfig
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum of every mask's loss, the largest mask's label loss). logits[0] is the largest."""
    teacher_loss = F.cross_entropy(logits[0], labels, label_smoothing=config.label_smoothing)
    total = teacher_loss
    if config.distill:
        soft = F.softmax(logits[0].detach(), dim=1)
        for out in logits[1:]:
            total = total + F.kl_div(F.log_softmax(out, dim=1), soft, reduction="batchmean")
    else:
        for out in logits[1:]:
            total = total + F.cross_entropy(out, labels, label_smoothing=config.label_smoothing)
    return total, teacher_loss.detach()


def cosine_lr(config: SupernetTrainConfig, step: int, total_steps: int) -> float:
    return 0.5 * config.lr * (1.0 + math.cos(math.pi * step / total_steps))


# ---------------------------------------------------------------------------------- data
def load_train_heldout(config: SupernetTrainConfig, data_root: str | os.PathLike | None = None
                       ) -> tuple[ImageSet, ImageSet]:
    """The training images and the held-out images of ``config`` (both from the train
    split; the test split is left for final numbers). Profiling uses the same held-out set."""
    root = Path(data_root) if data_root is not None else default_image_root()
    limit = None
    if config.train_per_class is not None:
        limit = config.train_per_class + -(-config.heldout // len(class_names(root, "train")))
    images = load_image_folder(root, "train", limit_per_class=limit, seed=config.seed)
    train, heldout = train_heldout_split(images, config.heldout, seed=config.seed)
    if config.train_per_class is not None:
        train = first_per_class(train, config.train_per_class)
    return train, heldout


@torch.no_grad()
def recalibrated_accuracy(model: SuperNetwork, mask: BlockMask, calibration: ImageSet, heldout: ImageSet,
                          device: torch.device) -> float:
    """Held-out top-1 accuracy (%) of ``mask``'s standalone sub-network with its BN statistics
    re-estimated on ``calibration`` — what profiling measures. The running statistics the
    super-network keeps are a mixture over masks and fit none of them (eval-mode accuracy
    with them can sit at chance while the recalibrated one is 70%+)."""
    from .profile import accuracy, recalibrate_bn

    sub = extract_subnetwork(model, mask).to(device)
    recalibrate_bn(sub, calibration, EVAL_BATCH)
    return accuracy(sub, heldout, EVAL_BATCH)


# --------------------------------------------------------------------------- checkpoint
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checkpoint_dir(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR


def save_training_checkpoint(run_dir: Path, model: SuperNetwork, optimizer: torch.optim.Optimizer,
                             meta: dict) -> Path:
    """Weights and momentum buffers into files named by epoch, then the JSON that points at
    them (so the JSON only ever names complete files), then old files are removed."""
    from safetensors.torch import save

    directory = checkpoint_dir(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    epoch = meta["epochs_done"]
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    names = {id(p): n for n, p in model.named_parameters()}
    momentum = {names[id(p)]: s["momentum_buffer"].detach().cpu().contiguous()
                for p, s in optimizer.state.items() if s.get("momentum_buffer") is not None}
    files = {"weights": f"weights-e{epoch:04d}.safetensors", "train_state": f"train-state-e{epoch:04d}.safetensors"}
    write_atomically(directory / files["weights"], save(weights, metadata={"format": FORMAT}))
    write_atomically(directory / files["train_state"], save(momentum, metadata={"format": FORMAT}))
    meta = {"format": FORMAT, **meta, **files,
            "sha256": {f: _sha256(directory / f) for f in files.values()}}
    write_atomically(directory / META_NAME, json.dumps(meta, indent=2, allow_nan=False).encode())
    for old in [*directory.glob("*.safetensors"), *directory.glob(".*.part")]:   # older epochs, killed writes
        if old.name not in files.values():
            old.unlink(missing_ok=True)
    return directory


def read_checkpoint_meta(run_dir: str | os.PathLike) -> dict | None:
    """The checkpoint's JSON, or None when ``run_dir`` has no checkpoint yet."""
    path = checkpoint_dir(run_dir) / META_NAME
    if not path.is_file():
        return None
    meta = parse_meta(path, FORMAT, SupernetCheckpointError)
    for key in ("epochs_done", "spec", "config", "weights", "train_state", "sha256", "history"):
        if key not in meta:
            raise SupernetCheckpointError(f"{path} lacks {key!r}: not a complete super-network checkpoint")
    return meta


def _read_safetensors(directory: Path, meta: dict, key: str) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = directory / meta[key]
    if not path.is_file():
        raise SupernetCheckpointError(f"checkpoint {directory} has no {path.name} (named by {META_NAME})")
    if _sha256(path) != meta["sha256"].get(meta[key]):
        raise SupernetCheckpointError(f"{path} does not match the sha256 recorded in {META_NAME}: the file is "
                                      "damaged or was replaced")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise SupernetCheckpointError(f"{path} is not a readable safetensors file: {exc}") from None


def _load_weights(model: nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if tensors[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        def few(keys):
            return ", ".join(keys[:5]) + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")
        parts = [f"missing {few(missing)}" if missing else "", f"unexpected {few(unexpected)}" if unexpected else "",
                 "wrong shape " + few([f"{k} {tuple(tensors[k].shape)} vs {tuple(expected[k].shape)}" for k in wrong])
                 if wrong else ""]
        raise SupernetCheckpointError(f"{where} does not fit the super-network its JSON describes: "
                                      + "; ".join(p for p in parts if p))
    model.load_state_dict(tensors)


def _spec_of(meta: dict, where: Path) -> SuperNetSpec:
    try:
        return SuperNetSpec.from_dict(meta["spec"])
    except (MaskError, ValueError, TypeError) as exc:
        raise SupernetCheckpointError(f"{where}: bad super-network spec: {exc}") from None


def load_supernet(run_dir: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[SuperNetwork, dict]:
    """The trained super-network of ``run_dir`` (eval mode) and its checkpoint JSON.
    Weights are read with safetensors only (no pickle) and checked against their sha256."""
    meta = read_checkpoint_meta(run_dir)
    directory = checkpoint_dir(run_dir)
    if meta is None:
        raise SupernetCheckpointError(f"{directory} has no {META_NAME}: train the super-network first")
    model = SuperNetwork(_spec_of(meta, directory / META_NAME))
    _load_weights(model, _read_safetensors(directory, meta, "weights"), directory / meta["weights"])
    return model.to(device).eval(), meta


def _differences(saved: dict, wanted: dict, prefix: str) -> list[str]:
    return [f"{prefix}.{k}: checkpoint has {saved.get(k)!r}, asked for {wanted.get(k)!r}"
            for k in sorted(set(saved) | set(wanted)) if saved.get(k) != wanted.get(k)]


def _load_resume_state(run_dir: Path, spec: SuperNetSpec, config: SupernetTrainConfig, model: SuperNetwork,
                       optimizer: torch.optim.Optimizer) -> dict:
    meta = read_checkpoint_meta(run_dir)
    directory = checkpoint_dir(run_dir)
    diffs = (_differences(meta["spec"], json.loads(json.dumps(spec.as_dict())), "spec")
             + _differences(meta["config"], json.loads(json.dumps(config.as_dict())), "config"))
    if diffs:
        raise SupernetCheckpointError(f"{directory} holds a super-network trained differently: {'; '.join(diffs)}. "
                                      "Use another run dir (or delete this checkpoint) to train this one.")
    _load_weights(model, _read_safetensors(directory, meta, "weights"), directory / meta["weights"])
    params = dict(model.named_parameters())
    momentum = _read_safetensors(directory, meta, "train_state")
    for name, buf in momentum.items():
        if name not in params or params[name].shape != buf.shape:
            raise SupernetCheckpointError(f"{directory / meta['train_state']}: momentum buffer {name} does not fit "
                                          "the super-network")
        optimizer.state[params[name]]["momentum_buffer"] = buf.to(params[name].device)
    return meta


# -------------------------------------------------------------------------- distributed
@contextmanager
def _process_group(device: str):
    """(rank, world_size, device) — initialising the process group when launched by torchrun."""
    import torch.distributed as dist

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device(device)
    if dev.type == "cuda" and world_size > 1:
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    owned = False
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        owned = True
    try:
        yield rank, world_size, dev
    finally:
        if owned:
            dist.destroy_process_group()


def _all_mean(values: list[float], world_size: int, device: torch.device) -> list[float]:
    if world_size == 1:
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return (t / world_size).tolist()


def _barrier(world_size: int) -> None:
    if world_size > 1:
        import torch.distributed as dist

        dist.barrier()


def _cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                      # not on Linux
        return os.cpu_count() or 1


def _threads(world_size: int) -> int:
    """Torch threads per process: OMP_NUM_THREADS when set, else the cores split over the ranks."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return max(1, _cpu_cores() // world_size)


def _has_unused_parameters(spec: SuperNetSpec) -> bool:
    """Whether some weights sit on super-cell edges no mask computes (then DDP must look for them)."""
    alive = live_edges(spec.super_cell)
    return any(op.startswith("nor_conv") and not alive[k] for k, op in enumerate(spec.super_cell.ops))


# ------------------------------------------------------------------------------ training
def train_supernet(run_dir: str | os.PathLike, spec: SuperNetSpec, config: SupernetTrainConfig,
                   data_root: str | os.PathLike | None = None, device: str = "cpu",
                   progress: Callable[[dict], None] | None = None, resume: bool = True,
                   stop_after_epochs: int | None = None) -> dict:
    """Train (or continue training) the super-network of ``run_dir``; return a summary.

    A checkpoint is written at the end of every epoch; with ``resume`` an existing one of
    the same spec and config is continued (a different one raises
    :class:`SupernetCheckpointError`). ``stop_after_epochs`` stops once that many epochs
    are done in total. Under torchrun the work is split over the ranks; rank 0 reports
    and writes."""
    run_dir = Path(run_dir)
    if stop_after_epochs is not None and stop_after_epochs < 1:
        raise ValueError(f"stop_after_epochs must be >= 1 or None, got {stop_after_epochs!r}")
    with _process_group(device) as (rank, world_size, dev):
        if config.batch_size % world_size:
            raise ValueError(f"batch_size {config.batch_size} must be divisible by the {world_size} ranks")
        threads_before = torch.get_num_threads()
        torch.set_num_threads(_threads(world_size))
        try:
            return _Trainer(run_dir, spec, config, data_root, dev, progress if rank == 0 else None, rank,
                            world_size).run(resume, stop_after_epochs)
        finally:
            torch.set_num_threads(threads_before)


class _Trainer:
    """One rank's part of a training run: model, optimizer, data and the epoch loop."""

    def __init__(self, run_dir, spec, config, data_root, device, progress, rank, world_size):
        self.run_dir, self.spec, self.config, self.data_root, self.device = run_dir, spec, config, data_root, device
        self.progress = progress or (lambda event: None)
        self.rank, self.world_size = rank, world_size
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = SuperNetwork(spec)
        self.model.to(device).train()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=MOMENTUM, nesterov=True,
                                         weight_decay=config.weight_decay)
        self.history: list[dict] = []
        self.train_s = 0.0

    def _report(self, **event) -> None:
        self.progress(event)

    def _restore(self, resume: bool) -> int | None:
        """Epochs done by an existing checkpoint (its state loaded), or None when there is none."""
        meta = read_checkpoint_meta(self.run_dir)
        if meta is None:
            return None
        if not resume:
            raise SupernetCheckpointError(f"{checkpoint_dir(self.run_dir)} already holds a checkpoint; resume it or "
                                          "use another run dir (it is never overwritten)")
        meta = _load_resume_state(self.run_dir, self.spec, self.config, self.model, self.optimizer)
        self.history, self.train_s = list(meta["history"]), float(meta["train_s"])
        self._report(event="resumed", epoch=int(meta["epochs_done"]), epochs=self.config.epochs)
        return int(meta["epochs_done"])

    def _load_data(self) -> None:
        if self.rank != 0:          # rank 0 decodes and fills the cache; the others read it
            _barrier(self.world_size)
        try:
            train, self.heldout = load_train_heldout(self.config, self.data_root)
        finally:
            if self.rank == 0:
                _barrier(self.world_size)
        if len(train) < self.config.batch_size:
            raise ImageDataError(f"{len(train)} training images are fewer than one batch of {self.config.batch_size}")
        if len(train.classes) != self.spec.num_classes:
            raise ImageDataError(f"{train.root} has {len(train.classes)} classes, the super-network's classifier "
                                 f"{self.spec.num_classes}; build it with num_classes={len(train.classes)}")
        if self.device.type == "cuda":         # augmentation then runs on the GPU too
            train = ImageSet(train.images.to(self.device), train.labels.to(self.device), train.classes, train.root)
        self.train = train
        self.rank_batch = self.config.batch_size // self.world_size
        self.steps = batch_count(len(train), self.rank_batch, drop_last=True, world_size=self.world_size)

    def run(self, resume: bool, stop_after_epochs: int | None) -> dict:
        resumed_from = self._restore(resume)
        start = resumed_from or 0
        end = self.config.epochs if stop_after_epochs is None else min(self.config.epochs, stop_after_epochs)
        if start < end:
            self._load_data()
            net = self.model
            if self.world_size > 1:
                net = nn.parallel.DistributedDataParallel(
                    self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                    find_unused_parameters=_has_unused_parameters(self.spec))
            run_started = time.perf_counter()
            for epoch in range(start, end):
                epoch_started = time.perf_counter()
                losses = self._train_epoch(net, epoch, end)
                if self.rank == 0:
                    self._end_epoch(epoch, losses, time.perf_counter() - epoch_started, epoch_started)
                    per_epoch = (time.perf_counter() - run_started) / (epoch + 1 - start)
                    last = self.history[-1]
                    self._report(event="epoch", epoch=epoch + 1, epochs=self.config.epochs, step=self.steps,
                                 steps=self.steps, loss=last["loss"], images_per_s=last["images_per_s"],
                                 heldout_acc_largest=last["heldout_acc_largest"],
                                 heldout_acc_smallest=last["heldout_acc_smallest"],
                                 eta_s=round((end - epoch - 1) * per_epoch, 1))
                _barrier(self.world_size)
        if self.rank != 0:
            return {"run_dir": str(self.run_dir), "rank": self.rank}
        return _summary(self.run_dir, read_checkpoint_meta(self.run_dir), resumed_from, max(0, end - start))

    def _train_epoch(self, net: nn.Module, epoch: int, end: int) -> list[float]:
        """One epoch of sandwich steps; the mean (label loss, sandwich loss) over all ranks."""
        config, steps, dev = self.config, self.steps, self.device
        order = torch.Generator().manual_seed(derived_seed(config.seed, "order", epoch))
        aug = torch.Generator().manual_seed(derived_seed(config.seed, "augment", epoch, self.rank))
        params = list(self.model.parameters())
        loss_sum = torch.zeros(2, dtype=torch.float64, device=dev)
        window_loss, window_start, window_time = 0.0, 0, time.perf_counter()
        for step, (x, y) in enumerate(batches(self.train, self.rank_batch, True, order, True, self.rank,
                                              self.world_size)):
            lr = cosine_lr(config, epoch * steps + step, steps * config.epochs)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            logits = net(augment(x.to(dev), aug), sandwich_masks(self.spec, config, epoch, step))
            total, label_loss = sandwich_loss(logits, y.to(dev), config)
            self.optimizer.zero_grad(set_to_none=True)
            total.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(params, config.grad_clip)
            self.optimizer.step()
            loss_sum += torch.stack([label_loss.double(), total.detach().double()])
            if (step + 1) % LOG_EVERY == 0 or step + 1 == steps:      # every rank: the mean is all-reduced
                now, n = time.perf_counter(), step + 1 - window_start
                mean = _all_mean([(loss_sum[0].item() - window_loss) / n], self.world_size, dev)[0]
                per_step = (now - window_time) / n
                self._report(event="step", epoch=epoch + 1, epochs=config.epochs, step=step + 1, steps=steps,
                             loss=round(mean, 5), lr=lr, images_per_s=round(config.batch_size / per_step, 1),
                             eta_s=round(((steps - step - 1) + (end - epoch - 1) * steps) * per_step, 1))
                window_loss, window_start, window_time = loss_sum[0].item(), step + 1, now
        return _all_mean((loss_sum / steps).tolist(), self.world_size, dev)

    def _end_epoch(self, epoch: int, losses: list[float], train_epoch_s: float, epoch_started: float) -> None:
        """Rank 0: held-out accuracy of the largest and smallest masks, then the checkpoint."""
        spec, config, steps = self.spec, self.config, self.steps
        record = {"epoch": epoch + 1, "loss": round(losses[0], 5), "loss_sandwich": round(losses[1], 5),
                  "images_per_s": round(steps * config.batch_size / train_epoch_s, 1)}
        calibration = first_per_class(self.train, max(1, CALIBRATION_IMAGES // len(self.train.classes)))
        for name, mask in (("largest", BlockMask.largest(spec)), ("smallest", BlockMask.smallest(spec))):
            record[f"heldout_acc_{name}"] = round(
                recalibrated_accuracy(self.model, mask, calibration, self.heldout, self.device), 2)
        record["epoch_s"] = round(time.perf_counter() - epoch_started, 2)
        self.history.append(record)
        self.train_s += time.perf_counter() - epoch_started
        meta = {"epochs_done": epoch + 1, "epochs": config.epochs, "complete": epoch + 1 == config.epochs,
                "spec": spec.as_dict(), "config": config.as_dict(), "steps_per_epoch": steps,
                "optimizer_step": (epoch + 1) * steps, "world_size": self.world_size,
                "train_s": round(self.train_s, 2), "history": self.history,
                "data": {"root": str(self.train.root), "classes": self.train.classes,
                         "train_images": len(self.train), "heldout_images": len(self.heldout)},
                "rng": "data order, augmentation and masks come from generators seeded by "
                       "(seed, epoch[, step, rank]); nothing else to restore"}
        save_training_checkpoint(self.run_dir, self.model, self.optimizer, meta)


def _summary(run_dir: Path, meta: dict, resumed_from: int | None, trained_now: int) -> dict:
    last = meta["history"][-1] if meta["history"] else {}
    return {"run_dir": str(run_dir), "checkpoint": str(checkpoint_dir(run_dir)),
            "epochs_done": meta["epochs_done"], "epochs": meta["config"]["epochs"],
            "complete": meta["epochs_done"] >= meta["config"]["epochs"], "resumed_from": resumed_from,
            "epochs_trained_now": trained_now, "train_s": meta["train_s"],
            "images_per_s": last.get("images_per_s"), "heldout_acc_largest": last.get("heldout_acc_largest"),
            "heldout_acc_smallest": last.get("heldout_acc_smallest"), "history": meta["history"]}


# ----------------------------------------------------------------------------------- CLI
def _print_progress(event: dict) -> None:
    kind = event.get("event")
    if kind == "resumed":
        msg = f"resuming after epoch {event['epoch']}/{event['epochs']} (checkpoint found)"
    elif kind == "epoch":
        msg = (f"epoch {event['epoch']}/{event['epochs']} done: loss {event['loss']:.4f}, held-out acc largest "
               f"{event['heldout_acc_largest']:.2f}% smallest {event['heldout_acc_smallest']:.2f}%, "
               f"{event['images_per_s']:.0f} img/s, ~{event['eta_s']:.0f}s left")
    else:
        msg = (f"epoch {event['epoch']}/{event['epochs']} step {event['step']}/{event['steps']}: loss "
               f"{event['loss']:.4f}, {event['images_per_s']:.0f} img/s, ~{event['eta_s']:.0f}s left")
    print(msg, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nagui.supernet.train",
                                description="Train a super-network once (sandwich rule, weight sharing); "
                                            "works under torchrun --nproc_per_node=N.")
    p.add_argument("--run", "--run-dir", dest="run", required=True,
                   help="run folder; the checkpoint goes to RUN/checkpoint/ (under torchrun write --run-dir: "
                        "torchrun takes --run for an abbreviation of its own --run-path)")
    p.add_argument("--super-cell", required=True, help="the NB201 cell every slot holds, e.g. "
                   "'|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|'")
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    p.add_argument("--channels", type=int)
    p.add_argument("--slots", help="cells per stage, e.g. 2,2,2")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="global batch (split over ranks)")
    p.add_argument("--lr", type=float)
    p.add_argument("--train-per-class", type=int)
    p.add_argument("--heldout", type=int)
    p.add_argument("--random-masks", type=int)
    p.add_argument("--no-distill", action="store_true")
    p.add_argument("--seed", type=int)
    p.add_argument("--data-root", help="ImageFolder root with train/ and test/ (default: <data dir>/cifar10-jpeg)")
    p.add_argument("--device", default="cpu", help="cpu, cuda (cuda:LOCAL_RANK under torchrun)")
    p.add_argument("--stop-after-epochs", type=int, help="stop once this many epochs are done (resume later)")
    p.add_argument("--no-resume", action="store_true", help="refuse to continue an existing checkpoint")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Train from the command line; prints progress to stderr and the summary JSON to stdout (rank 0)."""
    args = build_parser().parse_args(argv)
    try:
        slots = tuple(int(s) for s in args.slots.split(",")) if args.slots else None
        spec, config = preset(args.preset, args.super_cell, channels=args.channels, slots=slots, epochs=args.epochs,
                              batch_size=args.batch_size, lr=args.lr, train_per_class=args.train_per_class,
                              heldout=args.heldout, random_masks=args.random_masks, seed=args.seed,
                              distill=False if args.no_distill else None)
        root = Path(args.data_root) if args.data_root else default_image_root()
        spec = dataclasses.replace(spec, num_classes=len(class_names(root, "train")))   # one output per class
        summary = train_supernet(args.run, spec, config, data_root=args.data_root, device=args.device,
                                 progress=None if args.quiet else _print_progress, resume=not args.no_resume,
                                 stop_after_epochs=args.stop_after_epochs)
    except (SupernetCheckpointError, ImageDataError, MaskError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if "epochs_done" in summary:
        print(json.dumps(summary, indent=2))
    return 0


__all__ = ["PRESETS", "SupernetCheckpointError", "SupernetTrainConfig", "derived_seed", "load_supernet",
           "load_train_heldout", "main", "preset", "read_checkpoint_meta", "sandwich_loss", "sandwich_masks",
           "train_supernet"]

if __name__ == "__main__":
    sys.exit(main())
