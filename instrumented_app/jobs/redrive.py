"""The jobs DLQ, seen and sent back.

``list_dlq`` peeks at the dead-letter messages (each is received with a short
visibility timeout so one listing sees it once, then released at once) and
joins each with its job's last error. ``redrive`` sends them back to the
source queue and puts their ``FAILED`` jobs back to ``PENDING``:

- ``move``: receive, reset the jobs, send to the source, delete from the DLQ,
  in batches of ten, at most ``max_messages``; a message is deleted only once
  its copy is queued, so a failure part way leaves it in the DLQ, never lost
  (and its job ``FAILED`` again, saying so). The only way on moto, which does
  not run ``StartMessageMoveTask``.
- ``move-task``: the jobs seen in the DLQ are reset, then AWS's
  ``StartMessageMoveTask`` moves the whole DLQ.

Jobs are reset before their messages are queued so that a worker taking a
message at once finds its job ``PENDING``.

With ``store=None`` (any other queue, ``sagawatch dlq``) the messages are
listed and moved as they are, with no job to read or reset.

Every loop is bounded by ``max_messages`` and by ``MAX_EMPTY_RECEIVES``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from instrumented_app.jobs.model import JobStatus, utc_now
from instrumented_app.jobs.store import JobNotFound, JobStore
from instrumented_app.jobs.worker import InvalidJobMessage, parse_message
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE

#: ReceiveMessage's and the batch calls' own cap.
SQS_BATCH = 10
#: Seconds a peeked or moving message stays hidden from other readers.
HOLD_S = 30
#: Receives in a row that may come back empty before a walk of the DLQ ends (SQS samples servers).
MAX_EMPTY_RECEIVES = 2
#: Upper bound of any walk when the caller gives none.
DEFAULT_MAX_MESSAGES = 10_000

Method = Literal["move", "move-task"]


@dataclass(frozen=True)
class JobsQueues:
    source_url: str
    source_arn: str
    dlq_url: str
    dlq_arn: str


@dataclass(frozen=True)
class DeadLetter:
    """One DLQ message as an operator needs to see it."""

    message_id: str
    job_id: str | None
    receive_count: int
    correlation_id: str | None
    error: str | None
    job_status: str | None = None
    retry_count: int | None = None


@dataclass
class RedriveReport:
    method: Method
    moved: int = 0
    jobs_reset: int = 0
    failed: int = 0
    task_handle: str | None = None
    problems: list[str] = field(default_factory=list)


def find_queues(sqs: Any, queue_name: str) -> JobsQueues:
    """The source queue and the DLQ its redrive policy names; ``LookupError`` when it has none."""
    source_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["QueueArn", "RedrivePolicy"])[
        "Attributes"
    ]
    policy = attributes.get("RedrivePolicy")
    if not policy:
        raise LookupError(f"queue {queue_name} has no redrive policy, so no DLQ")
    dlq_arn = str(json.loads(policy)["deadLetterTargetArn"])
    _, _, _, _, account, dlq_name = dlq_arn.split(":")
    dlq_url = sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    return JobsQueues(source_url, attributes["QueueArn"], dlq_url, dlq_arn)


def list_dlq(
    sqs: Any, queues: JobsQueues, store: JobStore | None, max_messages: int = 100
) -> list[DeadLetter]:
    """Up to ``max_messages`` DLQ messages, each with its job's state; the messages stay in the DLQ."""
    seen: list[dict[str, Any]] = list(_receive_all(sqs, queues.dlq_url, max_messages))
    try:
        return [_dead_letter(message, store) for message in seen]
    finally:
        _release(sqs, queues.dlq_url, seen)


def redrive(
    sqs: Any,
    queues: JobsQueues,
    store: JobStore | None,
    *,
    method: Method = "move",
    max_messages: int = DEFAULT_MAX_MESSAGES,
    clock: Callable[[], datetime] = utc_now,
) -> RedriveReport:
    if method == "move-task":
        return _redrive_by_task(sqs, queues, store, max_messages, clock)
    report = RedriveReport(method="move")
    while report.moved + report.failed < max_messages:
        batch = _receive(sqs, queues.dlq_url, min(SQS_BATCH, max_messages - report.moved - report.failed))
        if not batch:
            break
        _move_batch(sqs, queues, store, batch, report, clock)
    return report


def _move_batch(
    sqs: Any,
    queues: JobsQueues,
    store: JobStore | None,
    batch: Sequence[Mapping[str, Any]],
    report: RedriveReport,
    clock: Callable[[], datetime],
) -> None:
    # Jobs first: once a message is back on the queue a worker may take it at once, and it should
    # find its job PENDING (a reset after that would be skipped and the report would undercount).
    reset = {i: job_id for i, m in enumerate(batch) if (job_id := _reset_job(store, m, report, clock))}
    sent = sqs.send_message_batch(
        QueueUrl=queues.source_url,
        Entries=[
            {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})}
            for i, m in enumerate(batch)
        ],
    )
    failed = {int(entry["Id"]): str(entry.get("Code")) for entry in sent.get("Failed", [])}
    for index, code in failed.items():
        report.problems.append(f"message {batch[index]['MessageId']}: not re-queued: {code}")
        if index in reset:
            _undo_reset(store, reset.pop(index), f"redrive: not re-queued: {code}", clock)
    _release(sqs, queues.dlq_url, [m for i, m in enumerate(batch) if i in failed])
    moved = [m for i, m in enumerate(batch) if i not in failed]
    _delete(sqs, queues.dlq_url, moved)
    report.failed += len(failed)
    report.moved += len(moved)
    report.jobs_reset += len(reset)


def _redrive_by_task(
    sqs: Any, queues: JobsQueues, store: JobStore | None, max_messages: int, clock: Callable[[], datetime]
) -> RedriveReport:
    report = RedriveReport(method="move-task")
    seen = list(_receive_all(sqs, queues.dlq_url, max_messages))
    _release(sqs, queues.dlq_url, seen)
    reset = [job_id for m in seen if (job_id := _reset_job(store, m, report, clock))]
    try:
        response = sqs.start_message_move_task(SourceArn=queues.dlq_arn, DestinationArn=queues.source_arn)
    except Exception as exc:
        for job_id in reset:
            _undo_reset(store, job_id, f"redrive: move task not started: {type(exc).__name__}", clock)
        raise
    report.task_handle = response.get("TaskHandle")
    report.moved = len(seen)
    report.jobs_reset = len(reset)
    return report


def _reset_job(
    store: JobStore | None, message: Mapping[str, Any], report: RedriveReport, clock: Callable[[], datetime]
) -> str | None:
    """Put the message's job back to ``PENDING``; its id, or None when there was nothing to reset."""
    if store is None:
        return None
    try:
        job_id = parse_message(message.get("Body"))[0].job_id
        return job_id if store.reset_for_redrive(job_id, clock()) else None
    except (InvalidJobMessage, JobNotFound) as exc:
        report.problems.append(f"message {message['MessageId']}: {exc}")
        return None


def _undo_reset(store: JobStore | None, job_id: str, reason: str, clock: Callable[[], datetime]) -> None:
    """A job reset for a message that stayed in the DLQ is ``FAILED`` again, saying why."""
    job = store.get(job_id) if store is not None else None
    if job is not None and store is not None:
        store.fail(job_id, reason, job.retry_count, JobStatus.FAILED, clock())


def _dead_letter(message: Mapping[str, Any], store: JobStore | None) -> DeadLetter:
    attributes = message.get("MessageAttributes") or {}
    correlation = attributes.get(CORRELATION_ID_ATTRIBUTE, {}).get("StringValue")
    receive_count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "0"))
    common = {
        "message_id": message["MessageId"],
        "receive_count": receive_count,
        "correlation_id": correlation,
    }
    if store is None:
        return DeadLetter(job_id=None, error=None, **common)
    try:
        job_id = parse_message(message.get("Body"))[0].job_id
    except InvalidJobMessage as exc:
        return DeadLetter(job_id=None, error=f"unreadable message: {exc}", **common)
    job = store.get(job_id)
    if job is None:
        return DeadLetter(job_id=job_id, error="no such job", **common)
    return DeadLetter(
        job_id=job_id,
        error=job.last_error,
        job_status=job.status.value,
        retry_count=job.retry_count,
        **common,
    )


def _receive(sqs: Any, queue_url: str, count: int) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max(1, min(count, SQS_BATCH)),
        VisibilityTimeout=HOLD_S,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return [dict(message) for message in response.get("Messages", [])]


def _receive_all(sqs: Any, queue_url: str, max_messages: int) -> Iterator[dict[str, Any]]:
    """Receive (and hold) up to ``max_messages``; stops after ``MAX_EMPTY_RECEIVES`` empty answers."""
    taken = empty = 0
    while taken < max_messages and empty < MAX_EMPTY_RECEIVES:
        batch = _receive(sqs, queue_url, max_messages - taken)
        empty = 0 if batch else empty + 1
        taken += len(batch)
        yield from batch


def _release(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(messages), SQS_BATCH):
        chunk = messages[start : start + SQS_BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def _delete(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(messages), SQS_BATCH):
        chunk = messages[start : start + SQS_BATCH]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
        )
