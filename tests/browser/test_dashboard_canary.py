"""The canary page in a real browser: a defective v2 is judged FAIL, and rollback sets its weight to 0.

The app's template has no canary function yet, so this journey uses its own small world: moto's
server with a function ``fx-canary`` whose alias ``live`` sends 20 % to version 2, an audit store
holding the invocations the collectors would have written (version 2 failing one call in two: the
injected defect), a ``stack.json`` naming both, and the dashboard (``DashboardServer``) on them.
Chromium (Playwright) opens the canary page, reads the verdict, presses "Roll back" and confirms; the
rollback runs ``sagawatch canary rollback`` against moto, and the alias is read back over boto3.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from moto.server import ThreadedMotoServer

from collectors.partitions import create_partition
from dashboard.server import DashboardServer
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations
from sagawatch.stack_info import StackInfo
from tests.browser.test_dashboard import (  # noqa: F401 (fixtures used by name)
    browser_page,
    chromium,
    screenshots,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.timeout(300),
]

REGION = "us-east-1"
FUNCTION = "fx-canary"
FIRST_RENDER_MS = 120_000


@pytest.fixture
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _canary_alias(lambda_client: Any, iam: Any) -> None:
    role = iam.create_role(RoleName="fx-canary-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    lambda_client.create_function(
        FunctionName=FUNCTION, Runtime="python3.11", Role=role, Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )  # fmt: skip
    lambda_client.publish_version(FunctionName=FUNCTION, Description="v1")
    lambda_client.publish_version(FunctionName=FUNCTION, Description="v2")
    lambda_client.create_alias(
        FunctionName=FUNCTION, Name="live", FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
    )  # fmt: skip


def _invocations(audit_url: str) -> None:
    """What the collectors write from the REPORT lines: v1 healthy, v2 failing every other call."""
    now = datetime.now(UTC)
    with psycopg.connect(audit_url, autocommit=True) as conn:
        create_partition(conn, "invocations", now.date())
        create_partition(conn, "invocations", (now - timedelta(hours=1)).date())
        for version, count in (("1", 80), ("2", 40)):
            for i in range(count):
                failed = version == "2" and i % 2 == 0
                conn.execute(
                    "INSERT INTO invocations (ts, log_group, log_stream, seq, function_name,"
                    " function_version, request_id, duration_ms, status)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        now - timedelta(seconds=10 + i * 15),
                        f"/aws/lambda/{FUNCTION}",
                        f"2026/11/24/[{version}]abc",
                        i,
                        FUNCTION,
                        version,
                        f"req-{version}-{i}",
                        90.0 + i % 9,
                        "error" if failed else "success",
                    ),
                )


@pytest.mark.xfail(
    reason="open (issue 8): passes alone, failed once after test_dashboard.py in the same process;"
    " the two browser modules still share process-wide state to be isolated",
    strict=False,
)
def test_canary_fail_verdict_and_rollback(
    fresh_db_url: str,
    moto_url: str,
    tmp_path: Path,
    browser_page: Any,  # noqa: F811
    screenshots: Path,  # noqa: F811
) -> None:
    session = aws_session(REGION, moto_url)
    lambda_client = session.client("lambda", endpoint_url=moto_url)
    _canary_alias(lambda_client, session.client("iam", endpoint_url=moto_url))
    for package in ("collectors.schema", "reconciler.schema", "alarms.schema", "dashboard.schema"):
        apply_migrations(fresh_db_url, package)
    _invocations(fresh_db_url)
    stack_file = tmp_path / "stack.json"
    StackInfo(
        pid=os.getpid(), started_at=datetime.now(UTC).isoformat(), region=REGION, aws_endpoint=moto_url,
        api_endpoint="http://127.0.0.1:9", otlp_endpoint="http://127.0.0.1:9", aurora_url=fresh_db_url,
        audit_url=fresh_db_url,
    ).write(stack_file)  # fmt: skip
    os.environ["SAGAWATCH_OPERATOR"] = "browser-test"
    server = DashboardServer(fresh_db_url, "127.0.0.1", 0, stack_file)
    url = server.start()
    try:
        page = browser_page
        page.goto(url)  # a deep link to /canary meets Streamlit's pages/ auto-discovery: go through the nav
        # Until the first run has called st.navigation, Streamlit shows its pages/-folder links (lower
        # case, blank pages): wait for the app's own overview, then follow its "Canary" link.
        page.get_by_role("heading", name="Overview").wait_for(timeout=FIRST_RENDER_MS)
        page.get_by_role("link", name="Canary", exact=True).click()
        page.get_by_text("Verdict for v2 against v1: FAIL").wait_for(timeout=FIRST_RENDER_MS)
        page.screenshot(path=str(screenshots / "canary-fail.png"), full_page=True)
        page.get_by_role("button", name="Roll back v2").click()
        page.get_by_role("button", name="Confirm").click()
        page.get_by_text("Roll back v2: done").wait_for(timeout=90_000)
        page.screenshot(path=str(screenshots / "canary-rolled-back.png"), full_page=True)
    finally:
        server.stop()

    alias = lambda_client.get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute("SELECT operator, action, target, status FROM dashboard_actions").fetchall()
    assert row == [("browser-test", "canary rollback", FUNCTION, "succeeded")]
