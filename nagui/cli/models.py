"""``nagui models status|ship``: the default models (diffusion prior, guiding predictor bases),
cached in the user data dir and shipped in assets/models."""
from __future__ import annotations

from pathlib import Path

from ..data import Benchmark
from ..data.benchmark import DATASETS
from ..shipped_models import SHIPPED_DIR, ship
from .common import add_data_dir_arg, say
# Each command's machinery (torch, the models, the table) is imported inside the command:
# `nagui --help` imports this module and stays fast.


def _default_model_dirs() -> dict[str, Path]:
    # deferred: keeps `nagui --help` fast
    from ..diffusion.generate import default_model_dir
    from ..diffusion.problem import pretrained_predictor_dir

    dirs = {"diffusion prior": default_model_dir()}
    dirs.update({f"guiding predictor base ({d})": pretrained_predictor_dir(d) for d in DATASETS})
    return dirs


def cmd_models_status(args) -> int:
    for what, path in _default_model_dirs().items():
        cached = "cached" if path.is_dir() else "missing"
        shipped = "shipped" if (SHIPPED_DIR / path.name).is_dir() else "not shipped"
        print(f"{what:<40} {cached:<8} {shipped:<12} {path}")
    return 0


def cmd_models_ship(args) -> int:
    """Train what is missing (exactly as the app and `nagui generate` would) and copy the
    default models into assets/models."""
    from ..diffusion.generate import load_or_train
    from ..diffusion.problem import pretrained_predictor

    load_or_train(say=say)
    table = Benchmark.load(args.data_dir).table
    for d in DATASETS:
        pretrained_predictor(table, d, say=say)
    for what, path in _default_model_dirs().items():
        print(f"{what}: {ship(path)}")
    return 0


def add_parsers(sub) -> None:
    models = sub.add_parser("models", help="the default models (diffusion prior, guiding predictor bases)"
                            ).add_subparsers(dest="models_command", required=True)
    p = models.add_parser("status", help="which default models are cached and which are shipped")
    p.set_defaults(func=cmd_models_status)
    p = models.add_parser("ship", help="train what is missing and copy the default models into assets/models")
    add_data_dir_arg(p)
    p.set_defaults(func=cmd_models_ship)
