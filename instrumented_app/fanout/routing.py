"""Who gets which order event: the SNS filter policies and the EventBridge rule, as data.

The template states the same (each subscription's ``FilterPolicy``, the rule's
``EventPattern``); ``tests/unit/patterns/test_fanout_routing.py`` holds the two
equal, so a consumer's code and its subscription cannot drift apart. The
matching functions are what SNS and EventBridge do with these, for the
publisher's answer and for the tests.
"""

from __future__ import annotations

from typing import Any

from instrumented_app.fanout.model import EventType, OrderEvent

#: SNS -> SQS consumers and the event types each one's subscription lets through.
SUBSCRIPTIONS: dict[str, frozenset[EventType]] = {
    "inventory": frozenset({EventType.PLACED, EventType.SHIPPED, EventType.CANCELLED}),
    "billing": frozenset({EventType.PLACED, EventType.REFUNDED}),
    "notification": frozenset(EventType),
}

#: The SNS message attribute the filter policies match on.
FILTER_ATTRIBUTE = "event_type"

#: EventBridge: the ``source`` and ``detail-type`` order events are put with.
EVENT_SOURCE = "sagawatch.orders"
DETAIL_TYPE = "OrderEvent"
#: The rule's numeric content filter: a placed order at least this large is a VIP order.
VIP_AMOUNT = 10_000
#: The rule's targets (each an SQS queue feeding the function of that name).
VIP_TARGETS = ("vip_notify", "fraud_check")


def filter_policy(consumer: str) -> dict[str, list[str]]:
    """The subscription's ``FilterPolicy`` for ``consumer`` (sorted, as the template lists it)."""
    return {FILTER_ATTRIBUTE: sorted(SUBSCRIPTIONS[consumer])}


def vip_rule_pattern() -> dict[str, Any]:
    """The rule's ``EventPattern``: placed orders with ``amount >= VIP_AMOUNT``."""
    return {
        "source": [EVENT_SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {"event_type": [EventType.PLACED.value], "amount": [{"numeric": [">=", VIP_AMOUNT]}]},
    }


def subscribers_of(event: OrderEvent) -> list[str]:
    """The SNS consumers whose filter policy lets ``event`` through."""
    return sorted(name for name, types in SUBSCRIPTIONS.items() if event.event_type in types)


def routed_targets(event: OrderEvent) -> list[str]:
    """The EventBridge targets the VIP rule sends ``event`` to (none for a small or non-placed order)."""
    if event.event_type is EventType.PLACED and event.amount >= VIP_AMOUNT:
        return list(VIP_TARGETS)
    return []
