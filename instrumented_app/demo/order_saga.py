"""``sagawatch demo order_saga``: the order saga on Step Functions, over the wire.

Places an order that succeeds (its payment fails once with a TransientError and
the ASL retries it), repeats the request (no second execution), places one that
fails at ArrangeShipping (compensated: refund, reservation cancelled), then
redrives it from its failed step and shows it completed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from instrumented_app.orders.redrive import redrive
from sagawatch.aws import aws_session
from sagawatch.stack_info import StackInfo

LOG_GROUPS = "/aws/lambda/sw-orders, /aws/lambda/sw-order-*"
#: How long an execution may take before the demo gives up on it.
WAIT_S = 60.0


def _order(order_id: str, faults: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "cust_no": "DEMO001",
        "lines": [{"sku": "SKU-1", "qty": 2}],
        "amount": 4200,
    }
    return {**body, "faults": faults} if faults else body


def _settled(http: httpx.Client, order_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    shown: dict[str, Any] = {}
    while time.monotonic() < deadline:
        shown = http.get(f"/orders/{order_id}").json()
        if shown.get("status") not in (None, "RUNNING"):
            break
        time.sleep(0.5)
    return shown


def _tasks(shown: dict[str, Any]) -> str:
    return ", ".join(f"{task} {info['status']}" for task, info in shown.get("tasks", {}).items())


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    correlation_id = f"demo-order-{uuid.uuid4().hex[:12]}"
    good, bad = f"demo-{uuid.uuid4().hex[:8]}", f"demo-{uuid.uuid4().hex[:8]}"
    say(f"correlation id {correlation_id}; logs in {LOG_GROUPS}; spans: sagawatch trace {correlation_id}")
    with httpx.Client(base_url=stack.api_endpoint, timeout=30, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        first = http.post("/orders", json=_order(good, {"transient": {"ProcessPayment": 1}}))
        say(f"POST /orders {good} -> {first.status_code} execution {first.json().get('execution_arn')}")
        again = http.post("/orders", json=_order(good, {"transient": {"ProcessPayment": 1}}))
        say(f"POST /orders {good} again -> {again.status_code} duplicate={again.json().get('duplicate')}")
        shown = _settled(http, good)
        say(f"order {good}: {shown.get('status')} ({_tasks(shown)}); ProcessPayment was retried once")
        if first.status_code != 202 or again.status_code != 200 or shown.get("status") != "SUCCEEDED":
            return False

        failing = http.post("/orders", json=_order(bad, {"fail": {"ArrangeShipping": 1}}))
        arn = str(failing.json().get("execution_arn"))
        failed = _settled(http, bad)
        say(f"order {bad} failing at ArrangeShipping: {failed.get('status')} ({_tasks(failed)})")
        compensated = {t: i["status"] for t, i in failed.get("tasks", {}).items()}
        if failed.get("status") != "FAILED" or compensated.get("ProcessPayment") != "COMPENSATED":
            return False

        sfn = aws_session(stack.region, stack.aws_endpoint).client(
            "stepfunctions", endpoint_url=stack.aws_endpoint
        )
        outcome = redrive(sfn, arn)
        say(f"sagawatch saga redrive {arn}: by {outcome.method} from {outcome.resume_from}")
        redone = _settled(http, bad)
        say(f"order {bad} after the redrive: {redone.get('status')} ({_tasks(redone)})")
        return redone.get("status") == "SUCCEEDED"
