"""``AlarmLoop``: run the engine every ``interval_s`` on a thread until ``stop()``."""

from __future__ import annotations

import logging
import threading

from alarms.engine.engine import AlarmEngine

log = logging.getLogger(__name__)


class AlarmLoop:
    def __init__(self, engine: AlarmEngine, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the alarm loop is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alarm-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._engine.run_once()
            except Exception:  # a pass reports its own problems; this is a bug, logged, not fatal
                log.exception("alarms: evaluation pass failed")
            self.passes += 1
            self._stop.wait(self._interval_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop after the current pass (waits at most ``timeout_s``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
