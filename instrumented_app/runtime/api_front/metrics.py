"""API Gateway's per-request metrics, gathered in memory for the stack to publish to CloudWatch.

API Gateway publishes ``Count``, ``4XXError``, ``5XXError``, ``Latency`` and
``IntegrationLatency`` in namespace ``AWS/ApiGateway`` with dimensions
``ApiName`` and ``Stage``; the alarms and the dashboard read them from there.
The front only collects; whoever owns the CloudWatch client drains them
(``ApiFront.drain_metrics``) and sends them with ``publish``, so the request
path never waits on CloudWatch.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sagawatch.contracts.metrics import API_5XX, API_GATEWAY_NAMESPACE

log = logging.getLogger(__name__)

NAMESPACE = API_GATEWAY_NAMESPACE

#: Data points kept between drains; beyond that the oldest are dropped rather than growing without bound.
MAX_BUFFERED = 50_000
#: Data points per ``put_metric_data`` call (CloudWatch takes up to 1,000 and 1 MB per request).
PUBLISH_BATCH = 500


@dataclass(frozen=True)
class MetricDatum:
    namespace: str
    name: str
    value: float
    unit: str  # CloudWatch unit: "Count", "Milliseconds"
    dimensions: tuple[tuple[str, str], ...]
    timestamp: datetime

    def as_cloudwatch(self) -> dict[str, Any]:
        """One ``MetricData`` entry for ``put_metric_data`` (the namespace goes beside it)."""
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
            "Timestamp": self.timestamp,
            "Value": self.value,
            "Unit": self.unit,
        }


class ApiMetrics:
    """Thread-safe buffer of the metrics one API stage emits."""

    def __init__(self, api_name: str, stage: str, max_buffered: int = MAX_BUFFERED) -> None:
        self._dimensions = (("ApiName", api_name), ("Stage", stage))
        self._data: deque[MetricDatum] = deque(maxlen=max_buffered)
        self._lock = threading.Lock()

    def record(self, status_code: int, latency_ms: float, integration_ms: float | None) -> None:
        """One request: Count 1, 4XXError / 5XXError as 0 or 1, latencies in milliseconds."""
        now = datetime.now(UTC)
        points = [
            ("Count", 1.0, "Count"),
            ("4XXError", 1.0 if 400 <= status_code < 500 else 0.0, "Count"),
            (API_5XX.name, 1.0 if status_code >= 500 else 0.0, "Count"),
            ("Latency", latency_ms, "Milliseconds"),
        ]
        if integration_ms is not None:
            points.append(("IntegrationLatency", integration_ms, "Milliseconds"))
        with self._lock:
            self._data.extend(
                MetricDatum(NAMESPACE, name, value, unit, self._dimensions, now)
                for name, value, unit in points
            )

    def drain(self) -> list[MetricDatum]:
        """Everything recorded since the last drain, oldest first."""
        with self._lock:
            drained = list(self._data)
            self._data.clear()
        return drained


def publish(cloudwatch: Any, data: Sequence[MetricDatum]) -> int:
    """Send drained data points with a boto3 CloudWatch client, batched per namespace; returns the count.

    On AWS API Gateway publishes these itself; locally the stack calls this with moto's client.
    """
    sent = 0
    for namespace in sorted({datum.namespace for datum in data}):
        entries = [datum.as_cloudwatch() for datum in data if datum.namespace == namespace]
        for start in range(0, len(entries), PUBLISH_BATCH):
            batch = entries[start : start + PUBLISH_BATCH]
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
            sent += len(batch)
    return sent


class MetricsPublisher:
    """Drains a front's metrics into CloudWatch every ``interval_s`` from a daemon thread.

    ``stop`` publishes what is left, so a stack that stops cleanly loses nothing. A
    failed ``put_metric_data`` is logged (error type and count only) and those points
    are dropped: metrics must never back up into the request path.
    """

    def __init__(
        self, drain: Callable[[], list[MetricDatum]], cloudwatch: Any, interval_s: float = 5.0
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s: must be positive, got {interval_s}")
        self._drain = drain
        self._cloudwatch = cloudwatch
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="api-front-metrics", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
        self.flush()

    def flush(self) -> int:
        """Publish what has been recorded so far; returns how many points were sent."""
        data = self._drain()
        if not data:
            return 0
        try:
            return publish(self._cloudwatch, data)
        except Exception as exc:  # CloudWatch down or throttling: drop, say so, carry on
            log.warning("dropped %d API Gateway metric points: %s", len(data), type(exc).__name__)
            return 0

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            self.flush()
