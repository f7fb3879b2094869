"""A leaky bucket, the model Shopify documents for its REST Admin API.

Each call adds one unit; the bucket leaks ``leak_per_s`` units a second; a
call that would overflow ``capacity`` is refused with the time until it would
fit. Zendesk's per-minute budget is reported from the same bucket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketState:
    """The outcome of one call against the bucket."""

    allowed: bool
    used: int
    capacity: int
    leak_per_s: float
    retry_after_s: float = 0.0

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.used)


class LeakyBucket:
    """Thread-safe; ``now`` is injectable so the unit tests need no sleeping."""

    def __init__(self, capacity: int, leak_per_s: float, now: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or leak_per_s <= 0:
            raise ValueError(f"capacity must be >= 1 and leak_per_s > 0, got {capacity}, {leak_per_s}")
        self.capacity = capacity
        self.leak_per_s = leak_per_s
        self._now = now
        self._level = 0.0
        self._last = now()
        self._lock = threading.Lock()

    def try_acquire(self) -> BucketState:
        """Add one call if it fits; else say how long until it would."""
        with self._lock:
            now = self._now()
            self._level = max(0.0, self._level - (now - self._last) * self.leak_per_s)
            self._last = now
            if self._level + 1.0 <= self.capacity:
                self._level += 1.0
                return BucketState(True, _ceil(self._level), self.capacity, self.leak_per_s)
            wait = (self._level + 1.0 - self.capacity) / self.leak_per_s
            return BucketState(False, _ceil(self._level), self.capacity, self.leak_per_s, retry_after_s=wait)


def _ceil(level: float) -> int:
    whole = int(level)
    return whole if level - whole < 1e-9 else whole + 1
