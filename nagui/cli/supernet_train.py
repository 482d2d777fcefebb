"""The process that trains a super-network: ``python -m nagui.cli.supernet_train``.

``nagui supernet train`` calls :func:`main` with the built run's recipe, or starts it under
``torchrun --nproc_per_node=N -m nagui.cli.supernet_train ...`` (``--nproc N``), as
``bench/gpu_supernet.sh`` does on a GPU. It takes the whole recipe as flags, prints progress to stderr
and the summary JSON to stdout (rank 0).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Sequence

from ..nets.supernet import MaskError
from ..progress import printed, quiet
from ..supernet.checkpoint import SupernetCheckpointError
from ..supernet.config import PRESETS, RECIPES
from ..supernet.images import ImageDataError, class_names, default_image_root
from ..supernet.sandwich import preset
from ..supernet.trainer import train_supernet


def _per_class(text: str) -> int | str:
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of images per class or 'all', got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nagui.cli.supernet_train",
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
    p.add_argument("--train-per-class", type=_per_class, help="training images per class, or 'all'")
    p.add_argument("--heldout", type=int)
    p.add_argument("--random-masks", type=int)
    p.add_argument("--no-distill", action="store_true")
    p.add_argument("--recipe", choices=sorted(RECIPES), help="weight-sharing recipe (default: the preset's)")
    p.add_argument("--largest-only", type=float, help="fraction of the steps that train the largest mask alone")
    p.add_argument("--full-depth-only", type=float, help="next fraction: switchable edges, every slot on")
    p.add_argument("--label-smoothing", type=float)
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
                              distill=False if args.no_distill else None, recipe=args.recipe,
                              largest_only=args.largest_only, full_depth_only=args.full_depth_only,
                              label_smoothing=args.label_smoothing)
        root = Path(args.data_root) if args.data_root else default_image_root()
        spec = dataclasses.replace(spec, num_classes=len(class_names(root, "train")))   # one output per class
        summary = train_supernet(args.run, spec, config, data_root=args.data_root, device=args.device,
                                 progress=quiet if args.quiet else printed(), resume=not args.no_resume,
                                 stop_after_epochs=args.stop_after_epochs)
    except (SupernetCheckpointError, ImageDataError, MaskError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if "epochs_done" in summary:
        print(json.dumps(summary, indent=2))
    return 0



if __name__ == "__main__":
    sys.exit(main())
