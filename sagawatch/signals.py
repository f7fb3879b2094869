"""Stopping a long-running command on Ctrl-C or SIGTERM, the one way ``up`` and ``dashboard`` both do."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def stop_requested_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs; the previous handlers come back after.

    Handlers of our own rather than KeyboardInterrupt: a process started in the background by a
    script inherits SIGINT ignored, and Python then never raises KeyboardInterrupt at all; and a
    supervisor's SIGTERM should stop the command as cleanly as Ctrl-C does.
    """
    requested = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        requested.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield requested
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
