"""Checkpoint folders: a JSON description + a safetensors file, written atomically and
read without executing anything; every problem becomes the caller's error type with a
message naming the file and what is wrong."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping
# safetensors (and with it torch) is imported inside the functions that use it: `nagui --help`
# imports this module and stays fast without torch.

MAX_META_BYTES = 16 * 2**20        # a description larger than this is not one of ours


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (checkpoints and data files can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass
class StagedFolder:
    """A folder being built beside its ``target`` (see :func:`published_folder`)."""
    path: Path
    target: Path
    published: bool = False      # True once this stage became the target


@contextmanager
def published_folder(target: str | Path, *, replace: bool = False,
                     present: Callable[[Path], bool] = Path.exists) -> Iterator[StagedFolder]:
    """Build a folder in a hidden stage beside ``target``, then publish it in one rename, so
    no reader ever sees half of it. An existing ``target`` is swapped out whole when
    ``replace``; otherwise, when the rename fails because ``present(target)`` (another
    process published first), the stage is dropped and ``published`` stays False. On an
    error in the block the stage is removed and the error goes on."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = StagedFolder(target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}", target)
    staged.path.mkdir()
    try:
        yield staged
        if replace and target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
            os.rename(staged.path, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                os.rename(staged.path, target)
            except OSError:
                if not present(target):
                    raise
                return
        staged.published = True
    finally:
        shutil.rmtree(staged.path, ignore_errors=True)


def write_atomically(target: str | Path, data: bytes | str) -> None:
    """Temp file beside ``target``, fsync, rename, fsync the folder: ``target`` is the old
    file or the new one, never a partial one; the temp file is removed on any failure.
    The one atomic writer of nagui (text is written as UTF-8); files are readable by all."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)                          # mkstemp makes it private
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_checkpoint(directory: str | Path, tensors: dict, meta: dict, meta_name: str, weights_name: str,
                    fmt: str) -> Path:
    """Write ``weights_name`` then ``meta_name`` into ``directory``, each atomically."""
    from safetensors.torch import save

    directory = Path(directory)
    write_atomically(directory / weights_name, save({k: v.detach().cpu().contiguous() for k, v in tensors.items()},
                                                    metadata={"format": fmt}))
    write_atomically(directory / meta_name, json.dumps(meta, indent=2, allow_nan=False).encode())
    return directory


def read_meta(directory: str | Path, meta_name: str, weights_name: str, fmt: str, error: type[Exception],
              what: str) -> tuple[dict, Path, Path]:
    """The parsed description (checked to be ``fmt``) and both paths; both files must exist."""
    directory = Path(directory)
    meta_path, weights_path = directory / meta_name, directory / weights_name
    for p in (meta_path, weights_path):
        if not p.is_file():
            raise error(f"{what} {directory} has no {p.name}")
    return parse_meta(meta_path, fmt, error), meta_path, weights_path


def parse_meta(meta_path: Path, fmt: str, error: type[Exception]) -> dict:
    """A JSON description whose ``format`` is ``fmt``, or ``error`` naming the file."""
    try:
        size = meta_path.stat().st_size
        if size > MAX_META_BYTES:
            raise error(f"{meta_path} is {size:,} bytes; a description is at most {MAX_META_BYTES:,}")
        meta = json.loads(meta_path.read_text())
    except OSError as exc:
        raise error(f"{meta_path} cannot be read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise error(f"{meta_path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise error(f"{meta_path}: format {found!r}, expected {fmt!r}")
    return meta


def tensor_mismatches(expected: Mapping, found: Mapping, prefix: str = "") -> list[str]:
    """Why the tensors ``found`` do not load into a model whose state dict is ``expected``
    (both map names to tensors): each missing, wrongly shaped and unexpected tensor, as
    phrases naming it with ``prefix``. Empty when they fit."""
    problems = [f"missing tensor {prefix}{k} {tuple(v.shape)}" for k, v in expected.items() if k not in found]
    problems += [f"tensor {prefix}{k}: checkpoint {tuple(found[k].shape)}, config expects {tuple(v.shape)}"
                 for k, v in expected.items() if k in found and tuple(found[k].shape) != tuple(v.shape)]
    return problems + [f"unexpected tensor {prefix}{k}" for k in found if k not in expected]


def mismatch_summary(problems: list[str], shown: int = 3) -> str:
    """``problems`` of :func:`tensor_mismatches` in one line: how many, and the first few."""
    return f"{len(problems)} problem(s), first: " + "; ".join(problems[:shown])


def read_tensors(weights_path: Path, error: type[Exception]) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise error(f"{weights_path} is not a readable safetensors file: {exc}") from None
