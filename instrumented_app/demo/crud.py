"""``sagawatch demo crud``: the ``/items`` API over the wire, every answer a client can get.

Creates three items in a fresh category, reads one, lists them two per page,
updates one, shows a stale write refused (409), deletes it and shows the 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from sagawatch.stack_info import StackInfo

FUNCTION_LOG_GROUP = "/aws/lambda/sw-items"


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    category = f"demo-{uuid.uuid4().hex[:8]}"
    correlation_id = f"demo-crud-{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=stack.api_endpoint, timeout=15, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        say(f"correlation id {correlation_id}; category {category}")
        ids = []
        for n, price in enumerate(("4.99", "12.50", "100.00")):
            made = http.post(
                "/items", json={"name": f"demo {n}", "category": category, "price": price, "quantity": n}
            )
            if made.status_code != 201:
                say(f"POST /items answered {made.status_code}: {made.text}")
                return False
            ids.append(made.json()["item_id"])
            say(f"POST /items -> 201 {made.headers['location']} (price {made.json()['price']}, version 1)")
        listed = _list_all(http, category, say)
        if listed != ids:
            say(f"the listing gave {listed}, expected {ids} in creation order")
            return False
        target = f"/items/{ids[0]}"
        updated = http.put(target, json={"version": 1, "quantity": 9})
        say(
            f"PUT {target} at version 1 -> {updated.status_code} "
            f"(now version {updated.json().get('version')})"
        )
        stale = http.put(target, json={"version": 1, "quantity": 1})
        body: dict[str, Any] = stale.json()
        say(
            f"PUT {target} at version 1 again -> {stale.status_code}: expected_version "
            f"{body.get('expected_version')}, current_version {body.get('current_version')}"
        )
        deleted = http.delete(target)
        missing = http.get(target)
        say(
            f"DELETE {target} -> {deleted.status_code}; "
            f"GET -> {missing.status_code} {missing.json().get('message')}"
        )
        bad = http.post("/items", json={"name": "x", "category": category, "price": "1.999"})
        fields = [error["field"] for error in bad.json().get("errors", [])]
        say(f"POST /items with a price of 3 decimals -> {bad.status_code} naming {fields}")
    say(f"logs: CloudWatch Logs {FUNCTION_LOG_GROUP}, lines with correlation_id {correlation_id}")
    return (
        updated.status_code == 200
        and stale.status_code == 409
        and body.get("current_version") == 2
        and deleted.status_code == 204
        and missing.status_code == 404
        and bad.status_code == 400
        and fields == ["price"]
    )


def _list_all(http: httpx.Client, category: str, say: Callable[[str], None]) -> list[str]:
    """Every item of the category, two per page, following ``next_token`` (at most 10 pages)."""
    found: list[str] = []
    token: str | None = None
    for page_number in range(1, 11):
        params = {"category": category, "limit": "2", **({"next_token": token} if token else {})}
        page = http.get("/items", params=params).json()
        found += [item["item_id"] for item in page.get("items", [])]
        token = page.get("next_token")
        say(f"GET /items?category={category}&limit=2 page {page_number}: {len(page.get('items', []))} items")
        if not token:
            break
    return found
