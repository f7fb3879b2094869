"""Put an alarm set into CloudWatch (moto locally, AWS for real).

``put_metric_filter`` and ``put_metric_alarm`` create or replace by name, so deploying the same
set twice changes nothing. moto (5.2) appends a second filter of the same name instead of
replacing it, so a filter is put only when none of its name exists or the existing one differs
(then it is deleted first): idempotent on both. Likewise an alarm is put only when it is new or
changed: moto resets an updated alarm's state, where CloudWatch keeps it. A metric filter
needs its log group, which Lambda creates on a function's first run: such filters are skipped
and named, and the next deploy puts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from alarms.described import alarm_from_description
from alarms.standard import AlarmSet


@dataclass(frozen=True)
class DeployResult:
    metric_filters: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # filter name -> why


def deploy(alarm_set: AlarmSet, logs: Any, cloudwatch: Any) -> DeployResult:
    """Put every metric filter and every alarm; returns the names put and the filters skipped."""
    result = DeployResult()
    for metric_filter in alarm_set.metric_filters:
        try:
            _put_filter(logs, metric_filter.to_put_metric_filter())
        except logs.exceptions.ResourceNotFoundException:
            result.skipped[metric_filter.filterName] = (
                f"log group {metric_filter.logGroupName} does not exist yet"
            )
            continue
        result.metric_filters.append(metric_filter.filterName)
    deployed = _deployed_alarms(cloudwatch, [a.AlarmName for a in alarm_set.alarms])
    for alarm in alarm_set.alarms:
        params = alarm.to_put_metric_alarm()
        if deployed.get(alarm.AlarmName) != params:
            cloudwatch.put_metric_alarm(**params)
        result.alarms.append(alarm.AlarmName)
    return result


def _deployed_alarms(cloudwatch: Any, names: list[str]) -> dict[str, dict[str, Any] | None]:
    """The ``PutMetricAlarm`` parameters of the alarms that exist (None: one we cannot read back)."""
    found: dict[str, dict[str, Any] | None] = {}
    for i in range(0, len(names), 100):  # DescribeAlarms takes up to 100 names
        for described in cloudwatch.describe_alarms(AlarmNames=names[i : i + 100]).get("MetricAlarms", []):
            try:
                found[described["AlarmName"]] = alarm_from_description(described).to_put_metric_alarm()
            except ValidationError:
                found[described["AlarmName"]] = None
    return found


def _put_filter(logs: Any, params: dict[str, Any]) -> None:
    group, name = params["logGroupName"], params["filterName"]
    found = logs.describe_metric_filters(logGroupName=group, filterNamePrefix=name).get("metricFilters", [])
    same_name = [f for f in found if f.get("filterName") == name]
    if len(same_name) == 1 and {k: same_name[0].get(k) for k in params} == params:
        return
    if same_name:
        logs.delete_metric_filter(logGroupName=group, filterName=name)
    logs.put_metric_filter(**params)


def ensure_topic(sns: Any, name: str) -> str:
    """The ARN of the actions' topic, created if missing (``create_topic`` is idempotent)."""
    return str(sns.create_topic(Name=name)["TopicArn"])
