"""``sagawatch demo queue_worker``: 202 at once, the job through SQS and the worker, its status polled."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from sagawatch.stack_info import StackInfo

TERMINAL = {"SUCCEEDED", "FAILED"}


def run(stack: StackInfo, say: Callable[[str], None], wait_s: float = 60.0) -> bool:
    cust_no = f"Q{uuid.uuid4().hex[:7].upper()}"
    with httpx.Client(base_url=stack.api_endpoint, timeout=30, trust_env=False) as http:
        accepted = http.post(
            "/api/async",
            json={"kind": "sync_member", "cust_no": cust_no, "payload": {"full_name": "Hanako Yamada"}},
        )
        body = accepted.json()
        say(f"POST /api/async -> {accepted.status_code} job {body.get('job_id')} {body.get('status')}")
        if accepted.status_code != 202:
            return False
        deadline = time.monotonic() + wait_s
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            status = http.get(str(body["status_url"])).json()
            if status.get("status") in TERMINAL:
                break
            time.sleep(0.5)
        say(
            f"GET {body['status_url']} -> {status.get('status')}, retries {status.get('retry_count')},"
            f" last error {status.get('last_error')}"
        )
    say("sagawatch jobs dlq lists what failed for good; sagawatch jobs redrive brings it back")
    return status.get("status") == "SUCCEEDED"
