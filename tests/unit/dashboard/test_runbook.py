"""A saga needing a person: its runbook entry travels from Aurora through the saga collector to its page."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from streamlit.testing.v1 import AppTest

from collectors.sagas.aurora import fetch_sagas
from collectors.sagas.model import assess_all
from collectors.sagas.runbooks import fetch_runbooks, write_runbooks
from collectors.sagas.store import write_sagas
from tests.unit.dashboard.conftest import page_text

SAGA = "m-1"
COMMANDS = {
    "inspect": [f"sagawatch saga show {SAGA}", f"sagawatch saga runbook {SAGA}"],
    "finish": [f"sagawatch saga resume {SAGA}"],
}


def _stopped_merge(conn: psycopg.Connection[Any], *, runbook_status: str = "OPEN") -> None:
    """What the member merge saga leaves in Aurora when it stops past its point of no return."""
    conn.execute(
        "INSERT INTO saga (id, saga_type, correlation_id, status, current_step, started_at, updated_at)"
        " VALUES (%s, 'member_merge', 'corr-m-1', 'MANUAL_INTERVENTION', 'commerce_losers', now(), now())",
        (SAGA,),
    )
    conn.execute(
        "INSERT INTO saga_runbook (saga_id, saga_type, status, failed_step, error, done, remaining, commands,"
        " diff) VALUES (%s, 'member_merge', %s, 'commerce_losers', %s, %s, %s, %s, %s)",
        (
            SAGA,
            runbook_status,
            "commerce 503 while deleting the customer of taro@example.com",
            json.dumps([{"step": "support_losers", "what": "delete the losers' support users"}]),
            json.dumps(
                [{"step": "commerce_losers", "what": "delete the losers' shop customers", "status": "FAILED"}]
            ),
            json.dumps(COMMANDS),
            json.dumps([{"cust_no": "C2", "system": "support", "before": "u-2", "after": None}]),
        ),
    )


def _collect(url: str) -> None:
    """One saga pass of the collectors (Aurora and the audit store share a database here)."""
    with psycopg.connect(url, autocommit=True) as conn:
        records = fetch_sagas(conn, None, 0.0)
        runbooks = fetch_runbooks(conn, records)
        write_sagas(conn, assess_all(records, datetime.now(UTC), lambda _: 300.0), datetime.now(UTC))
        write_runbooks(conn, runbooks)


def test_a_stopped_merge_shows_what_was_done_what_remains_and_the_commands(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], aurora_here: str
) -> None:
    _stopped_merge(audit_conn)
    _collect(aurora_here)

    at = open_page("sagas", saga_id=SAGA)

    assert not at.exception
    text = page_text(at)
    assert "Stopped at commerce_losers: commerce 503" in text
    assert "taro@example.com" not in text  # masked on the page
    assert "support_losers" in text and "delete the losers' shop customers (FAILED)" in text
    codes = [str(c.value) for c in at.code]
    assert f"sagawatch saga resume {SAGA}" in codes
    assert f"sagawatch saga show {SAGA}\nsagawatch saga runbook {SAGA}" in codes
    assert list(at.dataframe[0].value["cust_no"]) == ["C2"]


def test_a_resolved_entry_says_so_and_the_saga_stops_counting_as_a_problem(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], aurora_here: str
) -> None:
    _stopped_merge(audit_conn)
    _collect(aurora_here)
    audit_conn.execute(
        "UPDATE saga_runbook SET status = 'RESOLVED', resolved_at = now() WHERE saga_id = %s", (SAGA,)
    )
    audit_conn.execute("UPDATE saga SET updated_at = now() WHERE id = %s", (SAGA,))  # as `saga resolve` does
    _collect(aurora_here)

    at = open_page("sagas", saga_id=SAGA)
    assert at.success and "Runbook entry resolved at" in at.success[0].value

    listed = open_page("sagas")  # still listed as it ended, no longer offered as a problem
    assert list(listed.dataframe[0].value["status"]) == ["MANUAL_INTERVENTION (resolved)"]
    assert not any(SAGA in e.proto.label for e in listed.get("page_link"))
    assert "0 failed or needing manual intervention" in page_text(open_page("overview"))


def test_sagas_that_need_nobody_cost_no_runbook_query(aurora_here: str) -> None:
    with psycopg.connect(aurora_here, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO saga (id, saga_type, correlation_id, status, started_at, updated_at)"
            " VALUES ('ok-1', 'customer', 'c', 'SUCCEEDED', now(), now())"
        )
        conn.execute("ALTER TABLE saga_runbook RENAME TO saga_runbook_gone")  # a read would fail
        assert fetch_runbooks(conn, fetch_sagas(conn, None, 0.0)) == []
