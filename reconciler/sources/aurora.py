"""Aurora's ``customer`` table as a ``Source``, plus the keys live sagas hold.

The full sweep reads through a server-side (named) cursor in canonical key
order, ``fetch_size`` rows per round trip, so memory stays flat however
large the table is; ``key_from``/``key_to`` bound it for one Distributed Map
item. The SQL sticks to what Aurora PostgreSQL 16/17 runs.

Performance note: ``ORDER BY upper(cust_no) COLLATE "C"`` and
``upper(cust_no) = ANY(...)`` are served best by an expression index
``customer (upper(cust_no) COLLATE "C")`` in the app's schema; without it
PostgreSQL sorts (the sweep) and scans (``get_many``), which stays correct.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from reconciler.inflight import LIVE_STATUSES, in_flight_keys
from reconciler.mapping import AURORA, AURORA_COLUMNS, aurora_record
from reconciler.model import Record
from reconciler.sources.base import SourceError, Watermark

_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in sorted(AURORA_COLUMNS))
_KEY = sql.SQL('upper(cust_no) COLLATE "C"')


class AuroraSource:
    """Reads ``customer`` rows from Aurora (any PostgreSQL), one connection per call."""

    def __init__(self, conninfo: str, *, fetch_size: int = 5_000, batch_size: int = 5_000) -> None:
        if fetch_size < 1 or batch_size < 1:
            raise ValueError("fetch_size and batch_size must be at least 1")
        self._conninfo = conninfo
        self._fetch_size = fetch_size
        self._batch_size = batch_size

    @property
    def system(self) -> str:
        return AURORA

    def iter_sorted(self, key_from: str | None = None, key_to: str | None = None) -> Iterator[Record]:
        # Read in the caller's thread: a read-ahead thread measured no faster (PostgreSQL answers a
        # fetch in milliseconds, and one more thread contends for the GIL with the diff).
        where, params = _range(key_from, key_to)
        query = sql.SQL("SELECT {} FROM customer{} ORDER BY {}").format(_COLUMNS, where, _KEY)
        return self._stream(query, params)

    def changed_since(self, watermark: Watermark) -> Iterator[Record]:
        query = sql.SQL("SELECT {} FROM customer WHERE updated_at >= %s").format(_COLUMNS)
        return self._stream(query, [watermark.updated_at])

    def get_many(self, keys: Sequence[str]) -> Iterator[Record]:
        """Rows by canonical key: first through the primary key (keys stored as written, the usual
        case), then ``upper(cust_no)`` for the keys not found that way (a scan without an
        expression index, so it runs only when some key is stored in lower case or absent)."""
        wanted = sorted(set(keys))
        exact = sql.SQL("SELECT {} FROM customer WHERE cust_no = ANY(%s)").format(_COLUMNS)
        folded = sql.SQL("SELECT {} FROM customer WHERE upper(cust_no) = ANY(%s) AND cust_no <> ALL(%s)")
        with self._connect() as conn:
            for start in range(0, len(wanted), self._batch_size):
                batch = wanted[start : start + self._batch_size]
                found = [aurora_record(row) for row in conn.execute(exact, [batch]).fetchall()]
                yield from found
                rest = sorted(set(batch) - {r.key for r in found})
                if rest:
                    query = folded.format(_COLUMNS)
                    for row in conn.execute(query, [rest, [r.raw_id for r in found]]).fetchall():
                        yield aurora_record(row)

    def rows(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Raw customer rows by canonical key: what a repair re-syncs from."""
        return {record.key: dict(record.fields) for record in self.get_many(keys)}

    def in_flight(self) -> frozenset[str]:
        """Canonical keys named by sagas that are not terminal (``reconciler.inflight``)."""
        query = "SELECT id, status, payload FROM saga WHERE status = ANY(%s)"
        with self._connect() as conn:
            return in_flight_keys(conn.execute(query, [list(LIVE_STATUSES)]).fetchall())

    def count(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT count(*) AS n FROM customer").fetchone()
        return int(row["n"]) if row else 0

    def _stream(self, query: sql.Composed, params: Sequence[Any]) -> Iterator[Record]:
        with (
            self._connect() as conn,
            conn.transaction(),
            conn.cursor(name="reconcile_stream", row_factory=dict_row) as cursor,
        ):
            cursor.itersize = self._fetch_size
            cursor.execute(query, params)
            for row in cursor:
                yield aurora_record(row)

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(self._conninfo, row_factory=dict_row)
        except psycopg.OperationalError as exc:
            raise SourceError(f"aurora: cannot connect: {_first_line(exc)}") from exc


def _range(key_from: str | None, key_to: str | None) -> tuple[sql.Composable, list[str]]:
    parts: list[sql.Composable] = []
    params: list[str] = []
    if key_from is not None:
        parts.append(sql.SQL("{} >= %s").format(_KEY))
        params.append(key_from)
    if key_to is not None:
        parts.append(sql.SQL("{} < %s").format(_KEY))
        params.append(key_to)
    if not parts:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params


def _first_line(exc: BaseException) -> str:
    from sagawatch.redact import redact

    return redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
