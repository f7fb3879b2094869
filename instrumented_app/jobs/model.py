"""The job: what is stored, what is queued, and the rule of its status.

A job moves ``PENDING -> RUNNING -> SUCCEEDED``; a failed attempt puts it back
to ``PENDING`` (the queue delivers it again after its visibility timeout) with
``retry_count`` and ``last_error`` set, and the attempt that uses up the
queue's ``maxReceiveCount`` makes it ``FAILED`` (the queue then moves the
message to its DLQ). An outcome that no retry can change (a customer saga that
ended ``COMPENSATED``) makes it ``FAILED`` at once. A redrive puts a ``FAILED``
job back to ``PENDING``. The failure rule is a pure function here; the other
guard (a ``SUCCEEDED`` job is never run or changed again, a redrive only
resets a ``FAILED`` one) is the store's conditional writes, so two workers
cannot race past it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from instrumented_app.jobs.requests import CreateCustomerRequest, JobKind, SyncMemberRequest, parse_request

#: Longest ``last_error`` kept on a job (a job row is not a log store).
MAX_ERROR_CHARS = 1000


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class JobMessage(BaseModel):
    """The SQS message body: the job id and its request, so the worker runs it without a read."""

    model_config = ConfigDict(extra="forbid")

    job_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    kind: JobKind
    cust_no: str
    payload: dict[str, Any]

    def request(self) -> SyncMemberRequest | CreateCustomerRequest:
        """The request, checked again (``RequestInvalid`` naming the field)."""
        return parse_request(self.model_dump(exclude={"job_id"}))


class Job(BaseModel):
    """One job as stored and as ``GET /api/async/{job_id}`` shows it.

    ``retry_count`` is the number of failed attempts so far (the message's
    ``ApproximateReceiveCount`` at the last failure); ``redrive_count`` how often
    an operator sent it back from the DLQ.
    """

    job_id: str
    kind: JobKind
    cust_no: str
    payload: dict[str, Any]
    status: JobStatus
    correlation_id: str | None = None
    retry_count: int = 0
    redrive_count: int = 0
    last_error: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def message(self) -> JobMessage:
        return JobMessage(job_id=self.job_id, kind=self.kind, cust_no=self.cust_no, payload=self.payload)

    def status_view(self) -> dict[str, Any]:
        """The JSON a client sees; the payload stays out (it holds PII)."""
        return self.model_dump(mode="json", exclude={"payload"})


def new_job(
    job_id: str, request: SyncMemberRequest | CreateCustomerRequest, correlation_id: str | None, now: datetime
) -> Job:
    return Job(
        job_id=job_id,
        kind=request.kind,
        cust_no=request.cust_no,
        payload=request.payload.model_dump(mode="json", exclude_none=True),
        status=JobStatus.PENDING,
        correlation_id=correlation_id,
        created_at=now,
        updated_at=now,
    )


def status_after_failure(receive_count: int, max_receive_count: int | None) -> JobStatus:
    """``FAILED`` when this was the last delivery the queue makes before its DLQ, else ``PENDING``."""
    if max_receive_count is not None and receive_count >= max_receive_count:
        return JobStatus.FAILED
    return JobStatus.PENDING


def short_error(exc: BaseException) -> str:
    """``"<Type>: <message>"`` cut to ``MAX_ERROR_CHARS``, for ``last_error``."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def utc_now() -> datetime:
    return datetime.now(UTC)
