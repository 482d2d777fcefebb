"""The sandwich rule and the recipe around it: presets, seeds, masks, loss, LR schedule.

Each step runs the largest mask, the smallest and ``random_masks`` random ones in ONE
forward (``model(x, masks)``), sums their losses and does one backward — so it works
under DistributedDataParallel. With ``distill`` the largest mask learns from the labels
and the others from its detached soft outputs (in-place distillation).

Everything random is drawn from generators seeded by (seed, epoch[, step, rank]) with
:func:`derived_seed`, so an epoch's data order, augmentation and masks do not depend on
what ran before it. The optimiser is SGD with nesterov momentum ``MOMENTUM`` and the
cosine schedule :func:`cosine_lr` over all steps (standalone training uses the same).
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Sequence

import torch
import torch.nn.functional as F

from ..nets.supernet import BlockMask, SuperNetSpec
from .config import PRESETS, RECIPES, SupernetTrainConfig, with_recipe

MOMENTUM = 0.9


def preset(name: str, super_cell, channels: int | None = None, slots: Sequence[int] | None = None,
           recipe: str | None = None, **overrides) -> tuple[SuperNetSpec, SupernetTrainConfig]:
    """The spec and config of preset ``name``, with the fields of ``recipe`` (a name in
    :data:`RECIPES`; None keeps the preset's), then ``overrides`` (config fields; None keeps
    the value; ``train_per_class="all"`` means every image)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    p = PRESETS[name]
    spec = SuperNetSpec(super_cell, tuple(slots) if slots is not None else p["slots"],
                        channels if channels is not None else p["channels"])
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides.get("train_per_class") == "all":
        overrides["train_per_class"] = None
    config = dataclasses.replace(with_recipe(p["config"], recipe), **overrides)
    return spec, config


def derived_seed(*parts: int | str) -> int:
    """A 63-bit seed from (seed, purpose, epoch, ...): independent streams that never shift."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") >> 1


def training_phase(config: SupernetTrainConfig, epoch: int, step: int, steps_per_epoch: int) -> str:
    """"largest", "full_depth" or "sandwich": which masks step ``step`` of ``epoch`` trains
    (the progressive-shrinking phases of ``config``; always "sandwich" when both are 0)."""
    done = (epoch * steps_per_epoch + step) / (config.epochs * steps_per_epoch)
    if done < config.largest_only:
        return "largest"
    if done < config.largest_only + config.full_depth_only:
        return "full_depth"
    return "sandwich"


def sandwich_masks(spec: SuperNetSpec, config: SupernetTrainConfig, epoch: int, step: int,
                   steps_per_epoch: int | None = None) -> list[BlockMask]:
    """The masks of one step (the same on every rank), the largest first. In the sandwich
    phase: largest, smallest and ``random_masks`` random masks; in the full-depth phase the
    same with every slot on; in the largest-only phase the largest alone. Without
    ``steps_per_epoch`` the phase is always the sandwich."""
    phase = "sandwich" if steps_per_epoch is None else training_phase(config, epoch, step, steps_per_epoch)
    largest = BlockMask.largest(spec)
    if phase == "largest":
        return [largest]
    g = torch.Generator().manual_seed(derived_seed(config.seed, "masks", epoch, step))
    smallest = BlockMask.smallest(spec)
    if phase == "full_depth":
        return ([largest, BlockMask.full_depth(spec, smallest.edges)]
                + [BlockMask.random(spec, g, slot_off=0.0) for _ in range(config.random_masks)])
    return [largest, smallest] + [BlockMask.random(spec, g) for _ in range(config.random_masks)]


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


__all__ = ["MOMENTUM", "PRESETS", "RECIPES", "SupernetTrainConfig", "cosine_lr", "derived_seed", "preset", "sandwich_loss",
           "sandwich_masks", "training_phase"]
