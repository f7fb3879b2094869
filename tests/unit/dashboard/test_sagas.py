"""Sagas page: the list (stuck and failed first, filters), a saga's page, and its actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from streamlit.testing.v1 import AppTest

from tests.unit.dashboard import seed
from tests.unit.dashboard.conftest import page_text


def _seed_three(conn: psycopg.Connection[Any]) -> None:
    seed.saga(conn, "s-ok", status="SUCCEEDED", idle_s=5)
    seed.saga(conn, "s-manual", status="MANUAL_INTERVENTION", saga_type="member_merge", step="merge_commerce")
    seed.saga(conn, "s-stuck", idle_s=900, stuck=True, last_error="support timed out for taro@example.com")


def test_an_empty_store_says_what_will_appear(open_page: Callable[..., AppTest]) -> None:
    at = open_page("sagas")

    assert not at.exception
    assert "Sagas appear here once the collectors have read them" in page_text(at)


def test_stuck_then_failed_sagas_come_first_with_links(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed_three(audit_conn)

    at = open_page("sagas")

    table = at.dataframe[0].value
    assert list(table["saga"]) == ["s-stuck", "s-manual", "s-ok"]
    assert "taro@example.com" not in page_text(at)  # the error is shown masked
    links = [e.proto.label for e in at.get("page_link")]
    assert any("s-stuck" in label and "STUCK" in label for label in links)
    assert not any("s-ok" in label for label in links)


def test_filters_narrow_the_list_and_survive_a_rerun(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed_three(audit_conn)
    at = open_page("sagas")

    at.multiselect(key="w_types").select("member_merge").run()
    assert list(at.dataframe[0].value["saga"]) == ["s-manual"]
    at.run()  # what an auto-refresh does
    assert list(at.dataframe[0].value["saga"]) == ["s-manual"]

    at.multiselect(key="w_types").unselect("member_merge").run()
    at.number_input(key="w_idle_min").set_value(10).run()
    assert list(at.dataframe[0].value["saga"]) == ["s-stuck"]

    at.text_input(key="w_correlation_id").input("corr-s-ok").run()
    assert not at.dataframe  # idle >= 10 min and s-ok's correlation id: nothing
    assert "No saga matches" in page_text(at)


def test_a_sagas_page_shows_steps_errors_compensations_and_runbook_gap(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.saga(audit_conn, "s-m", status="MANUAL_INTERVENTION", saga_type="member_merge", step="merge_support")
    seed.step(audit_conn, "s-m", 0, "merge_aurora", "COMPENSATED")
    seed.step(
        audit_conn, "s-m", 1, "merge_support", "FAILED", error="409 from support: +81 90 1234 5678 in use"
    )
    seed.span(audit_conn, "t1", "a1", "POST /merge", correlation_id="corr-s-m")

    at = open_page("sagas", saga_id="s-m")

    assert not at.exception
    text = page_text(at)
    assert "member_merge saga s-m" in text
    assert "step merge_support: 409 from support" in text
    assert "+81 90 1234 5678" not in text
    assert "merge_aurora: COMPENSATED" in text
    assert "no runbook entry has been collected" in text
    (timeline,) = at.get("vega_lite_chart")
    assert "00 merge_aurora" in str(timeline.proto) and "01 merge_support" in str(timeline.proto)
    assert any("Open its trace (1 trace(s))" in e.proto.label for e in at.get("page_link"))


def test_an_unknown_saga_is_said_plainly(open_page: Callable[..., AppTest]) -> None:
    at = open_page("sagas", saga_id="nope")

    assert not at.exception
    assert "No saga nope in the audit store" in page_text(at)


def test_mark_resolved_needs_a_note_and_confirmation_then_runs_saga_resolve(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], aurora_here: str
) -> None:
    seed.saga(audit_conn, "s-r", status="MANUAL_INTERVENTION")
    audit_conn.execute(
        "INSERT INTO saga (id, saga_type, correlation_id, status, started_at, updated_at)"
        " VALUES ('s-r', 'member_merge', 'corr-s-r', 'MANUAL_INTERVENTION', now(), now())"
    )
    at = open_page("sagas", saga_id="s-r")
    assert at.button(key="action_resolve_s-r").disabled  # no note yet

    at.text_input(key="note_s-r").input("merged by hand, ticket OPS-7, called +81 90 1234 5678").run()
    at.button(key="action_resolve_s-r").click().run()
    assert audit_conn.execute("SELECT count(*) AS n FROM dashboard_actions").fetchone() == {"n": 0}
    at.button(key="action_confirm_resolve_s-r").click().run()

    row = audit_conn.execute("SELECT * FROM dashboard_actions").fetchone()
    assert row is not None
    assert (row["operator"], row["action"], row["target"], row["status"]) == (
        "test-operator",
        "saga resolve",
        "s-r",
        "succeeded",
    ), row["output"]
    note = "merged by hand, ticket OPS-7, called ***-****"  # the phone never leaves the page unmasked
    assert row["note"] == note
    assert row["command"] == ["sagawatch", "saga", "resolve", "s-r", "--note", note, "--by", "test-operator"]
    runbook = audit_conn.execute("SELECT status FROM saga_runbook WHERE saga_id = 's-r'").fetchone()
    assert runbook == {"status": "RESOLVED"}  # in Aurora, through the same command as the CLI
    assert "Mark resolved: done" in page_text(at)
    at.run()  # the next refresh lists it in the saga's history
    assert "test-operator: saga resolve succeeded — merged by hand" in page_text(at)


def test_compensate_asks_then_runs_saga_compensate_and_says_why_it_failed(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], aurora_here: str
) -> None:
    seed.saga(audit_conn, "s-x", idle_s=900, stuck=True)
    at = open_page("sagas", saga_id="s-x")

    at.button(key="action_compensate_s-x").click().run()
    assert "Undo saga s-x" in page_text(at)
    assert "sagawatch saga compensate s-x --yes" in page_text(at)
    at.button(key="action_confirm_compensate_s-x").click().run()

    row = audit_conn.execute(
        "SELECT action, target, command, status, output FROM dashboard_actions"
    ).fetchone()
    assert row is not None
    assert (row["action"], row["target"], row["status"]) == ("saga compensate", "s-x", "failed")
    assert row["command"] == ["sagawatch", "saga", "compensate", "s-x", "--yes"]
    assert "SaaS base URLs not configured" in row["output"]  # no stack: the CLI said what is missing
    assert "Compensate: failed (exit 2)" in page_text(at)


def test_a_saga_that_ended_well_offers_no_action(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.saga(audit_conn, "s-ok", status="SUCCEEDED")
    at = open_page("sagas", saga_id="s-ok")

    assert at.button(key="action_resume_s-ok").disabled
    assert at.button(key="action_compensate_s-ok").disabled
    at.text_input(key="note_s-ok").input("nothing to do").run()
    assert at.button(key="action_resolve_s-ok").disabled


def test_cancel_runs_nothing(open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]) -> None:
    seed.saga(audit_conn, "s-c", idle_s=900, stuck=True)
    at = open_page("sagas", saga_id="s-c")

    at.button(key="action_resume_s-c").click().run()
    assert "Continue saga s-c" in page_text(at)
    at.button(key="action_cancel_resume_s-c").click().run()

    assert audit_conn.execute("SELECT count(*) AS n FROM dashboard_actions").fetchone() == {"n": 0}
    assert "Continue saga s-c" not in page_text(at)
