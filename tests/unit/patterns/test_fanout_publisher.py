"""``POST /orders/events`` in process with fake SNS and EventBridge clients: what is published where,
with which attributes, and the answers a client gets for a bad body, refused faults and a failed publish."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest

from instrumented_app.fanout.model import FAULTS_ENV
from instrumented_app.handlers import order_events

TOPIC = "arn:aws:sns:us-east-1:123456789012:sw-order-events"
GOOD = {
    "order_id": "ord-7",
    "event_type": "order_placed",
    "amount": 12_000,
    "items": [{"sku": "A", "quantity": 1}],
}


class Context:
    function_name = "sw-order-events"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sw-order-events"
    aws_request_id = "req-1"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


class FakeSns:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> dict[str, Any]:
        self.published.append(request)
        return {"MessageId": f"sns-{len(self.published)}"}


class FakeEvents:
    def __init__(self, refuse: bool = False) -> None:
        self.put: list[dict[str, Any]] = []
        self.refuse = refuse

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.put.extend(Entries)
        if self.refuse:
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}],
            }
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"evt-{len(self.put)}"}]}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSns, FakeEvents]]:
    sns, events = FakeSns(), FakeEvents()
    monkeypatch.setenv("ORDER_EVENTS_TOPIC_ARN", TOPIC)
    monkeypatch.setattr(order_events, "clients", lambda: (sns, events))
    order_events.config.cache_clear()
    yield sns, events
    order_events.config.cache_clear()


def post(body: Any, correlation_id: str = "corr-abc-1") -> tuple[int, dict[str, Any]]:
    event = {
        "resource": "/orders/events",
        "path": "/orders/events",
        "httpMethod": "POST",
        "headers": {"content-type": "application/json", "X-Correlation-Id": correlation_id},
        "requestContext": {"stage": "v1", "httpMethod": "POST", "requestId": "req-1"},
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }
    answer = order_events.handler(event, cast(Any, Context()))
    return answer["statusCode"], json.loads(answer["body"])


def test_an_event_goes_to_the_topic_and_the_bus_with_its_correlation_id(
    fakes: tuple[FakeSns, FakeEvents],
) -> None:
    sns, events = fakes
    status, body = post(GOOD)
    assert status == 202, body
    assert body["correlation_id"] == "corr-abc-1"
    assert body["subscribers"] == ["billing", "inventory", "notification"]
    assert body["routed_to"] == ["vip_notify", "fraud_check"]
    (message,) = sns.published
    assert message["TopicArn"] == TOPIC
    assert json.loads(message["Message"]) == GOOD
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["event_type"] == "order_placed"
    assert attributes["correlation_id"] == "corr-abc-1"
    assert attributes["traceparent"].startswith("00-")
    (entry,) = events.put
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "sagawatch.orders",
        "OrderEvent",
        "default",
    )
    detail = json.loads(entry["Detail"])
    assert detail["amount"] == 12_000 and detail["correlation_id"] == "corr-abc-1"
    # Both hops carry the request's trace (each names its own producer span as the parent).
    assert detail["traceparent"].split("-")[1] == attributes["traceparent"].split("-")[1]


def test_a_bad_body_is_a_400_naming_the_field_and_nothing_is_published(
    fakes: tuple[FakeSns, FakeEvents],
) -> None:
    sns, events = fakes
    status, body = post({**GOOD, "amount": "lots"})
    assert status == 400
    assert [error["field"] for error in body["errors"]] == ["amount"]
    assert post("{not json")[0] == 400
    assert sns.published == [] and events.put == []


def test_faults_are_refused_unless_the_stack_enables_them(
    fakes: tuple[FakeSns, FakeEvents], monkeypatch: pytest.MonkeyPatch
) -> None:
    sns, _ = fakes
    monkeypatch.delenv(FAULTS_ENV, raising=False)
    status, body = post({**GOOD, "faults": {"billing": "fail"}})
    assert (status, body["errors"][0]["field"]) == (400, "faults")
    assert sns.published == []
    monkeypatch.setenv(FAULTS_ENV, "true")
    assert post({**GOOD, "faults": {"billing": "fail"}})[0] == 202


def test_a_refused_bus_put_is_a_502_saying_what_was_published(
    fakes: tuple[FakeSns, FakeEvents], monkeypatch: pytest.MonkeyPatch
) -> None:
    sns, _ = fakes
    monkeypatch.setattr(order_events, "clients", lambda: (sns, FakeEvents(refuse=True)))
    status, body = post(GOOD)
    assert status == 502
    assert body["error_code"] == "ORDER_EVENT_PUBLISH_FAILED"
    assert body["published"] == {"sns_message_id": "sns-1"}
