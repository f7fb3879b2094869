"""Saga rows from Aurora's ``saga`` and ``saga_step`` tables (instrumented_app/schema/0001_saga_state.sql).

Each pass reads every live saga (the partial index ``saga_live_idx`` serves that) and the sagas
changed since the audit store's newest Aurora saga minus an overlap: a transaction that commits late
with an older ``updated_at`` is still caught, and re-reading a row is harmless (it is upserted).
The batch must exceed the sagas changed within one overlap window, or the watermark cannot move.
``failed_step`` (the step whose failure started compensation) is read through ``to_jsonb(saga)`` so
that a schema without that column (DESIGN.md's minimum) reads as NULL rather than failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import psycopg

from collectors.sagas.model import SagaRecord, SagaStepRecord

_SAGAS = """
SELECT id, saga_type, correlation_id, status, current_step, attempts, last_error,
       started_at, updated_at, deadline, payload ->> 'cust_no', to_jsonb(saga) ->> 'failed_step'
FROM saga WHERE status IN ('PENDING', 'RUNNING', 'COMPENSATING')
UNION
(SELECT id, saga_type, correlation_id, status, current_step, attempts, last_error,
        started_at, updated_at, deadline, payload ->> 'cust_no', to_jsonb(saga) ->> 'failed_step'
 FROM saga WHERE updated_at >= %s ORDER BY updated_at LIMIT %s)
"""
_STEPS = """
SELECT saga_id, seq, name, status, idempotency_key, started_at, finished_at, error
FROM saga_step WHERE saga_id = ANY(%s) ORDER BY saga_id, seq
"""


def fetch_sagas(
    aurora: psycopg.Connection, since: datetime | None, overlap_s: float, batch: int = 20_000
) -> list[SagaRecord]:
    """Live sagas, and the oldest ``batch`` changed since ``since - overlap`` (from the start when
    ``since`` is None): a backlog is read over several passes, each moving the watermark on."""
    floor = since - timedelta(seconds=overlap_s) if since is not None else datetime(1970, 1, 1).astimezone()
    rows = aurora.execute(_SAGAS, (floor, batch)).fetchall()
    steps = _steps(aurora, [r[0] for r in rows])
    return [
        SagaRecord(
            saga_id=r[0],
            source="aurora",
            saga_type=r[1],
            correlation_id=r[2],
            status=r[3],
            current_step=r[4],
            attempts=r[5],
            last_error=r[6],
            started_at=r[7],
            updated_at=r[8],
            deadline=r[9],
            business_key=r[10],
            failed_state=r[11],
            error=r[6] if r[11] else None,
            steps=tuple(steps.get(r[0], ())),
        )
        for r in rows
    ]


def _steps(aurora: psycopg.Connection, saga_ids: Sequence[str]) -> dict[str, list[SagaStepRecord]]:
    found: dict[str, list[SagaStepRecord]] = {}
    if not saga_ids:
        return found
    for row in aurora.execute(_STEPS, (list(saga_ids),)).fetchall():
        found.setdefault(row[0], []).append(SagaStepRecord(*row))
    return found
