"""Run one pass every so often on a thread of its own: the shape of every background job in ``up``.

Passes never overlap (one thread), a failing pass is logged and the next one
retries, and ``stop`` waits for the pass in progress, bounded, so a stack that
stops cleanly does not cut a pass in half.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sagawatch.redact import redact

log = logging.getLogger(__name__)

T = TypeVar("T")


class PeriodicTask(Generic[T]):
    """``run()`` every ``interval_s`` (start to start) until ``stop()``; ``name`` names the thread."""

    def __init__(self, run: Callable[[], T], interval_s: float, *, name: str) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s: must be positive, got {interval_s}")
        self._run_pass = run
        self._interval_s = interval_s
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_result: T | None = None
        self.last_error: str | None = None
        self.passes = 0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the loop to end and wait (at most ``timeout_s``) for the pass in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("%s: pass still running %.0f s after stop", self.name, timeout_s)
        self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.last_result = self._run_pass()
                self.last_error = None
            except Exception as exc:  # the loop outlives a bad pass; the next one retries
                self.last_error = redact(str(exc))
                log.warning("%s: pass failed: %s", self.name, self.last_error)
            self.passes += 1
            self._stop.wait(max(0.0, self._interval_s - (time.monotonic() - started)))
