"""The dashboard in a real browser, as an operator on call uses it.

A real ``sagawatch up`` (its own collectors, its own dashboard) with traffic and a fault: a
job fails against the membership simulator until it lands in the DLQ, and a customer saga crashed
after creating its support user an hour ago (the saga engine's fault hook), so it is stuck. Chromium
(Debian's, driven by Playwright) checks what a person would: the overview shows the stuck saga and a
non-empty DLQ; clicking through reaches the saga's timeline and its trace waterfall; the saga's page
opened from its URL (a deep link) compensates it after a confirmation, and the support user is gone;
a redrive from the queues page (fault cleared) empties the DLQ. Meanwhile a customer is read through
the API front with the template's canary of ``sw-customer-read`` raised to half the traffic (its v2
fails ``CanaryDefectRate`` of its calls, test faults being on); the stack's collectors pick the
invocations up, the overview's canary tile says FAIL, the canary page (through the tile) says FAIL
for v2, and "Roll back" takes v2's weight off the alias ``live``, read back over boto3. Each page is
saved as a screenshot under the test's own folder (``screenshots``).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from instrumented_app.handlers.canary_release import ALIAS, VERSION_HEADER
from instrumented_app.handlers.canary_release import FUNCTION as CANARY
from sagawatch.aws import aws_session
from tests.browser.conftest import FIRST_RENDER_MS, metric_value, scroll_to, shot
from tests.polling import eventually
from tests.stack.conftest import SAGAWATCH, RunningStack, module_stack

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(420)]

STUCK_SAGA = "bt-stuck-saga-1"
CUST_NO = "CBT0002"
CORRELATION_ID = "bt-dlq-corr-1"
JOBS_DLQ = "sw-async-jobs-dlq"
OPERATOR = "browser-test"
CANARY_CUST_NO = "CBT0003"
#: Reads at half weight: about 80 reach v2, of which about 24 fail (the judge wants 20 a side).
CANARY_READS = 160
#: The canary traffic ends by then however slow the machine (it has the whole journey to run in).
CANARY_TRAFFIC_S = 90.0
FAILED = "failed"
#: Who acts, and a quicker beat than the defaults (collect every 5 s, refresh every 5 s) so that
#: what the test does shows on the page sooner.
STACK_ENV = {
    "SAGAWATCH_OPERATOR": OPERATOR,
    "SAGAWATCH_COLLECT_INTERVAL_S": "2",
    "SAGAWATCH_DASHBOARD_REFRESH_S": "2",
}


#: ``sagawatch up`` with its dashboard; actions taken in it are recorded as ``OPERATOR``'s.
stack = module_stack("browser", env=STACK_ENV, start_timeout_s=180)


@pytest.fixture(scope="module")
def dashboard_url(stack: RunningStack) -> str:
    published = dict(stack.info.get("extra") or {}).get("dashboard")  # type: ignore[call-overload]
    assert published, f"sagawatch up published no dashboard: {stack.info}"
    return str(published)


class Phases:
    """Wall time per phase of the journey, printed (``-rA``) to show where the time goes."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        print(f"phase {name}: {now - self.last:.1f} s")
        self.last = now


def _saas(stack: RunningStack, system: str) -> str:
    return stack.saas_urls()[system]


def _crash_a_customer_saga(stack: RunningStack) -> None:
    """A customer saga whose process died right after its support user was created, an hour ago."""
    from instrumented_app.saas_clients import SaasEndpoints
    from instrumented_app.sagas.customer_input import NewCustomer
    from instrumented_app.sagas.definition import SimulatedCrash
    from instrumented_app.sagas.runner import open_runner

    endpoints = SaasEndpoints(
        support_url=_saas(stack, "support"),
        commerce_url=_saas(stack, "commerce"),
        membership_url=_saas(stack, "membership"),
    )
    customer = NewCustomer.model_validate(
        {"cust_no": CUST_NO, "name": {"family": "Yamada", "given": "Hanako"}, "email": "hanako@example.com"}
    )
    runner = open_runner(str(stack.info["aurora_url"]), endpoints, crash_after="support_user")
    try:
        with pytest.raises(SimulatedCrash):
            runner.start_customer(customer, CORRELATION_ID, saga_id=STUCK_SAGA)
        runner.conn.execute(
            "UPDATE saga SET updated_at = now() - interval '60 minutes', started_at = now() - interval"
            " '61 minutes', deadline = NULL WHERE id = %s",
            (STUCK_SAGA,),
        )
    finally:
        runner.close()


def _support_users(stack: RunningStack) -> int:
    found = httpx.get(
        f"{_saas(stack, 'support')}/api/v2/users/search.json",
        params={"external_id": CUST_NO},
        timeout=10,
        trust_env=False,
    )
    found.raise_for_status()
    return len(found.json()["users"])


def _set_membership_errors(stack: RunningStack, rate: float) -> None:
    httpx.put(
        f"{_saas(stack, 'membership')}/_admin/faults", json={"error_rate": rate}, timeout=10, trust_env=False
    ).raise_for_status()


def _dlq_depth(stack: RunningStack) -> int:
    aws = str(stack.info["aws_endpoint"])
    sqs: Any = aws_session(str(stack.info["region"]), aws).client("sqs", endpoint_url=aws)
    url = sqs.get_queue_url(QueueName=JOBS_DLQ)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return sum(
        int(attributes[name])
        for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    )


def _send_a_failing_job(stack: RunningStack) -> None:
    """A job whose SaaS call fails every time (while the fault is on): retried to maxReceiveCount,
    then dead-lettered, which takes a few backoffs: the test goes on meanwhile."""
    accepted = httpx.post(
        f"{stack.info['api_endpoint']}/api/async",
        json={"kind": "sync_member", "cust_no": "CBT0001", "payload": {"full_name": "Hanako Yamada"}},
        headers={"X-Correlation-Id": CORRELATION_ID},
        timeout=10,
        trust_env=False,
    )
    assert accepted.status_code == 202, accepted.text


def _saga_status(stack: RunningStack) -> str | None:
    with psycopg.connect(str(stack.info["aurora_url"])) as conn:
        row = conn.execute("SELECT status FROM saga WHERE id = %s", (STUCK_SAGA,)).fetchone()
    return str(row[0]) if row else None


def _canary_reads(stack: RunningStack) -> Counter[str]:
    """A customer read ``CANARY_READS`` times at canary weight 0.5; answers counted by the version
    that served them (``X-Function-Version``), failures (the API front's 502) as ``failed``."""
    with psycopg.connect(str(stack.info["aurora_url"]), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customer (cust_no, family_name, given_name, email) VALUES (%s, %s, %s, %s)",
            (CANARY_CUST_NO, "Sato", "Hana", "hana@example.com"),
        )
    raised = subprocess.run(
        [*SAGAWATCH, "canary", "set", CANARY, "--weight", "0.5"],
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert raised.returncode == 0, raised.stdout + raised.stderr
    time.sleep(1.2)  # the runtime re-reads an alias after 1 s, as Lambda's front ends do
    seen: Counter[str] = Counter()
    deadline = time.monotonic() + CANARY_TRAFFIC_S
    with httpx.Client(base_url=str(stack.info["api_endpoint"]), timeout=15, trust_env=False) as http:
        for _ in range(CANARY_READS):
            if time.monotonic() > deadline:
                break
            answer = http.get(f"/customers/{CANARY_CUST_NO}")
            served_by = answer.headers.get(VERSION_HEADER, FAILED)
            seen[served_by if answer.status_code == 200 else FAILED] += 1
    return seen


def _canary_alias(stack: RunningStack) -> dict[str, Any]:
    aws = str(stack.info["aws_endpoint"])
    lam: Any = aws_session(str(stack.info["region"]), aws).client("lambda", endpoint_url=aws)
    return dict(lam.get_alias(FunctionName=CANARY, Name=ALIAS))


def test_an_operator_compensates_the_stuck_saga_redrives_the_dlq_and_rolls_back_the_failing_canary(
    stack: RunningStack, dashboard_url: str, browser_page: Any, screenshots: Path
) -> None:
    page = browser_page
    phase = Phases()
    canary = ThreadPoolExecutor(max_workers=1, thread_name_prefix="canary-reads")
    canary_reads: Future[Counter[str]] = canary.submit(_canary_reads, stack)  # runs while the journey goes on
    canary.shutdown(wait=False)
    _set_membership_errors(stack, 1.0)
    try:
        _send_a_failing_job(stack)  # dead-lettered after a few backoffs, while the journey goes on
        _crash_a_customer_saga(stack)
        assert _support_users(stack) == 1

        # The overview flags the stuck saga (the stack collects and the page refreshes by itself).
        page.goto(dashboard_url)
        page.get_by_role("heading", name="Overview").wait_for(timeout=FIRST_RENDER_MS)
        eventually(lambda: metric_value(page, "Stuck sagas") not in ("", "0"), timeout_s=45, interval_s=0.5)
        phase("overview: stuck saga")

        # Through the tile to the list, and to the stuck saga's page with its step timeline.
        page.get_by_role("link", name="Open Sagas").click()
        page.get_by_role("heading", name="Sagas", exact=True).wait_for()
        page.get_by_role("link", name=re.compile(f"{STUCK_SAGA}.*STUCK")).click()
        page.get_by_role("heading", name=f"customer saga {STUCK_SAGA}").wait_for()
        page.get_by_text("STUCK: not moved for").wait_for()
        page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
        assert page.get_by_text("support_user").count() >= 1
        shot(page, screenshots, "2-saga")

        # Its trace: the API request and the worker's attempts as a waterfall, with their log lines.
        page.get_by_role("link", name=re.compile("Open its trace")).click()
        page.get_by_role("heading", name=f"Transaction {CORRELATION_ID}").wait_for()
        page.get_by_text(re.compile(r"Trace `?[0-9a-f]{32}")).first.wait_for()
        page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
        shot(page, screenshots, "3-trace")
        phase("saga and trace")

        # Back on the overview: the stuck saga and, by now, the dead-lettered job, side by side.
        page.get_by_role("link", name="Overview").first.click()
        eventually(lambda: metric_value(page, "DLQ depth") not in ("", "0"), timeout_s=90, interval_s=0.5)
        assert metric_value(page, "Stuck sagas") not in ("", "0")
    finally:
        _set_membership_errors(stack, 0.0)
    assert _dlq_depth(stack) == 1
    shot(page, screenshots, "1-overview")
    phase("overview: a dead letter too")

    # The saga's page from its URL, as a link in a chat message opens it: compensate, after confirming.
    page.goto(f"{dashboard_url}/sagas?saga_id={STUCK_SAGA}")
    page.get_by_role("heading", name=f"customer saga {STUCK_SAGA}").wait_for(timeout=FIRST_RENDER_MS)
    page.get_by_role("button", name="Compensate", exact=True).click()
    page.get_by_text(f"saga compensate {STUCK_SAGA} --yes").wait_for()
    page.get_by_role("button", name="Confirm").click()
    done = page.get_by_text("Compensate: done").first
    done.wait_for(timeout=90_000)
    scroll_to(done)
    shot(page, screenshots, "4-saga-compensated")
    assert _saga_status(stack) == "COMPENSATED"
    assert _support_users(stack) == 0  # the support user it had made is gone
    phase("deep link and compensation")

    # The queues page: the jobs DLQ holds the message; redrive it (the fault is cleared).
    page.get_by_role("link", name="Queues and DLQs").first.click()
    page.get_by_role("heading", name="Queues and DLQs").wait_for()
    page.get_by_role("heading", name=f"Messages in {JOBS_DLQ}").wait_for()
    shot(page, screenshots, "5-queues")
    page.get_by_role("button", name="Redrive", exact=True).click()
    page.get_by_text(f"from {JOBS_DLQ} back to sw-async-jobs").wait_for()
    page.get_by_role("button", name="Confirm").click()
    done = page.get_by_text("Redrive: done").first  # the progress box, then the result box after it
    done.wait_for(timeout=90_000)
    scroll_to(done)
    shot(page, screenshots, "6-redriven")
    eventually(lambda: _dlq_depth(stack) == 0, timeout_s=30, interval_s=0.5)
    phase("redrive")

    page.get_by_role("link", name="Overview").first.click()
    eventually(lambda: metric_value(page, "DLQ depth") == "0", timeout_s=45, interval_s=0.5)
    shot(page, screenshots, "7-overview-after")
    with psycopg.connect(str(stack.info["audit_url"])) as conn:
        logged = conn.execute("SELECT operator, action, target, status FROM dashboard_actions").fetchall()
    assert (OPERATOR, "saga compensate", STUCK_SAGA, "succeeded") in logged
    assert (OPERATOR, "jobs redrive", JOBS_DLQ, "succeeded") in logged
    phase("overview after")

    # The canary: v2 failed about a third of the reads; the overview's tile says so, and its page.
    served = canary_reads.result(timeout=CANARY_TRAFFIC_S)
    assert served["2"] + served[FAILED] >= 40 and served[FAILED] >= 5, served
    assert _canary_alias(stack)["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.5}
    eventually(
        lambda: metric_value(page, "Canary") == "FAIL", timeout_s=45, interval_s=0.5, what="canary tile"
    )
    page.get_by_role("link", name="Open Canary").click()
    page.get_by_role("heading", name="Canary", exact=True).wait_for()
    page.get_by_text("Verdict for v2 against v1: FAIL").wait_for()
    shot(page, screenshots, "8-canary-fail")
    page.get_by_role("button", name="Roll back v2").click()
    page.get_by_text(f"sagawatch canary rollback {CANARY}").wait_for()
    page.get_by_role("button", name="Confirm").click()
    done = page.get_by_text("Roll back v2: done").first
    done.wait_for(timeout=90_000)
    scroll_to(done)
    shot(page, screenshots, "9-canary-rolled-back")
    alias = _canary_alias(stack)
    assert alias["FunctionVersion"] == "1"
    assert "2" not in ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}), alias
    with psycopg.connect(str(stack.info["audit_url"])) as conn:
        logged = conn.execute("SELECT operator, action, target, status FROM dashboard_actions").fetchall()
    assert (OPERATOR, "canary rollback", CANARY, "succeeded") in logged
    assert len(list(screenshots.glob("*.png"))) == 9
    phase(f"canary ({datetime.now(UTC):%H:%M:%S})")
