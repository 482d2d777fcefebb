"""Checkpoint folders: a JSON description + a safetensors file, written atomically and
read without executing anything; every problem becomes the caller's error type with a
message naming the file and what is wrong."""
from __future__ import annotations

import json
from pathlib import Path


def save_checkpoint(directory: str | Path, tensors: dict, meta: dict, meta_name: str, weights_name: str,
                    fmt: str) -> Path:
    """Write ``weights_name`` then ``meta_name`` into ``directory``; each via a temp file + rename."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{weights_name}.part"
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp), metadata={"format": fmt})
    tmp.replace(directory / weights_name)
    tmp = directory / f".{meta_name}.part"
    tmp.write_text(json.dumps(meta, indent=2, allow_nan=False))
    tmp.replace(directory / meta_name)
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
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{meta_path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise error(f"{meta_path}: format {found!r}, expected {fmt!r}")
    return meta


def read_tensors(weights_path: Path, error: type[Exception]) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise error(f"{weights_path} is not a readable safetensors file: {exc}") from None
