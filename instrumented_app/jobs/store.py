"""Jobs in DynamoDB: one item per job, every status change a conditional update.

Why DynamoDB and not Aurora: the API function and the worker are Lambdas that
touch one job at a time by its id. A key-value table declared in the same
template needs no connection pool, no VPC and no migration, scales with the
queue, and its conditional writes are exactly the guards the status rules
need (a late or duplicated attempt can never overwrite a success). Aurora
stays the home of sagas and customers; a job that runs a saga records the
saga's id in its result.

``payload`` and ``result`` are kept as JSON strings so that numbers survive
without DynamoDB's ``Decimal`` round trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from instrumented_app.jobs.model import Job, JobStatus

#: Jobs are kept this long after their last change (the table's TTL attribute ``expires_at``).
RETENTION_S = 14 * 24 * 3600
#: The guard of every change but the redrive's: a success is final.
NOT_SUCCEEDED = "attribute_exists(job_id) AND #status <> :succeeded"


class JobNotFound(LookupError):
    error_code = "JOB_NOT_FOUND"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} does not exist")
        self.job_id = job_id


class JobStore(Protocol):
    """Where jobs live. The conditions are part of the contract: see each method."""

    def create(self, job: Job) -> None:
        """Store a new job; ``ValueError`` if the id is taken."""

    def get(self, job_id: str) -> Job | None: ...

    def start(self, job_id: str, now: datetime) -> Job | None:
        """Mark the job ``RUNNING`` unless it has ``SUCCEEDED`` (then None: nothing to do)."""

    def succeed(self, job_id: str, result: Mapping[str, Any], now: datetime) -> None:
        """Mark it ``SUCCEEDED`` with its result (an already succeeded job keeps its first result)."""

    def fail(self, job_id: str, error: str, retry_count: int, status: JobStatus, now: datetime) -> None:
        """Record a failed attempt, leaving it ``status`` (``PENDING`` or ``FAILED``), unless it succeeded."""

    def reset_for_redrive(self, job_id: str, now: datetime) -> bool:
        """Put a ``FAILED`` job whose message is being redriven back to ``PENDING``; False (and no
        change) for a job in any other status: a worker may already have picked the message up."""


class DynamoJobStore:
    """``JobStore`` on a DynamoDB table with partition key ``job_id``."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._db = client

    @classmethod
    def from_session(
        cls, table_name: str, session: boto3.session.Session, endpoint_url: str | None = None
    ) -> DynamoJobStore:
        return cls(table_name, session.client("dynamodb", endpoint_url=endpoint_url))

    def create(self, job: Job) -> None:
        try:
            self._db.put_item(
                TableName=self.table_name,
                Item=_to_item(job),
                ConditionExpression="attribute_not_exists(job_id)",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise ValueError(f"job_id: {job.job_id} is already taken") from exc
            raise

    def get(self, job_id: str) -> Job | None:
        item = self._db.get_item(TableName=self.table_name, Key=_key(job_id), ConsistentRead=True).get("Item")
        return None if item is None else _from_item(item)

    def start(self, job_id: str, now: datetime) -> Job | None:
        try:
            response = self._update(
                job_id,
                "SET #status = :running, updated_at = :now, started_at = :now, expires_at = :expires",
                {":running": _s(JobStatus.RUNNING)},
                now,
                return_values="ALL_NEW",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            if self.get(job_id) is None:
                raise JobNotFound(job_id) from exc
            return None
        return _from_item(response["Attributes"])

    def succeed(self, job_id: str, result: Mapping[str, Any], now: datetime) -> None:
        self._guarded(
            job_id,
            "SET #status = :done, #result = :result, updated_at = :now, finished_at = :now, "
            "expires_at = :expires",
            {":done": _s(JobStatus.SUCCEEDED), ":result": _s(json.dumps(dict(result)))},
            now,
            names={"#result": "result"},
        )

    def fail(self, job_id: str, error: str, retry_count: int, status: JobStatus, now: datetime) -> None:
        finished = ", finished_at = :now" if status is JobStatus.FAILED else ""
        self._guarded(
            job_id,
            "SET #status = :status, last_error = :error, retry_count = :retries, updated_at = :now, "
            f"expires_at = :expires{finished}",
            {":status": _s(status), ":error": _s(error), ":retries": {"N": str(retry_count)}},
            now,
        )

    def reset_for_redrive(self, job_id: str, now: datetime) -> bool:
        return self._guarded(
            job_id,
            "SET #status = :pending, updated_at = :now, expires_at = :expires "
            "ADD redrive_count :one REMOVE finished_at",
            {":pending": _s(JobStatus.PENDING), ":one": {"N": "1"}, ":failed": _s(JobStatus.FAILED)},
            now,
            condition="attribute_exists(job_id) AND #status = :failed",
        )

    def _guarded(
        self,
        job_id: str,
        expression: str,
        values: dict[str, Any],
        now: datetime,
        names: dict[str, str] | None = None,
        condition: str = NOT_SUCCEEDED,
    ) -> bool:
        """Apply an update if ``condition`` holds (by default: unless the job has succeeded);
        False when it held the update back, ``JobNotFound`` when there is no such job."""
        try:
            self._update(job_id, expression, values, now, names=names, condition=condition)
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            if self.get(job_id) is None:
                raise JobNotFound(job_id) from exc
            return False
        return True

    def _update(
        self,
        job_id: str,
        expression: str,
        values: dict[str, Any],
        now: datetime,
        *,
        names: dict[str, str] | None = None,
        return_values: str = "NONE",
        condition: str = NOT_SUCCEEDED,
    ) -> dict[str, Any]:
        response: dict[str, Any] = self._db.update_item(
            TableName=self.table_name,
            Key=_key(job_id),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status", **(names or {})},
            ExpressionAttributeValues={
                **({":succeeded": _s(JobStatus.SUCCEEDED)} if ":succeeded" in condition else {}),
                ":now": _s(now.isoformat()),
                ":expires": {"N": str(int(now.timestamp()) + RETENTION_S)},
                **values,
            },
            ReturnValues=return_values,
        )
        return response


def _s(value: str) -> dict[str, str]:
    return {"S": str(value)}


def _key(job_id: str) -> dict[str, dict[str, str]]:
    return {"job_id": _s(job_id)}


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _to_item(job: Job) -> dict[str, Any]:
    data = job.model_dump(mode="json", exclude_none=True)
    item: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("payload", "result"):
            item[name] = _s(json.dumps(value))
        elif isinstance(value, int):
            item[name] = {"N": str(value)}
        else:
            item[name] = _s(value)
    item["expires_at"] = {"N": str(int(job.updated_at.timestamp()) + RETENTION_S)}
    return item


def _from_item(item: Mapping[str, Any]) -> Job:
    data: dict[str, Any] = {}
    for name, value in item.items():
        if name == "expires_at":
            continue
        if "N" in value:
            data[name] = int(value["N"])
        elif name in ("payload", "result"):
            data[name] = json.loads(value["S"])
        else:
            data[name] = value["S"]
    return Job.model_validate(data)
