"""One shape for every progress callback: ``report(text, fraction=None)``.

``text`` is one line for a person ("member 2/4 fitted", "epoch 3/5 done: ..."); ``fraction``
in [0, 1] is how far the whole step has got, or None where that is unknown. Every function
in nagui that reports progress takes such a callable (its parameter is named ``report``,
``progress`` or ``say``, after what it reports), so the CLI prints them, the app's
background tasks show them as a bar, and a step can hand its own callback to a sub-step:

- :func:`logged` writes the text to a logger (the usual default);
- :func:`printed` writes it to stderr, at most every ``seconds`` (the command line);
- :func:`within` maps a sub-step's fractions into part of its caller's range.

Reports come every few seconds; a cancel should not wait that long. Inner loops (a
training step, a sampler step, a batch of an evaluation) call :func:`cancel_point`,
which runs the check a background task installed for its thread (:func:`cancel_checks`)
and costs nothing elsewhere.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

Report = Callable[..., None]   # report(text: str, fraction: float | None = None) -> None


def quiet(text: str, fraction: float | None = None) -> None:
    """Reports nothing."""


def logged(logger: logging.Logger, level: int = logging.INFO) -> Report:
    """A report that logs each text (the fraction is not logged)."""
    def report(text: str, fraction: float | None = None) -> None:
        logger.log(level, text)
    return report


def printed(stream: TextIO | None = None, seconds: float = 0.0) -> Report:
    """A report that prints each text to ``stream`` (stderr by default); with ``seconds`` > 0
    at most one line per ``seconds``, plus every line without a fraction and the last (1.0)."""
    last = [float("-inf")]

    def report(text: str, fraction: float | None = None) -> None:
        now = time.monotonic()
        if fraction is None or fraction >= 1.0 or now - last[0] >= seconds:
            last[0] = now
            print(text, file=stream or sys.stderr, flush=True)
    return report


def within(report: Report, start: float, end: float) -> Report:
    """A report for a sub-step that covers ``start``..``end`` of ``report``'s range."""
    def sub(text: str, fraction: float | None = None) -> None:
        report(text, None if fraction is None else start + (end - start) * fraction)
    return sub


_thread = threading.local()


@contextmanager
def cancel_checks(check: Callable[[], None]) -> Iterator[None]:
    """While inside, :func:`cancel_point` in this thread calls ``check`` (which raises to cancel)."""
    previous = getattr(_thread, "check", None)
    _thread.check = check
    try:
        yield
    finally:
        _thread.check = previous


def cancel_point() -> None:
    """Where a loop may be cancelled: runs this thread's check, if a task installed one."""
    check = getattr(_thread, "check", None)
    if check is not None:
        check()


__all__ = ["Report", "cancel_checks", "cancel_point", "logged", "printed", "quiet", "within"]
