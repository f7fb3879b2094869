"""A canary handler that fails a configured share of invocations (``DEFECT_RATE``), as a bad release does.

It reports per-version metrics the way the app does: Powertools Metrics (EMF) with the version as a
default dimension beside ``service``, flushed even when the invocation fails.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics()


class InjectedDefect(RuntimeError):
    """The failure a defective release produces."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    metrics.set_default_dimensions(version=context.function_version)
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    try:
        if random.random() < float(os.environ.get("DEFECT_RATE", "0")):
            metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
            raise InjectedDefect("injected defect")
        body = {"variant": os.environ.get("VARIANT", "unknown"), "version": context.function_version}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
        metrics.flush_metrics()
