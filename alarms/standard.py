"""The standard alarm set, defined once: ``standard_set(inventory, settings, topic_arn)``.

The result is ``PutMetricFilter`` / ``PutMetricAlarm`` requests (the engine's own models), used
three ways: ``alarms.deploy`` puts them into CloudWatch, ``alarms.app_template`` writes them into
the app's template (for the template's own functions, DLQs, APIs and canaries), and the local
``AlarmEngine`` evaluates whatever CloudWatch holds, these included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from alarms.evaluate.metric_filter import MetricFilterDefinition
from alarms.evaluate.model import AlarmDefinition
from alarms.inventory import LAMBDA_LOG_PREFIX, Inventory
from alarms.names import (
    API_5XX,
    CANARY_ERROR_RATE_DELTA,
    DRIFT_FINDINGS,
    LOG_METRICS_NAMESPACE,
    SQS_OLDEST_AGE,
    SQS_VISIBLE,
    STUCK_SAGAS,
    MetricId,
    error_metric_name,
)
from alarms.settings import AlarmSettings

#: The contract's log line has ``level`` (DESIGN.md): one ERROR line is one error.
ERROR_PATTERN = '{ $.level = "ERROR" }'
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class AlarmSet:
    metric_filters: list[MetricFilterDefinition] = field(default_factory=list)
    alarms: list[AlarmDefinition] = field(default_factory=list)

    def as_requests(self) -> dict[str, list[dict[str, Any]]]:
        """Every request, as the keyword arguments boto3 takes (``deploy --dry-run`` prints this)."""
        return {
            "metricFilters": [f.to_put_metric_filter() for f in self.metric_filters],
            "alarms": [a.to_put_metric_alarm() for a in self.alarms],
        }


@dataclass(frozen=True)
class Watch:
    """One alarm of the set, before the settings' period and the topic are applied."""

    name_parts: tuple[str, ...]
    description: str
    metric: MetricId
    statistic: str
    threshold: float
    dimensions: dict[str, str] = field(default_factory=dict)
    comparison: str = "GreaterThanThreshold"


def watches(inventory: Inventory, s: AlarmSettings) -> Iterator[Watch]:
    """What the standard set watches for this inventory: one entry per alarm."""
    for fn in inventory.functions:
        metric = MetricId(LOG_METRICS_NAMESPACE, error_metric_name(fn))
        yield Watch(
            ("errors", fn), f"ERROR log lines of Lambda function {fn}", metric, "Sum", s.error_lines_threshold
        )
    for queue in inventory.dead_letter_queues:
        dims = {"QueueName": queue}
        yield Watch(
            ("dlq-depth", queue),
            f"Messages waiting in dead-letter queue {queue}",
            SQS_VISIBLE,
            "Maximum",
            s.dlq_depth_threshold,
            dims,
        )
        yield Watch(
            ("dlq-age", queue),
            f"Oldest message in dead-letter queue {queue} (seconds)",
            SQS_OLDEST_AGE,
            "Maximum",
            s.dlq_age_threshold_s,
            dims,
            "GreaterThanOrEqualToThreshold",
        )
    yield Watch(
        ("stuck-sagas",),
        "Sagas not terminal and not moving past their threshold",
        STUCK_SAGAS,
        "Maximum",
        s.stuck_sagas_threshold,
    )
    yield Watch(
        ("drift-findings",),
        "Drift between Aurora and a SaaS found by the reconciler",
        DRIFT_FINDINGS,
        "Maximum",
        s.drift_findings_threshold,
    )
    for fn in inventory.canary_functions:
        yield Watch(
            ("canary-error-delta", fn),
            f"Canary version of {fn} fails more often than the stable version",
            CANARY_ERROR_RATE_DELTA,
            "Maximum",
            s.canary_error_rate_delta_threshold,
            {"FunctionName": fn},
        )
    for api, stage in inventory.apis:
        # 5XXError is 0 or 1 per request, so its Average over a period is the 5xx rate.
        yield Watch(
            ("api-5xx", api, stage),
            f"Share of 5xx answers of API {api} stage {stage}",
            API_5XX,
            "Average",
            s.api_5xx_rate_threshold,
            {"ApiName": api, "Stage": stage},
        )


def _name(settings: AlarmSettings, parts: tuple[str, ...]) -> str:
    return "-".join([settings.name_prefix, *(_UNSAFE.sub("_", p) for p in parts)])[:255]


def alarm(watch: Watch, settings: AlarmSettings, topic_arn: str | None) -> AlarmDefinition:
    """The ``PutMetricAlarm`` request for one watch, with the settings' period and M of N."""
    actions = [topic_arn] if topic_arn else []
    return AlarmDefinition.model_validate(
        {
            "AlarmName": _name(settings, watch.name_parts),
            "AlarmDescription": watch.description,
            "AlarmActions": actions,
            "OKActions": actions,
            "Namespace": watch.metric.namespace,
            "MetricName": watch.metric.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in watch.dimensions.items()],
            "Statistic": watch.statistic,
            "Period": settings.period_s,
            "EvaluationPeriods": settings.evaluation_periods,
            "DatapointsToAlarm": settings.datapoints,
            "Threshold": watch.threshold,
            "ComparisonOperator": watch.comparison,
            # No data means nothing happened: no ERROR line, no request, no stuck saga published.
            "TreatMissingData": "notBreaching",
        }
    )


def error_filter(function_name: str) -> MetricFilterDefinition:
    """Counts the function's ERROR lines; other lines count 0, so a quiet function reads 0, not missing."""
    return MetricFilterDefinition.model_validate(
        {
            "logGroupName": f"{LAMBDA_LOG_PREFIX}{function_name}",
            "filterName": f"errors-{function_name}",
            "filterPattern": ERROR_PATTERN,
            "metricTransformations": [
                {
                    "metricName": error_metric_name(function_name),
                    "metricNamespace": LOG_METRICS_NAMESPACE,
                    "metricValue": "1",
                    "defaultValue": 0,
                    "unit": "Count",
                }
            ],
        }
    )


def standard_set(inventory: Inventory, settings: AlarmSettings, topic_arn: str | None) -> AlarmSet:
    """The standard filters and alarms for this inventory; ``topic_arn`` gets OK and ALARM actions."""
    return AlarmSet(
        metric_filters=[error_filter(fn) for fn in inventory.functions],
        alarms=[alarm(w, settings, topic_arn) for w in watches(inventory, settings)],
    )
