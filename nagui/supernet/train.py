"""Super-network training, gathered in one import. Its command line, the process that
``torchrun`` starts, is :mod:`nagui.cli.supernet_train`. The work lives in the modules
around it: :mod:`.sandwich` (presets, seeds, sandwich masks and loss, LR schedule),
:mod:`.training_data` (train and held-out images), :mod:`.checkpoint` (the run's
checkpoint), :mod:`.distributed` (torchrun helpers), :mod:`.evaluation` (BN
recalibration and accuracy) and :mod:`.trainer` (:func:`train_supernet`). The names this
module always exported are re-exported here, so ``from nagui.supernet.train import X``
keeps working.
"""
from __future__ import annotations

from .checkpoint import SupernetCheckpointError, load_supernet, read_checkpoint_meta
from .config import PRESETS, SupernetTrainConfig
from .evaluation import EVAL_BATCH, recalibrated_accuracy  # noqa: F401  (imported from here before)
from .sandwich import MOMENTUM, cosine_lr, derived_seed, preset, sandwich_loss, sandwich_masks  # noqa: F401
from .trainer import CALIBRATION_IMAGES, LOG_EVERY, train_supernet  # noqa: F401
from .training_data import load_train_heldout

__all__ = ["PRESETS", "SupernetCheckpointError", "SupernetTrainConfig", "derived_seed", "load_supernet",
           "load_train_heldout", "preset", "read_checkpoint_meta", "sandwich_loss", "sandwich_masks",
           "train_supernet"]
