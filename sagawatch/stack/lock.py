"""One ``sagawatch up`` per state directory.

An advisory ``flock`` is released by the kernel when its holder dies, so a
crashed stack never leaves a lock that blocks the next start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class StackAlreadyRunning(RuntimeError):
    """Raised when another process holds the stack lock."""


class StackLock:
    def __init__(self, home: Path) -> None:
        self.path = home / "up.lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StackAlreadyRunning(
                f"a stack is already running from {self.path.parent} (pid {holder})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
