"""Train one sub-network on its own with the super-network's recipe (same epochs, batch,
optimiser, schedule, augmentation and images): the reference that shared-weight accuracy
is compared with (``nagui bench supernet``)."""
from __future__ import annotations

import time
import torch
from torch import nn
from torch.nn import functional as F

from ..nets.supernet import SubNetwork
from ..progress import Report, quiet
from .images import ImageSet, augment, batch_count, batches
from .config import SupernetTrainConfig
from .sandwich import MOMENTUM, cosine_lr, derived_seed


def train_standalone(sub: SubNetwork, config: SupernetTrainConfig, train: ImageSet, device: str = "cpu",
                     progress: Report = quiet) -> dict:
    """Train ``sub`` in place from its current (fresh) weights; returns timing."""
    dev = torch.device(device)
    sub.to(dev).train()
    if dev.type == "cuda":
        train = ImageSet(train.images.to(dev), train.labels.to(dev), train.classes, train.root)
    optimizer = torch.optim.SGD(sub.parameters(), lr=config.lr, momentum=MOMENTUM, nesterov=True,
                                weight_decay=config.weight_decay)
    steps = batch_count(len(train), config.batch_size, drop_last=True)
    total = steps * config.epochs
    start = time.perf_counter()
    for epoch in range(config.epochs):
        order = torch.Generator().manual_seed(derived_seed(config.seed, "order", epoch))
        aug = torch.Generator().manual_seed(derived_seed(config.seed, "augment", epoch, 0))
        for step, (x, y) in enumerate(batches(train, config.batch_size, True, order, True)):
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(config, epoch * steps + step, total)
            loss = F.cross_entropy(sub(augment(x.to(dev), aug)), y.to(dev), label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(sub.parameters(), config.grad_clip)
            optimizer.step()
        progress(f"epoch {epoch + 1}/{config.epochs}: loss {float(loss):.4f}", (epoch + 1) / config.epochs)
    return {"train_s": round(time.perf_counter() - start, 2), "steps": total}
