"""Fan-out and routing logic: the order event's validation, who gets what, each consumer's effect,
test faults, and the batch answer (only the failed record is reported)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from instrumented_app.fanout import consumer as consumer_module
from instrumented_app.fanout.consumer import InjectedFault, consume, consumer_handler, read_order_event
from instrumented_app.fanout.effects import Effect, NotForThisConsumer, billing, fraud_check, inventory
from instrumented_app.fanout.model import FAULTS_ENV, SLOW_FAULT_S, EventType, OrderEvent
from instrumented_app.fanout.routing import (
    SUBSCRIPTIONS,
    filter_policy,
    routed_targets,
    subscribers_of,
    vip_rule_pattern,
)
from instrumented_app.runtime.template import load_sam_template


def event(**fields: Any) -> OrderEvent:
    body = {
        "order_id": "ord-1",
        "event_type": "order_placed",
        "amount": 1200,
        "items": [{"sku": "A", "quantity": 2}],
    }
    return OrderEvent.model_validate({**body, **fields})


class FakeLedger:
    def __init__(self) -> None:
        self.recorded: dict[tuple[str, str, str], Effect] = {}

    def record(self, order_id: str, event_type: str, effect: Effect, trace: dict[str, str]) -> bool:
        key = (order_id, effect.consumer, event_type)
        if key in self.recorded:
            return False
        self.recorded[key] = effect
        return True


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"event_type": "order_lost"}, "event_type"),
        ({"amount": -1}, "amount"),
        ({"items": []}, "items"),
        ({"items": [{"sku": "A", "quantity": 0}]}, "items.0.quantity"),
        ({"order_id": "has space"}, "order_id"),
        ({"faults": {"billing": "explode"}}, "faults.billing"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_order_event_names_the_field(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as raised:
        event(**fields)
    assert where in {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()}


def test_the_same_sku_twice_is_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="each sku at most once"):
        event(items=[{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}])


def test_the_template_subscriptions_filter_exactly_what_the_consumers_handle() -> None:
    resources = load_sam_template()["Resources"]
    for consumer in SUBSCRIPTIONS:
        subscription = resources[f"{consumer.capitalize()}Subscription"]["Properties"]
        assert subscription["FilterPolicy"] == filter_policy(consumer)
        assert subscription["RawMessageDelivery"] is True
    assert resources["VipOrderRule"]["Properties"]["EventPattern"] == vip_rule_pattern()


def test_filter_policies_and_the_vip_rule_decide_who_gets_an_event() -> None:
    assert subscribers_of(event()) == ["billing", "inventory", "notification"]
    assert subscribers_of(event(event_type="order_shipped")) == ["inventory", "notification"]
    assert subscribers_of(event(event_type="order_refunded")) == ["billing", "notification"]
    assert routed_targets(event(amount=9_999)) == []
    assert routed_targets(event(amount=10_000)) == ["vip_notify", "fraud_check"]
    assert routed_targets(event(amount=50_000, event_type="order_refunded")) == []


def test_each_consumer_turns_an_event_into_its_own_effect() -> None:
    assert inventory(event()) == Effect("inventory", "reserve", {"skus": {"A": 2}})
    assert inventory(event(event_type="order_cancelled")).action == "release"
    assert billing(event(event_type="order_refunded", amount=700)) == Effect(
        "billing", "refund", {"amount": 700}
    )
    with pytest.raises(NotForThisConsumer):
        billing(event(event_type="order_shipped"))
    with pytest.raises(NotForThisConsumer):
        inventory(event(event_type="order_refunded"))
    assert fraud_check(event(amount=20_000)).action == "clear"
    many = fraud_check(event(amount=60_000, items=[{"sku": "A", "quantity": 50}]))
    assert many.action == "review"
    assert many.details["reasons"] == ["amount >= 50000", "units >= 50"]


def test_a_redelivered_event_is_recorded_once() -> None:
    ledger = FakeLedger()
    first = consume("billing", event(), ledger, faults_on=False)  # type: ignore[arg-type]
    again = consume("billing", event(), ledger, faults_on=False)  # type: ignore[arg-type]
    assert (first.recorded, again.recorded) == (True, False)
    assert list(ledger.recorded) == [("ord-1", "billing", "order_placed")]


def test_test_faults_apply_to_the_named_consumer_only_and_only_when_enabled() -> None:
    ledger = FakeLedger()
    slept: list[float] = []
    faulty = event(faults={"billing": "fail", "inventory": "slow"})
    with pytest.raises(InjectedFault):
        consume("billing", faulty, ledger, faults_on=True)  # type: ignore[arg-type]
    consume("inventory", faulty, ledger, faults_on=True, sleep=slept.append)  # type: ignore[arg-type]
    assert slept == [SLOW_FAULT_S]
    consume("notification", faulty, ledger, faults_on=True, sleep=slept.append)  # type: ignore[arg-type]
    assert consume("billing", faulty, ledger, faults_on=False).recorded  # type: ignore[arg-type]
    assert slept == [SLOW_FAULT_S]


def test_an_eventbridge_envelope_and_a_raw_sns_message_read_as_the_same_event() -> None:
    raw = event().as_message()
    envelope = {
        "version": "0",
        "detail-type": "OrderEvent",
        "source": "sagawatch.orders",
        "detail": {**raw, "correlation_id": "c-1", "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    }
    assert read_order_event(json.dumps(raw)) == read_order_event(json.dumps(envelope)) == event()
    with pytest.raises(ValidationError):
        read_order_event(json.dumps({"detail-type": "OrderEvent", "detail": {"order_id": "x"}}))


def _record(message_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:sw-fanout-billing",
        "awsRegion": "us-east-1",
    }


def test_the_batch_answer_names_only_the_records_that_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = FakeLedger()
    monkeypatch.setattr(consumer_module, "_ledger", lambda: ledger)
    monkeypatch.setenv(FAULTS_ENV, "true")
    handler = consumer_handler("billing")
    records = [
        _record("m-ok", event(order_id="o-1").as_message()),
        _record("m-fault", event(order_id="o-2", faults={"billing": "fail"}).as_message()),
        _record("m-junk", {"hello": "world"}),
        _record("m-ok-2", event(order_id="o-3").as_message()),
    ]
    answer = handler({"Records": records}, None)
    assert sorted(str(item["itemIdentifier"]) for item in answer["batchItemFailures"]) == [
        "m-fault",
        "m-junk",
    ]
    assert sorted(order for order, _, _ in ledger.recorded) == ["o-1", "o-3"]
    # All of a batch failing is still a normal answer listing every record.
    assert len(handler({"Records": records[1:3]}, None)["batchItemFailures"]) == 2


def test_an_unknown_consumer_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown name 'shipping'"):
        consumer_handler("shipping")


def test_event_types_are_the_ones_the_filter_policies_list() -> None:
    listed = set().union(*SUBSCRIPTIONS.values())
    assert listed == set(EventType)
