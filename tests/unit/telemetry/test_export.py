"""Spans leave the worker process at the end of each invocation, over OTLP/HTTP, to the receiver.

The handler runs in a child process started with only the variables the
Lambda service sets, and the process ends with ``os._exit`` right after the
invocation: no atexit hook, no provider shutdown, as when Lambda freezes an
execution environment. The spans must already be in the audit store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from collectors.otlp import TraceReceiver
from instrumented_app.telemetry import TelemetryConfig
from instrumented_app.telemetry.config import traces_endpoint
from instrumented_app.telemetry.tracing import build_resource
from sagawatch.migrations import apply_migrations

ROOT = Path(__file__).resolve().parents[3]

HANDLER_MODULE = """
from instrumented_app.telemetry import instrumented, logger, tracer

@instrumented
def handler(event, context):
    with tracer.start_as_current_span("load order"):
        logger.info("order loaded")
    return {"statusCode": 200, "body": "{}"}
"""

DRIVER = """
import json, os, sys
import fn_under_test

class Context:
    function_name = "orders-api"
    function_version = "5"
    aws_request_id = "req-export-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-api:5"
    memory_limit_in_mb = 128
    def get_remaining_time_in_millis(self):
        return 3000

event = {
    "resource": "/orders", "path": "/orders", "httpMethod": "GET", "requestContext": {},
    "headers": {"X-Correlation-Id": "export-cid-1"},
}
fn_under_test.handler(event, Context())
sys.stdout.flush()
os._exit(0)
"""


@pytest.fixture
def audit_url(fresh_db_url: str) -> str:
    apply_migrations(fresh_db_url, "collectors.schema")
    return fresh_db_url


@pytest.fixture
def receiver_url(audit_url: str) -> Iterator[str]:
    with TraceReceiver(audit_url) as receiver:
        yield receiver.base_url


def _run_worker(tmp_path: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "fn_under_test.py").write_text(textwrap.dedent(HANDLER_MODULE))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "AWS_LAMBDA_FUNCTION_NAME": "orders-api",
        "AWS_LAMBDA_FUNCTION_VERSION": "5",
        "POWERTOOLS_SERVICE_NAME": "orders",
        "AWS_REGION": "us-east-1",
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-c", DRIVER], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _spans(audit_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(audit_url) as conn:
        cur = conn.execute("SELECT * FROM spans ORDER BY start_time")
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_an_invocations_spans_reach_the_audit_store_before_the_process_freezes(
    tmp_path: Path, receiver_url: str, audit_url: str
) -> None:
    result = _run_worker(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver_url})
    assert result.returncode == 0, result.stderr

    [log_line] = [json.loads(line) for line in result.stdout.splitlines() if '"order loaded"' in line]
    rows = {row["name"]: row for row in _spans(audit_url)}
    assert set(rows) == {"GET /orders", "load order"}
    server, child = rows["GET /orders"], rows["load order"]
    assert log_line["trace_id"] == server["trace_id"] == child["trace_id"]
    assert log_line["span_id"] == child["span_id"]
    assert child["parent_span_id"] == server["span_id"]
    assert (server["kind"], server["service"], server["correlation_id"]) == (
        "SERVER",
        "orders",
        "export-cid-1",
    )
    assert (server["resource"]["faas.name"], server["resource"]["faas.version"]) == ("orders-api", "5")


def test_without_an_endpoint_the_handler_runs_and_nothing_complains(tmp_path: Path) -> None:
    result = _run_worker(tmp_path, {})
    assert result.returncode == 0
    assert result.stderr == ""
    [log_line] = [json.loads(line) for line in result.stdout.splitlines() if '"order loaded"' in line]
    assert len(log_line["trace_id"]) == 32 and log_line["correlation_id"] == "export-cid-1"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, "http://127.0.0.1:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/"}, "http://127.0.0.1:4318/v1/traces"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9999/custom",
            },
            "http://127.0.0.1:9999/custom",
        ),
    ],
)
def test_the_traces_endpoint_follows_the_otel_variables(env: dict[str, str], expected: str | None) -> None:
    assert traces_endpoint(env) == expected


def test_the_resource_names_the_service_function_and_version() -> None:
    config = TelemetryConfig.from_env(
        {
            "AWS_LAMBDA_FUNCTION_NAME": "billing-worker",
            "AWS_LAMBDA_FUNCTION_VERSION": "12",
            "AWS_REGION": "ap-northeast-1",
        }
    )
    attributes = build_resource(config).attributes
    assert attributes["service.name"] == "billing-worker", "the function name stands in for a missing service"
    assert (attributes["faas.name"], attributes["faas.version"]) == ("billing-worker", "12")
    assert attributes["cloud.region"] == "ap-northeast-1"
