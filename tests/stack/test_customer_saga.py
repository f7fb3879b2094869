"""The customer saga through the running stack (``sagawatch up`` as a process), as a client and an
operator see it: API answers, saga rows, each SaaS simulator's records and write log, the CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from instrumented_app.saas_clients import SaasEndpoints
from instrumented_app.sagas import SimulatedCrash
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.runner import open_runner
from sagawatch.aws import aws_session
from tests.stack.conftest import REPO, SAGAWATCH, RunningStack, module_stack
from tests.stack.saas_records import live_records

pytestmark = pytest.mark.slow


stack = module_stack("customer-saga", start_timeout_s=90)


def info(stack: RunningStack, key: str) -> Any:
    return stack.info[key]


def body(cust_no: str | None, email: str) -> dict[str, Any]:
    """A valid body; the phone differs per email, since commerce keeps phone numbers unique."""
    digits = int(hashlib.sha256(email.encode()).hexdigest(), 16) % 10**8
    data: dict[str, Any] = {
        "name": {"family": "Sato", "given": "Hana"},
        "email": email,
        "phone": f"+8190{digits:08d}",
    }
    if cust_no is not None:
        data["cust_no"] = cust_no
    return data


def post_customer(stack: RunningStack, data: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(f"{info(stack, 'api_endpoint')}/customers", json=data, headers=headers, timeout=60)


def sagas_for(stack: RunningStack, column: str, value: str) -> list[tuple[str, str]]:
    with psycopg.connect(info(stack, "aurora_url")) as conn:
        rows = conn.execute(
            f"SELECT id, status FROM saga WHERE {column} = %s",
            (value,),  # column is a literal below
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def by_cust_no(stack: RunningStack, cust_no: str) -> list[tuple[str, str]]:
    with psycopg.connect(info(stack, "aurora_url")) as conn:
        rows = conn.execute(
            "SELECT id, status FROM saga WHERE payload->>'cust_no' = %s", (cust_no,)
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def invocations(stack: RunningStack) -> int:
    """How many times sw-customers ran, by the runtime's START lines in CloudWatch Logs."""
    logs = aws_session(str(info(stack, "region")), str(info(stack, "aws_endpoint"))).client(
        "logs", endpoint_url=str(info(stack, "aws_endpoint"))
    )
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName="/aws/lambda/sw-customers")
    return sum(1 for page in pages for event in page["events"] if event["message"].startswith("START "))


def settled_invocations(stack: RunningStack, timeout_s: float = 10) -> int:
    """The invocation count once earlier invocations' lines have all been shipped (stable for 1 s)."""
    deadline = time.monotonic() + timeout_s
    count = invocations(stack)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        again = invocations(stack)
        if again == count:
            return count
        count = again
    raise AssertionError(f"the invocation count kept changing for {timeout_s} s")


def log_lines(
    stack: RunningStack, correlation_id: str, *, at_least: int, timeout_s: float = 20
) -> list[dict[str, Any]]:
    """The function's JSON log lines for one correlation id, once CloudWatch Logs (moto) holds enough."""
    logs = aws_session(str(info(stack, "region")), str(info(stack, "aws_endpoint"))).client(
        "logs", endpoint_url=str(info(stack, "aws_endpoint"))
    )
    deadline = time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName="/aws/lambda/sw-customers")
        messages = [event["message"] for page in pages for event in page["events"]]
        found = [json.loads(m) for m in messages if m.startswith("{") and correlation_id in m]
        if len(found) >= at_least:
            return found
        time.sleep(0.3)
    raise AssertionError(f"only {len(found)} log lines for {correlation_id} within {timeout_s} s")


def span_names(
    stack: RunningStack, correlation_id: str, *, wanted: set[str], timeout_s: float = 20
) -> set[str]:
    """Names of the spans in the audit store carrying ``correlation_id``, once ``wanted`` are all there."""
    deadline = time.monotonic() + timeout_s
    names: set[str] = set()
    while time.monotonic() < deadline:
        with psycopg.connect(info(stack, "audit_url")) as conn:
            rows = conn.execute(
                "SELECT name FROM spans WHERE correlation_id = %s", (correlation_id,)
            ).fetchall()
        names = {row[0] for row in rows}
        if wanted <= names:
            return names
        time.sleep(0.3)
    raise AssertionError(f"spans for {correlation_id}: missing {sorted(wanted - names)} after {timeout_s} s")


def sagawatch(stack: RunningStack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SAGAWATCH, "saga", *args],
        cwd=REPO,
        env={**stack.env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_customer_is_created_everywhere_once_and_a_replay_starts_nothing(stack: RunningStack) -> None:
    correlation_id = f"it-{uuid.uuid4().hex[:8]}"
    headers = {"X-Correlation-Id": correlation_id, "Idempotency-Key": f"key-{correlation_id}"}
    first = post_customer(stack, body("S0001", "s1@example.com"), **headers)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["status"] == "SUCCEEDED"
    assert answer["correlation_id"] == correlation_id
    assert first.headers["x-correlation-id"] == correlation_id
    assert live_records(stack.saas_urls(), "S0001") == {"support": 1, "commerce": 1, "membership": 1}
    for url in stack.saas_urls().values():
        writes = httpx.get(f"{url}/_admin/writes", params={"correlation_id": correlation_id}).json()["writes"]
        assert len(writes) == 1 and writes[0]["status"] == 201, writes

    lines = log_lines(stack, correlation_id, at_least=2)
    assert all(line["correlation_id"] == correlation_id for line in lines)
    saga_lines = [line for line in lines if line.get("saga_id") == answer["saga_id"]]
    assert saga_lines and all(line["saga_type"] == "customer" and line["saga_step"] for line in saga_lines)
    assert not any("s1@example.com" in json.dumps(line) for line in lines)  # PII stays masked

    replay = post_customer(stack, body("S0001", "s1@example.com"), **headers)
    assert replay.status_code == 201
    assert replay.json()["saga_id"] == answer["saga_id"]
    span_names(
        stack,
        correlation_id,
        wanted={"saga customer support_user do", "support create_user", "saga customer membership do"},
    )

    reused = post_customer(stack, body("S0001", "other@example.com"), **headers)
    assert reused.status_code == 422, reused.text
    assert "Idempotency-Key" in reused.json()["message"]
    assert by_cust_no(stack, "S0001") == [(answer["saga_id"], "SUCCEEDED")]

    shown = httpx.get(f"{info(stack, 'api_endpoint')}/sagas/{answer['saga_id']}")
    assert shown.status_code == 200
    steps = shown.json()["steps"]
    assert [s["name"] for s in steps] == [
        "aurora_customer",
        "support_user",
        "commerce_customer",
        "membership",
        "activate",
    ]
    assert {s["status"] for s in steps} == {"SUCCEEDED"}
    assert httpx.get(f"{info(stack, 'api_endpoint')}/sagas/no-such-saga").status_code == 404


def test_the_gatekeeper_refuses_a_body_without_cust_no_before_the_lambda(stack: RunningStack) -> None:
    correlation_id = f"gk-{uuid.uuid4().hex[:8]}"
    before = settled_invocations(stack)
    missing = post_customer(stack, body(None, "gk@example.com"), **{"X-Correlation-Id": correlation_id})
    malformed = post_customer(
        stack, body("bad cust no!", "gk@example.com"), **{"X-Correlation-Id": correlation_id}
    )
    assert missing.status_code == 400, missing.text
    assert "cust_no" in missing.text
    assert malformed.status_code == 400, malformed.text
    assert "cust_no" in malformed.text
    assert sagas_for(stack, "correlation_id", correlation_id) == []
    # One request that does reach the function (a 404 for an unknown saga): once its START line has
    # been shipped, the count shows that it was the only invocation since the two refusals.
    assert httpx.get(f"{info(stack, 'api_endpoint')}/sagas/unknown").status_code == 404
    deadline = time.monotonic() + 20
    while invocations(stack) < before + 1 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert invocations(stack) == before + 1


def test_commerce_down_compensates_and_names_the_failing_step(stack: RunningStack) -> None:
    urls = stack.saas_urls()
    httpx.put(f"{urls['commerce']}/_admin/faults", json={"error_rate": 1.0, "seed": 7}).raise_for_status()
    try:
        response = post_customer(stack, body("S0002", "s2@example.com"))
    finally:
        httpx.put(f"{urls['commerce']}/_admin/faults", json={}).raise_for_status()
    assert response.status_code == 502, response.text
    answer = response.json()
    errors = [
        line for line in log_lines(stack, answer["correlation_id"], at_least=1) if line["level"] == "ERROR"
    ]
    assert [line["error_code"] for line in errors] == ["SAAS_UNAVAILABLE"]
    assert errors[0]["saga_id"] == answer["saga_id"]
    assert answer["status"] == "COMPENSATED"
    assert answer["failed_step"] == "commerce_customer"
    assert live_records(stack.saas_urls(), "S0002") == {"support": 0, "commerce": 0, "membership": 0}
    support_users = httpx.get(
        f"{urls['support']}/api/v2/users/show_many.json", params={"external_ids": "S0002"}
    ).json()["users"]
    assert [user["active"] for user in support_users] == [False]  # created, then deleted
    with psycopg.connect(info(stack, "aurora_url")) as conn:
        row = conn.execute("SELECT status FROM customer WHERE cust_no = 'S0002'").fetchone()
    assert row == ("DELETED",)


def test_a_crashed_saga_is_found_stuck_and_resumed_by_the_cli(stack: RunningStack) -> None:
    urls = stack.saas_urls()
    endpoints = SaasEndpoints(
        support_url=urls["support"], commerce_url=urls["commerce"], membership_url=urls["membership"]
    )
    crashing = open_runner(info(stack, "aurora_url"), endpoints, crash_after="support_user")
    customer = NewCustomer.model_validate(body("S0003", "s3@example.com"))
    try:
        with pytest.raises(SimulatedCrash):
            crashing.start_customer(customer, correlation_id="crash-1", saga_id="crash-saga-1")
    finally:
        crashing.close()
    assert live_records(stack.saas_urls(), "S0003") == {"support": 1, "commerce": 0, "membership": 0}

    listed = sagawatch(stack, "list", "--stuck", "--json", SAGAWATCH_STUCK_THRESHOLDS_S='{"customer": 0}')
    assert listed.returncode == 0, listed.stderr
    assert "crash-saga-1" in [saga["id"] for saga in json.loads(listed.stdout)]

    resumed = sagawatch(stack, "resume", "crash-saga-1")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "RUNNING -> SUCCEEDED" in resumed.stdout, resumed.stdout
    assert live_records(stack.saas_urls(), "S0003") == {"support": 1, "commerce": 1, "membership": 1}

    shown = sagawatch(stack, "show", "crash-saga-1", "--json")
    assert json.loads(shown.stdout)["state"]["attempts"] == 2
    still_stuck = sagawatch(
        stack, "list", "--stuck", "--json", SAGAWATCH_STUCK_THRESHOLDS_S='{"customer": 0}'
    )
    assert "crash-saga-1" not in still_stuck.stdout
