"""The run store: one folder per run plus a SQLite index, in the user data dir.

Everything the app makes that is worth keeping (generated sample sets, super-network
runs, search benchmarks) is a *run*: a folder under ``<root>/<kind>/<id>`` holding its
files, and one row in ``<root>/index.sqlite`` with its kind, status, parameters and
summary. A restarted server reads the index and loses nothing; a run whose process died
while it was ``running`` is reported as ``interrupted``.

Paths are never built from user text without confinement: :meth:`RunStore.file` refuses
names that leave the run's folder. Torch-free and Streamlit-free.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .checkpoint_files import write_atomically
from .data.sources import user_data_dir
from .errors import NaguiError
from .tasks import Cancelled

STATUSES = ("running", "done", "failed", "cancelled", "interrupted")
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    finished REAL,
    pid INTEGER,
    path TEXT NOT NULL,
    params TEXT NOT NULL,
    summary TEXT NOT NULL
)
"""


class RunStoreError(NaguiError, ValueError):
    """A bad run id, kind or file name, or a run that does not exist."""


@dataclass(frozen=True)
class Run:
    id: str
    kind: str
    name: str
    status: str
    created: float
    finished: float | None
    path: Path
    params: dict
    summary: dict

    def file(self, name: str) -> Path:
        """``name`` inside this run's folder; refuses anything that would leave it."""
        return confined(self.path, name)


def confined(folder: Path, name: str) -> Path:
    """``folder / name`` when that stays inside ``folder``; else :class:`RunStoreError`."""
    if not name or "\x00" in name or Path(name).is_absolute():
        raise RunStoreError(f"file name {name!r} is not a plain relative name")
    root = Path(folder).resolve()
    target = (root / name).resolve()
    if target != root and root not in target.parents:
        raise RunStoreError(f"file name {name!r} leaves the run folder {root}")
    return target


def default_root() -> Path:
    return user_data_dir() / "runs"


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunStore:
    """Run folders under ``root`` (default ``<user data dir>/runs``) and their index."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self.index_path = self.root / "index.sqlite"
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.index_path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def _row(self, row: sqlite3.Row) -> Run:
        status = row["status"]
        if status == "running" and not _pid_alive(row["pid"]):
            status = "interrupted"
        path = Path(row["path"])
        return Run(id=row["id"], kind=row["kind"], name=row["name"], status=status, created=row["created"],
                   finished=row["finished"], path=path if path.is_absolute() else self.root / path,
                   params=json.loads(row["params"]), summary=json.loads(row["summary"]))

    # ---- writing --------------------------------------------------------------------
    def create(self, kind: str, params: dict | None = None, name: str | None = None) -> Run:
        """A new run folder ``<root>/<kind>/<id>`` and its index row (status ``running``)."""
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise RunStoreError(f"run kind {kind!r} must be lower-case letters, digits and '-'")
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        rel = Path(kind) / run_id
        (self.root / rel).mkdir(parents=True)
        self._insert(run_id, kind, name or run_id, rel, params or {}, status="running", pid=os.getpid())
        return self.get(run_id)

    def adopt(self, kind: str, folder: str | os.PathLike, name: str, params: dict | None = None,
              summary: dict | None = None, status: str = "done") -> Run:
        """Index an existing folder (e.g. the CLI's default super-network run) without moving it.
        Adopting the same folder again returns the run already indexed."""
        folder = Path(folder).resolve()
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE path = ?", (str(folder),)).fetchone()
        if row is not None:
            return self._row(row)
        run_id = "adopted-" + uuid.uuid5(uuid.NAMESPACE_URL, str(folder)).hex[:12]
        self._insert(run_id, kind, name, folder, params or {}, status=status, pid=None, summary=summary or {})
        return self.get(run_id)

    def _insert(self, run_id, kind, name, path, params, status, pid, summary=None) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT INTO runs (id, kind, name, status, created, finished, pid, path, params, summary) "
                       "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                       (run_id, kind, name, status, time.time(), pid, str(path), json.dumps(params),
                        json.dumps(summary or {})))

    @contextmanager
    def recording(self, run: Run):
        """The one place a run's failure is recorded: if the block raises, the run is marked
        ``cancelled`` (a :class:`~nagui.tasks.Cancelled`) or ``failed``, with the error, and
        the exception goes on. The block marks the run ``done`` itself."""
        try:
            yield run
        except BaseException as exc:
            self.update(run.id, "cancelled" if isinstance(exc, Cancelled) else "failed",
                        summary={"error": str(exc) or type(exc).__name__})
            raise

    def update(self, run_id: str, status: str | None = None, summary: dict | None = None,
               params: dict | None = None) -> Run:
        """Set the status (``done``/``failed``/``cancelled`` also stamp the finish time) and
        merge ``summary``/``params`` into what is stored."""
        run = self.get(run_id)
        if status is not None and status not in STATUSES:
            raise RunStoreError(f"unknown run status {status!r}; one of {STATUSES}")
        merged = {**run.summary, **(summary or {})}
        merged_params = {**run.params, **(params or {})}
        with self._lock, self._connect() as db:
            db.execute("UPDATE runs SET status = COALESCE(?, status), finished = ?, summary = ?, params = ?, "
                       "pid = CASE WHEN ? = 'running' THEN ? ELSE pid END WHERE id = ?",
                       (status, time.time() if status in ("done", "failed", "cancelled") else run.finished,
                        json.dumps(merged), json.dumps(merged_params), status, os.getpid(), run_id))
        return self.get(run_id)

    def delete(self, run_id: str) -> None:
        """Forget a run (its folder stays on disk)."""
        self.get(run_id)
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # ---- reading --------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        if not isinstance(run_id, str) or not re.match(r"^[A-Za-z0-9-]{1,64}$", run_id):
            raise RunStoreError(f"run id {run_id!r} is not valid")
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunStoreError(f"no run {run_id!r} in {self.index_path}")
        return self._row(row)

    def list(self, kind: str | None = None, status: str | None = None) -> list[Run]:
        """Runs, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs" + (" WHERE kind = ?" if kind else "") + " ORDER BY created DESC",
                              (kind,) if kind else ()).fetchall()
        runs = [self._row(r) for r in rows]
        return [r for r in runs if status is None or r.status == status]

    def latest(self, kind: str, status: str = "done") -> Run | None:
        found = self.list(kind, status)
        return found[0] if found else None

    # ---- files ------------------------------------------------------------------------
    def write_json(self, run: Run, name: str, obj) -> Path:
        """Write ``obj`` as JSON into the run folder atomically (temp file, fsync, rename)."""
        path = run.file(name)
        write_atomically(path, json.dumps(obj))
        return path

    def read_json(self, run: Run, name: str):
        path = run.file(name)
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise RunStoreError(f"run {run.id} has no {name}") from None
        except json.JSONDecodeError as exc:
            raise RunStoreError(f"{path} is not valid JSON ({exc})") from None
