"""``AlarmEngine``: the half of CloudWatch that moto leaves out, one pass at a time.

A pass (``run_once(now)``) does what CloudWatch does continuously:

1. runs the hooks (locally: deploy the standard set for the live inventory, publish the AWS/SQS
   metrics of the DLQs as SQS would);
2. applies every metric filter CloudWatch Logs holds to the events ingested since the last pass
   and puts the resulting data into CloudWatch, so ``get_metric_statistics`` shows it as on AWS;
3. evaluates every metric alarm on its metric read back from CloudWatch, then every composite
   alarm on its children's states, and on a change of state only: sets the state in CloudWatch
   (so ``describe_alarms`` agrees) and fires the actions (SNS, audit store).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from alarms.actions.base import AlarmAction, Transition
from alarms.engine.ingest import datums_at_resolution
from alarms.engine.ports import DeployedAlarm, LogSource, MetricsBackend
from alarms.evaluate.composite import evaluate_composite_alarm
from alarms.evaluate.evaluator import UnsupportedAlarmError, evaluate_alarm, period_starts
from alarms.evaluate.metric_filter import MetricFilterDefinition
from alarms.evaluate.missing_data import default_evaluation_range
from alarms.evaluate.model import AlarmStateValue
from alarms.settings import AlarmSettings
from sagawatch.stack_info import StackInfo

log = logging.getLogger(__name__)


class Hook(Protocol):
    """Something done at the start of each pass (given the pass's time), named in problem reports."""

    name: str

    def __call__(self, now: datetime) -> None: ...


@dataclass
class EngineParts:
    """The engine's edges; ``alarms.engine.local.local_parts`` builds the real ones from a stack."""

    backend: MetricsBackend
    logs: LogSource
    actions: Sequence[AlarmAction] = ()
    hooks: Sequence[Hook] = ()


@dataclass
class PassReport:
    """What one pass did, for logs and tests."""

    log_events: int = 0
    datums: int = 0
    evaluated: int = 0
    transitions: list[Transition] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class AlarmEngine:
    def __init__(
        self,
        settings: AlarmSettings,
        stack_info: StackInfo | None = None,
        *,
        parts: EngineParts | None = None,
    ) -> None:
        """``parts`` default to the running stack's: boto3 on its moto endpoint, its audit store."""
        if parts is None:
            if stack_info is None:
                raise ValueError(
                    "stack_info: the running stack's StackInfo is needed when no parts are given"
                )
            from alarms.engine.local import local_parts  # boto3 clients, psycopg: only when really used

            parts = local_parts(settings, stack_info)
        self.settings = settings
        self.parts = parts
        self._skipped: set[str] = set()

    def run_once(self, now: datetime | None = None) -> PassReport:
        now = now or datetime.now(UTC)
        report = PassReport()
        for hook in self.parts.hooks:
            self._guard(report, f"hook {hook.name}", hook, now)
        self._guard(report, "metric filters", self._ingest, report)
        self._guard(report, "metric alarms", self._evaluate_metric_alarms, now, report)
        self._guard(report, "composite alarms", self._evaluate_composites, now, report)
        return report

    def _guard(self, report: PassReport, what: str, step: Callable[..., None], *args: object) -> None:
        """One failing step (CloudWatch unreachable for a moment) is reported; the pass goes on."""
        try:
            step(*args)
        except Exception as exc:
            report.problems.append(f"{what}: {type(exc).__name__}: {exc}")
            log.warning("alarms: %s failed: %s: %s", what, type(exc).__name__, exc)

    def _ingest(self, report: PassReport) -> None:
        by_group: dict[str, list[MetricFilterDefinition]] = {}
        for metric_filter in self.parts.backend.metric_filters():
            by_group.setdefault(metric_filter.logGroupName, []).append(metric_filter)
        resolution = self.settings.log_metric_resolution_s
        for group, filters in sorted(by_group.items()):
            events = self.parts.logs.new_events(group)
            if not events:
                continue
            report.log_events += len(events)
            datums = [d for f in filters for d in datums_at_resolution(f, events, resolution)]
            self.parts.backend.put_datums(datums, resolution)
            report.datums += len(datums)

    def _evaluate_metric_alarms(self, now: datetime, report: PassReport) -> None:
        for deployed in self.parts.backend.metric_alarms():
            self._guard(
                report, f"alarm {deployed.definition.AlarmName}", self._evaluate_one, deployed, now, report
            )

    def _evaluate_one(self, deployed: DeployedAlarm, now: datetime, report: PassReport) -> None:
        alarm = deployed.definition
        starts = period_starts(now, alarm.Period, default_evaluation_range(alarm.EvaluationPeriods))
        try:
            points = self.parts.backend.datapoints(
                alarm, starts[0], starts[-1] + timedelta(seconds=alarm.Period)
            )
            state = evaluate_alarm(alarm, points, now, deployed.state)
        except UnsupportedAlarmError as exc:
            if alarm.AlarmName not in self._skipped:
                self._skipped.add(alarm.AlarmName)
                log.warning("alarms: %s is not evaluated locally: %s", alarm.AlarmName, exc)
            return
        report.evaluated += 1
        if state.StateValue is not deployed.state:
            self._changed(Transition(alarm, state), report)

    def _evaluate_composites(self, now: datetime, report: PassReport) -> None:
        backend = self.parts.backend
        composites = backend.composite_alarms()
        if not composites:
            return
        states: dict[str, AlarmStateValue] = {
            a.definition.AlarmName: a.state for a in backend.metric_alarms()
        }
        states |= {c.definition.AlarmName: c.state for c in composites}
        for deployed in composites:
            try:
                state = evaluate_composite_alarm(deployed.definition, states, now, deployed.state)
            except KeyError as exc:
                report.problems.append(f"composite {deployed.definition.AlarmName}: {exc.args[0]}")
                continue
            report.evaluated += 1
            if state.StateValue is not deployed.state:
                self._changed(Transition(deployed.definition, state), report)
                states[deployed.definition.AlarmName] = state.StateValue

    def _changed(self, transition: Transition, report: PassReport) -> None:
        """Set the new state where CloudWatch keeps it, then tell every action, once."""
        self.parts.backend.set_state(transition.state)
        report.transitions.append(transition)
        name = transition.alarm.AlarmName
        log.info(
            "alarms: %s %s -> %s: %s",
            name,
            transition.state.PreviousStateValue,
            transition.state.StateValue,
            transition.state.StateReason,
        )
        for action in self.parts.actions:
            self._guard(report, f"action {action.name} of {name}", action.fire, transition)
