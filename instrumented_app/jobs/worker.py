"""The worker's core: one SQS record runs one job; a batch reports its failures one by one.

For each record, under that record's own correlation id and span:

1. read the message (a body that is not a ``JobMessage``, or names no job,
   fails the record and is made visible again at once, so it reaches the DLQ
   after ``maxReceiveCount`` quick receives, where an operator sees it; never
   dropped);
2. mark the job ``RUNNING``; a job that already ``SUCCEEDED`` (a duplicate
   delivery) is left alone and the record counts as done;
3. run the kind's action; on success the job is ``SUCCEEDED`` with the result;
   on failure it gets ``retry_count`` and ``last_error`` and goes back to
   ``PENDING``, or to ``FAILED`` when this delivery was the queue's last
   (``ApproximateReceiveCount`` has reached ``maxReceiveCount``); the record
   is then reported in ``batchItemFailures`` so the queue keeps it. A
   ``FinalOutcome`` (a saga that ended ``COMPENSATED``) makes the job ``FAILED``
   at once and the record counts as done: no retry could change it. A
   ``RunningElsewhere`` (a second delivery of a message whose saga another
   worker is running) is not a failure of the job: its record is left alone,
   and the message comes back after the backoff, when the other has finished.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from opentelemetry import trace
from pydantic import ValidationError

from instrumented_app.jobs.actions import FinalOutcome, JobAction, RunningElsewhere
from instrumented_app.jobs.backoff import VisibilityBackoff
from instrumented_app.jobs.model import JobMessage, JobStatus, short_error, status_after_failure, utc_now
from instrumented_app.jobs.requests import JobRequest, RequestInvalid
from instrumented_app.jobs.store import JobNotFound, JobStore
from instrumented_app.telemetry import log_error, logger, mask_text, metrics, record_scope


class InvalidJobMessage(ValueError):
    """A queued body that is not a job message; ``error_code`` is what the log line carries."""

    error_code = "JOB_MESSAGE_INVALID"


@dataclass(frozen=True)
class Worker:
    """What the worker needs: the store, an action per kind, and the queue's ``maxReceiveCount``
    (None when the queue has no DLQ: then a job stays ``PENDING`` and is retried until it expires)."""

    store: JobStore
    actions: Mapping[str, JobAction]
    max_receive_count: int | None
    clock: Callable[[], datetime] = field(default=utc_now)
    #: Sets when a failed message comes back; None leaves it to the queue's visibility timeout.
    backoff: VisibilityBackoff | None = None

    def handle_batch(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda answer for an SQS batch: ``{"batchItemFailures": [...]}`` (Powertools' shape)."""
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_partial_response(
            event=event, record_handler=self.process_record, processor=processor, context=context
        )
        return dict(response)

    def process_record(self, record: SQSRecord) -> None:
        with record_scope(record.raw_event):
            try:
                self._run(record)
            except (InvalidJobMessage, JobNotFound) as exc:
                log_error(
                    f"job message refused: {exc}", error_code=exc.error_code, message_id=record.message_id
                )
                if self.backoff is not None:  # no retry can mend it: on to the DLQ without waiting
                    receive_count = int(record.attributes.approximate_receive_count or "1")
                    self.backoff.delay(record.receipt_handle, receive_count, last=True)
                raise

    def _run(self, record: SQSRecord) -> None:
        message, request = parse_message(record.body)
        receive_count = int(record.attributes.approximate_receive_count or "1")
        logger.append_keys(job_id=message.job_id)
        trace.get_current_span().set_attributes({"job.id": message.job_id, "job.kind": message.kind})
        try:
            job = self.store.start(message.job_id, self.clock())
            if job is None:
                logger.info("job already succeeded: duplicate delivery ignored")
                return
            action = self.actions.get(message.kind)
            if action is None:
                raise InvalidJobMessage(f"kind: no action for {message.kind!r}")
            logger.info("job running", extra={"kind": message.kind, "receive_count": receive_count})
            try:
                result = action(message.job_id, request)
            except FinalOutcome as exc:
                self._record_failure(message.job_id, exc, receive_count, final=True)
                return  # done: a retry could not change it, so the message is not kept
            except RunningElsewhere as exc:
                logger.info(
                    f"job left to the delivery running it: {exc}", extra={"receive_count": receive_count}
                )
                if self.backoff is not None:
                    self.backoff.delay(record.receipt_handle, receive_count, last=False)
                raise
            except Exception as exc:
                status = self._record_failure(message.job_id, exc, receive_count, final=False)
                if self.backoff is not None:
                    last = status is JobStatus.FAILED
                    self.backoff.delay(record.receipt_handle, receive_count, last=last)
                raise
            self.store.succeed(message.job_id, result, self.clock())
            metrics.add_metric(name="JobSucceeded", unit=MetricUnit.Count, value=1)
            logger.info("job succeeded", extra={"kind": message.kind, "receive_count": receive_count})
        finally:
            logger.remove_keys(["job_id"])

    def _record_failure(self, job_id: str, exc: Exception, receive_count: int, *, final: bool) -> JobStatus:
        status = JobStatus.FAILED if final else status_after_failure(receive_count, self.max_receive_count)
        error = mask_text(short_error(exc))
        self.store.fail(job_id, error, receive_count, status, self.clock())
        metrics.add_metric(name="JobAttemptFailed", unit=MetricUnit.Count, value=1)
        if status is JobStatus.FAILED:
            metrics.add_metric(name="JobFailed", unit=MetricUnit.Count, value=1)
        code = getattr(exc, "error_code", None)
        log_error(
            f"job attempt failed; job is {status.value}",
            error_code=code if isinstance(code, str) and code else "JOB_ATTEMPT_FAILED",
            receive_count=receive_count,
            max_receive_count=self.max_receive_count,
            last_error=error,
        )
        return status


def parse_message(body: str | None) -> tuple[JobMessage, JobRequest]:
    """The job message in an SQS body and its request; ``InvalidJobMessage`` naming the field otherwise."""
    try:
        message = JobMessage.model_validate(json.loads(body or ""))
        return message, message.request()
    except json.JSONDecodeError as exc:
        raise InvalidJobMessage(f"body: not JSON ({exc.msg} at char {exc.pos})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidJobMessage(f"{name}: {first['msg']}") from exc
    except RequestInvalid as exc:
        raise InvalidJobMessage(str(exc)) from exc
