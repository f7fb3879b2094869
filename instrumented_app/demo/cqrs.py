"""``sagawatch demo cqrs``: writes on ``/items`` reach the read model through the table's stream.

Creates two items in a fresh category, moves one to a second category and
deletes the other, then reads both categories' summaries (``GET
/categories/{category}``) until they show the outcome, with the lag the
projection measured.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from sagawatch.stack_info import StackInfo

#: How long the read model may take to catch up before the demo calls it a failure.
CATCH_UP_S = 30.0


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    first, second = f"demo-{uuid.uuid4().hex[:8]}", f"demo-{uuid.uuid4().hex[:8]}"
    correlation_id = f"demo-cqrs-{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=stack.api_endpoint, timeout=15, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        say(f"correlation id {correlation_id}; categories {first} and {second}")
        ids = []
        for quantity in (3, 5):
            made = http.post(
                "/items", json={"name": "demo", "category": first, "price": "2.50", "quantity": quantity}
            )
            if made.status_code != 201:
                say(f"POST /items answered {made.status_code}: {made.text}")
                return False
            ids.append(made.json()["item_id"])
        moved = http.put(f"/items/{ids[0]}", json={"version": 1, "category": second})
        deleted = http.delete(f"/items/{ids[1]}")
        say(
            f"wrote: 2 inserts into {first}, a move to {second} ({moved.status_code}), "
            f"a delete ({deleted.status_code})"
        )
        try:
            emptied = _wait_for_summary(http, first, item_count=0)
            filled = _wait_for_summary(http, second, item_count=1)
        except RetryError:
            say(f"the read model did not catch up within {CATCH_UP_S:.0f} s")
            return False
    for category, summary in ((first, emptied), (second, filled)):
        say(
            f"GET /categories/{category}: {summary['item_count']} items, "
            f"quantity {summary['total_quantity']}, value {summary['total_value']}, "
            f"last write projected {summary['last_lag_ms']} ms after it was made"
        )
    say("lag per change: EMF metric ProjectionLag (namespace sagawatch, ms) of sw-items-projection")
    say("logs: CloudWatch Logs /aws/lambda/sw-items-projection, 'item change projected' lines with lag_ms")
    return filled["total_quantity"] == 3 and emptied["total_quantity"] == 0


def _wait_for_summary(http: httpx.Client, category: str, *, item_count: int) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        answer = http.get(f"/categories/{category}")
        body: dict[str, Any] = answer.json()
        return body if answer.status_code == 200 and body.get("item_count") == item_count else None

    retrying = Retrying(
        stop=stop_after_delay(CATCH_UP_S),
        wait=wait_fixed(0.2),
        retry=retry_if_result(lambda found: found is None),
    )
    summary: dict[str, Any] | None = retrying(read)
    assert summary is not None  # a None result is retried until the stop raises RetryError
    return summary
