"""Metric filters and alarms evaluated as CloudWatch evaluates them, as pure functions.

Definitions are the API's own request shapes (``PutMetricFilter``, ``PutMetricAlarm``,
``PutCompositeAlarm``), so the same objects can later be deployed unchanged.
"""

from alarms.evaluate.composite import CompositeAlarmDefinition, compile_rule, evaluate_composite_alarm
from alarms.evaluate.evaluator import AlarmState, Datapoint, UnsupportedAlarmError, evaluate_alarm
from alarms.evaluate.metric_filter import LogEvent, MetricDatum, MetricFilterDefinition, apply_metric_filter
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue
from alarms.evaluate.timeline import evaluation_times, replay, transitions

__all__ = [
    "AlarmDefinition",
    "AlarmState",
    "AlarmStateValue",
    "CompositeAlarmDefinition",
    "Datapoint",
    "LogEvent",
    "MetricDatum",
    "MetricFilterDefinition",
    "UnsupportedAlarmError",
    "apply_metric_filter",
    "compile_rule",
    "evaluate_alarm",
    "evaluate_composite_alarm",
    "evaluation_times",
    "replay",
    "transitions",
]
