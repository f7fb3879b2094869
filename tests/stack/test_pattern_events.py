"""Fan-out, event routing and S3 thumbnails over the wire on the app template, and one order's trail.

One in-process stack for the module: moto's server, the local runtime with
``instrumented_app/template.yaml``, and the OTLP receiver writing spans to an
audit store on a real PostgreSQL. What is asserted is what a client sees (HTTP
answers, ``GET /orders/events/{id}``, thumbnails in the bucket) and what an
operator sees (queues, CloudWatch Logs lines, spans by correlation id).
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from PIL import Image
from psycopg import sql

from collectors.otlp.server import TraceReceiver
from instrumented_app.fanout.model import SLOW_FAULT_S
from instrumented_app.runtime.local import LocalRuntime
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations
from sagawatch.stack.aws import MotoServer
from sagawatch.stack_info import StackInfo

pytestmark = pytest.mark.slow

REGION = "us-east-1"
FANOUT = ("inventory", "billing", "notification")
ROUTED = ("vip_notify", "fraud_check")
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout_s: float = 20.0, interval_s: float = 0.2) -> T:
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s} s (last: {last!r})")


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


def test_a_failing_or_slow_consumer_holds_back_neither_the_others_nor_its_other_messages(stack: Stack) -> None:
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
