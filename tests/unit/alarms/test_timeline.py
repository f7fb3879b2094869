"""Replaying an alarm over time: it goes to ALARM when errors start and back to OK when they stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alarms.evaluate.evaluator import Datapoint
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue
from alarms.evaluate.timeline import MAX_EVALUATIONS, evaluation_times, replay, transitions

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
ALARM = AlarmDefinition(
    AlarmName="customer-saga-errors",
    MetricName="Errors",
    Namespace="sagawatch",
    Statistic="Sum",
    Period=60,
    EvaluationPeriods=2,
    Threshold=1,
    ComparisonOperator="GreaterThanOrEqualToThreshold",
    TreatMissingData="notBreaching",
)


def errors_per_minute(counts: list[int], zeros: bool) -> list[Datapoint]:
    """One datapoint per error; with ``zeros``, a 0 for quiet minutes (a metric filter's defaultValue)."""
    points = []
    for minute, count in enumerate(counts):
        at = START + timedelta(minutes=minute)
        points += [Datapoint(timestamp=at + timedelta(seconds=s), value=1.0) for s in range(count)]
        if zeros and count == 0:
            points.append(Datapoint(timestamp=at, value=0.0))
    return points


def changes(counts: list[int], zeros: bool) -> list[tuple[str, str]]:
    times = evaluation_times(START + timedelta(seconds=5), START + timedelta(minutes=10), 60)
    states = replay(ALARM, errors_per_minute(counts, zeros), times)
    return [(s.StateUpdatedTimestamp.strftime("%H:%M"), s.StateValue.value) for s in transitions(states)]


def test_errors_raise_the_alarm_and_zeros_clear_it() -> None:
    # 06:00 has nothing before it yet (notBreaching -> OK); 06:04 sees 06:02 and 06:03 breaching;
    # 06:06 sees 06:05's zero: no longer 2 of 2 breaching.
    assert changes([0, 0, 3, 4, 2, 0, 0, 0, 0], zeros=True) == [
        ("06:00", "OK"),
        ("06:04", "ALARM"),
        ("06:06", "OK"),
    ]


def test_without_datapoints_the_last_ones_are_re_evaluated_for_a_while() -> None:
    """ "CloudWatch alarms might repeatedly re-evaluate the last set of data points for a period of time
    after the metric has stopped flowing" (Configuring how CloudWatch alarms treat missing data): with
    no datapoints at all after 06:04, the alarm stays in ALARM until 06:03 leaves the evaluation range."""
    assert changes([0, 0, 3, 4, 2], zeros=False) == [("06:00", "OK"), ("06:04", "ALARM"), ("06:08", "OK")]


def test_the_alarm_transition_carries_its_reason() -> None:
    times = evaluation_times(START + timedelta(seconds=5), START + timedelta(minutes=5), 60)
    raised = transitions(replay(ALARM, errors_per_minute([0, 0, 3, 4], zeros=True), times))[-1]
    assert raised.StateValue is AlarmStateValue.ALARM and raised.PreviousStateValue is AlarmStateValue.OK
    assert raised.StateReason == (
        "Threshold Crossed: 2 out of the last 2 datapoints [4.0 (24/11/26 06:03:00), "
        "3.0 (24/11/26 06:02:00)] were greater than or equal to the threshold (1.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )


def test_replays_are_bounded() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_EVALUATIONS}"):
        evaluation_times(START, START + timedelta(days=2), 10)
    assert evaluation_times(START, START - timedelta(minutes=1), 60) == []
