"""The DLQ seen and sent back, on moto's own redrive (messages past maxReceiveCount move to the DLQ)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from instrumented_app.jobs.model import Job, JobStatus
from instrumented_app.jobs.redrive import list_dlq, redrive
from tests.unit.jobs.helpers import MAX_RECEIVES, FakeMembership, Harness


def fail_into_dlq(harness: Harness, *cust_nos: str) -> list[Job]:
    """Enqueue jobs that fail every attempt, deliver until the queue gives up, then let moto move them."""
    jobs = [harness.enqueue(cust_no) for cust_no in cust_nos]
    for _ in range(MAX_RECEIVES):
        messages = harness.receive()
        assert len(messages) == len(jobs)
        harness.deliver(messages)
    assert harness.receive() == []  # this receive is the one that moves them
    return jobs


def dlq_depth(harness: Harness) -> int:
    attributes = harness.aws.sqs.get_queue_attributes(
        QueueUrl=harness.queues.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_the_dlq_lists_each_failed_job_with_its_error_and_correlation_id_and_keeps_it(
    harness: Harness,
) -> None:
    (job,) = fail_into_dlq(harness, "C0BAD")
    (letter,) = list_dlq(harness.aws.sqs, harness.queues, harness.store)
    assert letter.job_id == job.job_id
    assert letter.correlation_id == "corr-C0BAD"
    assert letter.job_status == "FAILED"
    assert letter.retry_count == MAX_RECEIVES
    assert letter.error is not None and "HTTP 503" in letter.error
    assert dlq_depth(harness) == 1  # listing is not consuming
    assert len(list_dlq(harness.aws.sqs, harness.queues, harness.store)) == 1


def test_a_redriven_job_goes_back_to_pending_and_then_succeeds(
    harness: Harness, membership: FakeMembership
) -> None:
    (job,) = fail_into_dlq(harness, "C0BAD")
    membership.failing.clear()  # the SaaS is fixed
    report = redrive(harness.aws.sqs, harness.queues, harness.store)
    assert (report.moved, report.jobs_reset, report.failed, report.problems) == (1, 1, 0, [])
    assert dlq_depth(harness) == 0
    reset = harness.job(job.job_id)
    assert (reset.status, reset.redrive_count) == (JobStatus.PENDING, 1)
    (message,) = harness.receive()
    assert message["MessageAttributes"]["correlation_id"]["StringValue"] == "corr-C0BAD"
    assert harness.deliver([message]) == []
    assert harness.job(job.job_id).status is JobStatus.SUCCEEDED


def test_redrive_max_moves_at_most_that_many(harness: Harness) -> None:
    fail_into_dlq(harness, "C0BAD", "C0BAD")
    report = redrive(harness.aws.sqs, harness.queues, harness.store, max_messages=1)
    assert (report.moved, report.jobs_reset) == (1, 1)
    assert dlq_depth(harness) == 1
    assert len(harness.receive()) == 1


def test_an_unreadable_message_is_listed_and_redriven_never_dropped(harness: Harness) -> None:
    harness.aws.sqs.send_message(QueueUrl=harness.queues.dlq_url, MessageBody="{not json")
    (letter,) = list_dlq(harness.aws.sqs, harness.queues, harness.store)
    assert letter.job_id is None
    assert letter.error is not None and letter.error.startswith("unreadable message: body: not JSON")
    report = redrive(harness.aws.sqs, harness.queues, harness.store)
    assert (report.moved, report.jobs_reset) == (1, 0)
    assert len(report.problems) == 1 and "not JSON" in report.problems[0]
    bodies: list[Any] = [m["Body"] for m in harness.receive()]
    assert bodies == ["{not json"]


def test_a_redrive_leaves_a_job_that_meanwhile_succeeded_alone(harness: Harness) -> None:
    (job,) = fail_into_dlq(harness, "C0BAD")
    harness.store.start(job.job_id, harness.enqueuer.clock())
    harness.store.succeed(job.job_id, {"member_id": "mbr_x"}, harness.enqueuer.clock())
    report = redrive(harness.aws.sqs, harness.queues, harness.store)
    assert (report.moved, report.jobs_reset) == (1, 0)
    assert harness.job(job.job_id).status is JobStatus.SUCCEEDED
    assert json.loads(harness.receive()[0]["Body"])["job_id"] == job.job_id


class RefusingSends:
    """The real SQS client, except that the source queue refuses every message sent back to it."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Successful": [],
            "Failed": [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in Entries],
        }


def test_a_message_that_cannot_be_requeued_stays_in_the_dlq_and_its_job_stays_failed(
    harness: Harness,
) -> None:
    (job,) = fail_into_dlq(harness, "C0BAD")
    report = redrive(RefusingSends(harness.aws.sqs), harness.queues, harness.store, max_messages=1)
    assert (report.moved, report.jobs_reset, report.failed) == (0, 0, 1)
    assert "not re-queued: InternalError" in report.problems[0]
    assert dlq_depth(harness) == 1
    failed = harness.job(job.job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.last_error == "redrive: not re-queued: InternalError"


class MoveTaskRecorder:
    """The real SQS client plus AWS's StartMessageMoveTask, which moto does not have: the call is
    recorded (and the state of the jobs at that moment), or refused when ``refuse`` is set."""

    def __init__(self, sqs: Any, harness: Harness, refuse: bool = False) -> None:
        self._sqs = sqs
        self._harness = harness
        self.refuse = refuse
        self.calls: list[tuple[dict[str, Any], list[JobStatus]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def start_message_move_task(self, **kwargs: Any) -> dict[str, Any]:
        if self.refuse:
            raise RuntimeError("AccessDenied")
        self.calls.append((kwargs, [job.status for job in self._jobs()]))
        return {"TaskHandle": "task-1"}

    def _jobs(self) -> list[Job]:
        return [self._harness.job(job_id) for job_id in self._harness.enqueued]


def test_on_aws_the_jobs_are_reset_before_the_move_task_starts(harness: Harness) -> None:
    fail_into_dlq(harness, "C0BAD", "C0BAD")
    sqs = MoveTaskRecorder(harness.aws.sqs, harness)
    report = redrive(sqs, harness.queues, harness.store, method="move-task")
    ((arguments, statuses_at_start),) = sqs.calls
    assert arguments == {"SourceArn": harness.queues.dlq_arn, "DestinationArn": harness.queues.source_arn}
    assert statuses_at_start == [JobStatus.PENDING, JobStatus.PENDING]
    assert (report.moved, report.jobs_reset, report.task_handle) == (2, 2, "task-1")
    assert dlq_depth(harness) == 2  # peeked and released for the task to move


def test_a_move_task_that_cannot_start_leaves_the_jobs_failed(harness: Harness) -> None:
    (job,) = fail_into_dlq(harness, "C0BAD")
    with pytest.raises(RuntimeError, match="AccessDenied"):
        redrive(
            MoveTaskRecorder(harness.aws.sqs, harness, refuse=True),
            harness.queues,
            harness.store,
            method="move-task",
        )
    failed = harness.job(job.job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.last_error == "redrive: move task not started: RuntimeError"
