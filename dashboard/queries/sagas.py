"""The sagas page's data: a filtered list (stuck and failed first) and one saga with its steps.

Filters are a pydantic model so a bad value from a query parameter is refused with the field named.
A saga's runbook entry comes from ``saga_runbooks``, which the saga collector copies from Aurora for
sagas that ended needing a person (collectors/sagas/runbooks.py); until it has, the page says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from pydantic import BaseModel, Field

from dashboard.db import fetch_all, table_exists
from dashboard.masking import mask_text

Conn = psycopg.Connection[dict[str, Any]]

STATUSES = ("PENDING", "RUNNING", "COMPENSATING", "SUCCEEDED", "COMPENSATED", "FAILED", "MANUAL_INTERVENTION")
#: How a list is ordered: stuck first, then those a person must act on, then the live ones.
STATUS_PRIORITY = {"MANUAL_INTERVENTION": 0, "FAILED": 1, "COMPENSATING": 2, "RUNNING": 3, "PENDING": 4}
COMPENSATION_STATUSES = ("COMPENSATING", "COMPENSATED")
MAX_ROWS = 2000


class SagaFilters(BaseModel):
    """What the operator narrowed the list to; empty means "any"."""

    types: list[str] = Field(default_factory=list)
    statuses: list[str] = Field(default_factory=list)
    idle_min: float | None = Field(default=None, ge=0, description="not moved for at least this many minutes")
    step: str | None = None
    correlation_id: str | None = None
    only_problems: bool = False
    limit: int = Field(default=200, ge=1, le=MAX_ROWS)


class SagaRow(BaseModel):
    saga_id: str
    saga_type: str
    status: str
    stuck: bool
    current_step: str | None
    attempts: int
    correlation_id: str | None
    updated_at: datetime
    idle_s: float
    last_error: str | None
    resolved: bool = False  # needed a person, who has settled it

    @property
    def needs_a_person(self) -> bool:
        return self.stuck or (self.status in ("FAILED", "MANUAL_INTERVENTION") and not self.resolved)


class Facets(BaseModel):
    types: list[str]
    statuses: list[str]
    steps: list[str]


class StepRow(BaseModel):
    seq: int
    name: str
    status: str
    idempotency_key: str | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None

    @property
    def is_compensation(self) -> bool:
        return self.status in COMPENSATION_STATUSES


class Runbook(BaseModel):
    """What a person needs for a saga stopped past its point of no return (texts PII-masked)."""

    status: str  # OPEN | RESOLVED
    failed_step: str | None = None
    error: str | None = None
    done: list[dict[str, Any]] = Field(default_factory=list)
    remaining: list[dict[str, Any]] = Field(default_factory=list)
    commands: dict[str, list[str]] = Field(default_factory=dict)
    diff: list[dict[str, Any]] = Field(default_factory=list)
    resolved_at: datetime | None = None


class SagaDetail(BaseModel):
    saga: dict[str, Any]
    steps: list[StepRow]
    runbook: Runbook | None
    trace_ids: list[str]

    @property
    def compensations(self) -> list[StepRow]:
        return [s for s in self.steps if s.is_compensation]


def facets(conn: Conn) -> Facets:
    """The values the filters offer: the types, statuses and steps the store holds."""
    types = [r["v"] for r in fetch_all(conn, "SELECT DISTINCT saga_type AS v FROM sagas ORDER BY 1")]
    steps = [
        r["v"]
        for r in fetch_all(
            conn, "SELECT DISTINCT current_step AS v FROM sagas WHERE current_step IS NOT NULL ORDER BY 1"
        )
    ]
    return Facets(types=types, statuses=list(STATUSES), steps=steps)


def resolved_sql(conn: Conn) -> str:
    """SQL true for a row of ``sagas`` whose runbook entry is RESOLVED: settled by a person (``sagawatch
    saga resolve``) or finished since, so no longer a problem though its status stays as it ended."""
    if not table_exists(conn, "saga_runbooks"):
        return "false"
    return "EXISTS (SELECT 1 FROM saga_runbooks r WHERE r.saga_id = sagas.saga_id AND r.status = 'RESOLVED')"


def list_sagas(conn: Conn, filters: SagaFilters) -> list[SagaRow]:
    """Sagas matching ``filters``: stuck first, then by status priority, most recently moved first."""
    where = ["true"]
    params: list[Any] = []
    if filters.types:
        where.append("saga_type = ANY(%s)")
        params.append(filters.types)
    if filters.statuses:
        where.append("status = ANY(%s)")
        params.append(filters.statuses)
    if filters.idle_min is not None:
        where.append("updated_at <= now() - make_interval(secs => %s)")
        params.append(filters.idle_min * 60)
    if filters.step:
        where.append("current_step = %s")
        params.append(filters.step)
    if filters.correlation_id:
        where.append("correlation_id = %s")
        params.append(filters.correlation_id.strip())
    resolved = resolved_sql(conn)
    if filters.only_problems:
        where.append(f"(stuck OR (status IN ('FAILED', 'MANUAL_INTERVENTION') AND NOT {resolved}))")
    priority = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in STATUS_PRIORITY.items())
    rows = fetch_all(
        conn,
        "SELECT saga_id, saga_type, status, stuck, current_step, attempts, correlation_id, updated_at,"
        f" extract(epoch FROM now() - updated_at) AS idle_s, last_error, {resolved} AS resolved FROM sagas"
        f" WHERE {' AND '.join(where)}"
        f" ORDER BY stuck DESC, CASE WHEN {resolved} THEN 8 ELSE CASE status {priority} ELSE 9 END END,"
        " updated_at DESC LIMIT %s",
        (*params, filters.limit),
    )
    return [SagaRow.model_validate({**r, "last_error": mask_text(r["last_error"]) or None}) for r in rows]


def _masked(value: Any) -> Any:
    """``value`` with every string in it PII-masked (runbook JSON: lists of dicts of strings)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def runbook(conn: Conn, saga_id: str) -> Runbook | None:
    """The saga's runbook entry as last collected, or None (none, or a store without the table)."""
    if not table_exists(conn, "saga_runbooks"):
        return None
    rows = fetch_all(
        conn,
        "SELECT status, failed_step, error, done, remaining, commands, diff, resolved_at FROM saga_runbooks"
        " WHERE saga_id = %s",
        (saga_id,),
    )
    return Runbook.model_validate(_masked(rows[0])) if rows else None


def saga_status(conn: Conn, saga_id: str) -> str | None:
    """The saga's status as last collected (None: not in the store)."""
    rows = fetch_all(conn, "SELECT status FROM sagas WHERE saga_id = %s", (saga_id,))
    return str(rows[0]["status"]) if rows else None


def saga_detail(conn: Conn, saga_id: str) -> SagaDetail | None:
    """One saga, its steps in order and the traces that carry its correlation id; None if unknown."""
    rows = fetch_all(conn, "SELECT * FROM sagas WHERE saga_id = %s", (saga_id,))
    if not rows:
        return None
    saga = rows[0]
    steps = fetch_all(
        conn,
        "SELECT seq, name, status, idempotency_key, started_at, finished_at, error FROM saga_steps"
        " WHERE saga_id = %s ORDER BY seq",
        (saga_id,),
    )
    trace_ids: list[str] = []
    if saga.get("correlation_id") and table_exists(conn, "spans"):
        trace_ids = [
            r["trace_id"]
            for r in fetch_all(
                conn,
                "SELECT trace_id FROM spans WHERE correlation_id = %s GROUP BY trace_id"
                " ORDER BY min(start_time) LIMIT 20",
                (saga["correlation_id"],),
            )
        ]
    for key in ("last_error", "error", "cause"):
        if saga.get(key):
            saga[key] = mask_text(str(saga[key]))
    return SagaDetail(
        saga=saga,
        steps=[StepRow.model_validate({**s, "error": mask_text(s["error"]) or None}) for s in steps],
        runbook=runbook(conn, saga_id),
        trace_ids=trace_ids,
    )
