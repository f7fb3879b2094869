"""What each consumer does with an order event, as pure functions (the handlers add the I/O).

Every consumer turns an event into one ``Effect``: an action and its details,
recorded once per (order, consumer, event type) in the ledger. Amounts and skus
only: an order event carries no personal data, and nothing here adds any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from instrumented_app.fanout.model import EventType, OrderEvent

#: fraud_check: an order at least this large, or with this many units, is held for review.
REVIEW_AMOUNT = 50_000
REVIEW_UNITS = 50


class NotForThisConsumer(ValueError):
    """The event is one this consumer's subscription should have filtered out."""


@dataclass(frozen=True)
class Effect:
    consumer: str
    action: str
    details: dict[str, Any] = field(default_factory=dict)


def inventory(event: OrderEvent) -> Effect:
    actions = {EventType.PLACED: "reserve", EventType.CANCELLED: "release", EventType.SHIPPED: "ship"}
    if event.event_type not in actions:
        raise NotForThisConsumer(f"inventory does not handle {event.event_type.value}")
    skus = {item.sku: item.quantity for item in event.items}
    return Effect("inventory", actions[event.event_type], {"skus": skus})


def billing(event: OrderEvent) -> Effect:
    if event.event_type is EventType.PLACED:
        return Effect("billing", "charge", {"amount": event.amount})
    if event.event_type is EventType.REFUNDED:
        return Effect("billing", "refund", {"amount": event.amount})
    raise NotForThisConsumer(f"billing does not handle {event.event_type.value}")


def notification(event: OrderEvent) -> Effect:
    verb = event.event_type.value.removeprefix("order_")
    return Effect("notification", "notify", {"subject": f"Order {event.order_id} {verb}"})


def vip_notify(event: OrderEvent) -> Effect:
    return Effect("vip_notify", "notify_vip_desk", {"amount": event.amount})


def fraud_check(event: OrderEvent) -> Effect:
    units = sum(item.quantity for item in event.items)
    reasons = []
    if event.amount >= REVIEW_AMOUNT:
        reasons.append(f"amount >= {REVIEW_AMOUNT}")
    if units >= REVIEW_UNITS:
        reasons.append(f"units >= {REVIEW_UNITS}")
    verdict = "review" if reasons else "clear"
    return Effect("fraud_check", verdict, {"amount": event.amount, "units": units, "reasons": reasons})


#: consumer name -> what it does.
EFFECTS = {
    "inventory": inventory,
    "billing": billing,
    "notification": notification,
    "vip_notify": vip_notify,
    "fraud_check": fraud_check,
}
