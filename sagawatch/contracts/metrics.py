"""The CloudWatch metrics one package publishes and another alarms on, named once.

The collectors put ``StuckSagas``, the reconciler ``DriftFindings``, the canary analysis
``CanaryErrorRateDelta``; SQS (or the local stack standing in for it) and the API front publish
the AWS service metrics. The standard alarms (``alarms.standard``) read every one of them, so a
renamed metric on one side only would leave an alarm watching nothing: both sides import these.
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
#: API Gateway's namespace (dimensions ``ApiName`` and ``Stage``), which the local API front also uses.
API_GATEWAY_NAMESPACE = "AWS/ApiGateway"
#: SQS's namespace (dimension ``QueueName``).
SQS_NAMESPACE = "AWS/SQS"

#: Live sagas that are stuck (the saga contract's ``is_stuck``). No dimensions.
STUCK_SAGAS = MetricId(AUDIT_NAMESPACE, "StuckSagas")
#: Open drift findings of the latest reconciliation. No dimensions.
DRIFT_FINDINGS = MetricId(AUDIT_NAMESPACE, "DriftFindings")
#: Canary version's error rate minus the stable version's (-1..1), dimension ``FunctionName``.
CANARY_ERROR_RATE_DELTA = MetricId(AUDIT_NAMESPACE, "CanaryErrorRateDelta")

SQS_VISIBLE = MetricId(SQS_NAMESPACE, "ApproximateNumberOfMessagesVisible")
SQS_OLDEST_AGE = MetricId(SQS_NAMESPACE, "ApproximateAgeOfOldestMessage")
#: 0 or 1 per request, so its Average over a period is the share of 5xx answers.
API_5XX = MetricId(API_GATEWAY_NAMESPACE, "5XXError")
