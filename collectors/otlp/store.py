"""Writing span rows into the audit store: one transaction per export request, idempotent per span.

Exporters retry a request whose answer they did not see, so the same span can
arrive twice; ``ON CONFLICT (trace_id, span_id) DO NOTHING`` keeps the first
copy and makes the retry harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from collectors.otlp.rows import SpanRow

_COLUMNS = tuple(f.name for f in fields(SpanRow))
_JSON_COLUMNS = frozenset({"attributes", "events", "links", "resource"})
_INSERT = (
    f"INSERT INTO spans ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
    "ON CONFLICT (trace_id, span_id) DO NOTHING RETURNING span_id"
)


class SpanStore:
    """A small connection pool onto the audit store and the one statement the receiver needs."""

    def __init__(self, audit_url: str, *, max_connections: int = 4, connect_timeout_s: float = 10.0) -> None:
        self._pool = ConnectionPool(
            audit_url, min_size=1, max_size=max_connections, open=False, timeout=connect_timeout_s
        )

    def open(self) -> None:
        """Connect now, so a wrong URL fails at start-up rather than on the first span."""
        self._pool.open(wait=True)

    def close(self) -> None:
        self._pool.close()

    def write(self, rows: Sequence[SpanRow]) -> int:
        """Insert the rows in one transaction; returns how many were new."""
        if not rows:
            return 0
        params = [_params(row) for row in rows]
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(_INSERT, params, returning=True)
            inserted = 0
            while True:  # one result set per row: the row back if it was new, nothing on a conflict
                inserted += len(cur.fetchall())
                if not cur.nextset():
                    break
        return inserted


def _params(row: SpanRow) -> tuple[object, ...]:
    return tuple(
        Jsonb(getattr(row, name)) if name in _JSON_COLUMNS else getattr(row, name) for name in _COLUMNS
    )
