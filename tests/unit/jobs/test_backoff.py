"""Retry delays of failed job messages: the rule, and the worker setting it on real SQS (moto)."""

from __future__ import annotations

import pytest

from instrumented_app.jobs.backoff import VisibilityBackoff, retry_delay_s
from instrumented_app.jobs.model import JobStatus
from instrumented_app.jobs.worker import Worker
from tests.unit.jobs.helpers import Harness


@pytest.mark.parametrize(
    ("receive_count", "last", "expected"),
    [(1, False, 2), (2, False, 4), (3, False, 8), (10, False, 60), (3, True, 0)],
)
def test_the_delay_doubles_per_attempt_up_to_the_cap_and_is_zero_after_the_last(
    receive_count: int, last: bool, expected: int
) -> None:
    assert retry_delay_s(receive_count, base_s=2, cap_s=60, last=last) == expected


def with_backoff(harness: Harness, base_s: float) -> None:
    backoff = VisibilityBackoff(harness.aws.sqs, harness.queues.source_url, base_s=base_s, cap_s=600)
    w = harness.worker
    harness.worker = Worker(w.store, w.actions, w.max_receive_count, w.clock, backoff=backoff)


def in_flight(harness: Harness) -> int:
    attributes = harness.aws.sqs.get_queue_attributes(
        QueueUrl=harness.queues.source_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"])


def test_a_failed_message_stays_hidden_for_its_backoff(harness: Harness) -> None:
    with_backoff(harness, base_s=300)
    harness.enqueue("C0BAD")
    (message,) = harness.receive()  # the fixture queue's own visibility timeout is 0
    assert harness.deliver([message]) == [message["MessageId"]]
    assert harness.receive() == []
    assert in_flight(harness) == 1


def test_after_the_last_delivery_the_message_comes_back_at_once_to_reach_the_dlq(harness: Harness) -> None:
    with_backoff(harness, base_s=300)
    w = harness.worker
    harness.worker = Worker(w.store, w.actions, 1, w.clock, backoff=w.backoff)  # the first is the last
    job = harness.enqueue("C0BAD")
    received = harness.aws.sqs.receive_message(
        QueueUrl=harness.queues.source_url, AttributeNames=["All"], VisibilityTimeout=300
    )["Messages"]
    harness.deliver(received)
    assert harness.job(job.job_id).status is JobStatus.FAILED
    (again,) = harness.receive()  # visible again at once, not after the 300 s it was received for
    assert again["MessageId"] == received[0]["MessageId"]


def test_a_backoff_sqs_refuses_does_not_fail_the_batch_beyond_the_record(harness: Harness) -> None:
    backoff = VisibilityBackoff(harness.aws.sqs, harness.queues.source_url + "-gone", base_s=300)
    w = harness.worker
    harness.worker = Worker(w.store, w.actions, w.max_receive_count, w.clock, backoff=backoff)
    good = harness.enqueue("C0001")
    harness.enqueue("C0BAD")
    messages = harness.receive()
    assert len(harness.deliver(messages)) == 1
    assert harness.job(good.job_id).status is JobStatus.SUCCEEDED


def test_an_unreadable_message_comes_back_at_once_on_its_way_to_the_dlq(harness: Harness) -> None:
    with_backoff(harness, base_s=300)
    harness.aws.sqs.send_message(QueueUrl=harness.queues.source_url, MessageBody="{not json")
    received = harness.aws.sqs.receive_message(
        QueueUrl=harness.queues.source_url, AttributeNames=["All"], VisibilityTimeout=300
    )["Messages"]
    assert harness.deliver(received) == [received[0]["MessageId"]]
    (again,) = harness.receive()  # not after 300 s: no retry could make it readable
    assert again["MessageId"] == received[0]["MessageId"]
