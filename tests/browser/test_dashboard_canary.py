"""The canary page in a real browser: a defective v2 is judged FAIL, and rollback sets its weight to 0.

This journey builds its own small world and shares nothing with ``test_dashboard.py`` (which runs a
whole stack): a moto server of its own (its backends reset first, as they are process-wide), a
function whose alias ``live`` sends 20 % to version 2 under a name no other test uses, a fresh audit
store holding the invocations the collectors would have written (version 2 failing one call in two:
the injected defect), a ``stack.json`` naming both, and a dashboard (``DashboardServer``) on them,
told who the operator is through its own environment. Chromium opens the canary page from its URL
(a deep link), reads the verdict, presses "Roll back" and confirms; the rollback runs
``sagawatch canary rollback`` against moto, and the alias is read back over boto3.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from moto.server import ThreadedMotoServer

from collectors.partitions import create_partition
from dashboard.server import DashboardServer
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations
from sagawatch.stack_info import StackInfo
from tests.browser.conftest import FIRST_RENDER_MS, shot

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(300)]

REGION = "us-east-1"
OPERATOR = "browser-test"
AUDIT_PACKAGES = ("collectors.schema", "reconciler.schema", "alarms.schema", "dashboard.schema")


@pytest.fixture
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset = f"{url}/moto-api/reset"  # the backends are the process's: start clean, leave clean
    httpx.post(reset, timeout=10, trust_env=False).raise_for_status()
    yield url
    httpx.post(reset, timeout=10, trust_env=False)
    server.stop()


@pytest.fixture
def function_name() -> str:
    return f"fx-canary-{uuid.uuid4().hex[:8]}"


def _canary_alias(lambda_client: Any, iam: Any, function: str) -> None:
    role = iam.create_role(RoleName=f"{function}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    lambda_client.create_function(
        FunctionName=function, Runtime="python3.11", Role=role, Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )  # fmt: skip
    lambda_client.publish_version(FunctionName=function, Description="v1")
    lambda_client.publish_version(FunctionName=function, Description="v2")
    lambda_client.create_alias(
        FunctionName=function, Name="live", FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
    )  # fmt: skip


def _invocations(audit_url: str, function: str) -> None:
    """What the collectors write from the REPORT lines: v1 healthy, v2 failing every other call."""
    now = datetime.now(UTC)
    rows = [
        (
            now - timedelta(seconds=10 + i * 15), f"/aws/lambda/{function}", f"2026/11/24/[{version}]abc", i,
            function, version, f"req-{version}-{i}", 90.0 + i % 9,
            "error" if version == "2" and i % 2 == 0 else "success",
        )
        for version, count in (("1", 80), ("2", 40))
        for i in range(count)
    ]  # fmt: skip
    with psycopg.connect(audit_url, autocommit=True) as conn:
        for day in {now.date(), (now - timedelta(hours=1)).date()}:
            create_partition(conn, "invocations", day)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO invocations (ts, log_group, log_stream, seq, function_name, function_version,"
                " request_id, duration_ms, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )


@pytest.fixture
def dashboard_url(fresh_db_url: str, moto_url: str, tmp_path: Path) -> Iterator[str]:
    """A dashboard on the fresh audit store, whose actions reach this test's moto through stack.json."""
    for package in AUDIT_PACKAGES:
        apply_migrations(fresh_db_url, package)
    stack_file = tmp_path / "home" / "stack.json"
    stack_file.parent.mkdir()
    StackInfo(
        pid=os.getpid(), started_at=datetime.now(UTC).isoformat(), region=REGION, aws_endpoint=moto_url,
        api_endpoint="http://127.0.0.1:9", otlp_endpoint="http://127.0.0.1:9", aurora_url=fresh_db_url,
        audit_url=fresh_db_url,
    ).write(stack_file)  # fmt: skip
    server = DashboardServer(
        fresh_db_url, "127.0.0.1", 0, stack_file, log_path=tmp_path / "dashboard.log",
        env={"SAGAWATCH_OPERATOR": OPERATOR},
    )  # fmt: skip
    url = server.start()
    yield url
    server.stop()


def test_canary_fail_verdict_and_rollback(
    fresh_db_url: str,
    moto_url: str,
    function_name: str,
    dashboard_url: str,
    browser_page: Any,
    screenshots: Path,
) -> None:
    session = aws_session(REGION, moto_url)
    lambda_client = session.client("lambda", endpoint_url=moto_url)
    _canary_alias(lambda_client, session.client("iam", endpoint_url=moto_url), function_name)
    _invocations(fresh_db_url, function_name)
    page = browser_page

    # The canary page straight from its URL, as a link in an alarm's message opens it.
    page.goto(f"{dashboard_url}/canary?function={function_name}")
    page.get_by_role("heading", name="Canary", exact=True).wait_for(timeout=FIRST_RENDER_MS)
    page.get_by_text("Verdict for v2 against v1: FAIL").wait_for(timeout=FIRST_RENDER_MS)
    shot(page, screenshots, "canary-fail")
    page.get_by_role("button", name="Roll back v2").click()
    page.get_by_text(f"sagawatch canary rollback {function_name}").wait_for()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Roll back v2: done").first.wait_for(timeout=90_000)
    shot(page, screenshots, "canary-rolled-back")

    alias = lambda_client.get_alias(FunctionName=function_name, Name="live")
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute("SELECT operator, action, target, status FROM dashboard_actions").fetchall()
    assert rows == [(OPERATOR, "canary rollback", function_name, "succeeded")]
    assert sorted(p.name for p in screenshots.glob("*.png")) == ["canary-fail.png", "canary-rolled-back.png"]
