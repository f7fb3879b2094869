"""``sagawatch demo fanout``: one order event, three consumers, each on its own queue.

Publishes a placed order through ``POST /orders/events`` (SNS with message
attributes), waits until inventory, billing and notification have each
recorded their effect (``GET /orders/events/{order_id}``), then publishes a
shipped event and shows billing's filter policy keeping it out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from sagawatch.stack_info import StackInfo

#: How long the consumers may take before the demo calls it a failure.
CONSUME_S = 30.0
#: After the others have it, how long to keep watching that a filtered-out consumer stays without it.
QUIET_S = 1.0
FANOUT = ("billing", "inventory", "notification")


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    order_id = f"demo-{uuid.uuid4().hex[:10]}"
    correlation_id = f"demo-fanout-{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=stack.api_endpoint, timeout=15, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        say(f"order {order_id}, correlation id {correlation_id}")
        placed = publish(http, say, order_id=order_id, event_type="order_placed", amount=4800)
        if placed is None:
            return False
        try:
            effects = wait_for_effects(http, order_id, FANOUT)
        except RetryError:
            say(f"not every consumer recorded order_placed within {CONSUME_S:.0f} s")
            return False
        describe(say, effects)
        shipped = publish(http, say, order_id=order_id, event_type="order_shipped", amount=4800)
        if shipped is None:
            return False
        try:
            wait_for_effects(http, order_id, ("inventory", "notification"), event_type="order_shipped")
        except RetryError:
            say(f"inventory and notification did not record order_shipped within {CONSUME_S:.0f} s")
            return False
        time.sleep(QUIET_S)
        shipped_to = consumers(http, order_id, "order_shipped")
    say(f"order_shipped reached {sorted(shipped_to)}; billing's filter policy (placed, refunded) kept it out")
    say("queues: sw-fanout-inventory, sw-fanout-billing, sw-fanout-notification (each with a -dlq)")
    say("logs: /aws/lambda/sw-order-events and /aws/lambda/sw-fanout-{inventory,billing,notification}")
    say(f"trace: sagawatch trace {correlation_id}")
    return set(shipped_to) == {"inventory", "notification"}


def publish(http: httpx.Client, say: Callable[[str], None], **event: Any) -> dict[str, Any] | None:
    """``POST /orders/events`` with one item; the answer, or None (said why) when it was not 202."""
    body = {**event, "items": [{"sku": "DEMO-SKU", "quantity": 2}]}
    answer = http.post("/orders/events", json=body)
    if answer.status_code != 202:
        say(f"POST /orders/events answered {answer.status_code}: {answer.text}")
        return None
    sent: dict[str, Any] = answer.json()
    say(
        f"POST /orders/events {event['event_type']} amount {event['amount']}: 202, "
        f"SNS message {sent['sns_message_id']}, EventBridge event {sent['eventbridge_event_id']}; "
        f"subscribers {sent['subscribers']}, routed to {sent['routed_to'] or 'no one'}"
    )
    return sent


def effects_of(http: httpx.Client, order_id: str) -> list[dict[str, Any]]:
    answer = http.get(f"/orders/events/{order_id}")
    return list(answer.json()["effects"]) if answer.status_code == 200 else []


def consumers(http: httpx.Client, order_id: str, event_type: str) -> set[str]:
    return {e["consumer"] for e in effects_of(http, order_id) if e["event_type"] == event_type}


def wait_for_effects(
    http: httpx.Client,
    order_id: str,
    wanted: Collection[str],
    *,
    event_type: str = "order_placed",
) -> list[dict[str, Any]]:
    """The order's effects of ``event_type`` once every ``wanted`` consumer has recorded its own;
    ``RetryError`` after ``CONSUME_S``."""

    def read() -> list[dict[str, Any]] | None:
        found = [e for e in effects_of(http, order_id) if e["event_type"] == event_type]
        return found if set(wanted) <= {e["consumer"] for e in found} else None

    retrying = Retrying(
        stop=stop_after_delay(CONSUME_S), wait=wait_fixed(0.2), retry=retry_if_result(lambda f: f is None)
    )
    effects: list[dict[str, Any]] | None = retrying(read)
    assert effects is not None  # a None result is retried until the stop raises RetryError
    return effects


def describe(say: Callable[[str], None], effects: list[dict[str, Any]]) -> None:
    for effect in sorted(effects, key=lambda e: str(e["consumer"])):
        say(
            f"  {effect['consumer']}: {effect['action']} {effect['details']} at {effect['recorded_at']} "
            f"(correlation id {effect['correlation_id']})"
        )
