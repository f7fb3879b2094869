"""Saga traffic through the API front: a seeded plan of customer creations, driven concurrently.

``plan_traffic`` (pure) decides what to send; ``drive`` (I/O) sends it and
waits, bounded, for each saga's end; ``sagawatch traffic`` is the operator's
way to run it, the saga traffic stack test and ``bench/bench_sagas.py`` use it too.
"""

from instrumented_app.traffic.driver import Outcome, TrafficReport, drive
from instrumented_app.traffic.plan import PlannedSaga, plan_traffic

__all__ = ["Outcome", "PlannedSaga", "TrafficReport", "drive", "plan_traffic"]
