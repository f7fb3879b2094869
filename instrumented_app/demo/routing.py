"""``sagawatch demo routing``: EventBridge sends only large placed orders to VIP notify and fraud check.

Publishes a small and a large placed order through ``POST /orders/events``;
both are fanned out as usual, but only the large one (``amount >= 10000``)
matches the VIP rule and reaches the two targets (SQS queues feeding the
``sw-vip-notify`` and ``sw-fraud-check`` functions).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
from tenacity import RetryError

from instrumented_app.demo.fanout import CONSUME_S, QUIET_S, consumers, describe, publish, wait_for_effects
from sagawatch.stack_info import StackInfo

ROUTED = ("fraud_check", "vip_notify")


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    small, large = f"demo-{uuid.uuid4().hex[:10]}", f"demo-{uuid.uuid4().hex[:10]}"
    correlation_id = f"demo-routing-{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=stack.api_endpoint, timeout=15, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        say(f"correlation id {correlation_id}; small order {small}, large order {large}")
        if publish(http, say, order_id=small, event_type="order_placed", amount=3000) is None:
            return False
        if publish(http, say, order_id=large, event_type="order_placed", amount=25000) is None:
            return False
        try:
            effects = wait_for_effects(http, large, ROUTED)
            wait_for_effects(http, small, ("notification",))
        except RetryError:
            say(f"the rule's targets did not record the large order within {CONSUME_S:.0f} s")
            return False
        say(f"large order {large} reached the rule's targets:")
        describe(say, [e for e in effects if e["consumer"] in ROUTED])
        time.sleep(QUIET_S)
        small_reached = consumers(http, small, "order_placed")
    say(f"small order {small} reached {sorted(small_reached)}: the rule (amount >= 10000) did not match it")
    say(
        "rule: sw-vip-orders on the default bus; targets sw-vip-notify and sw-fraud-check (queues, -dlq each)"
    )
    say("logs: /aws/lambda/sw-vip-notify, /aws/lambda/sw-fraud-check")
    say(f"trace: sagawatch trace {correlation_id}")
    return not small_reached & set(ROUTED)
