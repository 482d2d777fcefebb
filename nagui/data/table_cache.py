"""The joined NB201 table, kept on disk between calls so a CLI call does not rebuild it.

Building the table parses 15,625 arch strings, aligns five sources and computes the
computed objectives: about 0.8 s on 2 cores, paid by every ``nagui generate``. The built
table is saved once as an ``.npz`` (columns as plain arrays, read with
``allow_pickle=False``) in the user cache dir, under a key made of

- the sha256 of every source file it was built from (the files are still checked
  against the manifest on every load, so a corrupt file is reported, not masked), and
- the names of the computed kinds and the sha256 of the code that builds it (the table
  builder, the computed objectives and every kind's function, the canonical form), so a
  change to any of them rebuilds it.

A missing, stale or unreadable cache file is never an error: the table is rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..checkpoint_files import write_atomically
from .sources import cache_data_dir

log = logging.getLogger(__name__)

FORMAT = 1
ENV_VAR = "NAGUI_TABLE_CACHE"   # "off": never read or write the cache
_META = "__meta__"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/nagui/tables`` (default ``~/.cache/nagui/tables``), beside the
    downloaded data: it is derived and can be deleted at any time."""
    return cache_data_dir().parent / "tables"


def enabled() -> bool:
    return os.environ.get(ENV_VAR, "").lower() not in {"off", "0", "no", "false"}


def table_key(parts: Iterable[str], code_files: Iterable[Path]) -> str:
    """One hex key for the table built by this code from what ``parts`` names (the source
    files' sha256s, the computed kinds' names)."""
    h = hashlib.sha256(f"nagui-table-{FORMAT}".encode())
    for part in parts:
        h.update(part.encode() + b"\0")
    for path in code_files:
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:24]


def cached_path(key: str) -> Path:
    return cache_dir() / f"nb201-{key}.npz"


def load(key: str) -> tuple[pd.DataFrame, dict[str, int]] | None:
    """The cached table and latency-artefact counts for ``key``, or None (missing or unreadable)."""
    path = cached_path(key)
    if not enabled() or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz[_META]))
            cols = {name: npz[f"c{i}"] for i, name in enumerate(meta["columns"])}
        table = pd.DataFrame(cols, index=pd.RangeIndex(meta["rows"], name=meta["index_name"]))
        return table, {k: int(v) for k, v in meta["artefacts"].items()}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        log.warning("ignoring the unreadable table cache %s (%s); rebuilding the table", path, exc)
        return None


def save(key: str, table: pd.DataFrame, artefacts: dict[str, int]) -> Path | None:
    """Write the table for ``key``; a cache that cannot be written is logged, not raised."""
    if not enabled():
        return None
    meta = {"columns": list(table.columns), "rows": len(table), "index_name": table.index.name,
            "artefacts": artefacts, "format": FORMAT}
    arrays = {_META: np.array(json.dumps(meta))}
    for i, name in enumerate(table.columns):
        values = table[name].to_numpy()
        arrays[f"c{i}"] = values.astype(str) if values.dtype == object else values
    buffer = BytesIO()
    np.savez(buffer, **arrays)
    path = cached_path(key)
    try:
        write_atomically(path, buffer.getvalue())
        for stale in path.parent.glob("nb201-*.npz"):   # one table per data set is enough
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not write the table cache %s (%s); the next call rebuilds the table", path, exc)
        return None
    return path
