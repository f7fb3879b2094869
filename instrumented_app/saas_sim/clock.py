"""A wall clock that tests can move, so that records can be made to look old.

The reconciler's drift tests need SaaS records whose ``updated_at`` lies in the
past; rather than a back door that writes raw timestamps, the simulator's clock
can be set (``PUT /_admin/clock``) and records written through the real API
then carry that time. The clock keeps ticking from the time it was set to.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SimClock:
    """UTC wall time plus an offset; thread-safe."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The simulated current time (timezone-aware, UTC)."""
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    def set_now(self, when: datetime | None) -> None:
        """Make ``now()`` return ``when`` from this moment on (ticking); ``None`` returns to real time."""
        with self._lock:
            self._offset = timedelta(0) if when is None else when - datetime.now(UTC)

    @property
    def offset_s(self) -> float:
        """Seconds the simulated time is ahead of real time (negative: behind)."""
        with self._lock:
            return self._offset.total_seconds()

    def set_offset_s(self, seconds: float) -> None:
        """Restore a saved offset (used when state is reloaded)."""
        with self._lock:
            self._offset = timedelta(seconds=seconds)
