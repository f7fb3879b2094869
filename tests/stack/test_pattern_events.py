"""Fan-out, event routing and S3 thumbnails over the wire on the app template, and one order's trail
through every hop (API, SNS, the fan-out consumers, EventBridge targets, Step Functions tasks).

One in-process stack for the module: moto's server, the local runtime with
``instrumented_app/template.yaml``, and the OTLP receiver writing spans to an
audit store on a real PostgreSQL. What is asserted is what a client sees (HTTP
answers, ``GET /orders/events/{id}``, thumbnails in the bucket) and what an
operator sees (queues, CloudWatch Logs lines, spans by correlation id).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from PIL import Image
from psycopg import sql

from collectors.otlp.server import TraceReceiver
from instrumented_app.demo.thumbnails import RETRY_WINDOW_S
from instrumented_app.fanout.model import SLOW_FAULT_S
from instrumented_app.runtime.local import LocalRuntime
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations
from sagawatch.stack.aws import MotoServer
from sagawatch.stack_info import StackInfo
from tests.polling import eventually

pytestmark = pytest.mark.slow

REGION = "us-east-1"
FANOUT = ("inventory", "billing", "notification")
ROUTED = ("vip_notify", "fraud_check")
#: The order saga's task functions (Step Functions states), in the order a clean run calls them.
ORDER_TASKS = (
    "sw-order-reserve-inventory",
    "sw-order-process-payment",
    "sw-order-arrange-shipping",
    "sw-order-confirm",
)


class Stack:
    def __init__(self, runtime: LocalRuntime, aws_endpoint: str, audit_url: str, otlp: str) -> None:
        self.runtime = runtime
        self.audit_url = audit_url
        self.http = httpx.Client(base_url=runtime.main_api, timeout=15, trust_env=False)
        session = aws_session(REGION, aws_endpoint)
        self.logs: Any = session.client("logs", endpoint_url=aws_endpoint)
        self.sqs: Any = session.client("sqs", endpoint_url=aws_endpoint)
        self.s3: Any = session.client("s3", endpoint_url=aws_endpoint)
        self.info = StackInfo(
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(),
            region=REGION,
            aws_endpoint=aws_endpoint,
            api_endpoint=runtime.main_api,
            otlp_endpoint=otlp,
            aurora_url="",
            audit_url=audit_url,
        )

    def publish(self, correlation_id: str | None = None, **event: Any) -> dict[str, Any]:
        body = {"event_type": "order_placed", "amount": 1200, "items": [{"sku": "SKU-1", "quantity": 2}]}
        headers = {"X-Correlation-Id": correlation_id} if correlation_id else {}
        response = self.http.post("/orders/events", json={**body, **event}, headers=headers)
        assert response.status_code == 202, response.text
        return dict(response.json())

    def consumers_of(self, order_id: str) -> set[str]:
        response = self.http.get(f"/orders/events/{order_id}")
        if response.status_code == 404:
            return set()
        assert response.status_code == 200, response.text
        return {effect["consumer"] for effect in response.json()["effects"]}

    def log_lines(self, function_name: str) -> list[dict[str, Any]]:
        self.runtime.invoker.flush()
        pages = self.logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function_name}"
        )
        return [
            json.loads(event["message"])
            for page in pages
            for event in page["events"]
            if event["message"].startswith("{")
        ]

    def order_saga_ended(self, order_id: str) -> dict[str, Any] | None:
        """``GET /orders/{id}`` once its execution is no longer running."""
        response = self.http.get(f"/orders/{order_id}")
        if response.status_code != 200 or response.json()["status"] == "RUNNING":
            return None
        return dict(response.json())

    def queue_is_empty(self, name: str) -> bool:
        url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        counts = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return set(counts.values()) == {"0"}


@pytest.fixture(scope="module")
def stack(pg_admin_url: str) -> Iterator[Stack]:
    name = f"audit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    audit_url = psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name)
    apply_migrations(audit_url, "collectors.schema")
    receiver = TraceReceiver(audit_url)
    otlp = receiver.start()
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    runtime = LocalRuntime(aws_endpoint=endpoint, region=REGION, otlp_endpoint=otlp)
    try:
        runtime.start()
        yield Stack(runtime, endpoint, audit_url, otlp)
    finally:
        runtime.stop()
        moto.reset()
        moto.stop()
        receiver.stop()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def order_id() -> str:
    return f"ord-{uuid.uuid4().hex[:10]}"


def test_a_failing_or_slow_consumer_holds_back_neither_the_others_nor_its_other_messages(
    stack: Stack,
) -> None:
    failing, fine, shipped = order_id(), order_id(), order_id()
    answer = stack.publish(order_id=failing, faults={"billing": "fail"})
    assert answer["subscribers"] == ["billing", "inventory", "notification"]
    assert answer["routed_to"] == []
    stack.publish(order_id=fine)
    assert stack.publish(order_id=shipped, event_type="order_shipped")["subscribers"] == [
        "inventory",
        "notification",
    ]

    # Billing's failed record is reported alone: its batch-mates are billed, the other consumers do it all.
    eventually(lambda: stack.consumers_of(fine) == set(FANOUT))
    eventually(lambda: stack.consumers_of(failing) == {"inventory", "notification"})
    eventually(lambda: stack.consumers_of(shipped) == {"inventory", "notification"})
    billing_lines = [line for line in stack.log_lines("sw-fanout-billing") if line.get("order_id") == failing]
    assert any(line["level"] == "ERROR" for line in billing_lines), billing_lines

    # A slow billing does not delay inventory or notification of the same event.
    slow = order_id()
    sent = time.monotonic()
    stack.publish(order_id=slow, faults={"billing": "slow"})
    eventually(lambda: {"inventory", "notification"} <= stack.consumers_of(slow))
    assert time.monotonic() - sent < SLOW_FAULT_S
    assert "billing" not in stack.consumers_of(slow)
    eventually(lambda: "billing" in stack.consumers_of(slow), timeout_s=SLOW_FAULT_S + 10)
    # The shipped event never reached billing: its filter policy lets only placed and refunded through.
    assert stack.consumers_of(shipped) == {"inventory", "notification"}


def test_only_a_large_placed_order_reaches_vip_notify_and_fraud_check(stack: Stack) -> None:
    small, large, huge = order_id(), order_id(), order_id()
    assert stack.publish(order_id=small, amount=9_999)["routed_to"] == []
    assert stack.publish(order_id=large, amount=10_000)["routed_to"] == ["vip_notify", "fraud_check"]
    stack.publish(order_id=huge, amount=80_000, items=[{"sku": "GOLD", "quantity": 60}])

    eventually(lambda: stack.consumers_of(large) == {*FANOUT, *ROUTED})
    eventually(lambda: set(ROUTED) <= stack.consumers_of(huge))
    effects = stack.http.get(f"/orders/events/{huge}").json()["effects"]
    fraud = next(effect for effect in effects if effect["consumer"] == "fraud_check")
    assert fraud["action"] == "review"
    assert fraud["details"]["reasons"] == ["amount >= 50000", "units >= 50"]
    # The small order was fanned out like any other, and the rule sent it nowhere: both queues are drained.
    eventually(lambda: stack.consumers_of(small) == set(FANOUT))
    eventually(lambda: stack.queue_is_empty("sw-vip-notify") and stack.queue_is_empty("sw-fraud-check"))
    assert stack.consumers_of(small) == set(FANOUT)


def spans_of(audit_url: str, correlation_id: str) -> list[tuple[str, str, str, list[dict[str, Any]]]]:
    """(function, span name, trace id, links) of every stored span carrying ``correlation_id``."""
    with psycopg.connect(audit_url) as conn:
        rows = conn.execute(
            "SELECT resource ->> 'faas.name', name, trace_id, links FROM spans WHERE correlation_id = %s",
            (correlation_id,),
        ).fetchall()
    return [
        (str(function), str(name), str(trace_id), list(links)) for function, name, trace_id, links in rows
    ]


def test_one_orders_correlation_id_is_in_the_logs_and_spans_of_every_hop(stack: Stack) -> None:
    order, correlation_id = order_id(), f"corr-{uuid.uuid4().hex[:12]}"
    answer = stack.publish(correlation_id=correlation_id, order_id=order, amount=20_000)
    assert answer["correlation_id"] == correlation_id
    # The same order's saga on Step Functions, under the same correlation id.
    started = stack.http.post(
        "/orders",
        json={"order_id": order, "cust_no": "C0001", "lines": [{"sku": "SKU-1", "qty": 2}], "amount": 20_000},
        headers={"X-Correlation-Id": correlation_id},
    )
    assert started.status_code == 202, started.text
    eventually(lambda: stack.consumers_of(order) == {*FANOUT, *ROUTED})
    saga = eventually(lambda: stack.order_saga_ended(order))
    assert saga["status"] == "SUCCEEDED", saga
    effects = stack.http.get(f"/orders/events/{order}").json()["effects"]
    assert {e["correlation_id"] for e in effects} == {correlation_id}

    consumers = [*(f"sw-fanout-{name}" for name in FANOUT), "sw-vip-notify", "sw-fraud-check"]
    for function in ["sw-order-events", *consumers, "sw-orders", *ORDER_TASKS]:
        lines = [line for line in stack.log_lines(function) if line.get("correlation_id") == correlation_id]
        assert any(line.get("order_id") == order for line in lines), (function, lines)

    wanted = {
        ("sw-order-events", "POST /orders/events"),
        ("sw-order-events", "publish order event"),
        ("sw-order-events", "put order event"),
        *((function, "process message") for function in consumers),
        ("sw-orders", "POST /orders"),
        *((function, function) for function in ORDER_TASKS),
    }

    def complete() -> list[tuple[str, str, str, list[dict[str, Any]]]] | None:
        spans = spans_of(stack.audit_url, correlation_id)
        return spans if wanted <= {(function, name) for function, name, _, _ in spans} else None

    spans = eventually(complete, timeout_s=20)
    # Across each queue the consumer's span links back to the request's trace (SNS and EventBridge hops).
    request_trace = next(trace for function, name, trace, _ in spans if name == "POST /orders/events")
    for function in consumers:
        links = [
            link
            for f, name, _, found in spans
            if (f, name) == (function, "process message")
            for link in found
        ]
        assert request_trace in {link["trace_id"] for link in links}, (function, links)
    # Step Functions carries the traceparent in the execution input: each task joins POST /orders' trace.
    saga_trace = next(trace for function, name, trace, _ in spans if name == "POST /orders")
    assert {trace for function, _, trace, _ in spans if function in ORDER_TASKS} == {saga_trace}


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 90)).save(out, format="PNG")
    return out.getvalue()


def test_an_upload_gets_three_thumbnails_and_a_non_image_is_logged_once_without_retries(stack: Stack) -> None:
    account = "123456789012"  # moto's account
    source, target = f"sw-uploads-{account}-{REGION}", f"sw-thumbnails-{account}-{REGION}"
    picture, notes = f"t/{uuid.uuid4().hex[:8]}/shot one.png", f"t/{uuid.uuid4().hex[:8]}/readme.txt"
    stack.s3.put_object(Bucket=source, Key=picture, Body=png(1200, 800))
    stack.s3.put_object(Bucket=source, Key=notes, Body=b"hello, not an image")

    def thumbnails_of(key: str) -> dict[int, tuple[int, int]]:
        listed = stack.s3.list_objects_v2(Bucket=target, Prefix="thumbnails/").get("Contents", [])
        found = {}
        for entry in listed:
            size, _, original = entry["Key"].removeprefix("thumbnails/").partition("/")
            if original == key:
                body = stack.s3.get_object(Bucket=target, Key=entry["Key"])["Body"].read()
                found[int(size)] = Image.open(io.BytesIO(body)).size
        return found if len(found) == 3 else {}

    assert eventually(lambda: thumbnails_of(picture)) == {128: (128, 85), 256: (256, 171), 512: (512, 341)}

    def errors_for_notes() -> list[dict[str, Any]]:
        return [line for line in stack.log_lines("sw-thumbnails") if line.get("key") == notes]

    errors = eventually(errors_for_notes)
    time.sleep(RETRY_WINDOW_S)  # the runtime retries a failed async invocation after 1 s: none may come
    errors = errors_for_notes()
    assert [(line["level"], line["error_code"]) for line in errors] == [("ERROR", "THUMBNAIL_NOT_AN_IMAGE")]
    listed = stack.s3.list_objects_v2(Bucket=target, Prefix="thumbnails/").get("Contents", [])
    assert not [entry["Key"] for entry in listed if entry["Key"].endswith(notes)]


@pytest.mark.parametrize("name", ["fanout", "routing", "thumbnails"])
def test_the_demo_says_what_happened_and_succeeds(
    stack: Stack, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = importlib.import_module(f"instrumented_app.demo.{name}")
    assert module.run(stack.info, print) is True
    said = capsys.readouterr().out
    assert "/aws/lambda/sw-" in said
