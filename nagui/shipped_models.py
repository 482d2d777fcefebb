"""Small model weights made by this code and shipped in ``assets/models``.

A fresh machine would otherwise spend minutes before its first generation: training the
diffusion prior (~1 min on 2 cores) and pretraining the guiding predictor on the source
datasets (several minutes per target dataset). The default models are shipped instead,
as safetensors + JSON (never pickle), in folders named exactly like the user cache's
(``<user data dir>/models/<name>``). When a cache folder is missing and a shipped one of
the same name exists, it is copied into the cache first (atomically: copy to a temp
folder, then rename), so every later start, and every model trained by the user, is an
ordinary cache entry. ``nagui models ship`` remakes the shipped folders from the
current code (training whatever is missing), and ``nagui models status`` lists them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .checkpoint_files import published_folder

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "assets" / "models"
SHIPPED_FILES = {"diffusion.json", "denoiser.safetensors", "predictor.json", "weights.safetensors"}


def provide(cache_dir: str | os.PathLike, shipped_dir: Path = SHIPPED_DIR) -> bool:
    """Copy the shipped model named like ``cache_dir`` into it when ``cache_dir`` does not
    exist yet. Returns True when it copied. Only the known weight/config files travel."""
    cache_dir = Path(cache_dir)
    source = shipped_dir / cache_dir.name
    if cache_dir.exists() or not source.is_dir():
        return False
    files = [p for p in source.iterdir() if p.name in SHIPPED_FILES and p.is_file()]
    if not files:
        return False
    with published_folder(cache_dir) as staged:      # False below: another process provided it first
        for p in files:
            shutil.copyfile(p, staged.path / p.name)
    return staged.published


def ship(cache_dir: str | os.PathLike, shipped_dir: Path = SHIPPED_DIR) -> Path:
    """Copy a trained cache folder into ``assets/models`` (what ``nagui models ship`` does)."""
    cache_dir = Path(cache_dir)
    files = [p for p in cache_dir.iterdir() if p.name in SHIPPED_FILES]
    if not files:
        raise FileNotFoundError(f"{cache_dir} holds no model files ({', '.join(sorted(SHIPPED_FILES))})")
    target = shipped_dir / cache_dir.name
    target.mkdir(parents=True, exist_ok=True)
    for p in files:
        shutil.copyfile(p, target / p.name)
    return target
