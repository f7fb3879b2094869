"""API Gateway metrics: gathered per request, bounded in memory, published in batches.

CloudWatch itself is faked here (a recorder of ``put_metric_data`` calls); the
wire test sends the same data to moto's CloudWatch and reads it back.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from instrumented_app.runtime.api_front.metrics import (
    PUBLISH_BATCH,
    ApiMetrics,
    MetricsPublisher,
    publish,
)


class RecordingCloudWatch:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.fail = fail

    def put_metric_data(self, *, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        if self.fail:
            raise ConnectionError("cloudwatch unreachable")
        self.calls.append((Namespace, MetricData))

    @property
    def points(self) -> int:
        return sum(len(data) for _, data in self.calls)


def test_one_request_gives_count_errors_and_latencies() -> None:
    metrics = ApiMetrics("shop", "prod")
    metrics.record(503, 12.5, 10.0)
    metrics.record(404, 1.0, None)
    data = {(datum.name, datum.value) for datum in metrics.drain()}
    assert data == {
        ("Count", 1.0),
        ("4XXError", 0.0),
        ("5XXError", 1.0),
        ("Latency", 12.5),
        ("IntegrationLatency", 10.0),
        ("4XXError", 1.0),
        ("5XXError", 0.0),
        ("Latency", 1.0),
    }
    assert metrics.drain() == []


def test_the_buffer_is_bounded_and_keeps_the_newest() -> None:
    metrics = ApiMetrics("shop", "prod", max_buffered=8)
    for latency in range(5):
        metrics.record(200, float(latency), None)  # 4 points each
    kept = metrics.drain()
    assert len(kept) == 8
    assert [datum.value for datum in kept if datum.name == "Latency"] == [3.0, 4.0]


def test_publish_sends_batches_cloudwatch_accepts() -> None:
    metrics = ApiMetrics("shop", "prod")
    for _ in range(300):
        metrics.record(200, 1.0, 1.0)  # 5 points each: 1,500
    cloudwatch = RecordingCloudWatch()
    assert publish(cloudwatch, metrics.drain()) == 1500
    assert [len(data) for _, data in cloudwatch.calls] == [PUBLISH_BATCH, PUBLISH_BATCH, PUBLISH_BATCH]
    namespace, first = cloudwatch.calls[0]
    assert namespace == "AWS/ApiGateway"
    assert first[0]["Dimensions"] == [
        {"Name": "ApiName", "Value": "shop"},
        {"Name": "Stage", "Value": "prod"},
    ]
    assert first[0]["Unit"] == "Count"


def test_the_publisher_sends_on_its_interval_and_flushes_on_stop() -> None:
    metrics = ApiMetrics("shop", "prod")
    cloudwatch = RecordingCloudWatch()
    publisher = MetricsPublisher(metrics.drain, cloudwatch, interval_s=0.05)
    publisher.start()
    metrics.record(200, 1.0, None)
    deadline = time.monotonic() + 5
    while cloudwatch.points < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cloudwatch.points == 4
    metrics.record(500, 1.0, None)
    publisher.stop()
    assert cloudwatch.points == 8


def test_a_cloudwatch_failure_drops_the_points_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    metrics = ApiMetrics("shop", "prod")
    metrics.record(200, 1.0, None)
    publisher = MetricsPublisher(metrics.drain, RecordingCloudWatch(fail=True))
    assert publisher.flush() == 0
    assert "dropped 4 API Gateway metric points: ConnectionError" in caplog.text
    assert metrics.drain() == []


def test_a_publisher_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="interval_s: must be positive"):
        MetricsPublisher(list, RecordingCloudWatch(), interval_s=0)
