"""Writing span rows into the audit store: one transaction per export request, idempotent per span.

Exporters retry a request whose answer they did not see, so the same span can
arrive twice; ``ON CONFLICT (trace_id, span_id) DO NOTHING`` keeps the first
copy and makes the retry harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

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
        self._url = audit_url
        self._connect_timeout_s = connect_timeout_s
        self._pool = ConnectionPool(
            audit_url, min_size=1, max_size=max_connections, open=False, timeout=connect_timeout_s
        )

    def open(self) -> None:
        """Connect now and check the table, so a wrong URL or a missing migration fails at start-up
        rather than on the first span."""
        try:
            self._pool.open(wait=True, timeout=self._connect_timeout_s)
        except PoolTimeout as exc:
            self._pool.close()
            raise RuntimeError(
                f"cannot connect to the audit store at {_without_password(self._url)} "
                f"within {self._connect_timeout_s:.0f} s"
            ) from exc
        with self._pool.connection() as conn:
            found = {
                row[0]
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'spans' AND table_schema = current_schema()"
                )
            }
        missing = [c for c in _COLUMNS if c not in found]
        if missing:
            self._pool.close()
            raise RuntimeError(
                f"the audit store has no spans table with columns {', '.join(missing)}: apply the "
                "'collectors.schema' migrations (sagawatch.migrations.apply_migrations) first"
            )

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


def _without_password(url: str) -> str:
    """The URL fit for an error message: secrets never reach logs."""
    try:
        params = conninfo_to_dict(url)
    except Exception:
        return "(unparseable URL)"
    params.pop("password", None)
    return make_conninfo("", **params)
