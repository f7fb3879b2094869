"""Metric filters: log events -> per-minute metric data (values, default value, dimensions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from alarms.evaluate.evaluator import evaluate_alarm
from alarms.evaluate.metric_filter import LogEvent, MetricFilterDefinition, apply_metric_filter
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue

T0 = int(datetime(2026, 11, 24, 6, 0, tzinfo=UTC).timestamp() * 1000)


def event(second: float, **fields: Any) -> LogEvent:
    return LogEvent(timestamp=T0 + int(second * 1000), message=json.dumps(fields))


def definition(pattern: str, **transformation: Any) -> MetricFilterDefinition:
    tf = {"metricName": "Errors", "metricNamespace": "sagawatch", "metricValue": "1"} | transformation
    return MetricFilterDefinition(
        logGroupName="/aws/lambda/customer-saga",
        filterName="errors",
        filterPattern=pattern,
        metricTransformations=[tf],
    )


def test_counts_matches_per_minute() -> None:
    events = [
        event(1, level="ERROR"),
        event(2, level="INFO"),
        event(59, level="ERROR"),
        event(61, level="ERROR"),
    ]
    data = apply_metric_filter(definition('{ $.level = "ERROR" }'), events)
    assert [(d.timestamp.minute, d.sum, d.sample_count) for d in data] == [(0, 2.0, 2), (1, 1.0, 1)]


def test_default_value_is_reported_for_events_that_do_not_match() -> None:
    """ "If your metric filter doesn't find matches in either records during the second minute,
    the default value for that minute is 0" (Configuring metric values for a metric filter)."""
    events = [
        event(1, level="ERROR"),
        event(2, level="ERROR"),
        event(61, level="INFO"),
        event(62, level="INFO"),
    ]
    data = apply_metric_filter(definition('{ $.level = "ERROR" }', defaultValue=0), events)
    assert [(d.timestamp.minute, d.sum) for d in data] == [(0, 2.0), (1, 0.0)]
    # No events at all in a minute: nothing is reported for it.
    assert all(d.timestamp.minute in (0, 1) for d in data)


def test_metric_value_from_a_json_field() -> None:
    """ "{ $.latency = * } metricValue: $.latency ... publishes a numeric value of 50"."""
    events = [event(1, latency=50, requestType="GET"), event(2, latency="fast"), event(3, other=1)]
    (datum,) = apply_metric_filter(definition("{ $.latency = * }", metricValue="$.latency"), events)
    assert datum.values == (50.0,)


def test_metric_value_and_dimensions_from_space_delimited_fields() -> None:
    lines = [
        '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
        '127.0.0.1 Test frank [10/Oct/2000:13:25:16 -0700] "GET /index.html HTTP/1.0" 404 2000',
        '127.0.0.1 Prod frank [10/Oct/2000:13:25:17 -0700] "GET /index.html HTTP/1.0" 404 3000',
    ]
    events = [LogEvent(timestamp=T0 + i, message=line) for i, line in enumerate(lines)]
    spec = definition(
        "[ip, server, username, timestamp, request, status_code, bytes > 1000]",
        metricName="Bytes",
        metricValue="$bytes",
        dimensions={"server": "$server"},
    )
    data = apply_metric_filter(spec, events)
    assert {(d.dimensions, d.sum) for d in data} == {
        ((("server", "Prod"),), 4534.0),
        ((("server", "Test"),), 2000.0),
    }


def test_json_dimension() -> None:
    events = [event(1, level="ERROR", fn="a"), event(2, level="ERROR", fn="b"), event(3, level="ERROR")]
    spec = definition('{ $.level = "ERROR" }', dimensions={"Function": "$.fn"})
    assert sorted(d.dimensions for d in apply_metric_filter(spec, events)) == [
        (("Function", "a"),),
        (("Function", "b"),),
    ]


@pytest.mark.parametrize(
    ("transformation", "complaint"),
    [
        (
            {"defaultValue": 0, "dimensions": {"fn": "$.fn"}},
            "defaultValue cannot be used together with dimensions",
        ),
        ({"dimensions": {"a": "$.a", "b": "$.b", "c": "$.c", "d": "$.d"}}, "at most 3 dimensions"),
        ({"metricValue": "latency"}, "metricValue"),
        ({"metricValue": "$.a..b"}, "not a valid JSON selector"),
        ({"unit": "Errors"}, "unit"),
    ],
)
def test_bad_transformations_are_explained(transformation: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        definition("ERROR", **transformation)


def test_bad_pattern_is_reported_on_filter_pattern() -> None:
    with pytest.raises(ValidationError) as err:
        definition("{ $.level = }")
    assert "filterPattern" in str(err.value) and "expected a value" in str(err.value)


def test_metric_filter_feeds_an_alarm() -> None:
    """The ERROR metric filter and its alarm, as the standard set will define them."""
    events = [event(60 * m + s, level="ERROR" if s % 3 == 0 else "INFO") for m in range(3) for s in range(6)]
    data = apply_metric_filter(definition('{ $.level = "ERROR" }', defaultValue=0), events)
    alarm = AlarmDefinition(
        AlarmName="customer-saga-errors",
        MetricName="Errors",
        Namespace="sagawatch",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=2,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    now = datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(minutes=3, seconds=5)
    state = evaluate_alarm(alarm, [p for d in data for p in d.datapoints()], now)
    assert state.StateValue is AlarmStateValue.ALARM
    assert state.StateReason.startswith(
        "Threshold Crossed: 3 out of the last 3 datapoints [2.0 (24/11/26 06:02:00)"
    )


def test_definition_round_trips_to_put_metric_filter() -> None:
    spec = definition('{ $.level = "ERROR" }', defaultValue=0)
    params = spec.to_put_metric_filter()
    assert params["metricTransformations"] == [
        {"metricName": "Errors", "metricNamespace": "sagawatch", "metricValue": "1", "defaultValue": 0.0}
    ]
    assert MetricFilterDefinition.model_validate(params) == spec
