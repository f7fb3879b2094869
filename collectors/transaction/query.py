"""The SQL behind the transaction view: a handful of indexed lookups by correlation id, trace and request.

Every query is bounded (``ROW_LIMIT``) and served by an index: ``log_lines_correlation_idx``,
``log_lines_request_idx``, ``invocations_request_idx``, ``spans_correlation_idx`` and the spans
primary key (trace id first), ``sagas_correlation_idx``, ``dlq_messages_correlation_idx``. Tables of
other packages (the reconciler's findings, jobs) are read only when present and only when they have a
``correlation_id`` column: the view must work before they exist.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from collectors.transaction.view import Transaction, build_transaction

ROW_LIMIT = 5000
#: Tables of other packages worth showing beside a transaction, when they carry a correlation id.
RELATED_TABLE_PATTERNS = ("reconcil%", "%finding%", "drift%", "%job%")
#: The first of these columns a related table has is its time in the timeline.
RELATED_TIME_COLUMNS = ("detected_at", "first_seen", "first_seen_at", "created_at", "updated_at", "at", "ts")
#: The reconciler's findings are keyed by the business key (cust_no), not by correlation id.
FINDINGS_TABLE = "reconcile_finding"

_LOG_COLUMNS = (
    "ts, log_group, log_stream, seq, kind, function_name, function_version, level, request_id,"
    " correlation_id, saga_id, saga_type, saga_step, trace_id, span_id, error_code, message, raw"
)
_SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, kind, service, start_time, end_time, duration_ms, status_code,"
    " status_message, correlation_id, attributes"
)


def fetch_transaction(conn: psycopg.Connection, correlation_id: str) -> Transaction:
    """Everything the audit store knows about ``correlation_id``, built into a ``Transaction``."""
    with conn.cursor(row_factory=dict_row) as cur:
        sagas = _all(
            cur, "SELECT * FROM sagas WHERE correlation_id = %s LIMIT %s", (correlation_id, ROW_LIMIT)
        )
        saga_ids = [s["saga_id"] for s in sagas]
        steps = _all(cur, "SELECT * FROM saga_steps WHERE saga_id = ANY(%s) LIMIT %s", (saga_ids, ROW_LIMIT))
        logs = _all(
            cur,
            f"SELECT {_LOG_COLUMNS} FROM log_lines WHERE correlation_id = %s ORDER BY ts LIMIT %s",
            (correlation_id, ROW_LIMIT),
        )
        request_ids = sorted({r["request_id"] for r in logs if r["request_id"]})
        if request_ids:  # the platform lines (START/END/REPORT) of those invocations
            logs += _all(
                cur,
                f"SELECT {_LOG_COLUMNS} FROM log_lines WHERE request_id = ANY(%s) AND correlation_id IS NULL"
                " LIMIT %s",
                (request_ids, ROW_LIMIT),
            )
        invocations = _all(
            cur, "SELECT * FROM invocations WHERE request_id = ANY(%s) LIMIT %s", (request_ids, ROW_LIMIT)
        )
        log_traces = sorted({r["trace_id"] for r in logs if r["trace_id"]})
        spans = _all(
            cur,
            f"SELECT {_SPAN_COLUMNS} FROM spans WHERE trace_id IN ("
            " SELECT trace_id FROM spans WHERE correlation_id = %s UNION SELECT unnest(%s::text[])) LIMIT %s",
            (correlation_id, log_traces, ROW_LIMIT),
        )
        dlq = _all(
            cur, "SELECT * FROM dlq_messages WHERE correlation_id = %s LIMIT %s", (correlation_id, ROW_LIMIT)
        )
        related = _related(cur, correlation_id)
        related += _findings(cur, sorted({s["business_key"] for s in sagas if s.get("business_key")}))
    return build_transaction(
        correlation_id,
        sagas=sagas,
        steps=steps,
        spans=spans,
        logs=logs,
        invocations=invocations,
        dlq_messages=dlq,
        related=related,
    )


def _all(cur: psycopg.Cursor[dict[str, Any]], query: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur.execute(query.encode(), params)
    return cur.fetchall()


def related_tables(cur: psycopg.Cursor[dict[str, Any]]) -> dict[str, str | None]:
    """Present tables (not ours) with a ``correlation_id`` column -> their time column, if any."""
    cur.execute(
        "SELECT table_name, array_agg(column_name::text) AS columns FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name::text LIKE ANY(%s)"
        " GROUP BY table_name HAVING bool_or(column_name = 'correlation_id')",
        (list(RELATED_TABLE_PATTERNS),),
    )
    found: dict[str, str | None] = {}
    for row in cur.fetchall():
        columns = set(row["columns"])
        found[row["table_name"]] = next((c for c in RELATED_TIME_COLUMNS if c in columns), None)
    return found


def _related(cur: psycopg.Cursor[dict[str, Any]], correlation_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for table, time_column in sorted(related_tables(cur).items()):
        cur.execute(
            sql.SQL("SELECT * FROM {} WHERE correlation_id = %s LIMIT %s").format(sql.Identifier(table)),
            (correlation_id, ROW_LIMIT),
        )
        for row in cur.fetchall():
            row["_table"] = table
            row["_at"] = row.get(time_column) if time_column else None
            rows.append(row)
    return rows


def _findings(cur: psycopg.Cursor[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """The reconciler's findings on the keys the transaction's sagas acted on, if its table exists."""
    if not keys:
        return []
    cur.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (FINDINGS_TABLE,))
    present = cur.fetchone()
    if not present or not present["present"]:
        return []
    cur.execute(
        sql.SQL("SELECT * FROM {} WHERE key = ANY(%s) ORDER BY first_seen LIMIT %s").format(
            sql.Identifier(FINDINGS_TABLE)
        ),
        (keys, ROW_LIMIT),
    )
    return [{**row, "_table": FINDINGS_TABLE, "_at": row.get("first_seen")} for row in cur.fetchall()]
