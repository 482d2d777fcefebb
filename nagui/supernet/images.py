"""Images for the super-network: an ImageFolder-layout folder loaded into uint8 tensors
(decoded once, then cached as a plain ``.npz``), a seeded class-stratified held-out split
of the train split, and batching with CIFAR augmentation done on tensors (any device)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..checkpoint_files import write_atomically
from ..data.sources import ENV_VAR, candidate_data_dirs, resolve_data_dir, user_data_dir
from ..errors import NaguiError

IMAGE_FOLDER = "cifar10-jpeg"              # inside the data dir (see nagui.data.sources)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# NB201's CIFAR-10 normalisation (its training recipe; export uses the same numbers).
CIFAR10_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
CIFAR10_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
CROP_PADDING = 4


class ImageDataError(NaguiError, ValueError):
    """An image folder that cannot be used; the message names the folder or file."""


@dataclass
class ImageSet:
    """Decoded images: ``images`` uint8 (N, 3, H, W), ``labels`` int64 (N,), class names."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    root: Path

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: torch.Tensor) -> "ImageSet":
        return ImageSet(self.images[indices], self.labels[indices], list(self.classes), self.root)

    def per_class_counts(self) -> list[int]:
        return torch.bincount(self.labels, minlength=len(self.classes)).tolist()


def default_image_root(data_dir: str | os.PathLike | None = None) -> Path:
    """``<data dir>/cifar10-jpeg``; an explicit data dir (argument or NAGUI_DATA_DIR) wins."""
    if data_dir is not None or os.environ.get(ENV_VAR):
        return resolve_data_dir(data_dir) / IMAGE_FOLDER
    for _, path in candidate_data_dirs():
        if (path / IMAGE_FOLDER).is_dir():
            return path / IMAGE_FOLDER
    return resolve_data_dir() / IMAGE_FOLDER


# ----------------------------------------------------------------------------- loading
def _class_folders(split_dir: Path) -> list[Path]:
    if not split_dir.is_dir():
        raise ImageDataError(f"image folder {split_dir} does not exist (expected the layout "
                             f"<root>/{split_dir.name}/<class>/<image>.jpg)")
    folders = sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ImageDataError(f"{split_dir} has no class subfolders (expected <class>/<image>.jpg inside it)")
    return folders


def class_names(root: str | os.PathLike, split: str = "train") -> list[str]:
    """The sorted class names (subfolders) of ``<root>/<split>``."""
    return [p.name for p in _class_folders(Path(root).expanduser() / split)]


def _check_same_classes(root: Path, split: str, classes: list[str]) -> None:
    """Every split of one root must have the same classes, or labels mean different things."""
    for other in ("train", "test"):
        other_dir = root / other
        if other == split or not other_dir.is_dir():
            continue
        theirs = [p.name for p in _class_folders(other_dir)]
        if theirs != classes:
            missing, extra = sorted(set(theirs) - set(classes)), sorted(set(classes) - set(theirs))
            raise ImageDataError(f"the classes of {root / split} differ from {other_dir}: missing here {missing}, "
                                 f"only here {extra} (labels would not mean the same class)")


def _list_files(folders: list[Path], limit_per_class: int | None, seed: int) -> list[tuple[Path, int]]:
    files = []
    for label, folder in enumerate(folders):
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not found:
            raise ImageDataError(f"class folder {folder} has no images ({', '.join(IMAGE_SUFFIXES)})")
        if limit_per_class is not None and limit_per_class < len(found):
            g = torch.Generator().manual_seed(seed * 1000003 + label)
            keep = sorted(torch.randperm(len(found), generator=g)[:limit_per_class].tolist())
            found = [found[i] for i in keep]
        files += [(p, label) for p in found]
    return files


def _cache_path(root: Path, split: str, files: list[tuple[Path, int]], limit: int | None, seed: int,
                size: tuple[int, int] | None) -> Path:
    h = hashlib.sha256(json.dumps([str(root.resolve()), split, limit, seed, size]).encode())
    for path, label in files:
        st = path.stat()
        h.update(f"{path.relative_to(root)}\0{label}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return user_data_dir() / "image-cache" / f"{h.hexdigest()[:32]}.npz"


def _decode(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageDataError(f"cannot read image {path}: {exc}") from None


def _decode_all(files: list[tuple[Path, int]], size: tuple[int, int] | None) -> np.ndarray:
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        arrays = list(pool.map(lambda f: _decode(f[0], size), files, chunksize=256))
    first = arrays[0].shape
    for (path, _), a in zip(files, arrays):
        if a.shape != first:
            raise ImageDataError(f"image {path} is {a.shape[1]}x{a.shape[0]}, the first image "
                                 f"{files[0][0]} is {first[1]}x{first[0]}; pass size=(H, W) to resize all images")
    return np.ascontiguousarray(np.stack(arrays).transpose(0, 3, 1, 2))


def _read_cache(path: Path, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels = z["images"], z["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None                                   # missing or damaged: decode again
    if len(images) != n or len(labels) != n or images.dtype != np.uint8:
        return None
    return images, labels


def _write_cache(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, images=images, labels=labels)
    write_atomically(path, buffer.getvalue())


def load_image_folder(root: str | os.PathLike, split: str = "train", limit_per_class: int | None = None,
                      seed: int = 0, cache: bool = True, size: int | tuple[int, int] | None = None) -> ImageSet:
    """Images of ``<root>/<split>/<class>/*`` (classes = sorted subfolders). With
    ``limit_per_class`` a seeded random subset per class. All images must share one size
    unless ``size`` (H, W) is given. Decoded arrays are cached under the user data dir."""
    root = Path(root).expanduser()
    if limit_per_class is not None and (not isinstance(limit_per_class, int) or limit_per_class < 1):
        raise ImageDataError(f"limit_per_class must be a positive int or None, got {limit_per_class!r}")
    if isinstance(size, int):
        size = (size, size)
    size = tuple(int(s) for s in size) if size is not None else None
    folders = _class_folders(root / split)
    classes = [p.name for p in folders]
    _check_same_classes(root, split, classes)
    files = _list_files(folders, limit_per_class, seed)
    cached = None
    if cache:
        cache_file = _cache_path(root, split, files, limit_per_class, seed, size)
        cached = _read_cache(cache_file, len(files))
    if cached is None:
        images = _decode_all(files, size)
        labels = np.array([label for _, label in files], dtype=np.int64)
        if cache:
            _write_cache(cache_file, images, labels)
    else:
        images, labels = cached
    return ImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, root)


# ------------------------------------------------------------------------------ splits
def train_heldout_split(images: ImageSet, heldout: int, seed: int = 0) -> tuple[ImageSet, ImageSet]:
    """A seeded, class-stratified held-out part of (usually) the train split: ``heldout``
    images, spread as evenly over the classes as possible; the rest is for training."""
    n_classes = len(images.classes)
    if not isinstance(heldout, int) or not 1 <= heldout < len(images):
        raise ImageDataError(f"heldout must be an int in 1..{len(images) - 1}, got {heldout!r}")
    g = torch.Generator().manual_seed(seed)
    held, kept = [], []
    for c in range(n_classes):
        idx = torch.nonzero(images.labels == c).flatten()
        want = heldout // n_classes + (1 if c < heldout % n_classes else 0)
        if want >= len(idx):
            raise ImageDataError(f"class {images.classes[c]!r} has {len(idx)} images; a held-out split of "
                                 f"{heldout} needs {want} of them and leaves none to train on")
        idx = idx[torch.randperm(len(idx), generator=g)]
        held.append(idx[:want])
        kept.append(idx[want:])
    return images.subset(torch.cat(kept).sort().values), images.subset(torch.cat(held).sort().values)


def first_per_class(images: ImageSet, n: int) -> ImageSet:
    """At most ``n`` images of each class (the first ones, in stored order)."""
    keep = torch.cat([torch.nonzero(images.labels == c).flatten()[:n] for c in range(len(images.classes))])
    return images.subset(keep.sort().values)


# ---------------------------------------------------------------------------- batching
def _stats(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(CIFAR10_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=device).view(1, 3, 1, 1)
    return mean, std


def normalise(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float32, scaled to [0, 1] and normalised with the CIFAR-10 mean/std."""
    mean, std = _stats(batch.device)
    return (batch.float().div_(255.0) - mean) / std


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Standard CIFAR augmentation on uint8 (N, 3, H, W): random crop with 4 pixels of zero
    padding, random horizontal flip; returns the normalised float batch. Random numbers
    come from ``generator`` (a CPU generator), so the result does not depend on the device."""
    n, _, h, w = batch.shape
    p = CROP_PADDING
    offsets = torch.randint(0, 2 * p + 1, (n, 2), generator=generator).to(batch.device)
    flips = (torch.rand(n, generator=generator) < 0.5).to(batch.device)
    padded = torch.nn.functional.pad(batch, (p, p, p, p))
    rows = offsets[:, 0:1] + torch.arange(h, device=batch.device)            # (N, H)
    cols = offsets[:, 1:2] + torch.arange(w, device=batch.device)            # (N, W)
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    index = (rows[:, :, None] * (w + 2 * p) + cols[:, None, :]).view(n, 1, h * w).expand(n, 3, h * w)
    out = padded.flatten(2).gather(2, index).view(n, 3, h, w)
    return normalise(out)


def batch_count(n: int, batch_size: int, drop_last: bool, world_size: int = 1) -> int:
    """How many batches :func:`batches` yields per rank for ``n`` images."""
    per_rank = n // world_size if drop_last else -(-n // world_size)
    return per_rank // batch_size if drop_last else -(-per_rank // batch_size)


def batches(images: ImageSet, batch_size: int, shuffle: bool = True, generator: torch.Generator | None = None,
            drop_last: bool = False, rank: int = 0, world_size: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(uint8 images, labels) batches of one epoch. With ``world_size`` > 1 each rank gets a
    disjoint, equally long shard of the epoch's order (like DistributedSampler); give every
    rank a generator seeded the same way (e.g. from seed and epoch) so they share the order."""
    if batch_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need batch_size >= 1 and 0 <= rank < world_size, got {batch_size}, {rank}, {world_size}")
    n = len(images)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if world_size > 1:
        if drop_last:
            order = order[:n - n % world_size]
        else:                                          # pad by wrapping so every shard is equally long
            order = torch.cat([order, order[:(-n) % world_size]])
        order = order[rank::world_size]
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size].to(images.images.device)
        yield images.images[idx], images.labels[idx]


__all__ = ["CIFAR10_MEAN", "CIFAR10_STD", "IMAGE_FOLDER", "ImageDataError", "ImageSet", "augment", "batch_count",
           "batches", "class_names", "default_image_root", "first_per_class", "load_image_folder", "normalise",
           "train_heldout_split"]
