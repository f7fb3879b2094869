"""The data patterns over the wire on the app template: CRUD ``/items``, CQRS, event sourcing, and the
facade's mock route (``GET /health``, answered by the API front alone).

One in-process stack for the module (moto's server + the local runtime with
``instrumented_app/template.yaml``); these handlers need neither Aurora nor the
SaaS. What is asserted is what a client sees (HTTP answers) and what an operator
sees (the read model, CloudWatch metrics and log lines).
"""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from instrumented_app.runtime.local import LocalRuntime
from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer
from sagawatch.stack_info import StackInfo
from tests.polling import eventually

pytestmark = pytest.mark.slow

REGION = "us-east-1"


class Stack:
    def __init__(self, runtime: LocalRuntime, aws_endpoint: str) -> None:
        self.runtime = runtime
        self.api = runtime.main_api
        self.http = httpx.Client(base_url=self.api, timeout=15, trust_env=False)
        session = aws_session(REGION, aws_endpoint)
        self.logs: Any = session.client("logs", endpoint_url=aws_endpoint)
        self.cloudwatch: Any = session.client("cloudwatch", endpoint_url=aws_endpoint)
        self.info = StackInfo(
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(),
            region=REGION,
            aws_endpoint=aws_endpoint,
            api_endpoint=self.api,
            otlp_endpoint="",
            aurora_url="",
            audit_url="",
        )

    def log_lines(self, function_name: str) -> list[dict[str, Any]]:
        """The function's JSON log lines in CloudWatch Logs (after the runtime shipped what it had)."""
        self.runtime.invoker.flush()
        pages = self.logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function_name}"
        )
        lines = []
        for page in pages:
            for event in page["events"]:
                if event["message"].startswith("{"):
                    lines.append(json.loads(event["message"]))
        return lines


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    runtime = LocalRuntime(aws_endpoint=endpoint, region=REGION, otlp_endpoint=None)
    try:
        runtime.start()
        yield Stack(runtime, endpoint)
    finally:
        runtime.stop()
        moto.reset()
        moto.stop()


def unique_category() -> str:
    return f"cat-{uuid.uuid4().hex[:8]}"


def test_items_crud_with_pagination_and_a_stale_update_refused(stack: Stack) -> None:
    category = unique_category()
    correlation_id = f"items-{uuid.uuid4().hex[:8]}"
    created = []
    for n in range(5):
        response = stack.http.post(
            "/items",
            json={"name": f"widget {n}", "category": category, "price": "19.99", "quantity": n + 1},
            headers={"X-Correlation-Id": correlation_id},
        )
        assert response.status_code == 201, response.text
        assert response.headers["x-correlation-id"] == correlation_id
        created.append(response.json())
    first = created[0]
    assert first["price"] == 19.99 and first["quantity"] == 1 and first["version"] == 1
    assert stack.http.get(response.headers["location"]).json()["item_id"] == created[-1]["item_id"]

    # Listing by category walks the GSI two at a time, in creation order, with opaque tokens.
    seen, token, pages = [], None, 0
    while pages < 10:
        params = {"category": category, "limit": "2", **({"next_token": token} if token else {})}
        page = stack.http.get("/items", params=params)
        assert page.status_code == 200, page.text
        seen += [item["item_id"] for item in page.json()["items"]]
        token, pages = page.json()["next_token"], pages + 1
        if token is None:
            break
    assert seen == [item["item_id"] for item in created]
    tampered = stack.http.get("/items", params={"category": category, "next_token": "eyJub3QiOiJ1cyJ9"})
    assert tampered.status_code == 400
    assert tampered.json()["errors"][0]["field"] == "next_token"

    bad = stack.http.post("/items", json={"name": "x", "category": category, "price": -1})
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["price"]

    item_id = first["item_id"]
    updated = stack.http.put(f"/items/{item_id}", json={"version": 1, "quantity": 7})
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["quantity"] == 7
    stale = stack.http.put(f"/items/{item_id}", json={"version": 1, "quantity": 9})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.json()["expected_version"] == 1
    assert stack.http.get(f"/items/{item_id}").json()["quantity"] == 7

    assert stack.http.delete(f"/items/{item_id}").status_code == 204
    missing = stack.http.get(f"/items/{item_id}")
    assert missing.status_code == 404 and item_id in missing.json()["message"]
    assert stack.http.delete(f"/items/{item_id}").status_code == 404


def test_the_read_model_follows_inserts_updates_moves_and_deletes_and_reports_its_lag(stack: Stack) -> None:
    shoes, hats = unique_category(), unique_category()
    ids = []
    correlation_id = f"cqrs-{uuid.uuid4().hex[:8]}"
    for quantity in (2, 3):
        response = stack.http.post(
            "/items",
            json={"name": "boot", "category": shoes, "price": "10.50", "quantity": quantity},
            headers={"X-Correlation-Id": correlation_id},
        )
        ids.append(response.json()["item_id"])
    moved = stack.http.put(f"/items/{ids[0]}", json={"version": 1, "category": hats, "quantity": 4})
    assert moved.status_code == 200, moved.text
    assert stack.http.delete(f"/items/{ids[1]}").status_code == 204

    def summary(category: str, count: int) -> dict[str, Any] | None:
        answer = stack.http.get(f"/categories/{category}")
        return answer.json() if answer.status_code == 200 and answer.json()["item_count"] == count else None

    # Inserted 2 in shoes, one moved to hats with 4, the other deleted: shoes is empty again.
    hat_summary = eventually(lambda: summary(hats, 1))
    assert hat_summary["total_quantity"] == 4 and hat_summary["total_value"] == 42.0
    shoe_summary = eventually(lambda: summary(shoes, 0))
    assert shoe_summary["total_quantity"] == 0 and shoe_summary["total_value"] == 0
    assert hat_summary["last_projected_at_ms"] >= hat_summary["last_written_at_ms"]

    lines = stack.log_lines("sw-items-projection")
    projected = [line for line in lines if line.get("message") == "item change projected"]
    assert {line["item_id"] for line in projected} >= set(ids)
    # The projection of each insert runs under the correlation id of the request that wrote it.
    inserts = [line for line in projected if line["item_id"] in ids and line["event_name"] == "INSERT"]
    assert len(inserts) == 2 and {line["correlation_id"] for line in inserts} == {correlation_id}

    def lag_points() -> list[dict[str, Any]]:
        stats = stack.cloudwatch.get_metric_statistics(
            Namespace="sagawatch",
            MetricName="ProjectionLag",
            Dimensions=[
                {"Name": "service", "Value": "sagawatch-app"},
                {"Name": "version", "Value": "$LATEST"},
            ],
            StartTime=datetime.fromtimestamp(time.time() - 600, UTC),
            EndTime=datetime.fromtimestamp(time.time() + 60, UTC),
            Period=60,
            Statistics=["SampleCount", "Maximum"],
        )
        return list(stats["Datapoints"])

    points = eventually(lag_points)
    assert sum(point["SampleCount"] for point in points) >= 4


def test_event_sourcing_concurrency_routing_to_both_subscribers_and_an_exact_replay(stack: Stack) -> None:
    accounts = [f"acct-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    correlation_id = f"es-{uuid.uuid4().hex[:8]}"

    def append(account: str, expected: int, event: dict[str, Any]) -> httpx.Response:
        return stack.http.post(
            f"/accounts/{account}/events",
            json={"expected_version": expected, "event": event},
            headers={"X-Correlation-Id": correlation_id},
        )

    for n, account in enumerate(accounts):
        assert append(account, 0, {"type": "AccountOpened", "currency": "JPY"}).status_code == 201
        for version in range(1, 4 + n):
            response = append(account, version, {"type": "MoneyDeposited", "amount": 1000 * version})
            assert response.status_code == 201, response.text
            assert response.json()["version"] == version + 1
    first = accounts[0]
    # Two writers who both read version 4: the first wins, the second is told where the account is now.
    assert append(first, 4, {"type": "MoneyWithdrawn", "amount": 500}).status_code == 201
    stale = append(first, 4, {"type": "MoneyWithdrawn", "amount": 700})
    assert stale.status_code == 409
    assert (stale.json()["expected_version"], stale.json()["current_version"]) == (4, 5)
    overdraft = append(first, 5, {"type": "MoneyWithdrawn", "amount": 10**9})
    assert overdraft.status_code == 422 and "balance" in overdraft.json()["message"]
    assert append(first, 5, {"type": "MoneyDeposited", "amount": -1}).status_code == 400

    def view(account: str, version: int) -> dict[str, Any] | None:
        answer = stack.http.get(f"/accounts/{account}")
        return answer.json() if answer.status_code == 200 and answer.json()["version"] == version else None

    final = eventually(lambda: view(first, 5))
    assert final["balance"] == 1000 + 2000 + 3000 - 500 and final["withdrawals"] == 1
    for n, account in enumerate(accounts[1:], start=1):
        eventually(functools.partial(view, account, 4 + n))

    from instrumented_app.eventsourcing.replay import differences, rebuild
    from instrumented_app.eventsourcing.service_b import Inbox
    from instrumented_app.eventsourcing.store import EventStore
    from instrumented_app.eventsourcing.views import AccountViews

    dynamodb = aws_session(REGION, stack.info.aws_endpoint).client(
        "dynamodb", endpoint_url=stack.info.aws_endpoint
    )
    store, views = EventStore("sw-event-store", dynamodb), AccountViews("sw-account-views", dynamodb)
    ours = [event for event in store.all_events() if event.aggregate_id in accounts]
    assert len(ours) == 5 + 5 + 6  # opened, 3 + n deposits; the first also withdrew once
    rebuilt = rebuild(ours)
    incremental = {k: v for k, v in views.all().items() if k in accounts}
    assert differences(rebuilt, incremental) == []
    assert rebuilt == incremental

    inbox = Inbox("sw-service-b-inbox", dynamodb)
    eventually(lambda: all(inbox.has(event.event_id) for event in ours))
    received = [
        line for line in stack.log_lines("sw-service-b") if line.get("message") == "service B received event"
    ]
    assert {line["correlation_id"] for line in received if line["event_id"].startswith(first)} == {
        correlation_id
    }


def test_the_mock_route_answers_from_the_api_front_without_invoking_any_function(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from instrumented_app.demo.facade import EXPECTED, lines_with

    invoked: list[str] = []
    real_invoke = stack.runtime.invoker.invoke

    def watched(function_name: str, event: Any, **kwargs: Any) -> Any:
        if isinstance(event, dict) and "httpMethod" in event:
            invoked.append(f"{event['httpMethod']} {event['path']} -> {function_name}")
        return real_invoke(function_name, event, **kwargs)

    monkeypatch.setattr(stack.runtime.invoker, "invoke", watched)
    mock_id, control_id = f"mock-{uuid.uuid4().hex[:8]}", f"ping-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        answer = stack.http.get("/health", headers={"X-Correlation-Id": mock_id})
        assert answer.status_code == 200, answer.text
        assert answer.json() == EXPECTED
        assert answer.headers["content-type"].startswith("application/json")
    assert stack.http.get("/diagnostics/ping", headers={"X-Correlation-Id": control_id}).status_code == 200

    # Only the control reached a function; in the logs, its id is there and the mock's is nowhere.
    assert invoked == ["GET /diagnostics/ping -> sw-diagnostics"]
    stack.runtime.invoker.flush()
    assert lines_with(stack.logs, control_id) == {"sw-diagnostics": 1}
    assert lines_with(stack.logs, mock_id) == {}


@pytest.mark.parametrize("pattern", ["crud", "cqrs", "event_sourcing", "event_sourcing_replay", "facade"])
def test_each_demo_drives_its_pattern_and_says_what_happened(stack: Stack, pattern: str) -> None:
    import importlib

    from instrumented_app.demo import DEMOS

    module_name, function_name = DEMOS[pattern].split(":")
    said: list[str] = []
    assert getattr(importlib.import_module(module_name), function_name)(stack.info, said.append), said
    assert said, "a demo says what it did"
    print("\n".join(said))
