"""Reading trace context out of each event source's shape (pure functions, no handler run)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from instrumented_app.telemetry import Trigger, describe_event

TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_api_gateway_v1_header_names_are_case_insensitive() -> None:
    event = {
        "httpMethod": "GET",
        "resource": "/items/{id}",
        "path": "/items/42",
        "requestContext": {"stage": "prod"},
        "headers": {"x-correlation-id": "abc-1", "TraceParent": TP},
    }
    info = describe_event(event)
    assert (info.trigger, info.correlation_id, info.correlation_minted) == (Trigger.API, "abc-1", False)
    assert info.span_name == "GET /items/{id}"
    assert info.parent == {"traceparent": TP}
    assert info.attributes["url.path"] == "/items/42"


def test_api_gateway_multi_value_headers_count_when_headers_are_absent() -> None:
    event = {
        "httpMethod": "POST",
        "path": "/api/async",
        "requestContext": {},
        "headers": None,
        "multiValueHeaders": {"X-Correlation-Id": ["mv-1"]},
    }
    assert describe_event(event).correlation_id == "mv-1"


def test_http_api_v2_events_are_api_events() -> None:
    event = {
        "version": "2.0",
        "routeKey": "POST /orders",
        "rawPath": "/orders",
        "headers": {"x-correlation-id": "v2-1"},
        "requestContext": {"http": {"method": "POST", "path": "/orders"}},
    }
    info = describe_event(event)
    assert (info.trigger, info.span_name, info.correlation_id) == (Trigger.API, "POST /orders", "v2-1")


def _sqs(body: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "m-1",
                "body": body,
                "messageAttributes": attributes or {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inventory",
            }
        ]
    }


def test_sqs_body_from_an_eventbridge_target_carries_ids_in_detail() -> None:
    body = json.dumps({"detail-type": "OrderPlaced", "detail": {"correlation_id": "eb-9", "traceparent": TP}})
    info = describe_event(_sqs(body))
    assert (info.trigger, info.correlation_id, info.span_name) == (Trigger.SQS, "eb-9", "process inventory")
    assert info.messages[0].traceparent == TP


def test_sqs_message_attributes_win_over_the_body() -> None:
    body = json.dumps({"Type": "Notification", "MessageAttributes": {"correlation_id": {"Value": "inner"}}})
    attrs = {"correlation_id": {"stringValue": "outer", "dataType": "String"}}
    assert describe_event(_sqs(body, attrs)).correlation_id == "outer"


def test_a_plain_text_sqs_body_is_left_alone_and_an_id_minted() -> None:
    info = describe_event(_sqs("not json {"))
    assert info.correlation_minted and info.messages[0].traceparent is None


def test_sns_records_read_message_attributes() -> None:
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:orders:3f1c",
                "Sns": {
                    "MessageId": "sns-1",
                    "MessageAttributes": {
                        "correlation_id": {"Type": "String", "Value": "sns-cid"},
                        "traceparent": {"Type": "String", "Value": TP},
                    },
                },
            }
        ]
    }
    info = describe_event(event)
    assert (info.trigger, info.correlation_id, info.span_name) == (Trigger.SNS, "sns-cid", "process orders")
    assert info.messages[0].message_id == "sns-1" and info.messages[0].traceparent == TP


def test_a_dynamodb_remove_reads_the_old_image() -> None:
    event = {
        "Records": [
            {
                "eventID": "e-1",
                "eventName": "REMOVE",
                "eventSource": "aws:dynamodb",
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/Orders/stream/2026-11-24T00:00:00.000",
                "dynamodb": {"OldImage": {"correlation_id": {"S": "gone-1"}}},
            }
        ]
    }
    info = describe_event(event)
    assert (info.trigger, info.correlation_id, info.span_name) == (
        Trigger.DYNAMODB,
        "gone-1",
        "process Orders",
    )


def test_s3_notifications_get_a_minted_id() -> None:
    event = {
        "Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "uploads"}, "object": {"key": "a"}}}]
    }
    info = describe_event(event)
    assert (info.trigger, info.span_name, info.correlation_minted) == (Trigger.S3, "process uploads", True)


def test_step_functions_input_continues_the_trace_it_names() -> None:
    info = describe_event(
        {"correlation_id": "sfn-7", "traceparent": TP, "order_id": "o-1"}, "ReserveInventory"
    )
    assert (info.trigger, info.correlation_id, info.span_name) == (
        Trigger.DIRECT,
        "sfn-7",
        "ReserveInventory",
    )
    assert info.parent == {"traceparent": TP}


@pytest.mark.parametrize("event", [None, [], "text", 42, {"Records": "nope"}, {"Records": [1, 2]}])
def test_anything_else_is_a_direct_invoke_with_a_minted_id(event: Any) -> None:
    info = describe_event(event, "fn")
    assert (info.trigger, info.correlation_minted, info.span_name) == (Trigger.DIRECT, True, "fn")


@pytest.mark.parametrize("bad", ["", "x" * 200, "has space", "quote'd", "new\nline"])
def test_an_invalid_correlation_id_in_an_event_is_replaced(bad: str) -> None:
    info = describe_event({"detail-type": "X", "detail": {"correlation_id": bad}})
    assert info.correlation_minted and info.correlation_id != bad
