"""``sagawatch demo member_merge``: the member merge saga (名寄せ), over the wire.

Creates customers through ``POST /customers``, merges one pair (the loser's
support and commerce records go, the target keeps one of each), then merges a
second pair with a fault past the point of no return: the saga stops in
MANUAL_INTERVENTION with a runbook, and resuming it (what ``sagawatch saga
resume ID`` does) finishes the merge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from instrumented_app.saas_clients import SaasEndpoints
from sagawatch.stack_info import StackInfo

LOG_GROUP = "/aws/lambda/sw-member-merge"


def _customer(http: httpx.Client, cust_no: str, say: Callable[[str], None]) -> bool:
    body = {
        "cust_no": cust_no,
        "name": {"family": "Demo", "given": cust_no},
        "email": f"{cust_no}@example.com",
    }
    made = http.post("/customers", json=body)
    say(f"POST /customers {cust_no} -> {made.status_code}")
    return made.status_code == 201


def _merge(http: httpx.Client, target: str, loser: str, faults: dict[str, Any] | None) -> httpx.Response:
    body: dict[str, Any] = {"target": target, "merge": [loser]}
    if faults:
        body["faults"] = faults
    return http.post("/members/merge", json=body)


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    tag = uuid.uuid4().hex[:6].upper()
    correlation_id = f"demo-merge-{uuid.uuid4().hex[:12]}"
    say(
        f"correlation id {correlation_id}; logs in {LOG_GROUP};"
        " sagas: sagawatch saga list --type member_merge"
    )
    with httpx.Client(base_url=stack.api_endpoint, timeout=60, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        a, b, c, d = (f"DM{tag}{n}" for n in "ABCD")
        if not all(_customer(http, cust_no, say) for cust_no in (a, b, c, d)):
            return False
        merged = _merge(http, a, b, None)
        body = merged.json()
        say(
            f"POST /members/merge {b} -> {a}: {merged.status_code} {body.get('status')}"
            f" saga {body.get('saga_id')}"
        )
        if merged.status_code != 200:
            return False

        stopped = _merge(http, c, d, {"fail_at": "commerce_losers"})
        body = stopped.json()
        saga_id = str(body.get("saga_id"))
        say(
            f"POST /members/merge {d} -> {c} with a fault at commerce_losers: {stopped.status_code}"
            f" {body.get('status')} saga {saga_id}"
        )
        runbook = body.get("runbook") or {}
        for step in runbook.get("done", []):
            say(f"  done:      {step['step']}")
        for step in runbook.get("remaining", []):
            say(f"  remaining: {step['step']} ({step['status']})")
        for purpose, commands in runbook.get("commands", {}).items():
            for command in commands:
                say(f"  {purpose}: {command}")
        if body.get("status") != "MANUAL_INTERVENTION":
            return False
    return _resume(stack, saga_id, say)


def _resume(stack: StackInfo, saga_id: str, say: Callable[[str], None]) -> bool:
    """What ``sagawatch saga resume ID`` does, in this process."""
    from instrumented_app.sagas.runner import open_runner

    endpoints = SaasEndpoints(
        support_url=stack.saas["support"],
        commerce_url=stack.saas["commerce"],
        membership_url=stack.saas["membership"],
    )
    runner = open_runner(stack.aurora_url, endpoints, crash_after="")
    try:
        record = runner.resume(saga_id)
    finally:
        runner.close()
    say(f"sagawatch saga resume {saga_id} -> {record.state.status.value}")
    return record.state.status.value == "SUCCEEDED"
