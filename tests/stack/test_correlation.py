"""One request's correlation id, followed everywhere it went (issue 3), on the running stack.

For a customer created through ``POST /api/async`` (API function -> SQS ->
worker -> saga -> three SaaS) and one through ``POST /customers``: the id is
in the response header, on every JSON log line of every invocation that
served it, on every span of its traces (the worker's trace linked to the
API's), on the SQS message the worker received, on the saga row, and on each
SaaS's record of the write.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from sagawatch.aws import aws_session
from tests.polling import eventually
from tests.stack.conftest import RunningStack, module_stack

pytestmark = pytest.mark.slow


stack = module_stack("correlation", start_timeout_s=90, stop_timeout_s=90)


def customer(cust_no: str) -> dict[str, Any]:
    digits = int(uuid.uuid5(uuid.NAMESPACE_DNS, cust_no).int) % 10**8
    return {
        "name": {"family": "Ito", "given": "Aoi"},
        "email": f"{cust_no.lower()}@example.com",
        "phone": f"+8180{digits:08d}",
    }


def invocation_lines(stack: RunningStack, function: str, correlation_id: str) -> list[dict[str, Any]]:
    """Every JSON log line of every invocation of ``function`` that logged ``correlation_id``."""
    aws = str(stack.info["aws_endpoint"])
    logs = aws_session(str(stack.info["region"]), aws).client("logs", endpoint_url=aws)
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{function}")
    lines = [
        json.loads(e["message"]) for page in pages for e in page["events"] if e["message"].startswith("{")
    ]
    requests = {line.get("function_request_id") for line in lines if correlation_id in json.dumps(line)}
    return [line for line in lines if line.get("function_request_id") in requests]


def spans_of_traces(stack: RunningStack, correlation_id: str) -> list[dict[str, Any]]:
    """Every span of every trace that has a span carrying ``correlation_id``."""
    with psycopg.connect(str(stack.info["audit_url"])) as conn:
        rows = conn.execute(
            """
            SELECT trace_id, name, correlation_id, links FROM spans
            WHERE trace_id IN (SELECT trace_id FROM spans WHERE correlation_id = %s)
            """,
            (correlation_id,),
        ).fetchall()
    return [{"trace_id": r[0], "name": r[1], "correlation_id": r[2], "links": r[3] or []} for r in rows]


def check_saas_writes(stack: RunningStack, correlation_id: str, http: httpx.Client) -> None:
    for name, url in stack.saas_urls().items():
        writes = http.get(f"{url}/_admin/writes", params={"correlation_id": correlation_id}).json()["writes"]
        assert [(w["method"], w["status"]) for w in writes] == [("POST", 201)], (name, writes)
        assert writes[0]["correlation_id"] == correlation_id


def check_saga_row(stack: RunningStack, saga_id: str, correlation_id: str) -> None:
    with psycopg.connect(str(stack.info["aurora_url"])) as conn:
        row = conn.execute("SELECT status, correlation_id FROM saga WHERE id = %s", (saga_id,)).fetchone()
    assert row == ("SUCCEEDED", correlation_id)


def check_logs(stack: RunningStack, function: str, correlation_id: str, at_least: int) -> None:
    def enough() -> list[dict[str, Any]] | None:
        found = invocation_lines(stack, function, correlation_id)
        return found if len(found) >= at_least else None

    lines = eventually(enough, 30, f"{at_least} log lines of {function}")
    assert {line.get("correlation_id") for line in lines} == {correlation_id}, [
        line["message"] for line in lines if line.get("correlation_id") != correlation_id
    ]


def check_spans(stack: RunningStack, correlation_id: str, wanted: set[str]) -> list[dict[str, Any]]:
    def all_there() -> list[dict[str, Any]] | None:
        found = spans_of_traces(stack, correlation_id)
        return found if wanted <= {s["name"] for s in found} else None

    spans: list[dict[str, Any]] = eventually(all_there, 30, f"spans {sorted(wanted)}")
    unmarked = sorted({s["name"] for s in spans if s["correlation_id"] != correlation_id})
    assert unmarked == [], f"spans of the trace without the correlation id: {unmarked}"
    return spans


def test_an_async_customer_carries_its_correlation_id_through_queue_worker_saga_and_saas(
    stack: RunningStack,
) -> None:
    correlation_id = f"corr-async-{uuid.uuid4().hex[:8]}"
    api = str(stack.info["api_endpoint"])
    body = {"kind": "create_customer", "cust_no": "CORRA1", "payload": customer("CORRA1")}
    with httpx.Client(timeout=30, trust_env=False) as http:
        accepted = http.post(f"{api}/api/async", json=body, headers={"X-Correlation-Id": correlation_id})
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["x-correlation-id"] == correlation_id
        job_url = f"{api}/jobs/{accepted.json()['job_id']}"
        job = eventually(
            lambda: (j := http.get(job_url).json())["status"] in {"SUCCEEDED", "FAILED"} and j, 60, "job end"
        )
        assert (job["status"], job["correlation_id"]) == ("SUCCEEDED", correlation_id), job
        check_saas_writes(stack, correlation_id, http)
    check_saga_row(stack, job["result"]["saga_id"], correlation_id)
    check_logs(stack, "sw-async-api", correlation_id, at_least=1)
    check_logs(stack, "sw-async-worker", correlation_id, at_least=5)  # job running, a line per step, ...

    spans = check_spans(
        stack,
        correlation_id,
        wanted={
            "POST /api/async",
            "SQS.SendMessage",
            "process sw-async-jobs",
            "membership create_member",
            "POST",
        },
    )
    # The message the worker received carried the id in its attributes: the worker's batch span links to
    # the sending trace with the correlation id the runtime read from each record's message attributes.
    api_traces = {s["trace_id"] for s in spans if s["name"] == "POST /api/async"}
    (batch,) = [s for s in spans if s["name"] == "process sw-async-jobs"]
    assert [
        (link["trace_id"], link["attributes"].get("correlation_id"))
        for link in batch["links"]
        if link["trace_id"] in api_traces
    ] == [(next(iter(api_traces)), correlation_id)]


def test_a_direct_customer_carries_its_correlation_id_through_the_function_saga_and_saas(
    stack: RunningStack,
) -> None:
    correlation_id = f"corr-direct-{uuid.uuid4().hex[:8]}"
    api = str(stack.info["api_endpoint"])
    with httpx.Client(timeout=30, trust_env=False) as http:
        created = http.post(
            f"{api}/customers",
            json={"cust_no": "CORRD1", **customer("CORRD1")},
            headers={"X-Correlation-Id": correlation_id},
        )
        assert created.status_code == 201, created.text
        assert created.headers["x-correlation-id"] == correlation_id
        check_saas_writes(stack, correlation_id, http)
    check_saga_row(stack, created.json()["saga_id"], correlation_id)
    check_logs(stack, "sw-customers", correlation_id, at_least=5)
    check_spans(
        stack, correlation_id, wanted={"support create_user", "commerce create_customer", "GET", "POST"}
    )
