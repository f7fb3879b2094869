"""``MetricsBackend`` over boto3: CloudWatch and CloudWatch Logs, on moto or on AWS.

What CloudWatch describes is turned back into the engine's request models, keeping only the
``PutMetricAlarm`` fields (``describe_alarms`` adds ARNs, state and timestamps; moto adds an empty
``Metrics`` list to plain alarms).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from alarms.described import (
    alarm_from_description,
    composite_from_description,
    current_state,
    filter_from_description,
)
from alarms.engine.ingest import put_metric_data_requests
from alarms.engine.ports import DeployedAlarm, DeployedComposite
from alarms.evaluate.evaluator import AlarmState, Datapoint, UnsupportedAlarmError
from alarms.evaluate.metric_filter import MetricDatum, MetricFilterDefinition
from alarms.evaluate.model import AlarmDefinition

log = logging.getLogger(__name__)

MAX_PAGES = 100


class CloudWatchBackend:
    def __init__(self, cloudwatch: Any, logs: Any) -> None:
        self._cloudwatch = cloudwatch
        self._logs = logs
        self._reported: set[str] = set()

    def _once(self, key: str, message: str, *args: object) -> None:
        """Log a definition problem once, not every pass."""
        if key not in self._reported:
            self._reported.add(key)
            log.warning(message, *args)

    def metric_filters(self) -> list[MetricFilterDefinition]:
        found = []
        params: dict[str, Any] = {}
        for _ in range(MAX_PAGES):
            page = self._logs.describe_metric_filters(**params)
            for described in page.get("metricFilters", []):
                try:
                    found.append(filter_from_description(described))
                except ValidationError as exc:
                    self._once(
                        f"filter:{described.get('filterName')}",
                        "alarms: metric filter %s skipped: %s",
                        described.get("filterName"),
                        exc,
                    )
            if not page.get("nextToken"):
                break
            params["nextToken"] = page["nextToken"]
        return found

    def _described(self, kind: str) -> list[dict[str, Any]]:
        key = "MetricAlarms" if kind == "MetricAlarm" else "CompositeAlarms"
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"AlarmTypes": [kind]}
        for _ in range(MAX_PAGES):
            page = self._cloudwatch.describe_alarms(**params)
            found.extend(page.get(key, []))
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
        return found

    def metric_alarms(self) -> list[DeployedAlarm]:
        alarms = []
        for described in self._described("MetricAlarm"):
            try:
                alarms.append(DeployedAlarm(alarm_from_description(described), current_state(described)))
            except ValidationError as exc:
                self._once(
                    f"alarm:{described.get('AlarmName')}",
                    "alarms: alarm %s skipped: %s",
                    described.get("AlarmName"),
                    exc,
                )
        return alarms

    def composite_alarms(self) -> list[DeployedComposite]:
        alarms = []
        for described in self._described("CompositeAlarm"):
            try:
                definition = composite_from_description(described)
            except ValidationError as exc:
                self._once(
                    f"composite:{described.get('AlarmName')}",
                    "alarms: composite %s skipped: %s",
                    described.get("AlarmName"),
                    exc,
                )
                continue
            alarms.append(DeployedComposite(definition, current_state(described)))
        return alarms

    def put_datums(self, datums: Sequence[MetricDatum], resolution_s: int) -> None:
        for request in put_metric_data_requests(datums, resolution_s):
            self._cloudwatch.put_metric_data(**request)

    def datapoints(self, alarm: AlarmDefinition, start: datetime, end: datetime) -> list[Datapoint]:
        if alarm.Statistic is not None and alarm.Statistic.value == "SampleCount":
            # CloudWatch returns one value per period; evaluate_alarm would count that one value.
            raise UnsupportedAlarmError("Statistic SampleCount is not evaluated locally; use Sum of a count")
        stat: dict[str, Any] = {
            "Metric": {
                "Namespace": alarm.Namespace,
                "MetricName": alarm.MetricName,
                "Dimensions": [{"Name": d.Name, "Value": d.Value} for d in alarm.Dimensions],
            },
            "Period": alarm.Period,
            "Stat": alarm.statistic_name,
        }
        if alarm.Unit is not None:
            stat["Unit"] = alarm.Unit
        result = self._cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": stat, "ReturnData": True}],
            StartTime=start,
            EndTime=end,
        )["MetricDataResults"][0]
        # Each period's statistic is one value; evaluate_alarm's own aggregation of one value is
        # that value for Sum, Average, Minimum, Maximum and percentiles.
        return [
            Datapoint(timestamp=t, value=v)
            for t, v in zip(result["Timestamps"], result["Values"], strict=True)
        ]

    def set_state(self, state: AlarmState) -> None:
        self._cloudwatch.set_alarm_state(
            AlarmName=state.AlarmName,
            StateValue=state.StateValue.value,
            StateReason=state.StateReason[:1023],
            StateReasonData=json.dumps(state.StateReasonData, separators=(",", ":")),
        )
