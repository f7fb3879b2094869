"""The job: what a client asks for, what is queued, and the rules of its status.

A job moves ``PENDING -> RUNNING -> SUCCEEDED``; a failed attempt puts it back
to ``PENDING`` (the queue delivers it again after its visibility timeout) with
``retry_count`` and ``last_error`` set, and the attempt that uses up the
queue's ``maxReceiveCount`` makes it ``FAILED`` (the queue then moves the
message to its DLQ). A redrive puts a ``FAILED`` job back to ``PENDING``.
The failure rule is a pure function here; the other guard (a ``SUCCEEDED``
job is never run or changed again, a redrive only resets a ``FAILED`` one) is
the store's conditional writes, so two workers cannot race past it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, StringConstraints

#: Our customer number, as Aurora's ``customer.cust_no`` CHECK constraint has it.
CUST_NO_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
#: Longest ``last_error`` kept on a job (a job row is not a log store).
MAX_ERROR_CHARS = 1000
MAX_FULL_NAME = 200
MAX_EMAIL = 320
MAX_PHONE = 32

CustNo = Annotated[str, StringConstraints(pattern=CUST_NO_PATTERN)]


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


#: The kinds of work a job can do; each names an action in ``instrumented_app.jobs.actions``.
JobKind = Literal["sync_member"]
MemberStatus = Literal["active", "suspended", "cancelled"]


class MemberPayload(BaseModel):
    """What ``sync_member`` writes to the membership SaaS for ``cust_no``."""

    model_config = ConfigDict(extra="forbid")

    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_FULL_NAME)
    ]
    email: Annotated[str, StringConstraints(max_length=MAX_EMAIL)] | None = None
    phone: Annotated[str, StringConstraints(max_length=MAX_PHONE)] | None = None
    status: MemberStatus | None = None


class JobRequest(BaseModel):
    """The body of ``POST /api/async``."""

    model_config = ConfigDict(extra="forbid")

    kind: JobKind
    cust_no: CustNo
    payload: MemberPayload


class JobMessage(BaseModel):
    """The SQS message body: only the job id and what the worker needs to run it without a read."""

    model_config = ConfigDict(extra="forbid")

    job_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    kind: JobKind
    cust_no: CustNo
    payload: MemberPayload


class Job(BaseModel):
    """One job as stored and as ``GET /api/async/{job_id}`` shows it.

    ``retry_count`` is the number of failed attempts so far (the message's
    ``ApproximateReceiveCount`` at the last failure); ``redrive_count`` how often
    an operator sent it back from the DLQ.
    """

    job_id: str
    kind: JobKind
    cust_no: str
    payload: MemberPayload
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


def json_schema_for_api() -> dict[str, Any]:
    """The API Gateway model (JSON Schema draft 4) of ``JobRequest``, so the API front refuses a bad
    body before the function runs; the template's ``AsyncJobRequest`` is checked against this in the
    unit tests. The handler validates again (a route may be deployed without its validator)."""
    payload = {
        "type": "object",
        "required": ["full_name"],
        "properties": {
            "full_name": {"type": "string", "minLength": 1, "maxLength": MAX_FULL_NAME},
            "email": {"type": "string", "maxLength": MAX_EMAIL},
            "phone": {"type": "string", "maxLength": MAX_PHONE},
            "status": {"type": "string", "enum": list(get_args(MemberStatus))},
        },
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "required": ["kind", "cust_no", "payload"],
        "properties": {
            "kind": {"type": "string", "enum": list(get_args(JobKind))},
            "cust_no": {"type": "string", "pattern": CUST_NO_PATTERN},
            "payload": payload,
        },
        "additionalProperties": False,
    }


def new_job(job_id: str, request: JobRequest, correlation_id: str | None, now: datetime) -> Job:
    return Job(
        job_id=job_id,
        kind=request.kind,
        cust_no=request.cust_no,
        payload=request.payload,
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
