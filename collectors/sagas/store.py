"""Upserting sagas with their verdicts, and the queries the saga collector needs from the audit store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from collectors.sagas.model import TERMINAL_NAMES, SagaRecord, Verdict

_UPSERT = """
INSERT INTO sagas (saga_id, source, saga_type, correlation_id, status, current_step, attempts,
                   last_error, failed_state, error, cause, started_at, updated_at, deadline, stuck, age_s,
                   idle_s, checked_at, business_key)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (saga_id) DO UPDATE SET
    saga_type = EXCLUDED.saga_type, correlation_id = EXCLUDED.correlation_id, status = EXCLUDED.status,
    current_step = EXCLUDED.current_step, attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error,
    failed_state = EXCLUDED.failed_state, error = EXCLUDED.error, cause = EXCLUDED.cause,
    started_at = EXCLUDED.started_at, updated_at = EXCLUDED.updated_at, deadline = EXCLUDED.deadline,
    stuck = EXCLUDED.stuck, age_s = EXCLUDED.age_s, idle_s = EXCLUDED.idle_s,
    checked_at = EXCLUDED.checked_at, business_key = EXCLUDED.business_key
"""
_UPSERT_STEP = """
INSERT INTO saga_steps (saga_id, seq, name, status, idempotency_key, started_at, finished_at, error)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (saga_id, seq) DO UPDATE SET
    name = EXCLUDED.name, status = EXCLUDED.status, idempotency_key = EXCLUDED.idempotency_key,
    started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, error = EXCLUDED.error
"""


def write_sagas(
    conn: psycopg.Connection, assessed: Sequence[tuple[SagaRecord, Verdict]], checked_at: datetime
) -> None:
    """Upsert sagas and their steps in one transaction."""
    if not assessed:
        return
    # One order for every writer: two collectors upserting the same sagas cannot deadlock.
    assessed = sorted(assessed, key=lambda pair: pair[0].saga_id)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            _UPSERT,
            [
                (
                    r.saga_id, r.source, r.saga_type, r.correlation_id, r.status, r.current_step, r.attempts,
                    r.last_error, r.failed_state, r.error, r.cause, r.started_at, r.updated_at, r.deadline,
                    v.stuck, v.age_s, v.idle_s, checked_at, r.business_key,
                )
                for r, v in assessed
            ],
        )  # fmt: skip
        steps = [
            (s.saga_id, s.seq, s.name, s.status, s.idempotency_key, s.started_at, s.finished_at, s.error)
            for r, _ in assessed
            for s in r.steps
        ]
        if steps:
            cur.executemany(_UPSERT_STEP, steps)


def aurora_watermark(conn: psycopg.Connection) -> datetime | None:
    """The newest ``updated_at`` of a terminal Aurora saga already stored.

    Live sagas are left out: they are read on every pass whatever their age, so a fresh live saga
    must not move the watermark past a backlog of older changes not read yet.
    """
    row = conn.execute(
        "SELECT max(updated_at) FROM sagas WHERE source = 'aurora' AND status = ANY(%s)",
        (sorted(TERMINAL_NAMES),),
    ).fetchone()
    return row[0] if row else None


def settled_executions(conn: psycopg.Connection, arns: list[str]) -> set[str]:
    """Which of these executions are stored as terminal already (they will not change)."""
    if not arns:
        return set()
    rows = conn.execute(
        "SELECT saga_id FROM sagas WHERE saga_id = ANY(%s) AND status = ANY(%s)",
        (arns, sorted(TERMINAL_NAMES)),
    ).fetchall()
    return {r[0] for r in rows}
