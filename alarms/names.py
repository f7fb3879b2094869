"""The metric names the standard alarms watch, defined once.

Publishers (the collectors for stuck sagas, the reconciler for drift findings, the canary
analysis for the error-rate difference) put these metrics with ``put_metric_data``; the alarms
read them. Both sides import the names from here.
"""

from __future__ import annotations

from typing import NamedTuple


class MetricId(NamedTuple):
    namespace: str
    name: str


#: Namespace of metrics derived from log lines by the standard metric filters.
LOG_METRICS_NAMESPACE = "sagawatch/logs"
#: Namespace of the audit service's own metrics.
AUDIT_NAMESPACE = "sagawatch/audit"

#: Live sagas that are stuck (DESIGN.md: not terminal and not moved past their threshold). No dimensions.
STUCK_SAGAS = MetricId(AUDIT_NAMESPACE, "StuckSagas")
#: Open drift findings of the latest reconciliation. No dimensions.
DRIFT_FINDINGS = MetricId(AUDIT_NAMESPACE, "DriftFindings")
#: Canary version's error rate minus the stable version's (0..1), dimension ``FunctionName``.
CANARY_ERROR_RATE_DELTA = MetricId(AUDIT_NAMESPACE, "CanaryErrorRateDelta")

#: AWS service metrics the standard set watches.
SQS_VISIBLE = MetricId("AWS/SQS", "ApproximateNumberOfMessagesVisible")
SQS_OLDEST_AGE = MetricId("AWS/SQS", "ApproximateAgeOfOldestMessage")
API_5XX = MetricId("AWS/ApiGateway", "5XXError")


def error_metric_name(function_name: str) -> str:
    """The ERROR-line count of one function (a metric per function: metric filters with a default
    value cannot have dimensions)."""
    return f"Errors-{function_name}"
