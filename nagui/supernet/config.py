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
    from the train split for accuracy checks and profiling."""

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

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SupernetTrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(names)}")
        return cls(**d)


# quick: 5 minutes on 2 idle CPU cores (measured: 301 s wall for 10 epochs of 10,000 images at
# ~345 images/s, decoding included); full: meant for a GPU (NB201's recipe: 100 epochs of
# the 49,000 train images left after the held-out 1,000).
PRESETS: dict[str, dict] = {
    "quick": {"config": SupernetTrainConfig(epochs=10, batch_size=128, lr=0.05, train_per_class=1000, heldout=1000),
              "channels": 8, "slots": (2, 2, 2)},
    "full": {"config": SupernetTrainConfig(epochs=100, batch_size=256, lr=0.1, train_per_class=None, heldout=1000),
             "channels": 16, "slots": (5, 5, 5)},
}
