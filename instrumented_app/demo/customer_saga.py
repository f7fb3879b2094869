"""``sagawatch demo customer_saga``: the orchestrated saga, once clean and once compensated.

Creates a customer (Aurora row, then support, commerce and membership), shows
its saga and steps, replays the request with the same Idempotency-Key, then
turns commerce's fault switch on for a second customer and shows the saga
compensating the steps it had done.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from sagawatch.stack_info import StackInfo


def customer(cust_no: str) -> dict[str, Any]:
    """A valid body; phones differ per customer (commerce keeps them unique)."""
    digits = int(hashlib.sha256(cust_no.encode()).hexdigest(), 16) % 10**8
    return {
        "cust_no": cust_no,
        "name": {"family": "Sato", "given": "Hana"},
        "email": f"{cust_no.lower()}@example.com",
        "phone": f"+8190{digits:08d}",
    }


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    suffix = uuid.uuid4().hex[:6].upper()
    with httpx.Client(base_url=stack.api_endpoint, timeout=60, trust_env=False) as http:
        ok = _clean(http, f"D{suffix}1", say)
        commerce = stack.saas.get("commerce")
        if commerce is None:
            say("no commerce simulator in stack.json: the compensation half is skipped")
            return False
        http.put(f"{commerce}/_admin/faults", json={"error_rate": 1.0, "seed": 1}).raise_for_status()
        try:
            ok = _compensated(http, f"D{suffix}2", say) and ok
        finally:
            http.put(f"{commerce}/_admin/faults", json={}).raise_for_status()
    return ok


def _clean(http: httpx.Client, cust_no: str, say: Callable[[str], None]) -> bool:
    key = f"demo-{uuid.uuid4().hex}"
    first = http.post("/customers", json=customer(cust_no), headers={"Idempotency-Key": key})
    answer = first.json()
    say(
        f"POST /customers {cust_no} -> {first.status_code}"
        f" saga {answer.get('saga_id')} {answer.get('status')}"
    )
    say(
        f"  correlation id {first.headers.get('x-correlation-id')} (sagawatch trace <id> shows its waterfall)"
    )
    saga = http.get(f"/sagas/{answer.get('saga_id')}").json()
    for step in saga.get("steps", []):
        say(f"  step {step.get('name')}: {step.get('status')}")
    replay = http.post("/customers", json=customer(cust_no), headers={"Idempotency-Key": key})
    say(
        f"same Idempotency-Key again -> {replay.status_code},"
        f" saga {replay.json().get('saga_id')} (no second saga)"
    )
    return (
        first.status_code == 201
        and answer.get("status") == "SUCCEEDED"
        and replay.json().get("saga_id") == answer.get("saga_id")
    )


def _compensated(http: httpx.Client, cust_no: str, say: Callable[[str], None]) -> bool:
    say("commerce now fails every call (fault switch)")
    response = http.post("/customers", json=customer(cust_no))
    answer = response.json()
    say(
        f"POST /customers {cust_no} -> {response.status_code} {answer.get('status')},"
        f" failing step {answer.get('failed_step')}"
    )
    saga = http.get(f"/sagas/{answer.get('saga_id')}").json()
    for step in saga.get("steps", []):
        say(f"  step {step.get('name')}: {step.get('status')}")
    return response.status_code == 502 and answer.get("status") == "COMPENSATED"
