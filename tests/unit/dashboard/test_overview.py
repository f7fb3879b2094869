"""Overview page: health tiles from a real audit store, empty and seeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from streamlit.testing.v1 import AppTest

from tests.unit.dashboard import seed
from tests.unit.dashboard.conftest import page_text


def _metric(at: AppTest, label_start: str) -> str:
    return next(str(m.value) for m in at.metric if m.label.startswith(label_start))


def test_an_empty_store_shows_zeroes_and_what_will_appear(open_page: Callable[..., AppTest]) -> None:
    at = open_page("overview")

    assert not at.exception
    assert _metric(at, "Stuck sagas") == "0"
    assert _metric(at, "DLQ depth") == "0"
    assert "no run yet" in page_text(at)


def test_a_stuck_saga_and_a_full_dlq_show_as_needing_attention(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.saga(audit_conn, "s-stuck", idle_s=900, stuck=True)
    seed.saga(audit_conn, "s-manual", status="MANUAL_INTERVENTION")
    seed.saga(audit_conn, "s-fine", status="SUCCEEDED")
    seed.queue(audit_conn, "sw-async-jobs-dlq", visible=3, is_dlq=True, oldest_age_s=125)
    seed.queue(audit_conn, "sw-async-jobs", visible=7, dlq_name="sw-async-jobs-dlq")
    audit_conn.execute(
        "INSERT INTO alarm_states (alarm_name, state, reason, changed_at) VALUES"
        " ('sw-errors', 'ALARM', 'threshold crossed', now()), ('sw-dlq', 'OK', 'fine', now())"
    )

    at = open_page("overview")

    assert not at.exception
    assert _metric(at, "Stuck sagas") == "1"
    assert _metric(at, "DLQ depth") == "3"  # the DLQ only, not its source queue
    assert _metric(at, "Alarms in ALARM") == "1"
    text = page_text(at)
    assert "1 failed or needing manual intervention" in text
    assert "oldest message 2 min 5 s" in text
    assert "needs attention" in text


def test_the_canary_tile_says_fail_for_a_defective_canary(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.invocations(audit_conn, "1", 60)
    seed.invocations(audit_conn, "2", 60, failing_every=2)

    at = open_page("overview")

    assert not at.exception
    assert _metric(at, "Canary") == "FAIL"
    text = page_text(at)
    assert ":red[needs attention] · fx-canary v2 against v1 (score 0)" in text
    assert 'page: "canary"' in text or "/canary" in text


def test_the_canary_tile_says_not_enough_data_plainly(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.invocations(audit_conn, "1", 40)
    seed.invocations(audit_conn, "2", 3, failing_every=1)

    at = open_page("overview")

    assert _metric(at, "Canary") == "not enough data"
    assert "let more traffic reach the canary" in page_text(at)


def test_without_a_canary_the_tile_says_none_is_running(open_page: Callable[..., AppTest]) -> None:
    at = open_page("overview")

    assert _metric(at, "Canary") == "none running"
    assert "no function had two versions invoked in the last hour" in page_text(at)


def test_each_tile_links_to_its_page(open_page: Callable[..., AppTest]) -> None:
    at = open_page("overview")

    links = page_text(at)
    for target in ("sagas", "queues", "trace"):
        assert f'page: "{target}"' in links or f"/{target}" in links, target


def test_an_unreachable_store_is_explained_not_raised(monkeypatch: Any) -> None:
    from tests.unit.dashboard.conftest import app_on

    monkeypatch.setenv("SAGAWATCH_AUDIT_URL", "postgresql://nobody@127.0.0.1:1/audit")

    at = app_on("overview")

    assert not at.exception
    assert "cannot reach the audit store" in at.error[0].value
