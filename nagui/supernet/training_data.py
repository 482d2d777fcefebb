"""The images a super-network is trained and checked on, from its config.

Both sets come from the train split (the test split is left for final numbers): the
held-out images are set aside by :func:`~nagui.supernet.images.train_heldout_split` with
the config's seed, so training and profiling score masks on the same images.
"""
from __future__ import annotations

import os
from pathlib import Path

from .config import SupernetTrainConfig
from .images import (ImageSet, class_names, default_image_root, first_per_class, load_image_folder,
                     train_heldout_split)


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


__all__ = ["load_train_heldout"]
