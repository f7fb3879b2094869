"""The metric names the standard alarms watch: the shared ones from ``sagawatch.contracts.metrics``.

Publishers (the collectors for stuck sagas, the reconciler for drift findings, the canary
analysis for the error-rate difference) and these alarms import the same definitions; only the
per-function ERROR-line metric, which nothing but the alarms' own metric filters publishes, is
named here.
"""

from __future__ import annotations

from sagawatch.contracts.metrics import (
    API_5XX,
    AUDIT_NAMESPACE,
    CANARY_ERROR_RATE_DELTA,
    DRIFT_FINDINGS,
    LOG_METRICS_NAMESPACE,
    SQS_OLDEST_AGE,
    SQS_VISIBLE,
    STUCK_SAGAS,
    MetricId,
)

__all__ = [
    "API_5XX",
    "AUDIT_NAMESPACE",
    "CANARY_ERROR_RATE_DELTA",
    "DRIFT_FINDINGS",
    "LOG_METRICS_NAMESPACE",
    "SQS_OLDEST_AGE",
    "SQS_VISIBLE",
    "STUCK_SAGAS",
    "MetricId",
    "error_metric_name",
]


def error_metric_name(function_name: str) -> str:
    """The ERROR-line count of one function (a metric per function: metric filters with a default
    value cannot have dimensions)."""
    return f"Errors-{function_name}"
