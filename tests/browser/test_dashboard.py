"""The dashboard in a real browser, as an operator on call uses it.

A real ``sagawatch up`` with traffic and a fault: a job fails against the membership simulator until it
lands in the DLQ, and a saga sits in Aurora without moving. After a collection pass, Chromium (Debian's,
driven by Playwright) opens the dashboard and checks what a person would: the overview shows a stuck
saga and a non-empty DLQ; clicking through reaches the saga's timeline and its trace waterfall; a
redrive from the queues page (fault cleared) empties the DLQ. Each page is saved as a screenshot under
``SAGAWATCH_SCREENSHOTS`` or the test's own folder.

The fixtures are module-scoped so further journeys share one stack and one browser; the canary page's
journey (a defective v2 judged FAIL, rollback sets its weight to 0) belongs in this module as
``test_canary_fail_verdict_and_rollback`` using ``stack``, ``dashboard_url`` and ``browser_page``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest

from dashboard.server import DashboardServer
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations
from tests.stack.conftest import REPO, SAGAWATCH, RunningStack, start_stack, stop_stack

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(420)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STUCK_SAGA = "bt-stuck-saga-1"
CORRELATION_ID = "bt-dlq-corr-1"
JOBS_DLQ = "sw-async-jobs-dlq"
#: Playwright's wait for a page element, in ms: a Streamlit page renders after its websocket connects.
UI_TIMEOUT_MS = 30_000

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout_s: float, interval_s: float = 0.5) -> T:
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s} s (last: {last!r})")


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("SAGAWATCH_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("browser") / "home", timeout_s=180)
    yield running
    if running.process.poll() is None:
        stop_stack(running)


@pytest.fixture(scope="module")
def dashboard_url(stack: RunningStack) -> Iterator[str]:
    """The stack's dashboard when ``sagawatch up`` publishes one, else one started here on its store."""
    audit_url = str(stack.info["audit_url"])
    apply_migrations(audit_url, "dashboard.schema")
    published = dict(stack.info.get("extra") or {}).get("dashboard")  # type: ignore[call-overload]
    if published:
        yield str(published)
        return
    server = DashboardServer(audit_url, "127.0.0.1", 0, stack.home / "stack.json")
    os.environ.setdefault("SAGAWATCH_OPERATOR", "browser-test")
    yield server.start()
    server.stop()


@pytest.fixture(scope="module")
def browser_page(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT_MS)
        yield page
        browser.close()


def _cli(stack: RunningStack, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*SAGAWATCH, *args], cwd=REPO, env=stack.env(), capture_output=True, text=True, timeout=timeout_s
    )
    assert done.returncode == 0, f"sagawatch {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def _make_stuck_saga(stack: RunningStack) -> None:
    """A customer saga that stopped in its second step an hour ago, as a crashed worker leaves it."""
    with psycopg.connect(str(stack.info["aurora_url"]), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO saga (id, saga_type, correlation_id, status, current_step, attempts, started_at,"
            " updated_at) VALUES (%s, 'customer', %s, 'RUNNING', 'create_support_user', 1,"
            " now() - interval '61 minutes', now() - interval '60 minutes')",
            (STUCK_SAGA, CORRELATION_ID),
        )
        conn.execute(
            "INSERT INTO saga_step (saga_id, seq, name, status, idempotency_key, started_at, finished_at)"
            " VALUES (%s, 0, 'create_aurora_row', 'SUCCEEDED', %s, now() - interval '61 minutes',"
            " now() - interval '61 minutes'), (%s, 1, 'create_support_user', 'RUNNING', %s,"
            " now() - interval '60 minutes', NULL)",
            (STUCK_SAGA, f"{STUCK_SAGA}:0", STUCK_SAGA, f"{STUCK_SAGA}:1"),
        )


def _fill_the_dlq(stack: RunningStack) -> None:
    """A job whose SaaS call fails every time: retried to maxReceiveCount, then dead-lettered."""
    membership = str(dict(stack.info["saas"])["membership"])  # type: ignore[call-overload]
    api = str(stack.info["api_endpoint"])
    with httpx.Client(timeout=10, trust_env=False) as http:
        http.put(f"{membership}/_admin/faults", json={"error_rate": 1.0}).raise_for_status()
        accepted = http.post(
            f"{api}/api/async",
            json={"kind": "sync_member", "cust_no": "CBT0001", "payload": {"full_name": "Hanako Yamada"}},
            headers={"X-Correlation-Id": CORRELATION_ID},
        )
        assert accepted.status_code == 202, accepted.text

    def dead_lettered() -> bool:
        listed = json.loads(_cli(stack, "jobs", "dlq", "--json").stdout)
        return any(letter["correlation_id"] == CORRELATION_ID for letter in listed)

    eventually(dead_lettered, timeout_s=90, interval_s=2)


def _clear_fault(stack: RunningStack) -> None:
    membership = str(dict(stack.info["saas"])["membership"])  # type: ignore[call-overload]
    httpx.put(f"{membership}/_admin/faults", json={"error_rate": 0.0}, timeout=10, trust_env=False)


def _dlq_depth(stack: RunningStack) -> int:
    aws = str(stack.info["aws_endpoint"])
    sqs: Any = aws_session(str(stack.info["region"]), aws).client("sqs", endpoint_url=aws)
    url = sqs.get_queue_url(QueueName=JOBS_DLQ)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return sum(
        int(attributes[name])
        for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    )


def _metric_value(page: Any, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def _shot(page: Any, folder: Path, name: str) -> None:
    page.wait_for_timeout(1500)  # let charts draw
    page.screenshot(path=str(folder / f"{name}.png"))


def test_an_operator_finds_the_stuck_saga_its_trace_and_redrives_the_dlq(
    stack: RunningStack, dashboard_url: str, browser_page: Any, screenshots: Path
) -> None:
    page = browser_page
    _make_stuck_saga(stack)
    try:
        _fill_the_dlq(stack)
    finally:
        _clear_fault(stack)
    _cli(stack, "collect", "--once")

    # The overview: a stuck saga and a non-empty DLQ, at a glance.
    page.goto(dashboard_url)
    page.get_by_role("heading", name="Overview").wait_for()
    eventually(lambda: _metric_value(page, "Stuck sagas") not in ("", "0"), timeout_s=30)
    assert int(_metric_value(page, "Stuck sagas")) >= 1
    assert int(_metric_value(page, "DLQ depth")) >= 1
    _shot(page, screenshots, "1-overview")

    # Through the tile to the list, and to the stuck saga's page with its step timeline.
    page.get_by_role("link", name="Open Sagas").click()
    page.get_by_role("heading", name="Sagas").wait_for()
    page.get_by_role("link", name=re.compile(f"{STUCK_SAGA}.*STUCK")).click()
    page.get_by_role("heading", name=f"customer saga {STUCK_SAGA}").wait_for()
    page.get_by_text("STUCK: not moved for").wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    assert page.get_by_text("create_support_user").count() >= 1
    _shot(page, screenshots, "2-saga")

    # Its trace: the API request and the worker's attempts as a waterfall, with their log lines.
    page.get_by_role("link", name=re.compile("Open its trace")).click()
    page.get_by_role("heading", name=f"Transaction {CORRELATION_ID}").wait_for()
    page.get_by_text(re.compile(r"Trace `?[0-9a-f]{32}")).first.wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    _shot(page, screenshots, "3-trace")

    # The queues page: the jobs DLQ holds the message; redrive it (the fault is cleared).
    page.get_by_role("link", name="Queues and DLQs").first.click()
    page.get_by_role("heading", name="Queues and DLQs").wait_for()
    page.get_by_role("heading", name=f"Messages in {JOBS_DLQ}").wait_for()
    _shot(page, screenshots, "4-queues")
    page.get_by_role("button", name="Redrive", exact=True).click()
    page.get_by_text(f"from {JOBS_DLQ} back to sw-async-jobs").wait_for()
    page.get_by_role("button", name="Confirm").click()
    done = page.get_by_text("Redrive: done").first  # the progress box, then the result box after it
    done.wait_for(timeout=120_000)
    done.scroll_into_view_if_needed()
    _shot(page, screenshots, "5-redriven")

    assert eventually(lambda: _dlq_depth(stack) == 0 or None, timeout_s=30)
    _cli(stack, "collect", "--once")
    page.goto(dashboard_url)
    eventually(lambda: _metric_value(page, "DLQ depth") == "0", timeout_s=30)
    _shot(page, screenshots, "6-overview-after")
    with psycopg.connect(str(stack.info["audit_url"])) as conn:
        logged = conn.execute("SELECT action, target, status FROM dashboard_actions").fetchall()
    assert ("jobs redrive", JOBS_DLQ, "succeeded") in logged
