"""An alarm evaluated again and again, as CloudWatch does each period: its state changes.

Actions fire only on a change of state, so what callers (the local ``sagawatch up`` loop, the
dashboard, tests) need is the list of transitions, each with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from alarms.evaluate.evaluator import AlarmState, Datapoint, evaluate_alarm
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue

#: Bounds one replay: a day of 10-second evaluations.
MAX_EVALUATIONS = 8640


def evaluation_times(start: datetime, end: datetime, period: int) -> list[datetime]:
    """One evaluation per period from ``start`` to ``end`` inclusive (at most ``MAX_EVALUATIONS``)."""
    step = timedelta(seconds=period)
    count = int((end - start) / step) + 1 if end >= start else 0
    if count > MAX_EVALUATIONS:
        raise ValueError(
            f"{count} evaluations between {start} and {end}; at most {MAX_EVALUATIONS} are replayed"
        )
    return [start + i * step for i in range(count)]


def replay(
    alarm: AlarmDefinition,
    datapoints: Sequence[Datapoint],
    times: Iterable[datetime],
    initial: AlarmStateValue | None = AlarmStateValue.INSUFFICIENT_DATA,
) -> list[AlarmState]:
    """The alarm's state after each evaluation at ``times``, each fed the one before.

    ``initial`` is the state before the first evaluation; CloudWatch creates alarms in
    INSUFFICIENT_DATA ("Unchecked: Initial alarm creation").
    """
    previous: AlarmState | AlarmStateValue | None = initial
    states = []
    for at in times:
        state = evaluate_alarm(alarm, datapoints, at, previous)
        states.append(state)
        previous = state
    return states


def transitions(states: Iterable[AlarmState]) -> list[AlarmState]:
    """Only the evaluations that changed the state: where actions would fire."""
    return [s for s in states if s.changed]
