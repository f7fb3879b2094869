"""Pure parts of the queue and metric collectors: redrive relations, correlation ids, masking, metric ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from collectors.metrics import STATS, MetricId, points_from_results, queries, wanted, window
from collectors.queues import (
    dlq_message,
    dlq_names_of,
    mask_body,
    message_correlation_id,
    redrive_target,
    sample_from_attributes,
)

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs-dlq"


def test_redrive_policy_names_the_dlq() -> None:
    policy = json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": "3"})
    assert redrive_target({"RedrivePolicy": policy}) == ("jobs-dlq", 3)
    assert redrive_target({}) == (None, None)
    with pytest.raises(ValueError, match="RedrivePolicy"):
        redrive_target({"RedrivePolicy": "{}"})


def test_sample_marks_dlqs_and_reads_depths() -> None:
    attributes = {
        "jobs": {"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})},
        "jobs-dlq": {},
    }
    dlqs = dlq_names_of(attributes)
    assert dlqs == {"jobs-dlq"}
    sample = sample_from_attributes(
        "http://127.0.0.1:5000/123456789012/jobs-dlq",
        {"ApproximateNumberOfMessages": "4", "ApproximateNumberOfMessagesNotVisible": "1"},
        dlqs,
    )
    assert (sample.queue_name, sample.visible, sample.in_flight, sample.delayed, sample.is_dlq) == (
        "jobs-dlq",
        4,
        1,
        0,
        True,
    )


@pytest.mark.parametrize(
    "message",
    [
        {"MessageAttributes": {"correlation_id": {"StringValue": "c-1", "DataType": "String"}}, "Body": "{}"},
        {
            "Body": json.dumps(
                {"Type": "Notification", "MessageAttributes": {"correlation_id": {"Value": "c-1"}}}
            )
        },
        {"Body": json.dumps({"detail": {"correlation_id": "c-1"}})},
        {"Body": json.dumps({"correlation_id": "c-1"})},
    ],
)
def test_correlation_id_from_attribute_sns_envelope_eventbridge_or_body(message: dict[str, object]) -> None:
    assert message_correlation_id(message) == "c-1"


def test_dlq_message_body_is_stored_with_pii_erased() -> None:
    body = json.dumps({"cust_no": "C1", "customer": {"email": "taro@example.jp", "phone": "+81312345678"}})
    stored = dlq_message(
        "jobs-dlq",
        {
            "MessageId": "m1",
            "Body": body,
            "Attributes": {"SentTimestamp": "1764000000000", "ApproximateReceiveCount": "4"},
        },
    )
    assert "taro@example.jp" not in stored.body and "+81312345678" not in stored.body
    assert json.loads(stored.body)["cust_no"] == "C1"
    assert stored.receive_count == 4 and stored.sent_at == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    assert "not stored" in mask_body("name=Taro Yamada")


def test_a_dlq_message_with_escapes_postgresql_refuses_is_made_storable() -> None:
    """A lone surrogate escaped in the body (valid JSON, valid for SQS) would fail the queue pass
    on every sample for as long as the message sits in the DLQ."""
    body = '{"correlation_id": "c-\\ud800", "note": "half \\udc00 pair", "nul": "a\\u0000b"}'
    stored = dlq_message("jobs-dlq", {"MessageId": "m1", "Body": body})
    assert stored.correlation_id == "c-\ufffd"
    stored.body.encode("utf-8")  # no lone surrogate left: this would raise
    assert "\x00" not in stored.body and json.loads(stored.body)["nul"] == "a\x00b"  # NUL stays escaped


def test_only_app_metrics_and_alarm_metrics_are_wanted() -> None:
    assert wanted(MetricId("sagawatch", "OrdersPlaced", (("version", "7"),)))
    assert wanted(MetricId("AWS/ApiGateway", "5XXError", ()))
    assert not wanted(MetricId("AWS/ApiGateway", "CacheHitCount", ()))
    assert not wanted(MetricId("Other", "X", ()))


def test_metric_results_merge_back_into_points_per_minute() -> None:
    metrics = [MetricId("sagawatch", "A", (("version", "1"),)), MetricId("sagawatch", "B", ())]
    built = queries(metrics)
    assert len(built) == len(metrics) * len(STATS)
    t1, t2 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    results = [
        {"Id": "m0_0", "Timestamps": [t1, t2], "Values": [3.0, 5.0]},
        {"Id": "m0_1", "Timestamps": [t1, t2], "Values": [2.0, 4.0]},
        {"Id": "m1_3", "Timestamps": [t2], "Values": [9.0]},
    ]
    points = points_from_results(metrics, results)
    assert [(p.metric.name, p.ts, p.values) for p in points] == [
        ("A", t1, {"Sum": 3.0, "SampleCount": 2.0}),
        ("A", t2, {"Sum": 5.0, "SampleCount": 4.0}),
        ("B", t2, {"Maximum": 9.0}),
    ]


def test_window_is_aligned_to_whole_minutes() -> None:
    start, end = window(datetime(2026, 1, 1, 0, 10, 37, tzinfo=UTC), 300)
    assert (start, end) == (datetime(2026, 1, 1, 0, 5, tzinfo=UTC), datetime(2026, 1, 1, 0, 11, tzinfo=UTC))
