"""``evaluate_alarm`` end to end: datapoints in, CloudWatch's state and reason out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from alarms.evaluate.evaluator import AlarmState, Datapoint, UnsupportedAlarmError, evaluate_alarm
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue
from alarms.evaluate.reasons import java_double
from alarms.evaluate.statistics import percentile

NOW = datetime(2026, 11, 24, 6, 0, 30, tzinfo=UTC)  # the last complete 60 s period is 05:59


def alarm(**overrides: Any) -> AlarmDefinition:
    params: dict[str, Any] = {
        "AlarmName": "customer-saga-errors",
        "MetricName": "Errors",
        "Namespace": "sagawatch",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    return AlarmDefinition.model_validate(params | overrides)


def minutes_ago(*values: float | None) -> list[Datapoint]:
    """Datapoints for the last complete minutes, oldest first; ``None`` leaves a minute empty."""
    points = []
    for age, value in zip(range(len(values), 0, -1), values, strict=True):
        if value is not None:
            points.append(Datapoint(timestamp=NOW - timedelta(seconds=30 + 60 * age), value=value))
    return points


def test_three_of_three_breaching_alarms_with_cloudwatch_reason() -> None:
    state = evaluate_alarm(alarm(), minutes_ago(2, 5, 1), NOW)
    assert state.StateValue is AlarmStateValue.ALARM
    assert state.StateReason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [1.0 (24/11/26 05:59:00), "
        "5.0 (24/11/26 05:58:00), 2.0 (24/11/26 05:57:00)] were greater than or equal to the threshold (1.0) "
        "(minimum 3 datapoints for OK -> ALARM transition)."
    )


def test_m_of_n_need_not_be_consecutive() -> None:
    """Alarm evaluation: "The breaching data points do not have to be consecutive"."""
    two_of_three = alarm(DatapointsToAlarm=2)
    assert evaluate_alarm(two_of_three, minutes_ago(3, 0, 3), NOW).StateValue is AlarmStateValue.ALARM
    assert evaluate_alarm(two_of_three, minutes_ago(3, 0, 0), NOW).StateValue is AlarmStateValue.OK


def test_ok_reason_lists_the_non_breaching_datapoints() -> None:
    state = evaluate_alarm(alarm(DatapointsToAlarm=2), minutes_ago(3, 0, 0), NOW)
    assert state.StateReason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (24/11/26 05:59:00), "
        "0.0 (24/11/26 05:58:00)] were not greater than or equal to the threshold (1.0) "
        "(minimum 2 datapoints for ALARM -> OK transition)."
    )


def test_single_period_alarm_reason() -> None:
    state = evaluate_alarm(alarm(EvaluationPeriods=1), minutes_ago(4), NOW)
    assert state.StateReason == (
        "Threshold Crossed: 1 datapoint [4.0 (24/11/26 05:59:00)] was greater than or equal to the "
        "threshold (1.0)."
    )


def test_values_in_one_period_are_aggregated_by_the_statistic() -> None:
    minute = NOW - timedelta(seconds=45)
    points = [
        Datapoint(timestamp=minute + timedelta(seconds=s), value=v) for s, v in ((0, 1), (5, 2), (9, 9))
    ]
    results = {}
    for stat in ("Sum", "Average", "Minimum", "Maximum", "SampleCount"):
        state = evaluate_alarm(alarm(Statistic=stat, EvaluationPeriods=1, Threshold=3), points, NOW)
        results[stat] = state.StateValue.value
    assert results == {
        "Sum": "ALARM",
        "Average": "ALARM",
        "Minimum": "OK",
        "Maximum": "ALARM",
        "SampleCount": "ALARM",
    }
    p50 = alarm(Statistic=None, ExtendedStatistic="p50", EvaluationPeriods=1, Threshold=3)
    assert evaluate_alarm(p50, points, NOW).StateValue is AlarmStateValue.OK
    assert evaluate_alarm(p50, points, NOW).StateReasonData["extendedStatistic"] == "p50"


def test_incomplete_current_period_and_old_data_are_not_evaluated() -> None:
    in_progress = [Datapoint(timestamp=NOW - timedelta(seconds=10), value=100)]
    assert evaluate_alarm(alarm(), in_progress, NOW).StateValue is AlarmStateValue.INSUFFICIENT_DATA
    too_old = [Datapoint(timestamp=NOW - timedelta(minutes=30), value=100)]
    assert evaluate_alarm(alarm(), too_old, NOW).StateValue is AlarmStateValue.INSUFFICIENT_DATA


def test_periods_are_aligned_to_the_epoch() -> None:
    five_minutes = alarm(Period=300, EvaluationPeriods=1)
    at = datetime(2026, 11, 24, 6, 7, tzinfo=UTC)  # last complete period: 06:00-06:05
    inside = [Datapoint(timestamp=datetime(2026, 11, 24, 6, 4, 59, tzinfo=UTC), value=5)]
    outside = [Datapoint(timestamp=datetime(2026, 11, 24, 6, 5, 0, tzinfo=UTC), value=5)]
    assert evaluate_alarm(five_minutes, inside, at).StateValue is AlarmStateValue.ALARM
    assert evaluate_alarm(five_minutes, outside, at).StateValue is AlarmStateValue.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("operator", "alarm_on"),
    [
        ("GreaterThanOrEqualToThreshold", [1, 2]),
        ("GreaterThanThreshold", [2]),
        ("LessThanThreshold", [0]),
        ("LessThanOrEqualToThreshold", [0, 1]),
    ],
)
def test_comparison_operators(operator: str, alarm_on: list[int]) -> None:
    definition = alarm(ComparisonOperator=operator, EvaluationPeriods=1)
    got = [
        v for v in (0, 1, 2) if evaluate_alarm(definition, minutes_ago(v), NOW).StateValue.value == "ALARM"
    ]
    assert got == alarm_on


def test_missing_data_treatments_end_to_end() -> None:
    """Table 1 row 5 of "Configuring how CloudWatch alarms treat missing data" ("- - X - -"),
    built from datapoints rather than period labels."""
    points = minutes_ago(None, None, 5, None, None)
    got = {
        treat: evaluate_alarm(alarm(TreatMissingData=treat), points, NOW, AlarmStateValue.OK).StateValue.value
        for treat in ("missing", "ignore", "breaching", "notBreaching")
    }
    assert got == {"missing": "ALARM", "ignore": "OK", "breaching": "ALARM", "notBreaching": "OK"}


def test_all_missing_reasons() -> None:
    assert evaluate_alarm(alarm(), [], NOW).StateReason == "Insufficient Data: 3 datapoints were unknown."
    assert evaluate_alarm(alarm(TreatMissingData="breaching"), [], NOW).StateReason == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated "
        "as [Breaching]."
    )


def test_ignore_keeps_the_previous_state_and_reports_no_change() -> None:
    previous = evaluate_alarm(alarm(), minutes_ago(5, 5, 5), NOW)
    later = evaluate_alarm(alarm(TreatMissingData="ignore"), [], NOW + timedelta(minutes=10), previous)
    assert later.StateValue is AlarmStateValue.ALARM and later.changed is False
    assert later.PreviousStateValue is AlarmStateValue.ALARM


def test_changed_marks_a_transition() -> None:
    first = evaluate_alarm(alarm(), minutes_ago(0, 0, 0), NOW)
    assert first.StateValue is AlarmStateValue.OK and first.changed is False  # no previous state known
    second = evaluate_alarm(alarm(), minutes_ago(5, 5, 5), NOW, first)
    assert second.changed is True and second.PreviousStateValue is AlarmStateValue.OK
    assert isinstance(second, AlarmState)


def test_unsupported_definitions_say_why() -> None:
    band = alarm(ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold", ThresholdMetricId="ad1")
    with pytest.raises(UnsupportedAlarmError, match="anomaly detection band"):
        evaluate_alarm(band, [], NOW)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"DatapointsToAlarm": 4}, "DatapointsToAlarm"),
        ({"ExtendedStatistic": "p99"}, "exactly one of Statistic and ExtendedStatistic"),
        ({"Period": 45}, "Period"),
        ({"Threshhold": 1}, "Threshhold"),
        ({"TreatMissingData": "zero"}, "TreatMissingData"),
        ({"ComparisonOperator": "Above"}, "ComparisonOperator"),
        ({"EvaluationPeriods": 0}, "EvaluationPeriods"),
    ],
)
def test_bad_definitions_name_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        alarm(**overrides)
    assert field in str(err.value)


def test_definition_round_trips_to_put_metric_alarm() -> None:
    params = alarm(DatapointsToAlarm=2, TreatMissingData="notBreaching").to_put_metric_alarm()
    assert params["TreatMissingData"] == "notBreaching" and params["DatapointsToAlarm"] == 2
    assert AlarmDefinition.model_validate(params) == alarm(
        DatapointsToAlarm=2, TreatMissingData="notBreaching"
    )


def test_java_double_formatting() -> None:
    assert [java_double(v) for v in (20000.0, 1, 0.5, 1e7, 1.5e-4, 0, -2, -3.25e9)] == [
        "20000.0", "1.0", "0.5", "1.0E7", "1.5E-4", "0.0", "-2.0", "-3.25E9",
    ]  # fmt: skip


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 99), percentile(values, 50), percentile(values, 100)) == (99.0, 50.0, 100.0)
    assert percentile([5.0], 99.9) == 5.0


def test_low_sample_percentile_can_wait_for_enough_data() -> None:
    """Percentile alarms: with EvaluateLowSampleCountPercentile=ignore, fewer than 10/(1-0.9) = 100
    samples for p90 leave the alarm as it was; with 'evaluate' it is evaluated anyway."""
    p90 = {"Statistic": None, "ExtendedStatistic": "p90", "EvaluationPeriods": 1, "Threshold": 5}
    few = minutes_ago(9)
    waiting = evaluate_alarm(
        alarm(**p90, EvaluateLowSampleCountPercentile="ignore"), few, NOW, AlarmStateValue.OK
    )
    assert waiting.StateValue is AlarmStateValue.OK and not waiting.changed
    assert "1 samples in the last 1 periods are too few for p90 (at least 100 needed" in waiting.StateReason
    evaluated = evaluate_alarm(alarm(**p90, EvaluateLowSampleCountPercentile="evaluate"), few, NOW)
    assert evaluated.StateValue is AlarmStateValue.ALARM
    minute = NOW - timedelta(seconds=60)
    many = [Datapoint(timestamp=minute + timedelta(milliseconds=10 * i), value=9) for i in range(100)]
    enough = evaluate_alarm(
        alarm(**p90, EvaluateLowSampleCountPercentile="ignore"), many, NOW, AlarmStateValue.OK
    )
    assert enough.StateValue is AlarmStateValue.ALARM and enough.changed
