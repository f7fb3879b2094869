"""``PostgresSagaStore``: saga state in Aurora (tables of migrations 0001 and 0003).

Each method is one short transaction on a connection the caller owns (a
Lambda keeps one per execution environment). Times are the database's
``now()``, so every writer agrees on the clock the stuck rule compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from instrumented_app.sagas.records import KEEP, SagaNotFound, SagaRecord, StepRecord
from sagawatch.contracts import SagaState, SagaStatus, StepStatus

_SAGA_COLUMNS = (
    "id, saga_type, correlation_id, status, current_step, attempts, last_error, "
    "started_at, updated_at, deadline, payload, failed_step"
)
_STEP_COLUMNS = (
    "saga_id, seq, name, status, idempotency_key, compensation_key, started_at, finished_at, error, "
    "result, outcome_unknown"
)


class PostgresSagaStore:
    """The ``SagaStore`` protocol on a psycopg connection (autocommit; each call its own transaction)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def create(self, record: SagaRecord) -> None:
        state = record.state
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO saga (id, saga_type, correlation_id, status, started_at, updated_at, deadline,"
                " payload) VALUES (%s, %s, %s, %s, now(), now(), %s, %s)",
                (
                    state.id,
                    state.type,
                    state.correlation_id,
                    state.status.value,
                    state.deadline,
                    Jsonb(record.payload),
                ),
            )
            cur.executemany(
                "INSERT INTO saga_step (saga_id, seq, name, status, idempotency_key, compensation_key)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (state.id, s.seq, s.name, s.status.value, s.idempotency_key, s.compensation_key)
                    for s in record.steps
                ],
            )

    def load(self, saga_id: str) -> SagaRecord:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SELECT {_SAGA_COLUMNS} FROM saga WHERE id = %s", (saga_id,))
            row = cur.fetchone()
            if row is None:
                raise SagaNotFound(saga_id)
            cur.execute(f"SELECT {_STEP_COLUMNS} FROM saga_step WHERE saga_id = %s ORDER BY seq", (saga_id,))
            steps = [StepRecord.model_validate(step) for step in cur.fetchall()]
        return SagaRecord(
            state=_state(row), payload=row["payload"] or {}, failed_step=row["failed_step"], steps=steps
        )

    def update_saga(
        self,
        saga_id: str,
        *,
        status: SagaStatus | None = None,
        current_step: str | None = KEEP,
        last_error: str | None = KEEP,
        failed_step: str | None = KEEP,
        add_attempt: bool = False,
    ) -> None:
        changes: list[sql.Composable] = [sql.SQL("updated_at = now()")]
        values: list[Any] = []
        for column, value in (
            ("status", None if status is None else status.value),
            ("current_step", current_step),
            ("last_error", last_error),
            ("failed_step", failed_step),
        ):
            if value is KEEP or (column == "status" and value is None):
                continue
            changes.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            values.append(value)
        if add_attempt:
            changes.append(sql.SQL("attempts = attempts + 1"))
        query = sql.SQL("UPDATE saga SET {} WHERE id = %s").format(sql.SQL(", ").join(changes))
        with self.conn.transaction():
            if self.conn.execute(query, [*values, saga_id]).rowcount != 1:
                raise SagaNotFound(saga_id)

    def update_step(
        self,
        saga_id: str,
        seq: int,
        *,
        status: StepStatus,
        started: bool = False,
        finished: bool = False,
        error: str | None = KEEP,
        result: dict[str, Any] | None = KEEP,
        outcome_unknown: bool | None = None,
        current_step: str | None = KEEP,
    ) -> None:
        changes: list[sql.Composable] = [sql.SQL("status = %s")]
        values: list[Any] = [status.value]
        if started:
            changes.append(sql.SQL("started_at = now(), finished_at = NULL"))
        if finished:
            changes.append(sql.SQL("finished_at = now()"))
        if error is not KEEP:
            changes.append(sql.SQL("error = %s"))
            values.append(error)
        if result is not KEEP:
            changes.append(sql.SQL("result = %s"))
            values.append(None if result is None else Jsonb(result))
        if outcome_unknown is not None:
            changes.append(sql.SQL("outcome_unknown = %s"))
            values.append(outcome_unknown)
        query = sql.SQL("UPDATE saga_step SET {} WHERE saga_id = %s AND seq = %s").format(
            sql.SQL(", ").join(changes)
        )
        with self.conn.transaction():
            if self.conn.execute(query, [*values, saga_id, seq]).rowcount != 1:
                raise SagaNotFound(saga_id)
            if current_step is KEEP:
                self.conn.execute("UPDATE saga SET updated_at = now() WHERE id = %s", (saga_id,))
            else:
                self.conn.execute(
                    "UPDATE saga SET updated_at = now(), current_step = %s WHERE id = %s",
                    (current_step, saga_id),
                )

    def list_sagas(
        self,
        *,
        saga_type: str | None = None,
        statuses: Sequence[SagaStatus] = (),
        updated_before: datetime | None = None,
        limit: int = 100,
    ) -> list[SagaState]:
        if limit < 1:
            raise ValueError(f"limit: must be at least 1, got {limit}")
        where: list[sql.Composable] = [sql.SQL("true")]
        values: list[Any] = []
        if saga_type is not None:
            where.append(sql.SQL("saga_type = %s"))
            values.append(saga_type)
        if statuses:
            where.append(sql.SQL("status = ANY(%s)"))
            values.append([status.value for status in statuses])
        if updated_before is not None:
            where.append(sql.SQL("updated_at < %s"))
            values.append(updated_before)
        query = sql.SQL("SELECT {} FROM saga WHERE {} ORDER BY updated_at DESC LIMIT %s").format(
            sql.SQL(_SAGA_COLUMNS), sql.SQL(" AND ").join(where)
        )
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, [*values, limit])
            return [_state(row) for row in cur.fetchall()]


def _state(row: dict[str, Any]) -> SagaState:
    return SagaState(
        id=row["id"],
        type=row["saga_type"],
        correlation_id=row["correlation_id"],
        status=SagaStatus(row["status"]),
        current_step=row["current_step"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        deadline=row["deadline"],
    )
