"""Accepting a job: store it ``PENDING``, then queue its message with the trace context beside it.

The order matters: the job exists before any worker can receive its message,
so a fast worker never finds an unknown id. If the message cannot be sent the
job is marked ``FAILED`` with the reason (never left ``PENDING`` forever) and
the caller gets an error.

A request with an ``Idempotency-Key`` goes through Powertools idempotency
(persisted in DynamoDB): the same key and body give the first job back and send
nothing; the same key with another body is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from pydantic import BaseModel, ConfigDict

from instrumented_app.jobs.model import Job, JobMessage, JobStatus, new_job, short_error, utc_now
from instrumented_app.jobs.requests import JobRequest
from instrumented_app.jobs.store import JobStore
from instrumented_app.telemetry import message_attributes
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE

#: How long an ``Idempotency-Key`` keeps answering with its first job.
IDEMPOTENCY_TTL_S = 24 * 3600


class JobNotQueued(RuntimeError):
    error_code = "JOB_NOT_QUEUED"


class JobQueue(Protocol):
    def send(self, message: JobMessage, correlation_id: str | None) -> str:
        """Queue the message under the job's correlation id; returns its message id."""


class SqsJobQueue:
    """``JobQueue`` on an SQS queue, with ``correlation_id`` and ``traceparent`` as message attributes."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self.queue_url = queue_url
        self._sqs = client

    def send(self, message: JobMessage, correlation_id: str | None) -> str:
        attributes = message_attributes()  # the current trace context, and correlation id if any
        if correlation_id:
            attributes[CORRELATION_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": correlation_id}
        response = self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.model_dump_json(exclude_none=True),
            MessageAttributes=attributes,
        )
        return str(response["MessageId"])


def new_job_id() -> str:
    return f"job_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Enqueuer:
    store: JobStore
    queue: JobQueue
    clock: Callable[[], datetime] = field(default=utc_now)
    new_id: Callable[[], str] = field(default=new_job_id)

    def enqueue(self, request: JobRequest, correlation_id: str | None) -> Job:
        job = new_job(self.new_id(), request, correlation_id, self.clock())
        self.store.create(job)
        try:
            self.queue.send(job.message(), correlation_id)
        except Exception as exc:
            reason = f"not queued: {short_error(exc)}"
            self.store.fail(job.job_id, reason, 0, JobStatus.FAILED, self.clock())
            raise JobNotQueued(f"job {job.job_id} could not be queued: {short_error(exc)}") from exc
        return job


class KeyedRequest(BaseModel):
    """What the idempotency layer hashes: the key names the record, the request must match it."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str
    request: JobRequest
    correlation_id: str | None = None


def idempotency_config(ttl_s: int = IDEMPOTENCY_TTL_S) -> IdempotencyConfig:
    """Keyed by ``idempotency_key``; the ``request`` must match the first one. The handler registers
    each invocation's Lambda context on it, so an in-progress record expires with the invocation."""
    return IdempotencyConfig(
        event_key_jmespath="idempotency_key",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=ttl_s,
    )


def idempotent_enqueue(
    enqueuer: Enqueuer, persistence: BasePersistenceLayer, config: IdempotencyConfig
) -> Callable[[KeyedRequest], Job]:
    """``enqueuer.enqueue`` behind Powertools idempotency (``config`` from ``idempotency_config``).

    Raises Powertools' ``IdempotencyValidationError`` for a reused key with another
    request and ``IdempotencyAlreadyInProgressError`` while the first is still running.
    """

    @idempotent_function(
        data_keyword_argument="keyed",
        persistence_store=persistence,
        config=config,
        output_serializer=PydanticSerializer(model=Job),
        key_prefix="async-job",
    )
    def enqueue_once(keyed: KeyedRequest) -> Job:
        return enqueuer.enqueue(keyed.request, keyed.correlation_id)

    def run(keyed: KeyedRequest) -> Job:
        job: Job = enqueue_once(keyed=keyed)
        return job

    return run
