"""A handler that records business metrics with Powertools Metrics (EMF on stdout), as the app's do."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

#: Namespace and service come from the function's environment (POWERTOOLS_METRICS_NAMESPACE, ...).
metrics = Metrics()


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> str:
    metrics.add_dimension(name="version", value=context.function_version)
    for amount in event.get("amounts", []):
        metrics.add_metric(name="OrderAmount", unit=MetricUnit.Count, value=amount)
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=len(event.get("amounts", [])))
    return "recorded"
