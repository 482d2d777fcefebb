"""Train the super-network once, with weight sharing and the sandwich rule.

:func:`train_supernet` builds the super-network, loads the images, continues an existing
checkpoint of the same spec and config (see :mod:`.checkpoint`), and runs the epochs:
each step is one forward of the sandwich masks and one backward (see :mod:`.sandwich`),
and at the end of every epoch rank 0 scores the largest and smallest masks on the
held-out images (BN recalibrated, see :mod:`.evaluation`) and writes the checkpoint.
Since everything random is seeded by (seed, epoch[, step, rank]), a run resumed from an
end-of-epoch checkpoint computes exactly what an uninterrupted run does. Under torchrun
the batches are split over the ranks (see :mod:`.distributed`).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import torch
from torch import nn

from ..nets.supernet import BlockMask, SuperNetSpec, SuperNetwork
from ..progress import Report, cancel_point, quiet
from .checkpoint import (SupernetCheckpointError, checkpoint_dir, load_resume_state, read_checkpoint_meta,
                         save_training_checkpoint)
from .config import SupernetTrainConfig
from .distributed import all_mean, barrier, device_name, has_unused_parameters, process_group, threads_per_rank
from .evaluation import recalibrated_accuracy
from .images import ImageDataError, ImageSet, augment, batch_count, batches, first_per_class
from .precision import autocast_dtype, precision_name
from .sandwich import MOMENTUM, cosine_lr, derived_seed, sandwich_loss, sandwich_masks, training_phase
from .training_data import load_train_heldout

LOG_EVERY = 20            # steps between progress reports
CALIBRATION_IMAGES = 500  # training images that re-estimate BN statistics before each held-out check


def train_supernet(run_dir: str | os.PathLike, spec: SuperNetSpec, config: SupernetTrainConfig,
                   data_root: str | os.PathLike | None = None, device: str = "cpu",
                   progress: Report = quiet, resume: bool = True,
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
    with process_group(device) as (rank, world_size, dev):
        if config.batch_size % world_size:
            raise ValueError(f"batch_size {config.batch_size} must be divisible by the {world_size} ranks")
        threads_before = torch.get_num_threads()
        torch.set_num_threads(threads_per_rank(world_size))
        try:
            return _Trainer(run_dir, spec, config, data_root, dev, progress if rank == 0 else quiet, rank,
                            world_size).run(resume, stop_after_epochs)
        finally:
            torch.set_num_threads(threads_before)



def describe_event(event: dict) -> str:
    """A training event (``resumed``, ``step`` or ``epoch``) as one line."""
    kind = event.get("event")
    if kind == "resumed":
        return f"resuming after epoch {event['epoch']}/{event['epochs']} (checkpoint found)"
    if kind == "epoch":
        return (f"epoch {event['epoch']}/{event['epochs']} done: loss {event['loss']:.4f}, held-out acc largest "
                f"{event['heldout_acc_largest']:.2f}% smallest {event['heldout_acc_smallest']:.2f}%, "
                f"{event['images_per_s']:.0f} img/s, ~{event['eta_s']:.0f}s left")
    return (f"epoch {event['epoch']}/{event['epochs']} step {event['step']}/{event['steps']}: loss "
            f"{event['loss']:.4f}, {event['images_per_s']:.0f} img/s, ~{event['eta_s']:.0f}s left"
            + (f" ({event['phase']} phase)" if event.get("phase") not in (None, "sandwich") else ""))


def event_fraction(event: dict) -> float:
    """How far the whole training is at ``event`` (0..1)."""
    if event.get("event") == "step":
        return (event["epoch"] - 1 + event["step"] / max(event["steps"], 1)) / event["epochs"]
    return event["epoch"] / event["epochs"]

class _Trainer:
    """One rank's part of a training run: model, optimizer, data and the epoch loop."""

    def __init__(self, run_dir, spec, config, data_root, device, progress, rank, world_size):
        self.run_dir, self.spec, self.config, self.data_root, self.device = run_dir, spec, config, data_root, device
        self.progress = progress
        self.rank, self.world_size = rank, world_size
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = SuperNetwork(spec)
        self.model.to(device).train()
        self.cuda = device.type == "cuda"
        self.autocast = autocast_dtype(device)      # bf16 where the hardware multiplies it fast (.precision)
        self.precision = precision_name(device)     # what the checkpoint records
        # NHWC: the fast layout for tensor cores, and for oneDNN on the CPU too (measured on 2 cores:
        # 975 vs 687 images/s for the quick preset's largest mask)
        self.model.to(memory_format=torch.channels_last)
        # One fused kernel (CUDA) or one multi-tensor loop (CPU) per step instead of a loop over
        # parameters; the update is the same SGD + nesterov step.
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=MOMENTUM, nesterov=True,
                                         weight_decay=config.weight_decay,
                                         **({"fused": True} if self.cuda else {"foreach": True}))
        self.history: list[dict] = []
        self.train_s = 0.0

    def _report(self, **event) -> None:
        self.progress(describe_event(event), event_fraction(event))

    def _restore(self, resume: bool) -> int | None:
        """Epochs done by an existing checkpoint (its state loaded), or None when there is none."""
        meta = read_checkpoint_meta(self.run_dir)
        if meta is None:
            return None
        if not resume:
            raise SupernetCheckpointError(f"{checkpoint_dir(self.run_dir)} already holds a checkpoint; resume it or "
                                          "use another run dir (it is never overwritten)")
        meta = load_resume_state(self.run_dir, self.spec, self.config, self.model, self.optimizer)
        self.history, self.train_s = list(meta["history"]), float(meta["train_s"])
        self._report(event="resumed", epoch=int(meta["epochs_done"]), epochs=self.config.epochs)
        return int(meta["epochs_done"])

    def _load_data(self) -> None:
        if self.rank != 0:          # rank 0 decodes and fills the cache; the others read it
            barrier(self.world_size)
        try:
            train, self.heldout = load_train_heldout(self.config, self.data_root)
        finally:
            if self.rank == 0:
                barrier(self.world_size)
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
                    find_unused_parameters=has_unused_parameters(self.spec))
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
                barrier(self.world_size)
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
            cancel_point()   # a task's cancel acts within one step (single process; DDP ranks have no task)
            lr = cosine_lr(config, epoch * steps + step, steps * config.epochs)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            images = augment(x.to(dev), aug).contiguous(memory_format=torch.channels_last)
            masks = sandwich_masks(self.spec, config, epoch, step, steps)
            # bf16 autocast on the GPU and on CPUs with AMX (weights, gradients and the optimizer stay fp32)
            with torch.autocast(dev.type, dtype=self.autocast or torch.bfloat16, enabled=self.autocast is not None):
                logits = net(images, masks)
                total, label_loss = sandwich_loss([out.float() for out in logits], y.to(dev), config)
            self.optimizer.zero_grad(set_to_none=True)
            total.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(params, config.grad_clip, foreach=True)
            self.optimizer.step()
            loss_sum += torch.stack([label_loss.double(), total.detach().double()])
            if (step + 1) % LOG_EVERY == 0 or step + 1 == steps:      # every rank: the mean is all-reduced
                now, n = time.perf_counter(), step + 1 - window_start
                mean = all_mean([(loss_sum[0].item() - window_loss) / n], self.world_size, dev)[0]
                per_step = (now - window_time) / n
                self._report(event="step", epoch=epoch + 1, epochs=config.epochs, step=step + 1, steps=steps,
                             loss=round(mean, 5), lr=lr, images_per_s=round(config.batch_size / per_step, 1),
                             phase=training_phase(config, epoch, step, steps),
                             eta_s=round(((steps - step - 1) + (end - epoch - 1) * steps) * per_step, 1))
                window_loss, window_start, window_time = loss_sum[0].item(), step + 1, now
        return all_mean((loss_sum / steps).tolist(), self.world_size, dev)

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
                "spec": spec.as_dict(), "config": config.as_dict(), "recipe": config.recipe,
                "device": device_name(self.device), "precision": self.precision, "steps_per_epoch": steps,
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
            "precision": meta.get("precision"),       # None: a checkpoint from before it was recorded
            "images_per_s": last.get("images_per_s"), "heldout_acc_largest": last.get("heldout_acc_largest"),
            "heldout_acc_smallest": last.get("heldout_acc_smallest"), "history": meta["history"]}


__all__ = ["CALIBRATION_IMAGES", "LOG_EVERY", "train_supernet"]
