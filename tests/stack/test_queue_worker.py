"""The queue worker over the wire, as an operator sees it: ``sagawatch up``, HTTP, faults, the jobs CLI.

POST /api/async answers 202 at once; the job reaches SUCCEEDED with the member
written to the membership SaaS under the request's correlation id. With the
membership API failing every call, the job's retry count rises to the queue's
maxReceiveCount, it ends FAILED with its last error, and its message is in the
DLQ (``sagawatch jobs dlq``); once the fault is cleared, ``sagawatch jobs
redrive`` sends it back and it succeeds.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest

from sagawatch.aws import aws_session
from tests.polling import eventually
from tests.stack.conftest import REPO, SAGAWATCH, RunningStack, module_stack

pytestmark = pytest.mark.slow

#: The jobs queue's maxReceiveCount in instrumented_app/template.yaml.
MAX_RECEIVES = 3


stack = module_stack("queue-worker")


def jobs_cli(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SAGAWATCH, "jobs", *args], cwd=REPO, env=stack.env(), capture_output=True, text=True, timeout=60
    )


class App:
    def __init__(self, stack: RunningStack) -> None:
        self.api = str(stack.info["api_endpoint"])
        self.membership = stack.saas_urls()["membership"]
        self.http = httpx.Client(timeout=10, trust_env=False)
        aws = str(stack.info["aws_endpoint"])
        self.cloudwatch: Any = aws_session(str(stack.info["region"]), aws).client(
            "cloudwatch", endpoint_url=aws
        )

    def submit(self, cust_no: str, correlation_id: str) -> dict[str, Any]:
        response = self.http.post(
            f"{self.api}/api/async",
            json={"kind": "sync_member", "cust_no": cust_no, "payload": {"full_name": "Hanako Yamada"}},
            headers={"X-Correlation-Id": correlation_id},
        )
        assert response.status_code == 202, response.text
        assert response.headers["x-correlation-id"] == correlation_id
        body: dict[str, Any] = response.json()
        assert response.headers["location"] == body["status_url"]
        return body

    def job(self, status_url: str) -> dict[str, Any]:
        response = self.http.get(f"{self.api}{status_url}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def wait_for(self, status_url: str, status: str, timeout_s: float) -> dict[str, Any]:
        return eventually(lambda: (job := self.job(status_url))["status"] == status and job, timeout_s)

    def metric_names(self) -> set[str]:
        listed = self.cloudwatch.list_metrics(Namespace="sagawatch")["Metrics"]
        return {metric["MetricName"] for metric in listed}

    def faults(self, **config: Any) -> None:
        self.http.put(f"{self.membership}/_admin/faults", json=config).raise_for_status()

    def members(self, cust_no: str) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.membership}/members", params={"member_no": cust_no})
        response.raise_for_status()
        return list(response.json()["members"])

    def writes(self, correlation_id: str) -> list[dict[str, Any]]:
        response = self.http.get(
            f"{self.membership}/_admin/writes", params={"correlation_id": correlation_id}
        )
        return list(response.json()["writes"])


def test_a_job_succeeds_and_the_member_is_written_under_the_requests_correlation_id(
    stack: RunningStack,
) -> None:
    app = App(stack)
    refused = app.http.post(
        f"{app.api}/api/async", json={"kind": "sync_member", "payload": {"full_name": "A"}}
    )
    assert refused.status_code == 400  # by the API front, from the template's model
    assert "cust_no" in [error["field"] for error in refused.json()["errors"]], refused.text
    accepted = app.submit("CQW0001", "qw-success-1")
    assert accepted["status"] == "PENDING"
    job = app.wait_for(accepted["status_url"], "SUCCEEDED", timeout_s=30)
    (member,) = app.members("CQW0001")
    assert job["result"] == {"cust_no": "CQW0001", "member_id": member["id"], "action": "created"}
    assert (job["retry_count"], job["last_error"], job["correlation_id"]) == (0, None, "qw-success-1")
    (write,) = app.writes("qw-success-1")
    assert write["idempotency_key"] == accepted["job_id"]


def test_a_failing_job_retries_to_the_dlq_and_a_redrive_finishes_it(stack: RunningStack) -> None:
    app = App(stack)
    app.faults(error_rate=1.0)
    try:
        accepted = app.submit("CQW0002", "qw-dlq-1")
        seen_retries: set[int] = set()

        def failed() -> dict[str, Any] | None:
            job = app.job(accepted["status_url"])
            seen_retries.add(job["retry_count"])
            return job if job["status"] == "FAILED" else None

        job = eventually(failed, timeout_s=60)
        assert job["retry_count"] == MAX_RECEIVES
        assert {1, MAX_RECEIVES} <= seen_retries  # it rose attempt by attempt, visibly
        assert "HTTP 50" in job["last_error"]
        # The worker's EMF lines became CloudWatch metrics an alarm can watch.
        eventually(lambda: app.metric_names() >= {"JobAttemptFailed", "JobFailed"}, timeout_s=30)

        def in_dlq() -> list[dict[str, Any]] | None:
            listed = jobs_cli(stack, "dlq", "--json")
            assert listed.returncode == 0, listed.stderr
            letters = [m for m in json.loads(listed.stdout) if m["job_id"] == accepted["job_id"]]
            return letters or None

        (letter,) = eventually(in_dlq, timeout_s=30)
        assert letter["correlation_id"] == "qw-dlq-1"
        assert letter["job_status"] == "FAILED"
        assert "HTTP 50" in letter["error"]
    finally:
        app.faults(error_rate=0.0)

    redriven = jobs_cli(stack, "redrive")
    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    assert "1 moved, 1 jobs reset to PENDING, 0 failed" in redriven.stdout
    done = app.wait_for(accepted["status_url"], "SUCCEEDED", timeout_s=30)
    assert done["redrive_count"] == 1
    assert len(app.members("CQW0002")) == 1
    shown = jobs_cli(stack, "status", accepted["job_id"], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "SUCCEEDED"
    assert jobs_cli(stack, "dlq").stdout.strip() == "the jobs DLQ is empty"


def test_a_create_customer_job_runs_the_customer_saga_once(stack: RunningStack) -> None:
    app = App(stack)
    body = {
        "kind": "create_customer",
        "cust_no": "CQW0100",
        "payload": {"name": {"family": "Yamada", "given": "Hanako"}, "email": "hanako.qw@example.com"},
    }
    response = app.http.post(f"{app.api}/api/async", json=body, headers={"X-Correlation-Id": "qw-saga-1"})
    assert response.status_code == 202, response.text
    job = app.wait_for(response.json()["status_url"], "SUCCEEDED", timeout_s=30)
    saga = app.http.get(f"{app.api}/sagas/{job['result']['saga_id']}")
    assert saga.status_code == 200, saga.text
    assert (saga.json()["status"], saga.json()["correlation_id"]) == ("SUCCEEDED", "qw-saga-1")
    assert len(app.members("CQW0100")) == 1


def test_a_poison_message_reaches_the_dlq_and_is_listed_as_unreadable(stack: RunningStack) -> None:
    aws = str(stack.info["aws_endpoint"])
    sqs: Any = aws_session(str(stack.info["region"]), aws).client("sqs", endpoint_url=aws)
    queue_url = sqs.get_queue_url(QueueName="sw-async-jobs")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody="{not a job")["MessageId"]

    def listed() -> list[dict[str, Any]] | None:
        result = jobs_cli(stack, "dlq", "--json")
        assert result.returncode == 0, result.stderr
        return [m for m in json.loads(result.stdout) if m["message_id"] == sent] or None

    (letter,) = eventually(listed, timeout_s=30)
    assert letter["job_id"] is None
    assert letter["error"].startswith("unreadable message: body: not JSON")
