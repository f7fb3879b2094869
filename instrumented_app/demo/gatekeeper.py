"""``sagawatch demo gatekeeper``: bad requests stopped at the API front, before any Lambda runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from instrumented_app.demo.customer_saga import customer
from sagawatch.aws import aws_session
from sagawatch.stack_info import StackInfo

FUNCTION = "sw-customers"
LOG_GROUP = f"/aws/lambda/{FUNCTION}"
#: Longer than the runtime's log shipping delay, so a line written by an invocation would be there.
SHIPPING_S = 1.5

CASES: tuple[tuple[str, dict[str, object]], ...] = (
    ("no cust_no", {k: v for k, v in customer("G0001").items() if k != "cust_no"}),
    ("cust_no malformed", {**customer("G0001"), "cust_no": "not valid!"}),
    ("body not an object", {"customers": []}),
)


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    logs = aws_session(stack.region, stack.aws_endpoint).client("logs", endpoint_url=stack.aws_endpoint)
    before = _invocations(logs)
    ok = True
    with httpx.Client(base_url=stack.api_endpoint, timeout=30, trust_env=False) as http:
        for label, body in CASES:
            answer = http.post("/customers", json=body)
            fields = [error.get("field") for error in answer.json().get("errors", [])]
            say(f"POST /customers ({label}) -> {answer.status_code} {answer.json().get('message')} {fields}")
            ok = ok and answer.status_code == 400
    time.sleep(SHIPPING_S)
    after = _invocations(logs)
    say(f"invocations of {FUNCTION} meanwhile (START lines in {LOG_GROUP}): {after - before}")
    return ok and after == before


def _invocations(logs: Any) -> int:
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=LOG_GROUP)
        return sum(1 for page in pages for event in page["events"] if event["message"].startswith("START "))
    except logs.exceptions.ResourceNotFoundException:
        return 0
