"""The transaction view's SQL on a real audit store: what it finds for a correlation id, and what not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from collectors.logs.collect import parse_page
from collectors.logs.parse import StreamContext
from collectors.logs.store import Position, commit_page
from collectors.partitions import Partitions
from collectors.transaction.query import fetch_transaction
from sagawatch.migrations import apply_migrations

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
GROUP, STREAM = "/aws/lambda/sw-customer", "2026/11/24/[$LATEST]ab"


def ms(offset: float) -> int:
    return int((T0 + timedelta(milliseconds=offset)).timestamp() * 1000)


def contract(message: str, correlation_id: str, request_id: str, trace_id: str) -> str:
    return (
        f'{{"level": "INFO", "timestamp": "t", "service": "s", "function_name": "sw-customer",'
        f' "function_request_id": "{request_id}", "message": "{message}",'
        f' "correlation_id": "{correlation_id}",'
        f' "trace_id": "{trace_id}", "span_id": "s1"}}'
    )


@pytest.fixture
def audit(fresh_db_url: str) -> Iterator[psycopg.Connection]:
    apply_migrations(fresh_db_url, "collectors.schema")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        events = [
            {"timestamp": ms(0), "message": "START RequestId: req-1 Version: $LATEST"},
            {"timestamp": ms(1), "message": contract("creating customer", "corr-A", "req-1", "trace-a")},
            {"timestamp": ms(2), "message": contract("other transaction", "corr-B", "req-2", "trace-b")},
            {"timestamp": ms(9), "message": "END RequestId: req-1"},
            {"timestamp": ms(9), "message": "REPORT RequestId: req-1\tDuration: 8.00 ms"},
        ]
        commit_page(
            conn,
            Partitions(),
            GROUP,
            STREAM,
            None,
            Position("f/4", 5),
            parse_page(StreamContext.of(GROUP, STREAM), 0, events),
        )
        conn.execute(
            "INSERT INTO spans (trace_id, span_id, parent_span_id, name, start_time, end_time, duration_ms,"
            " correlation_id) VALUES"
            " ('trace-a', 'root', NULL, 'POST /customers', %(t)s, %(t)s + interval '9 ms', 9, 'corr-A'),"
            " ('trace-a', 'child', 'root', 'support.create_user', %(t)s + interval '2 ms',"
            "  %(t)s + interval '5 ms', 3, NULL),"
            " ('trace-b', 'other', NULL, 'POST /customers', %(t)s, %(t)s, 1, 'corr-B')",
            {"t": T0},
        )
        conn.execute(
            "INSERT INTO sagas (saga_id, source, saga_type, correlation_id, status, started_at, updated_at,"
            " business_key) VALUES ('saga-1', 'aurora', 'customer', 'corr-A', 'COMPENSATED', %s, %s, 'C001')",
            (T0, T0 + timedelta(seconds=1)),
        )
        conn.execute(
            "INSERT INTO dlq_messages (queue_name, message_id, correlation_id, sent_at, body)"
            " VALUES ('jobs-dlq', 'm-1', 'corr-A', %s, '{}')",
            (T0 + timedelta(seconds=2),),
        )
        yield conn


def test_everything_about_one_correlation_id_and_nothing_else(audit: psycopg.Connection) -> None:
    transaction = fetch_transaction(audit, "corr-A")
    assert [s["saga_id"] for s in transaction.sagas] == ["saga-1"]
    assert [(n.span_id, n.depth) for n in transaction.waterfall] == [("root", 0), ("child", 1)]
    raws = [line["raw"] for line in transaction.logs]
    assert raws[0] == "START RequestId: req-1 Version: $LATEST"  # the invocation's platform lines too
    assert "END RequestId: req-1" in raws and not any("other transaction" in r for r in raws)
    assert [m["message_id"] for m in transaction.dlq_messages] == ["m-1"]
    kinds = [e.kind for e in transaction.timeline]
    assert kinds == ["saga", "span", "log", "log", "span", "log", "invocation", "dlq"]
    assert transaction.timeline == tuple(sorted(transaction.timeline, key=lambda e: e.at))


def test_reconciler_findings_on_the_saga_key_show_when_their_table_exists(
    audit: psycopg.Connection, fresh_db_url: str
) -> None:
    assert fetch_transaction(audit, "corr-A").related == ()  # no reconciler tables yet: no error either
    apply_migrations(fresh_db_url, "reconciler.schema")
    audit.execute(
        "INSERT INTO reconcile_run (run_id, mode, systems, started_at, status)"
        " VALUES ('r1', 'full', '{support}', %s, 'drift')",
        (T0,),
    )
    audit.execute(
        "INSERT INTO reconcile_finding (fingerprint, kind, system, key, detail, first_seen, last_seen,"
        " first_run, last_run) VALUES"
        " ('f1', 'orphan_in_saas', 'support', 'C001', 'left behind', %s, %s, 'r1', 'r1'),"
        " ('f2', 'missing_in_saas', 'support', 'C999', '', %s, %s, 'r1', 'r1')",
        (T0 + timedelta(minutes=1),) * 4,
    )
    related = fetch_transaction(audit, "corr-A").related
    assert [(r["_table"], r["key"], r["kind"]) for r in related] == [
        ("reconcile_finding", "C001", "orphan_in_saas")
    ]
    timeline = fetch_transaction(audit, "corr-A").timeline
    assert timeline[-1].kind == "related" and "orphan_in_saas" in timeline[-1].summary


def test_unknown_correlation_id_is_empty(audit: psycopg.Connection) -> None:
    assert fetch_transaction(audit, "corr-none").empty
