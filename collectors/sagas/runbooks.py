"""Runbook entries of sagas that need a person, from Aurora's ``saga_runbook`` into the audit store.

The member merge saga writes an entry (what was done, what remains, the exact commands, the diff)
when it stops past its point of no return, and ``sagawatch saga resolve`` marks one RESOLVED; the
dashboard shows it on the saga's page, reading the audit store only. Entries are read for the sagas
of this pass that ended MANUAL_INTERVENTION or FAILED (usually none, so usually no query), which
``fetch_sagas`` re-reads whenever they are touched, as ``resolve`` does. An Aurora schema without the
table (DESIGN.md's minimum) has no entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from collectors.sagas.model import SagaRecord

NEEDING_A_PERSON = frozenset({"MANUAL_INTERVENTION", "FAILED"})

_READ = """
SELECT saga_id, saga_type, status, failed_step, error, done, remaining, commands, diff, updated_at,
       resolved_at
FROM saga_runbook WHERE saga_id = ANY(%s)
"""
_UPSERT = """
INSERT INTO saga_runbooks (saga_id, saga_type, status, failed_step, error, done, remaining, commands, diff,
                           updated_at, resolved_at, copied_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (saga_id) DO UPDATE SET
    saga_type = EXCLUDED.saga_type, status = EXCLUDED.status, failed_step = EXCLUDED.failed_step,
    error = EXCLUDED.error, done = EXCLUDED.done, remaining = EXCLUDED.remaining,
    commands = EXCLUDED.commands, diff = EXCLUDED.diff, updated_at = EXCLUDED.updated_at,
    resolved_at = EXCLUDED.resolved_at, copied_at = now()
"""


@dataclass(frozen=True)
class RunbookRecord:
    saga_id: str
    saga_type: str
    status: str  # OPEN | RESOLVED
    failed_step: str | None
    error: str | None
    done: list[Any]
    remaining: list[Any]
    commands: dict[str, Any]
    diff: list[Any]
    updated_at: datetime
    resolved_at: datetime | None


def fetch_runbooks(aurora: psycopg.Connection, records: Sequence[SagaRecord]) -> list[RunbookRecord]:
    """The runbook entries of those ``records`` that ended needing a person."""
    ids = sorted({r.saga_id for r in records if r.source == "aurora" and r.status in NEEDING_A_PERSON})
    if not ids:
        return []
    present = aurora.execute("SELECT to_regclass('saga_runbook') IS NOT NULL").fetchone()
    if not present or not present[0]:
        return []
    return [RunbookRecord(*row) for row in aurora.execute(_READ, (ids,)).fetchall()]


def write_runbooks(conn: psycopg.Connection, runbooks: Sequence[RunbookRecord]) -> None:
    """Upsert the entries (one transaction; a re-read entry is written again, unchanged)."""
    if not runbooks:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            _UPSERT,
            [
                (
                    r.saga_id, r.saga_type, r.status, r.failed_step, r.error, Jsonb(r.done),
                    Jsonb(r.remaining), Jsonb(r.commands), Jsonb(r.diff), r.updated_at, r.resolved_at,
                )
                for r in sorted(runbooks, key=lambda r: r.saga_id)
            ],
        )  # fmt: skip
