"""Daily range partitions for the audit store's time series, made before the rows that need them.

Each partitioned table (``PARTITIONED``) gets one partition per UTC day, named ``<table>_pYYYYMMDD``.
Writers call ``ensure_days`` with the days of the rows they are about to insert; days already made
by this process are remembered, so the common case costs no SQL. Retention drops whole partitions
(``drop_before``), which is what keeps deletes from scanning.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

#: Partitioned table -> its time column (see collectors/schema/0003_audit_store.sql).
PARTITIONED: dict[str, str] = {
    "log_lines": "ts",
    "invocations": "ts",
    "queue_samples": "sampled_at",
    "metric_points": "ts",
}
_SUFFIX = re.compile(r"_p(\d{8})$")


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def day_of(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


class Partitions:
    """Creates missing day partitions; one instance per process is enough (it is thread-safe)."""

    def __init__(self) -> None:
        self._made: set[tuple[str, date]] = set()
        self._lock = threading.Lock()

    def ensure_days(self, conn: psycopg.Connection, table: str, days: Iterable[date]) -> None:
        """Make the partitions of ``table`` for ``days``, each in a short transaction of its own."""
        if table not in PARTITIONED:
            raise ValueError(f"table: {table!r} is not a partitioned audit table")
        with self._lock:
            missing = sorted({d for d in days if (table, d) not in self._made})
        for day in missing:
            create_partition(conn, table, day)
            with self._lock:
                self._made.add((table, day))

    def forget(self) -> None:
        """After a drop: the next write checks again."""
        with self._lock:
            self._made.clear()


def create_partition(conn: psycopg.Connection, table: str, day: date) -> None:
    """``CREATE TABLE IF NOT EXISTS ... PARTITION OF`` for one day; a racing creator is harmless."""
    statement = sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
        sql.Identifier(partition_name(table, day)),
        sql.Identifier(table),
        sql.Literal(datetime(day.year, day.month, day.day, tzinfo=UTC)),
        sql.Literal(datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)),
    )
    try:
        with conn.transaction():
            conn.execute(statement)
    except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
        pass  # another process made it between our check and our create


def partition_days(conn: psycopg.Connection, table: str) -> list[date]:
    """The days that ``table`` has partitions for, oldest first."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass",
        (table,),
    ).fetchall()
    days = []
    for (name,) in rows:
        match = _SUFFIX.search(name)
        if match and name.startswith(f"{table}_p"):
            days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
    return sorted(days)


def drop_before(conn: psycopg.Connection, table: str, cutoff: date) -> list[str]:
    """Drop the partitions of ``table`` whose whole day is before ``cutoff``; returns their names."""
    dropped = []
    for day in partition_days(conn, table):
        if day < cutoff:
            name = partition_name(table, day)
            with conn.transaction():
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
            dropped.append(name)
    return dropped
