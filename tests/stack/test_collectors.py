"""Collectors against the real embedded stack: traffic in, audit store out, as an operator would check it.

One ``sagawatch up`` process; traffic through the API front (diagnostics pings), lines that break the
contracts written straight into CloudWatch Logs, a queue whose messages end in its DLQ, a saga row made
to hang in Aurora. Then collector passes (one killed midway as a process, one dying mid-page in-process,
two racing each other) and the assertions: every CloudWatch line stored exactly once, the DLQ depth SQS
reports, the hung saga flagged by the first pass after its threshold, collector errors recorded while
the pass went on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import httpx
import psycopg
import pytest

import collectors.logs.store as log_store
from collectors.runner import Collector, CollectorLoop
from collectors.settings import PassLimits
from instrumented_app.jobs.cli import JOBS_TABLE
from instrumented_app.jobs.model import JobStatus, new_job, utc_now
from instrumented_app.jobs.requests import parse_request
from instrumented_app.jobs.store import DynamoJobStore
from sagawatch.aws import aws_session
from sagawatch.settings import Settings
from sagawatch.stack_info import StackInfo
from tests.polling import eventually
from tests.stack.conftest import REPO, SAGAWATCH, RunningStack, module_stack

pytestmark = pytest.mark.slow

PINGS = 60
HANG_THRESHOLD_S = 8.0


# The stack's own collector loop makes one pass at start, then waits an hour: these tests decide
# which collector reads which page (two racing collectors are run on purpose below).
stack = module_stack("collectors", env={"SAGAWATCH_COLLECT_INTERVAL_S": "3600"})


def clients(info: StackInfo) -> tuple[Any, Any]:
    session = aws_session(info.region, info.aws_endpoint)
    return session.client("logs", endpoint_url=info.aws_endpoint), session.client(
        "sqs", endpoint_url=info.aws_endpoint
    )


def cloudwatch_lines(logs: Any) -> Counter[tuple[str, str, str]]:
    """Every (group, stream, message) CloudWatch Logs holds under /aws/lambda/."""
    found: Counter[tuple[str, str, str]] = Counter()
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/"):
        for group in page["logGroups"]:
            name = group["logGroupName"]
            for events in logs.get_paginator("filter_log_events").paginate(logGroupName=name):
                for event in events["events"]:
                    found[(name, event["logStreamName"], event["message"])] += 1
    return found


def stored_lines(audit: psycopg.Connection) -> Counter[tuple[str, str, str]]:
    rows = audit.execute("SELECT log_group, log_stream, raw FROM log_lines").fetchall()
    return Counter((g, s, r) for g, s, r in rows)


def wait_for_shipping(logs: Any, expected_starts: int, timeout_s: float = 30.0) -> None:
    """The runtime ships logs in the background; wait (bounded) until every ping's START is there."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = cloudwatch_lines(logs)
        starts = sum(
            n for (g, _, m), n in lines.items() if g.endswith("sw-diagnostics") and m.startswith("START")
        )
        if starts >= expected_starts:
            return
        time.sleep(0.3)
    raise AssertionError(f"fewer than {expected_starts} invocations reached CloudWatch Logs in {timeout_s} s")


def test_collectors_store_every_line_once_sample_dlqs_and_flag_hung_sagas(
    stack: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = StackInfo.read(stack.home / "stack.json")
    assert info is not None
    logs, sqs = clients(info)
    run = uuid.uuid4().hex[:8]

    def ping(numbers: range) -> None:
        """Traffic through the API front."""
        with httpx.Client(base_url=info.api_endpoint, timeout=10) as http:
            for i in numbers:
                answer = http.get("/diagnostics/ping", headers={"X-Correlation-Id": f"ping-{run}-{i}"})
                assert answer.status_code == 200

    ping(range(PINGS // 2))
    # lines that break the contracts, in a function's own log group
    group, stream = "/aws/lambda/sw-broken", "2026/11/24/[$LATEST]feedface"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    bad_emf = {"_aws": {"Timestamp": "soon", "CloudWatchMetrics": []}, "x": 1}
    now_ms = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": now_ms, "message": '{"level": "ERROR", "message": '},
            {"timestamp": now_ms + 1, "message": json.dumps(bad_emf)},
            {"timestamp": now_ms + 2, "message": "plain print from a handler"},
            # valid JSON whose field decodes to a NUL, which PostgreSQL text cannot hold
            {"timestamp": now_ms + 3, "message": '{"level": "INFO", "message": "nul \\u0000 here"}'},
        ],
    )
    # a queue whose messages end in its DLQ (maxReceiveCount 1: the second receive moves them)
    dlq_url = sqs.create_queue(QueueName=f"jobs-{run}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=f"jobs-{run}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})},
    )["QueueUrl"]
    for i in range(3):
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"job": i, "email": f"user{i}@example.jp"}),
            MessageAttributes={"correlation_id": {"DataType": "String", "StringValue": f"job-{run}-{i}"}},
        )
    for _ in range(2):
        sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    # a Step Functions saga that fails (moto runs the ASL: the stack turns execution on)
    session = aws_session(info.region, info.aws_endpoint)
    sfn = session.client("stepfunctions", endpoint_url=info.aws_endpoint)
    asl = {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": {"Type": "Pass", "Next": "PaymentDeclined"},
            "PaymentDeclined": {"Type": "Fail", "Error": "PaymentDeclined", "Cause": "card expired"},
        },
    }
    machine = sfn.create_state_machine(
        name=f"order-{run}", definition=json.dumps(asl), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    execution = sfn.start_execution(
        stateMachineArn=machine,
        name=f"order-{run}-1",
        input=json.dumps({"correlation_id": f"order-{run}", "saga_type": "order"}),
    )["executionArn"]
    wait_for_shipping(logs, PINGS // 2)

    # 1. a collector process killed midway through its pass (small pages: many commits to die between)
    env = {**stack.env(), "SAGAWATCH_COLLECT_LOG_PAGE_SIZE": "5"}
    process = subprocess.Popen(
        [*SAGAWATCH, "collect", "--once"], cwd=REPO, env=env, stdout=subprocess.DEVNULL
    )
    time.sleep(1.5)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    ping(range(PINGS // 2, PINGS))  # new lines, whatever the killed process got through
    wait_for_shipping(logs, PINGS)

    settings = Settings(home=stack.home, stuck_thresholds_s={"default": 300.0, "test_hang": HANG_THRESHOLD_S})
    collector = Collector(settings, info, limits=PassLimits(log_page_size=7))
    # 2. an in-process pass that dies in the middle of a page, after some rows reached PostgreSQL
    real_copy = log_store.copy_rows
    calls = {"n": 0}

    def copy_then_die(cur: psycopg.Cursor, rows: Any, invocations: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            real_copy(cur, islice(rows, 3), [])
            raise RuntimeError("collector killed mid-page")
        real_copy(cur, rows, invocations)

    monkeypatch.setattr(log_store, "copy_rows", copy_then_die)
    crashed = collector.run_once()
    assert any(e.kind == "logs_failed" and "killed mid-page" in e.detail for e in crashed.errors)
    monkeypatch.setattr(log_store, "copy_rows", real_copy)
    # 3. a saga that stops moving: the pass right after is too early to call it stuck
    saga_id = f"hang-{run}"
    with psycopg.connect(info.aurora_url, autocommit=True) as aurora:
        row = aurora.execute(
            "INSERT INTO saga (id, saga_type, correlation_id, status, current_step)"
            " VALUES (%s, 'test_hang', %s, 'RUNNING', 'support_user') RETURNING updated_at",
            (saga_id, f"saga-{run}"),
        ).fetchone()
    assert row is not None
    hung_at: datetime = row[0]
    collector.run_once()
    with psycopg.connect(info.audit_url, autocommit=True) as audit:
        verdict = audit.execute("SELECT stuck, status FROM sagas WHERE saga_id = %s", (saga_id,)).fetchone()
        order = audit.execute(
            "SELECT source, saga_type, correlation_id, status, failed_state, error, cause FROM sagas"
            " WHERE saga_id = %s",
            (execution,),
        ).fetchone()
        order_steps = audit.execute(
            "SELECT name, status FROM saga_steps WHERE saga_id = %s ORDER BY seq", (execution,)
        ).fetchall()
    assert verdict == (False, "RUNNING")
    assert sfn.describe_execution(executionArn=execution)["status"] == "FAILED"
    failed_in = ("PaymentDeclined", "PaymentDeclined", "card expired")  # failed state, error, cause
    assert order == ("stepfunctions", "order", f"order-{run}", "FAILED", *failed_in)
    assert order_steps == [("ReserveInventory", "SUCCEEDED"), ("PaymentDeclined", "FAILED")]
    # 4. two collectors racing (other page sizes, so their pages overlap) until the backlog is read
    rival = Collector(settings, info, limits=PassLimits(log_page_size=3))
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(50):
            passes = [pool.submit(collector.run_once), pool.submit(rival.run_once)]
            if not sum(done.result().counts.get("log_lines", 0) for done in passes):
                break

    with psycopg.connect(info.audit_url, autocommit=True) as audit:
        expected = cloudwatch_lines(logs)
        got = stored_lines(audit)
        assert sum(expected.values()) >= PINGS * 4 + 4
        assert got == expected  # every line CloudWatch holds, each exactly once

        errors = audit.execute(
            "SELECT kind, source FROM collector_errors WHERE source LIKE %s", (f"{group}%",)
        )
        assert sorted(k for k, _ in errors.fetchall()) == [
            "emf_shape", "log_contract", "malformed_json", "text_replaced",
        ]  # fmt: skip
        kinds = audit.execute(
            "SELECT kind FROM log_lines WHERE log_group = %s ORDER BY seq", (group,)
        ).fetchall()
        assert [k for (k,) in kinds] == ["text", "emf", "text", "json"]
        pings = audit.execute(
            "SELECT count(*) FROM log_lines WHERE correlation_id LIKE %s AND kind = 'json'",
            (f"ping-{run}-%",),
        ).fetchone()
        assert pings == (PINGS,)
        reports = audit.execute(
            "SELECT count(*) FROM invocations WHERE function_name = 'sw-diagnostics' AND duration_ms > 0"
        ).fetchone()
        assert reports is not None and reports[0] >= PINGS

        sqs_depth = int(
            sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        assert sqs_depth == 3
        state = audit.execute(
            "SELECT visible, is_dlq, oldest_age_s FROM queue_state WHERE queue_name = %s",
            (f"jobs-{run}-dlq",),
        ).fetchone()
        assert state is not None and state[0] == sqs_depth and state[1] is True and state[2] is not None
        relation = audit.execute(
            "SELECT dlq_name, max_receive_count FROM queue_state WHERE queue_name = %s", (f"jobs-{run}",)
        ).fetchone()
        assert relation == (f"jobs-{run}-dlq", 1)
        dead = audit.execute(
            "SELECT correlation_id, body FROM dlq_messages WHERE queue_name = %s ORDER BY correlation_id",
            (f"jobs-{run}-dlq",),
        ).fetchall()
        assert [c for c, _ in dead] == [f"job-{run}-{i}" for i in range(3)]
        assert all("example.jp" not in body for _, body in dead)

        # 5. the loop: the first pass after the threshold flags the saga
        loop = CollectorLoop(collector, interval_s=1.0)
        wait_s = (hung_at + timedelta(seconds=HANG_THRESHOLD_S) - datetime.now(UTC)).total_seconds()
        time.sleep(max(0.0, wait_s))
        passes_at_threshold = loop.passes
        loop.start()
        try:
            deadline = time.monotonic() + 30
            flagged = None
            while time.monotonic() < deadline and not flagged:
                flagged = audit.execute(
                    "SELECT stuck, checked_at FROM sagas WHERE saga_id = %s AND stuck", (saga_id,)
                ).fetchone()
                time.sleep(0.1)
        finally:
            loop.stop()
        assert flagged is not None, loop.last_error
        assert loop.passes - passes_at_threshold >= 1
        assert flagged[1] >= hung_at + timedelta(seconds=HANG_THRESHOLD_S)
        # ... and the count reaches CloudWatch, where the standard StuckSagas alarm reads it.
        cloudwatch = aws_session(info.region, info.aws_endpoint).client(
            "cloudwatch", endpoint_url=info.aws_endpoint
        )
        points = cloudwatch.get_metric_statistics(
            Namespace="sagawatch/audit",
            MetricName="StuckSagas",
            StartTime=hung_at - timedelta(minutes=5),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        assert max(point["Maximum"] for point in points) >= 1, points


def test_trace_and_collect_commands_on_the_running_stack(stack: RunningStack) -> None:
    info = StackInfo.read(stack.home / "stack.json")
    assert info is not None
    correlation_id = f"trace-{uuid.uuid4().hex[:8]}"
    answer = httpx.get(f"{info.api_endpoint}/diagnostics/ping", headers={"X-Correlation-Id": correlation_id})
    assert answer.status_code == 200
    # a job through the queue worker, and one whose attempts failed (written by the app's own store)
    accepted = httpx.post(
        f"{info.api_endpoint}/api/async",
        json={"kind": "sync_member", "cust_no": "J0001", "payload": {"full_name": "Hanako Yamada"}},
        headers={"X-Correlation-Id": correlation_id},
        timeout=10,
    )
    assert accepted.status_code == 202, accepted.text
    status_url = f"{info.api_endpoint}{accepted.json()['status_url']}"
    eventually(lambda: httpx.get(status_url, timeout=10).json()["status"] == "SUCCEEDED", 30)
    jobs = DynamoJobStore.from_session(
        JOBS_TABLE, aws_session(info.region, info.aws_endpoint), info.aws_endpoint
    )
    failed = new_job(
        f"failed-{correlation_id}",
        parse_request({"kind": "sync_member", "cust_no": "J0002", "payload": {"full_name": "Taro Sato"}}),
        correlation_id,
        utc_now(),
    )
    jobs.create(failed)
    jobs.fail(failed.job_id, "MembershipError: 503 for taro@example.jp", 3, JobStatus.FAILED, utc_now())
    logs, _ = clients(info)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [m for (_, _, m) in cloudwatch_lines(logs) if correlation_id in m]
        if found:
            break
        time.sleep(0.3)
    collect = subprocess.run(
        [*SAGAWATCH, "collect", "--once", "--json"], cwd=REPO, env=stack.env(), capture_output=True, text=True
    )
    assert collect.returncode == 0, collect.stderr
    counts = json.loads(collect.stdout.splitlines()[-1])["counts"]
    assert counts["log_lines"] >= 1 and counts["jobs"] >= 2
    trace = subprocess.run(
        [*SAGAWATCH, "trace", correlation_id, "--json"],
        cwd=REPO,
        env=stack.env(),
        capture_output=True,
        text=True,
    )
    assert trace.returncode == 0, trace.stderr
    body = json.loads(trace.stdout)
    assert any(line["message"] == "diagnostics ping" for line in body["logs"])
    assert any(e["kind"] == "invocation" for e in body["timeline"])  # its REPORT, found by request id
    seen = {
        r["job_id"]: (r["status"], r["retry_count"], r["last_error"])
        for r in body["related"]
        if r["_table"] == "jobs"
    }
    assert seen == {
        accepted.json()["job_id"]: ("SUCCEEDED", 0, None),
        failed.job_id: ("FAILED", 3, "MembershipError: 503 for *****"),  # the address masked
    }
    text = subprocess.run(
        [*SAGAWATCH, "trace", correlation_id], cwd=REPO, env=stack.env(), capture_output=True, text=True
    )
    assert "diagnostics ping" in text.stdout and f"transaction {correlation_id}" in text.stdout
    missing = subprocess.run(
        [*SAGAWATCH, "trace", "no-such-transaction"],
        cwd=REPO,
        env=stack.env(),
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "nothing is known" in missing.stdout


def test_metrics_are_stored_as_cloudwatch_reports_them(stack: RunningStack) -> None:
    info = StackInfo.read(stack.home / "stack.json")
    assert info is not None
    with httpx.Client(base_url=info.api_endpoint, timeout=10) as http:
        for _ in range(5):
            assert http.get("/diagnostics/nowhere").status_code in (403, 404)  # 4XX, counted by the front
            assert http.get("/diagnostics/ping").status_code == 200
    cloudwatch = aws_session(info.region, info.aws_endpoint).client(
        "cloudwatch", endpoint_url=info.aws_endpoint
    )

    def listed() -> list[dict[str, Any]]:
        pages = cloudwatch.get_paginator("list_metrics").paginate(
            Namespace="AWS/ApiGateway", MetricName="Count"
        )
        return [m for page in pages for m in page["Metrics"]]

    def reported(dimensions: list[dict[str, str]], name: str) -> dict[datetime, float]:
        end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway",
            MetricName=name,
            Dimensions=dimensions,
            StartTime=end - timedelta(minutes=16),
            EndTime=end,
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return {p["Timestamp"].astimezone(UTC): p["Sum"] for p in points}

    # the front publishes every 5 s: wait (bounded) until CloudWatch's figures stop moving
    previous: object = None
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        metrics = listed()
        current = [reported(m["Dimensions"], "Count") for m in metrics]
        if metrics and current == previous:
            break
        previous = current
        time.sleep(6)
    else:
        raise AssertionError("CloudWatch's AWS/ApiGateway figures did not settle within 40 s")

    collector = Collector(Settings(home=stack.home), info)
    report = collector.run_once()
    assert report.counts["metric_points"] > 0
    with psycopg.connect(info.audit_url, autocommit=True) as audit:
        for metric in listed():
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            for name in ("Count", "4XXError"):
                stored = audit.execute(
                    "SELECT ts, sum FROM metric_points WHERE namespace = 'AWS/ApiGateway' AND name = %s"
                    " AND dimensions = %s::jsonb",
                    (name, json.dumps(dims)),
                ).fetchall()
                # totals over the window: moto's get_metric_statistics does not align its buckets to
                # whole minutes as CloudWatch does, so minute by minute would compare moto's quirk
                expected = sum(reported(metric["Dimensions"], name).values())
                assert sum(total for _, total in stored) == expected, (name, dims)
        errors_4xx = audit.execute(
            "SELECT coalesce(sum(sum), 0) FROM metric_points"
            " WHERE namespace = 'AWS/ApiGateway' AND name = '4XXError'"
        ).fetchone()
        assert errors_4xx is not None and errors_4xx[0] >= 5


def test_a_failed_customer_saga_reads_as_one_transaction(stack: RunningStack) -> None:
    """The app's own saga with the commerce simulator failing: the trace an operator opens shows it all."""
    info = StackInfo.read(stack.home / "stack.json")
    assert info is not None
    correlation_id = f"fail-{uuid.uuid4().hex[:8]}"
    commerce = info.saas["commerce"]
    customer = {"cust_no": "T9001", "name": {"family": "Sato", "given": "Hana"}, "email": "t9001@example.com"}
    httpx.put(f"{commerce}/_admin/faults", json={"error_rate": 1.0, "seed": 7}).raise_for_status()
    try:
        answer = httpx.post(
            f"{info.api_endpoint}/customers",
            json=customer,
            headers={"X-Correlation-Id": correlation_id},
            timeout=60,
        )
    finally:
        httpx.put(f"{commerce}/_admin/faults", json={}).raise_for_status()
    assert answer.status_code == 502, answer.text
    saga_id = answer.json()["saga_id"]
    logs, _ = clients(info)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        correlation_id in m for (_, _, m) in cloudwatch_lines(logs)
    ):
        time.sleep(0.3)

    with psycopg.connect(info.audit_url, autocommit=True) as audit:  # spans arrive by OTLP, batched
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = audit.execute("SELECT count(*) FROM spans WHERE correlation_id = %s", (correlation_id,))
            if (found.fetchone() or (0,))[0]:
                break
            time.sleep(0.3)
    Collector(Settings(home=stack.home), info).run_once()
    trace = subprocess.run(
        [*SAGAWATCH, "trace", correlation_id, "--json"],
        cwd=REPO,
        env=stack.env(),
        capture_output=True,
        text=True,
    )
    assert trace.returncode == 0, trace.stderr
    body = json.loads(trace.stdout)
    assert [(s["saga_id"], s["saga_type"], s["status"]) for s in body["sagas"]] == [
        (saga_id, "customer", "COMPENSATED")
    ]
    assert body["sagas"][0]["business_key"] == "T9001" and body["sagas"][0]["stuck"] is False
    assert body["sagas"][0]["failed_state"] == "commerce_customer"
    assert {step["status"] for step in body["steps"]} >= {"FAILED", "COMPENSATED"}
    assert [line["error_code"] for line in body["logs"] if line["level"] == "ERROR"] == ["SAAS_UNAVAILABLE"]
    assert (
        body["spans"] and max(span["depth"] for span in body["spans"]) >= 1
    )  # calls nested under the handler
    assert "t9001@example.com" not in trace.stdout  # the customer's e-mail is nowhere in the trace
    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds[0] in ("saga", "span", "log") and "log" in kinds and "step" in kinds
    times = [event["at"] for event in body["timeline"]]
    assert times == sorted(times)
