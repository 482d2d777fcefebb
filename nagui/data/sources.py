"""Where the data lives, checking it, and downloading it.

A *data dir* holds ``nb201/`` (the tables, see :mod:`.manifest`) and, optionally,
``cifar10-jpeg/`` (images). It is found in this order:

1. an explicit ``data_dir`` argument (the CLI's ``--data-dir``),
2. the ``NAGUI_DATA_DIR`` environment variable,
3. ``../shared/data`` next to the repository checkout,
4. the user cache dir (``$XDG_CACHE_HOME/nagui/data``, default ``~/.cache/nagui/data``),
   where ``nagui data fetch`` puts its downloads.

Every table file is checked against its pinned sha256 before it is parsed, so a
truncated, corrupt or swapped file is refused with a message naming it and the fix.
"""
from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..checkpoint_files import sha256_of, write_atomically
from ..errors import NaguiError
from ..progress import Report, quiet

from .manifest import GITHUB_RAW, NB201_FILES, SourceFile

log = logging.getLogger(__name__)

ENV_VAR = "NAGUI_DATA_DIR"
MIRROR_ENV_VAR = "NAGUI_DATA_MIRROR"  # a host laid out like raw.githubusercontent.com
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA_DIR = REPO_ROOT.parent / "shared" / "data"


class DataError(NaguiError, RuntimeError):
    """Data missing, corrupt or unreadable; the message names the file and the fix."""


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/nagui`` (default ``~/.local/share/nagui``): runs, models, measurements."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nagui"


def cache_data_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nagui" / "data"


def candidate_data_dirs(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """(how it was chosen, path) in the order they are tried."""
    out: list[tuple[str, Path]] = []
    if data_dir is not None:
        out.append(("--data-dir", Path(data_dir).expanduser()))
    if os.environ.get(ENV_VAR):
        out.append((ENV_VAR, Path(os.environ[ENV_VAR]).expanduser()))
    out.append(("../shared/data next to the repo", SHARED_DATA_DIR))
    out.append(("user cache dir", cache_data_dir()))
    return out


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data dir to use. An explicit choice (argument or env var) wins even when it is
    incomplete, so its problems are reported rather than silently skipped."""
    candidates = candidate_data_dirs(data_dir)
    if data_dir is not None or os.environ.get(ENV_VAR):
        return candidates[0][1]
    for _, path in candidates:
        if (path / "nb201").is_dir():
            return path
    return candidates[-1][1]


def _fix_hint(data_dir: Path) -> str:
    return (f"fix: run `nagui data fetch --dest {data_dir}` to download it, or point "
            f"--data-dir / {ENV_VAR} at a data dir that has it")


@dataclass(frozen=True)
class FileProblem:
    source: SourceFile
    path: Path
    problem: str  # "missing" | "size" | "sha256"
    detail: str

    def message(self, data_dir: Path) -> str:
        return (f"data file {self.path} is {self.problem if self.problem == 'missing' else 'corrupt'}: "
                f"{self.detail}; expected sha256 {self.source.sha256} ({self.source.bytes} bytes, "
                f"{self.source.repo}@{self.source.commit[:8]}:{self.source.path}); {_fix_hint(data_dir)}")


def check_file(data_dir: Path, source: SourceFile) -> FileProblem | None:
    path = data_dir / "nb201" / source.file
    if not path.is_file():
        return FileProblem(source, path, "missing", "no such file")
    size = path.stat().st_size
    if size != source.bytes:
        return FileProblem(source, path, "size", f"{size} bytes instead of {source.bytes}")
    digest = sha256_of(path)
    if digest != source.sha256:
        return FileProblem(source, path, "sha256", f"sha256 is {digest}")
    return None


def check_data_dir(data_dir: str | os.PathLike, files: Iterable[SourceFile] = NB201_FILES) -> list[FileProblem]:
    data_dir = Path(data_dir)
    return [p for p in (check_file(data_dir, s) for s in files) if p is not None]


def verified_path(data_dir: Path, file: str) -> Path:
    """Path of one table file after checking size and sha256; raises :class:`DataError`."""
    source = next((s for s in NB201_FILES if s.file == file), None)
    if source is None:
        raise ValueError(f"{file!r} is not in the NB201 manifest")
    problem = check_file(data_dir, source)
    if problem is not None:
        raise DataError(problem.message(data_dir))
    return data_dir / "nb201" / file


def _download(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https, pinned URL)
        return response.read()



def _fetch_one(source: SourceFile, dest: Path, base_url: str, download, timeout: float) -> str | None:
    """Download one file, check its sha256 and write it atomically; what went wrong as one
    line, or None."""
    target = dest / "nb201" / source.file
    try:
        payload = download(source.url(base_url), timeout)
    except Exception as exc:  # network errors come in many types
        return f"{source.file}: download from {source.url(base_url)} failed: {exc}"
    digest = hashlib.sha256(payload).hexdigest()
    if digest != source.sha256:
        return f"{source.file}: downloaded sha256 {digest} != expected {source.sha256}"
    try:
        write_atomically(target, payload)
    except OSError as exc:                       # a full disk, a read-only or unusable dir
        return (f"{source.file}: could not write {target}: {exc.strerror or exc} "
                "(the file there before, if any, is untouched)")
    log.info("fetched %s", target)
    return None


def fetch(dest: str | os.PathLike | None = None, *, force: bool = False, timeout: float = 60.0,
          base_url: str | None = None, download: Callable[[str, float], bytes] = _download,
          progress: Report = quiet) -> Path:
    """Download every manifest file at its pinned commit into ``dest`` (default: the cache dir).

    Files already present with the right sha256 are kept. Each download is checked
    against its sha256 and written atomically (temp file + rename), so an interrupted
    or corrupt download never leaves a half file behind. Raises :class:`DataError`
    naming every file that could not be fetched; ``progress`` gets one line per file
    (``ok``, ``fetched`` or ``failed``). ``base_url`` (default: GitHub's raw
    file host, or ``$NAGUI_DATA_MIRROR``) serves ``<repo>/<commit>/<path>``.
    """
    dest = Path(dest).expanduser() if dest is not None else cache_data_dir()
    base_url = base_url or os.environ.get(MIRROR_ENV_VAR) or GITHUB_RAW
    failures = []
    for n, source in enumerate(NB201_FILES, 1):
        if not force and check_file(dest, source) is None:
            status = "ok"
        else:
            failure = _fetch_one(source, dest, base_url, download, timeout)
            status = "failed" if failure else "fetched"
            if failure:
                failures.append(failure)
        progress(f"{status:>8}  {source.file}", n / len(NB201_FILES))
    if failures:
        raise DataError(f"{len(failures)} of {len(NB201_FILES)} files could not be fetched into {dest}:\n  "
                        + "\n  ".join(failures))
    return dest
