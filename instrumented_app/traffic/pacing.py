"""When each saga of a run may start: at most ``rate`` per second, and none after ``duration_s``.

Pure: the clock is a parameter, so the schedule is tested without waiting.
Starts are spaced evenly from the run's start (the i-th is due at
``started + i / rate``), so a run that fell behind (every slot busy) catches
up at once rather than drifting; ``concurrency`` bounds that catching up.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bounds of ``--rate`` (sagas started per second) and ``--duration`` (seconds).
MAX_RATE = 1_000.0
MAX_DURATION_S = 24 * 3600.0


@dataclass(frozen=True)
class Pacing:
    """``rate``: starts per second (None: as fast as the slots free); ``duration_s``: no start after
    this many seconds (None: until the plan runs out)."""

    rate: float | None = None
    duration_s: float | None = None

    def __post_init__(self) -> None:
        if self.rate is not None and not 0 < self.rate <= MAX_RATE:
            raise ValueError(f"rate: must be above 0 and at most {MAX_RATE:g} per second, got {self.rate}")
        if self.duration_s is not None and not 0 < self.duration_s <= MAX_DURATION_S:
            raise ValueError(
                f"duration_s: must be above 0 and at most {MAX_DURATION_S:g} s, got {self.duration_s}"
            )

    def due(self, started: float, index: int) -> float:
        """The clock reading at which start number ``index`` (from 0) may happen."""
        return started if self.rate is None else started + index / self.rate

    def open(self, started: float, now: float) -> bool:
        """Whether a saga may still start at ``now``."""
        return self.duration_s is None or now - started < self.duration_s

    def wait_s(self, started: float, index: int, now: float) -> float | None:
        """Seconds to wait before start ``index``; None when the run is over before it is due."""
        due = self.due(started, index)
        if not self.open(started, max(now, due)):
            return None
        return max(0.0, due - now)
