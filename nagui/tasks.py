"""Long-running work in background threads, with progress, cancel and readable errors.

The app starts every long job (training, generation, profiling) through one
process-wide :class:`TaskManager`. A job is keyed: starting a key that is already
running returns the running task instead of a second one, so a double click (or a
second browser tab) cannot start it twice. The job function receives its
:class:`Task` and calls ``task.report(text, fraction)``; each report is also a cancel
point (``task.cancel()`` makes the next report raise :class:`Cancelled`), and so is every
:func:`nagui.progress.cancel_point` the inner loops pass (a training step, a batch). A failure is
kept as one readable line, never a traceback (the traceback goes to the log).
Streamlit-free.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import NaguiError
from .progress import cancel_checks

log = logging.getLogger(__name__)


class Cancelled(NaguiError):
    """Raised inside a task's function at its next report after ``cancel()``; its message
    ("LABEL: cancelled") is what the page shows."""


def readable_error(exc: BaseException) -> str:
    """One line for the page: a :class:`NaguiError`'s message as is, anything else
    prefixed with its type."""
    if isinstance(exc, NaguiError):
        return exc.user_message
    return f"{type(exc).__name__}: {str(exc).strip() or type(exc).__name__}"


@dataclass
class Task:
    key: str
    label: str
    started: float = field(default_factory=time.time)
    status: str = "running"        # running | done | failed | cancelled
    fraction: float | None = None  # 0..1 when known
    text: str = ""
    result: Any = None
    error: str | None = None
    finished: float | None = None
    lines: deque = field(default_factory=lambda: deque(maxlen=200))
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def report(self, text: str | None = None, fraction: float | None = None) -> None:
        """Progress from inside the job; raises :class:`Cancelled` once cancel was asked."""
        if text is not None:
            self.text = text
            self.lines.append(f"{time.strftime('%H:%M:%S')}  {text}")
        if fraction is not None:
            self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.check()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled(f"{self.label}: cancelled")

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class TaskManager:
    """Keyed background tasks of one process (shared by every browser session)."""

    def __init__(self, keep_finished: int = 50):
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()
        self._keep = keep_finished

    def start(self, key: str, label: str, fn: Callable[[Task], Any],
              on_finish: Callable[[Task], None] | None = None) -> Task:
        """Run ``fn(task)`` in a daemon thread; when ``key`` is already running, return that
        task and start nothing."""
        with self._lock:
            current = self._tasks.get(key)
            if current is not None and current.running:
                return current
            task = Task(key=key, label=label)
            self._tasks[key] = task
            self._trim()
        threading.Thread(target=self._run, args=(task, fn, on_finish), name=f"nagui-task-{key}", daemon=True).start()
        return task

    def _run(self, task: Task, fn, on_finish) -> None:
        try:
            with cancel_checks(task.check):      # inner loops' cancel points (nagui.progress.cancel_point)
                task.result = fn(task)
            task.status = "done"
            task.fraction = 1.0
        except Cancelled:
            task.status = "cancelled"
            task.error = f"{task.label} was cancelled"
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a readable message
            log.exception("task %s failed", task.key)
            task.status = "failed"
            task.error = readable_error(exc)
        finally:
            task.finished = time.time()
            if on_finish is not None:
                try:
                    on_finish(task)
                except Exception:  # noqa: BLE001
                    log.exception("on_finish of task %s failed", task.key)
            task._done.set()

    def _trim(self) -> None:
        finished = [k for k, t in self._tasks.items() if not t.running]
        for k in finished[:max(0, len(finished) - self._keep)]:
            del self._tasks[k]

    def get(self, key: str) -> Task | None:
        return self._tasks.get(key)

    def running(self) -> list[Task]:
        return [t for t in list(self._tasks.values()) if t.running]

    def forget(self, key: str) -> None:
        """Drop a finished task (e.g. after its result was shown)."""
        with self._lock:
            task = self._tasks.get(key)
            if task is not None and not task.running:
                del self._tasks[key]


_MANAGER: TaskManager | None = None
_MANAGER_LOCK = threading.Lock()


def task_manager() -> TaskManager:
    """The process-wide manager."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = TaskManager()
        return _MANAGER
