"""Aurora's saga tables into the audit store's view of sagas, on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from collectors.sagas.aurora import fetch_sagas
from collectors.sagas.model import assess_all
from collectors.sagas.store import aurora_watermark, write_sagas
from sagawatch.migrations import apply_migrations

NOW = datetime.now(UTC)


@pytest.fixture
def db(fresh_db_url: str) -> Iterator[psycopg.Connection]:
    """One database for both sides: Aurora's ``saga``/``saga_step``, the audit ``sagas``/``saga_steps``."""
    apply_migrations(fresh_db_url, "instrumented_app.schema")
    apply_migrations(fresh_db_url, "collectors.schema")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO saga (id, saga_type, correlation_id, status, started_at, updated_at, payload)"
            " SELECT 'done-' || i, 'customer', 'c-' || i, 'SUCCEEDED', %s, %s + i * interval '1 minute',"
            " jsonb_build_object('cust_no', 'C' || i,"
            "                    'customer', jsonb_build_object('email', 'x@example.jp'))"
            " FROM generate_series(1, 250) i",
            (NOW - timedelta(hours=5), NOW - timedelta(hours=5)),
        )
        conn.execute(
            "INSERT INTO saga (id, saga_type, correlation_id, status, current_step, started_at, updated_at)"
            " VALUES ('live-old', 'customer', 'c-live', 'RUNNING', 'support_user', %s, %s),"
            " ('live-new', 'customer', 'c-new', 'COMPENSATING', 'support_user', %s, %s)",
            (NOW - timedelta(hours=6), NOW - timedelta(hours=6), NOW, NOW),
        )
        conn.execute(
            "INSERT INTO saga_step (saga_id, seq, name, status, idempotency_key, error)"
            " VALUES ('live-old', 0, 'aurora_row', 'SUCCEEDED', 'k0', NULL),"
            " ('live-old', 1, 'support_user', 'FAILED', 'k1', '503 from support')"
        )
        yield conn


def collect(conn: psycopg.Connection, batch: int) -> int:
    records = fetch_sagas(conn, aurora_watermark(conn), overlap_s=30, batch=batch)
    write_sagas(conn, assess_all(records, NOW, lambda saga_type: 120.0), NOW)
    return len(records)


def test_a_backlog_is_read_in_batches_and_live_sagas_every_pass(db: psycopg.Connection) -> None:
    passes = 0
    while passes < 10:
        passes += 1
        collect(db, batch=100)
        if db.execute("SELECT count(*) FROM sagas").fetchone() == (252,):
            break
    # 250 changes a minute apart, 100 a pass (the newest of a pass is read again: overlap), the live
    # two with every pass; a live saga newer than the backlog must not make the backlog look read
    assert passes == 3
    rows = dict(db.execute("SELECT saga_id, stuck FROM sagas WHERE saga_id LIKE 'live-%'").fetchall())
    assert rows == {"live-old": True, "live-new": False}


def test_steps_and_business_key_come_along_but_not_the_payload(db: psycopg.Connection) -> None:
    collect(db, batch=1000)
    steps = db.execute(
        "SELECT seq, name, status, error FROM saga_steps WHERE saga_id = 'live-old' ORDER BY seq"
    )
    assert steps.fetchall() == [
        (0, "aurora_row", "SUCCEEDED", None),
        (1, "support_user", "FAILED", "503 from support"),
    ]
    assert db.execute("SELECT business_key FROM sagas WHERE saga_id = 'done-7'").fetchone() == ("C7",)
    columns = {
        r[0]
        for r in db.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'sagas'")
    }
    assert "payload" not in columns


def test_a_saga_that_finishes_is_no_longer_stuck(db: psycopg.Connection) -> None:
    collect(db, batch=1000)
    db.execute("UPDATE saga SET status = 'COMPENSATED', updated_at = now() WHERE id = 'live-old'")
    collect(db, batch=1000)
    assert db.execute("SELECT status, stuck FROM sagas WHERE saga_id = 'live-old'").fetchone() == (
        "COMPENSATED",
        False,
    )


def test_the_failed_step_and_its_error_are_read_when_the_schema_has_them(db: psycopg.Connection) -> None:
    db.execute(
        "UPDATE saga SET status = 'COMPENSATED', failed_step = 'support_user', last_error = 'support: 503',"
        " updated_at = now() WHERE id = 'live-old'"
    )
    collect(db, batch=1000)
    row = db.execute("SELECT failed_state, error FROM sagas WHERE saga_id = 'live-old'").fetchone()
    assert row == ("support_user", "support: 503")
    assert db.execute("SELECT failed_state FROM sagas WHERE saga_id = 'done-1'").fetchone() == (None,)
