"""The queue worker's jobs (DynamoDB items written by ``instrumented_app.jobs.store``) into ``jobs``.

Why a filtered scan: the jobs table is keyed by ``job_id`` alone, with no index on time and no
stream, and its items expire after 14 days, so a scan is bounded by the table's TTL. The filter on
``updated_at`` keeps what travels to what changed since the newest job already stored, less an
overlap (a scan is not a snapshot: an item written during it, behind the cursor, is caught by the
next pass). The whole scan is written in ONE transaction at its end, so the watermark never moves
past items a dead pass had not read. Rows only move forward in ``updated_at`` (every change the app
makes moves it): passes that repeat or race leave the same rows. The payload (personal data) is
never read into the store; ``last_error`` is stored with secrets and email addresses masked.

An item that does not have a job's shape is a collector error (``job_shape``), not a failed pass.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from collectors.errors import CollectorError, unreachable
from collectors.storable import storable
from sagawatch.redact import redact

#: The attributes a pass reads (``payload`` and ``result`` stay in DynamoDB).
PROJECTION = (
    "job_id, kind, cust_no, #status, correlation_id, retry_count, redrive_count, last_error,"
    " created_at, updated_at, started_at, finished_at"
)
MAX_ERROR_CHARS = 1000
#: Email addresses in free text (an upstream error echoing a request). ``instrumented_app.telemetry``
#: has the same net, but importing it loads OpenTelemetry into the collector (about 1 s, 300 modules).
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
EMAIL_MASK = "*****"


class JobRow(BaseModel):
    """One ``jobs`` row; field names are the DynamoDB attribute names, so errors name the attribute."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    job_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1)
    cust_no: str | None = None
    status: str = Field(pattern=r"^(PENDING|RUNNING|SUCCEEDED|FAILED)$")
    correlation_id: str | None = None
    retry_count: int = Field(default=0, ge=0)
    redrive_count: int = Field(default=0, ge=0)
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


def plain_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed attributes (``{"S": ...}``, ``{"N": ...}``) -> plain values; other types as given."""
    out: dict[str, Any] = {}
    for name, typed in item.items():
        if isinstance(typed, Mapping) and len(typed) == 1:
            kind, value = next(iter(typed.items()))
            out[name] = value if kind in ("S", "N") else typed
        else:
            out[name] = typed
    return out


def job_from_item(item: Mapping[str, Any]) -> JobRow:
    """A scanned item -> its row; ``ValueError`` naming the attribute when it is not a job's shape."""
    try:
        values = {k: storable(v) if isinstance(v, str) else v for k, v in plain_item(item).items()}
        row = JobRow.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'item'}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(problems) from None
    if row.last_error:
        return row.model_copy(update={"last_error": mask_error(row.last_error)})
    return row


def mask_error(text: str) -> str:
    """An error text fit to store: passwords and email addresses masked, cut to ``MAX_ERROR_CHARS``."""
    return _EMAIL.sub(EMAIL_MASK, redact(text))[:MAX_ERROR_CHARS]


@dataclass
class JobPass:
    rows: list[JobRow] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)
    complete: bool = False  # False: the scan broke off, nothing of it may be written


class JobCollector:
    """Reads the jobs changed since a watermark from one DynamoDB table."""

    def __init__(self, dynamodb: Any, table: str, overlap_s: float, interval_s: float = 0.0) -> None:
        self._db = dynamodb
        self.table = table
        self._overlap = timedelta(seconds=overlap_s)
        self._interval_s = interval_s
        self._last_scan: float | None = None

    def due(self) -> bool:
        """Whether ``interval_s`` has passed since the last scan began (the first is always due).

        A scan reads (and on AWS pays for) the whole table whatever the filter keeps, so a loop
        running every few seconds scans less often than it samples queues or reads logs.
        """
        now = time.monotonic()
        if self._last_scan is not None and now - self._last_scan < self._interval_s:
            return False
        self._last_scan = now
        return True

    def run(self, newest_stored: datetime | None) -> JobPass:
        """Scan for jobs updated at or after ``newest_stored`` less the overlap (all jobs when None)."""
        result = JobPass()
        request: dict[str, Any] = {
            "TableName": self.table,
            "ProjectionExpression": PROJECTION,
            "ExpressionAttributeNames": {"#status": "status"},
        }
        if newest_stored is not None:
            request["FilterExpression"] = "updated_at >= :since"
            # The app writes ``datetime.isoformat()`` in UTC, which sorts as text in time order.
            since = (newest_stored - self._overlap).astimezone(UTC).isoformat()
            request["ExpressionAttributeValues"] = {":since": {"S": since}}
        source = f"dynamodb:{self.table}"
        try:
            for page in self._db.get_paginator("scan").paginate(**request):
                for item in page.get("Items", []):
                    try:
                        result.rows.append(job_from_item(item))
                    except ValueError as exc:
                        key = plain_item(item).get("job_id")
                        result.errors.append(
                            CollectorError("job_shape", f"{source} {key or '(no job_id)'}", str(exc))
                        )
        except (ClientError, BotoCoreError) as exc:
            result.errors.append(unreachable("jobs_unreachable", source, exc))
            return result
        result.complete = True
        return result


_UPSERT = """
INSERT INTO jobs (job_id, source_table, kind, cust_no, status, correlation_id, retry_count, redrive_count,
                  last_error, created_at, updated_at, started_at, finished_at, collected_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (job_id) DO UPDATE SET
    source_table = EXCLUDED.source_table, kind = EXCLUDED.kind, cust_no = EXCLUDED.cust_no,
    status = EXCLUDED.status, correlation_id = EXCLUDED.correlation_id, retry_count = EXCLUDED.retry_count,
    redrive_count = EXCLUDED.redrive_count, last_error = EXCLUDED.last_error,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, collected_at = EXCLUDED.collected_at
WHERE jobs.updated_at < EXCLUDED.updated_at
"""


def write_jobs(conn: psycopg.Connection, table: str, rows: Sequence[JobRow]) -> int:
    """Upsert the rows in one transaction (in job_id order: racing writers cannot deadlock); returns
    how many rows were new or moved forward."""
    if not rows:
        return 0
    ordered = sorted(rows, key=lambda r: r.job_id)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            _UPSERT + " RETURNING 1",
            [
                (
                    r.job_id, table, r.kind, r.cust_no, r.status, r.correlation_id, r.retry_count,
                    r.redrive_count, r.last_error, r.created_at, r.updated_at, r.started_at, r.finished_at,
                )
                for r in ordered
            ],
            returning=True,
        )  # fmt: skip
        changed = 0
        while True:
            changed += len(cur.fetchall())
            if not cur.nextset():
                return changed


def newest_job(conn: psycopg.Connection, table: str) -> datetime | None:
    """The newest ``updated_at`` stored from ``table``: the scan's watermark."""
    row = conn.execute("SELECT max(updated_at) FROM jobs WHERE source_table = %s", (table,)).fetchone()
    return row[0] if row else None
