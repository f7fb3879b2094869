"""``AlarmLoop``: run the engine every ``interval_s`` on a thread until ``stop()``."""

from __future__ import annotations

from alarms.engine.engine import AlarmEngine, PassReport
from sagawatch.periodic import PeriodicTask


class AlarmLoop(PeriodicTask[PassReport]):
    """The engine's ``run_once`` every ``interval_s``; passes never overlap."""

    def __init__(self, engine: AlarmEngine, interval_s: float) -> None:
        super().__init__(engine.run_once, interval_s, name="alarm-loop")
