"""Retention: old day partitions dropped whole, other tables trimmed by batched deletes on an index.

Nothing here runs per insert: the loop calls ``enforce`` every ``RetentionSettings.check_interval_s``.
A batched delete takes ``delete_batch`` rows at a time through an index on the time column, so a
large backlog never holds one long transaction or lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from collectors.partitions import Partitions, day_of, drop_before
from collectors.settings import RetentionSettings

MAX_BATCHES_PER_TABLE = 1000  # a bound on one enforcement; the next one continues


@dataclass(frozen=True)
class BatchedTable:
    table: str
    time_column: str
    where: str = "TRUE"  # an extra condition (literal SQL from this module only)


@dataclass
class RetentionReport:
    dropped_partitions: list[str] = field(default_factory=list)
    deleted_rows: dict[str, int] = field(default_factory=dict)


def partition_days_kept(settings: RetentionSettings) -> dict[str, int]:
    return {
        "log_lines": settings.logs_days,
        "invocations": settings.logs_days,
        "queue_samples": settings.queues_days,
        "metric_points": settings.metrics_days,
    }


def batched_tables(settings: RetentionSettings) -> list[tuple[BatchedTable, int]]:
    terminal = "status IN ('SUCCEEDED', 'COMPENSATED', 'FAILED', 'MANUAL_INTERVENTION')"
    return [
        (BatchedTable("spans", "start_time"), settings.spans_days),
        (BatchedTable("collector_errors", "at"), settings.errors_days),
        (BatchedTable("dlq_messages", "last_seen_at"), settings.dlq_days),
        (BatchedTable("sagas", "updated_at", terminal), settings.sagas_days),
        (BatchedTable("jobs", "updated_at"), settings.jobs_days),
    ]


def enforce(
    conn: psycopg.Connection, settings: RetentionSettings, partitions: Partitions, now: datetime
) -> RetentionReport:
    """Apply every retention rule once; ``conn`` in autocommit mode (each batch its own transaction)."""
    report = RetentionReport()
    for table, days in partition_days_kept(settings).items():
        report.dropped_partitions += drop_before(conn, table, day_of(now - timedelta(days=days)))
    if report.dropped_partitions:
        partitions.forget()
    for spec, days in batched_tables(settings):
        report.deleted_rows[spec.table] = delete_older(
            conn, spec, now - timedelta(days=days), settings.delete_batch
        )
    return report


def delete_older(conn: psycopg.Connection, spec: BatchedTable, cutoff: datetime, batch: int) -> int:
    """Delete rows older than ``cutoff`` in batches of ``batch``; returns how many went."""
    statement = sql.SQL(
        "DELETE FROM {table} WHERE ctid IN"
        " (SELECT ctid FROM {table} WHERE {column} < %s AND ({where}) LIMIT %s)"
    ).format(
        table=sql.Identifier(spec.table), column=sql.Identifier(spec.time_column), where=sql.SQL(spec.where)
    )
    total = 0
    for _ in range(MAX_BATCHES_PER_TABLE):
        with conn.transaction():
            deleted = conn.execute(statement, (cutoff, batch)).rowcount
        total += deleted
        if deleted < batch:
            break
    return total
