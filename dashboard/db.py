"""Where the dashboard's data comes from: the audit store, and nothing else.

The URL is found in this order: ``SAGAWATCH_AUDIT_URL`` (what ``DashboardServer`` passes its
process), the settings' ``AUDIT_DATABASE_URL``, then the running stack's ``stack.json``. Pages open a
short-lived connection per render (loopback PostgreSQL connects in milliseconds) so a refresh never
holds a transaction open and a restarted store is picked up at the next refresh.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from sagawatch.redact import redact
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

AUDIT_URL_ENV = "SAGAWATCH_AUDIT_URL"
CONNECT_TIMEOUT_S = 5
#: Every statement a page runs is cut off here: a slow query shows an error, never a hung page.
STATEMENT_TIMEOUT_MS = 10_000


class AuditStoreUnavailable(RuntimeError):
    """No audit store is configured, or it cannot be reached; the message says which and how to fix it."""


def audit_url() -> str:
    """The audit store's URL, or ``AuditStoreUnavailable`` naming the three places looked at."""
    if os.environ.get(AUDIT_URL_ENV):
        return os.environ[AUDIT_URL_ENV]
    settings = get_settings()
    if settings.audit_database_url:
        return settings.audit_database_url
    info = StackInfo.read(settings.stack_file)
    if info is not None:
        return info.audit_url
    raise AuditStoreUnavailable(
        f"no audit store: set {AUDIT_URL_ENV} or AUDIT_DATABASE_URL, or start the stack with `sagawatch up`"
        f" (no live {settings.stack_file})"
    )


@contextmanager
def connect(url: str | None = None) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A read connection to the audit store (autocommit, dict rows, bounded statements)."""
    target = url or audit_url()
    try:
        conn = psycopg.connect(
            target,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT_S,
            # times on every page in UTC, whatever the server's zone, as CloudWatch and the logs show them
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c timezone=UTC",
        )
    except psycopg.OperationalError as exc:
        raise AuditStoreUnavailable(f"cannot reach the audit store: {redact(str(exc)).strip()}") from exc
    try:
        yield conn
    finally:
        conn.close()


def fetch_all(
    conn: psycopg.Connection[dict[str, Any]], query: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    """Rows of one query as dicts."""
    with conn.cursor() as cur:
        cur.execute(query.encode(), params)
        return cur.fetchall()


def table_exists(conn: psycopg.Connection[dict[str, Any]], table: str) -> bool:
    """Whether ``table`` exists: a page over another package's tables says "not set up" instead of failing."""
    rows = fetch_all(conn, "SELECT to_regclass(%s) IS NOT NULL AS present", (table,))
    return bool(rows and rows[0]["present"])
