"""The canary's figure for the standard alarms: the canary's error rate minus the baseline's.

``alarms.standard`` alarms on ``CanaryErrorRateDelta`` (``sagawatch.contracts.metrics``, dimension
``FunctionName``) for every function with a weighted alias; a judgement is what measures it, so
each analysis can publish it with ``put_metric_data`` (the same call on AWS and on moto).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alarms.canary.analysis import CanaryReport
from sagawatch.contracts.metrics import CANARY_ERROR_RATE_DELTA


def error_rate_delta(report: CanaryReport) -> float | None:
    """Canary error rate minus baseline error rate (-1..1); None while a version has no invocations."""
    baseline, canary = report.versions
    if baseline.error_rate is None or canary.error_rate is None:
        return None
    return canary.error_rate - baseline.error_rate


def publish_error_rate_delta(cloudwatch: Any, report: CanaryReport, at: datetime) -> float | None:
    """Put the delta at ``at``; nothing is put (and None returned) when there is no delta to put."""
    delta = error_rate_delta(report)
    if delta is None:
        return None
    cloudwatch.put_metric_data(
        Namespace=CANARY_ERROR_RATE_DELTA.namespace,
        MetricData=[
            {
                "MetricName": CANARY_ERROR_RATE_DELTA.name,
                "Dimensions": [{"Name": "FunctionName", "Value": report.function}],
                "Timestamp": at,
                "Value": delta,
                "Unit": "None",
            }
        ],
    )
    return delta
