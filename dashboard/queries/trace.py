"""The trace inspector's data: find a transaction by any of its ids, then the collectors' view of it.

Every search resolves to correlation ids (the contract's transaction id); the transaction itself comes
from ``collectors.transaction.query.fetch_transaction``, the same function ``sagawatch trace`` uses, so
the page and the CLI never disagree about what belongs to a transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Literal, cast

import psycopg

from collectors.transaction.query import fetch_transaction
from collectors.transaction.view import Transaction
from dashboard.db import fetch_all

Conn = psycopg.Connection[dict[str, Any]]
SearchKind = Literal["correlation_id", "trace_id", "saga_id", "cust_no"]
SEARCH_KINDS: dict[SearchKind, str] = {
    "correlation_id": "Correlation id",
    "trace_id": "Trace id",
    "saga_id": "Saga id",
    "cust_no": "Customer number (cust_no)",
}
MAX_MATCHES = 50


def resolve(conn: Conn, kind: SearchKind, value: str) -> list[str]:
    """The correlation ids that ``value`` (of ``kind``) leads to, most recent first."""
    value = value.strip()
    if not value:
        return []
    if kind == "correlation_id":
        return [value]
    if kind == "trace_id":
        query = (
            "SELECT correlation_id FROM ("
            "SELECT correlation_id, start_time AS at FROM spans WHERE trace_id = %s"
            " UNION ALL SELECT correlation_id, ts FROM log_lines WHERE trace_id = %s) found"
            " WHERE correlation_id IS NOT NULL GROUP BY correlation_id ORDER BY max(at) DESC LIMIT %s"
        )
        params: tuple[Any, ...] = (value.lower(), value.lower(), MAX_MATCHES)
    elif kind == "saga_id":
        query = "SELECT correlation_id FROM sagas WHERE saga_id = %s AND correlation_id IS NOT NULL LIMIT %s"
        params = (value, MAX_MATCHES)
    else:
        query = (
            "SELECT correlation_id FROM sagas WHERE business_key = %s AND correlation_id IS NOT NULL"
            " GROUP BY correlation_id ORDER BY max(updated_at) DESC LIMIT %s"
        )
        params = (value, MAX_MATCHES)
    return [r["correlation_id"] for r in fetch_all(conn, query, params)]


def transaction(conn: Conn, correlation_id: str) -> Transaction:
    # the collectors' query sets its own row factory per cursor; the connection's does not matter to it
    return fetch_transaction(cast("psycopg.Connection[Any]", conn), correlation_id)


def logs_by_span(logs: tuple[Mapping[str, Any], ...]) -> dict[str | None, list[Mapping[str, Any]]]:
    """Log lines grouped by the span they were written in (``None``: written outside any span)."""
    grouped: dict[str | None, list[Mapping[str, Any]]] = defaultdict(list)
    for line in logs:
        grouped[line.get("span_id")].append(line)
    return dict(grouped)
