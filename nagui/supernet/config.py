"""How a super-network is trained, and the presets (no torch import: the CLI's parser reads them)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

BUILD_STRATEGIES = ("assemble", "direct")


@dataclass(frozen=True)
class SupernetTrainConfig:
    """How the super-network is trained (SGD, nesterov momentum 0.9, cosine over all steps).
    ``batch_size`` is the global batch (split over distributed ranks); ``train_per_class``
    caps the training images per class (None = all); ``heldout`` images are set aside
    from the train split for accuracy checks and profiling.

    The weight-sharing schedule: the first ``largest_only`` fraction of all steps trains the
    largest mask alone, the next ``full_depth_only`` fraction switches edges but keeps every
    slot on, the rest is the full sandwich (largest, smallest, ``random_masks`` random
    masks). Both 0 is the plain sandwich rule from the first step; both > 0 is OFA-style
    progressive shrinking (largest network first, then switchable edges, then switchable
    slots). :data:`RECIPES` names the schedules the recipe study compares."""

    epochs: int = 100
    batch_size: int = 256
    lr: float = 0.1
    weight_decay: float = 5e-4
    random_masks: int = 2
    distill: bool = True
    label_smoothing: float = 0.0
    train_per_class: int | None = None
    heldout: int = 1000
    seed: int = 0
    grad_clip: float | None = 5.0
    largest_only: float = 0.0
    full_depth_only: float = 0.0

    def __post_init__(self) -> None:
        def need(ok: bool, what: str, value) -> None:
            if not ok:
                raise ValueError(f"{what}, got {value!r}")

        def is_int(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        need(is_int(self.epochs) and self.epochs >= 1, "epochs must be an int >= 1", self.epochs)
        need(is_int(self.batch_size) and self.batch_size >= 2, "batch_size must be an int >= 2", self.batch_size)
        need(isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0, "lr must be > 0", self.lr)
        need(isinstance(self.weight_decay, (int, float)) and 0 <= self.weight_decay < 1,
             "weight_decay must be in [0, 1)", self.weight_decay)
        need(is_int(self.random_masks) and 0 <= self.random_masks <= 16, "random_masks must be an int in 0..16",
             self.random_masks)
        need(isinstance(self.distill, bool), "distill must be True or False", self.distill)
        need(isinstance(self.label_smoothing, (int, float)) and 0 <= self.label_smoothing < 1,
             "label_smoothing must be in [0, 1)", self.label_smoothing)
        need(self.train_per_class is None or (is_int(self.train_per_class) and self.train_per_class >= 1),
             "train_per_class must be None (all images) or an int >= 1", self.train_per_class)
        need(is_int(self.heldout) and self.heldout >= 1, "heldout must be an int >= 1", self.heldout)
        need(is_int(self.seed) and self.seed >= 0, "seed must be an int >= 0", self.seed)
        need(self.grad_clip is None or (isinstance(self.grad_clip, (int, float)) and self.grad_clip > 0),
             "grad_clip must be None (off) or > 0", self.grad_clip)
        for name in ("largest_only", "full_depth_only"):
            value = getattr(self, name)
            need(isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1,
                 f"{name} must be a fraction of the steps in [0, 1)", value)
        need(self.largest_only + self.full_depth_only < 1,
             "largest_only + full_depth_only must leave some steps to the full sandwich (< 1)",
             self.largest_only + self.full_depth_only)

    @property
    def recipe(self) -> str:
        """The recipe's name in :data:`RECIPES` (or "custom")."""
        for name, fields in RECIPES.items():
            if all(getattr(self, k) == v for k, v in fields.items()):
                return name
        return "custom"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SupernetTrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(names)}")
        return cls(**d)


# Weight-sharing recipes compared by `nagui bench supernet --parts recipes` (config fields
# each one sets; the others keep the preset's values).
RECIPES: dict[str, dict] = {
    "sandwich": {"largest_only": 0.0, "full_depth_only": 0.0, "distill": True},
    "sandwich-no-distill": {"largest_only": 0.0, "full_depth_only": 0.0, "distill": False},
    "progressive": {"largest_only": 0.4, "full_depth_only": 0.3, "distill": True},
}


def with_recipe(config: SupernetTrainConfig, recipe: str | None) -> SupernetTrainConfig:
    """``config`` with the fields of recipe ``recipe`` (None keeps it as it is)."""
    if recipe is None:
        return config
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {sorted(RECIPES)}")
    return dataclasses.replace(config, **RECIPES[recipe])


# quick: for 2 CPU cores, all 49,000 training images, 5 epochs of progressive shrinking (the
# largest network alone for 60% of the steps, then the sandwich): width trains faster than
# depth here, so NB201's C = 16 with one cell per stage (measured: C = 16 x 1 slot reached
# 64.6% held-out after 2 epochs where C = 8 x 2 slots reached 54.0%, at the same speed);
# it switches edges only, the full preset switches slots too (BENCHMARKS.md, "quick preset").
# full: NB201's size for a GPU (C = 16, 5 cells per stage, 100 epochs of the 49,000 images).
PRESETS: dict[str, dict] = {
    "quick": {"config": SupernetTrainConfig(epochs=5, batch_size=128, lr=0.1, train_per_class=None, heldout=1000,
                                            largest_only=0.6, full_depth_only=0.1),
              "channels": 16, "slots": (1, 1, 1)},
    "full": {"config": SupernetTrainConfig(epochs=100, batch_size=256, lr=0.1, train_per_class=None, heldout=1000),
             "channels": 16, "slots": (5, 5, 5)},
}
