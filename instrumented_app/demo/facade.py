"""``sagawatch demo facade``: one API front for every backend, and a route no backend serves.

``GET /health`` is a ``mock`` integration in the app template's API definition:
the API front answers it with a fixed JSON body and invokes nothing. The demo
calls it under one correlation id, then calls a Lambda-backed route
(``GET /diagnostics/ping``) under another as a control, waits until the
control's log line has reached CloudWatch Logs, and searches every function's
log group for both ids: the control's is there, the mock's is nowhere.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from sagawatch.aws import aws_session
from sagawatch.stack_info import StackInfo

MOCK_ROUTE = "/health"
CONTROL_ROUTE = "/diagnostics/ping"
CONTROL_FUNCTION = "sw-diagnostics"
#: What the template's mock integration answers.
EXPECTED = {"status": "ok", "api": "sagawatch-app-api", "backend": "none"}
CALLS = 3
#: How long the control's line may take to reach CloudWatch Logs (the runtime ships in the background).
SHIPPING_TIMEOUT_S = 20.0


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    mock_id, control_id = f"demo-mock-{uuid.uuid4().hex[:12]}", f"demo-ping-{uuid.uuid4().hex[:12]}"
    logs = aws_session(stack.region, stack.aws_endpoint).client("logs", endpoint_url=stack.aws_endpoint)
    ok = True
    with httpx.Client(base_url=stack.api_endpoint, timeout=15, trust_env=False) as http:
        for _ in range(CALLS):
            answer = http.get(MOCK_ROUTE, headers={"X-Correlation-Id": mock_id})
            ok = ok and answer.status_code == 200 and answer.json() == EXPECTED
        say(f"GET {MOCK_ROUTE} x{CALLS} (correlation id {mock_id}) -> {answer.status_code} {answer.text}")
        control = http.get(CONTROL_ROUTE, headers={"X-Correlation-Id": control_id})
        say(f"GET {CONTROL_ROUTE} (correlation id {control_id}) -> {control.status_code}, a Lambda route")
        ok = ok and control.status_code == 200
    found = _wait_for(logs, control_id)
    say(f"log lines with {control_id}: {_where(found)}")
    if not found:
        say(f"the control's line did not reach CloudWatch Logs within {SHIPPING_TIMEOUT_S:.0f} s")
        return False
    mocked = lines_with(logs, mock_id)
    say(f"log lines with {mock_id}: {_where(mocked)} (the mock integration ran no function)")
    say(f"template: AppApi DefinitionBody, paths {MOCK_ROUTE} get, x-amazon-apigateway-integration type mock")
    return ok and not mocked and CONTROL_FUNCTION in found


def lines_with(logs: Any, correlation_id: str) -> dict[str, int]:
    """Function name -> how many of its JSON log lines carry ``correlation_id``, over every function."""
    found: dict[str, int] = {}
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/"):
        for group in page["logGroups"]:
            name = group["logGroupName"]
            events = logs.get_paginator("filter_log_events").paginate(logGroupName=name)
            count = sum(
                1 for events_page in events for e in events_page["events"] if _carries(e, correlation_id)
            )
            if count:
                found[name.removeprefix("/aws/lambda/")] = count
    return found


def _carries(event: dict[str, Any], correlation_id: str) -> bool:
    message = str(event.get("message", ""))
    if correlation_id not in message or not message.startswith("{"):
        return False
    try:
        return bool(json.loads(message).get("correlation_id") == correlation_id)
    except ValueError:
        return False


def _wait_for(logs: Any, correlation_id: str) -> dict[str, int]:
    deadline = time.monotonic() + SHIPPING_TIMEOUT_S
    while True:
        found = lines_with(logs, correlation_id)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _where(found: dict[str, int]) -> str:
    return ", ".join(f"{n} in /aws/lambda/{name}" for name, n in sorted(found.items())) or "none"
