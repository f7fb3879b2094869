"""The engine's two edges, as small protocols: CloudWatch (alarms, filters, metrics) and the logs.

``CloudWatchBackend`` and ``LogTail`` implement them over boto3; unit tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from alarms.evaluate.composite import CompositeAlarmDefinition
from alarms.evaluate.evaluator import AlarmState, Datapoint
from alarms.evaluate.metric_filter import LogEvent, MetricDatum, MetricFilterDefinition
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue


@dataclass(frozen=True)
class DeployedAlarm:
    """An alarm as CloudWatch holds it: its definition and its current state."""

    definition: AlarmDefinition
    state: AlarmStateValue


@dataclass(frozen=True)
class DeployedComposite:
    definition: CompositeAlarmDefinition
    state: AlarmStateValue


class MetricsBackend(Protocol):
    def metric_filters(self) -> list[MetricFilterDefinition]: ...

    def metric_alarms(self) -> list[DeployedAlarm]: ...

    def composite_alarms(self) -> list[DeployedComposite]: ...

    def put_datums(self, datums: Sequence[MetricDatum], resolution_s: int) -> None: ...

    def datapoints(self, alarm: AlarmDefinition, start: datetime, end: datetime) -> list[Datapoint]:
        """One datapoint per period in [start, end): the period's statistic, at the period's start."""
        ...

    def set_state(self, state: AlarmState) -> None: ...


class LogSource(Protocol):
    def new_events(self, log_group: str) -> list[LogEvent]: ...
