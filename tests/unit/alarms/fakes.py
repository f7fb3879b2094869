"""In-memory stand-ins for the engine's edges (CloudWatch and the logs), for pure unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alarms.actions.base import Transition
from alarms.engine.ports import DeployedAlarm, DeployedComposite
from alarms.evaluate.composite import CompositeAlarmDefinition
from alarms.evaluate.evaluator import AlarmState, Datapoint
from alarms.evaluate.metric_filter import LogEvent, MetricDatum, MetricFilterDefinition
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue


class FakeCloudWatch:
    """Holds filters, alarms with their states, and every datum put; returns raw values back."""

    def __init__(self) -> None:
        self.filters: list[MetricFilterDefinition] = []
        self.alarms: dict[str, AlarmDefinition] = {}
        self.composites: dict[str, CompositeAlarmDefinition] = {}
        self.states: dict[str, AlarmStateValue] = {}
        self.datums: list[MetricDatum] = []
        self.set_calls: list[AlarmState] = []

    def add_alarm(self, alarm: AlarmDefinition) -> None:
        self.alarms[alarm.AlarmName] = alarm
        self.states[alarm.AlarmName] = AlarmStateValue.INSUFFICIENT_DATA

    def add_composite(self, alarm: CompositeAlarmDefinition) -> None:
        self.composites[alarm.AlarmName] = alarm
        self.states[alarm.AlarmName] = AlarmStateValue.INSUFFICIENT_DATA

    def metric_filters(self) -> list[MetricFilterDefinition]:
        return list(self.filters)

    def metric_alarms(self) -> list[DeployedAlarm]:
        return [DeployedAlarm(a, self.states[n]) for n, a in self.alarms.items()]

    def composite_alarms(self) -> list[DeployedComposite]:
        return [DeployedComposite(a, self.states[n]) for n, a in self.composites.items()]

    def put_datums(self, datums: Sequence[MetricDatum], resolution_s: int) -> None:
        self.datums.extend(datums)

    def datapoints(self, alarm: AlarmDefinition, start: datetime, end: datetime) -> list[Datapoint]:
        return [
            point
            for d in self.datums
            if (d.namespace, d.name) == (alarm.Namespace, alarm.MetricName) and start <= d.timestamp < end
            for point in d.datapoints()
        ]

    def set_state(self, state: AlarmState) -> None:
        self.set_calls.append(state)
        self.states[state.AlarmName] = state.StateValue


class FakeLogs:
    """Events appended per group; each call returns what was appended since the previous call."""

    def __init__(self) -> None:
        self.pending: dict[str, list[LogEvent]] = {}

    def append(self, group: str, timestamp_ms: int, message: str) -> None:
        self.pending.setdefault(group, []).append(LogEvent(timestamp=timestamp_ms, message=message))

    def new_events(self, log_group: str) -> list[LogEvent]:
        return self.pending.pop(log_group, [])


class RecordingAction:
    def __init__(self, name: str = "recording", fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.fired: list[Transition] = []

    def fire(self, transition: Transition) -> None:
        self.fired.append(transition)
        if self.fail:
            raise RuntimeError("topic unreachable")
