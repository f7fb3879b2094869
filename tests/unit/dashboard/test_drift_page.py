"""Drift page: latest run per system, findings by kind with both values masked, trend, repair actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.unit.dashboard import seed
from tests.unit.dashboard.conftest import page_text


def _run(conn: psycopg.Connection[Any], run_id: str, minutes_ago: int, counts: dict[str, Any]) -> None:
    started = seed.now() - timedelta(minutes=minutes_ago)
    conn.execute(  # systems is a text[]: seed.insert would send a list as JSON
        "INSERT INTO reconcile_run (run_id, mode, systems, started_at, finished_at, duration_s, status,"
        " counts)"
        " VALUES (%s, 'incremental', %s, %s, %s, 3.0, %s, %s)",
        (
            run_id,
            list(counts),
            started,
            started + timedelta(seconds=3),
            "drift" if any(counts.values()) else "clean",
            json.dumps(counts),
        ),
    )


def _finding(conn: psycopg.Connection[Any], fp: str, kind: str, system: str, key: str, **values: Any) -> None:
    seed.insert(
        conn,
        "reconcile_finding",
        fingerprint=fp,
        kind=kind,
        system=system,
        key=key,
        first_seen=seed.now() - timedelta(minutes=30),
        last_seen=seed.now() - timedelta(minutes=1),
        first_run="r-1",
        last_run="r-2",
        **values,
    )


def _seed(conn: psycopg.Connection[Any]) -> None:
    _run(conn, "r-1", 30, {"support": {"field_mismatch": 3}, "commerce": {}})
    _run(conn, "r-2", 1, {"support": {"field_mismatch": 1, "missing_in_saas": 1}})
    _finding(
        conn,
        "f-1",
        "field_mismatch",
        "support",
        "C0001",
        field="email",
        aurora_value="taro@example.jp",
        saas_value="t***@example.jp",
    )
    _finding(conn, "f-2", "missing_in_saas", "support", "C0002", detail="call 090-1234-5678")


def test_an_empty_store_says_what_will_appear(open_page: Callable[..., AppTest]) -> None:
    at = open_page("drift")

    assert not at.exception
    assert "No reconciliation has run yet" in page_text(at)


def test_latest_run_per_system_findings_side_by_side_masked_and_trend(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed(audit_conn)

    at = open_page("drift")

    assert not at.exception
    runs = at.dataframe[0].value
    assert dict(zip(runs["system"], runs["run"], strict=True)) == {"commerce": "r-1", "support": "r-2"}
    assert dict(zip(runs["system"], runs["findings"], strict=True)) == {"commerce": 0, "support": 2}
    by_kind = at.dataframe[1].value
    assert list(by_kind["system"]) == ["support"]
    assert int(by_kind["field_mismatch"].iloc[0]) == 1 and int(by_kind["missing_in_saas"].iloc[0]) == 1
    findings = at.dataframe[2].value
    mismatch = findings[findings["key"] == "C0001"].iloc[0]
    assert mismatch["field"] == "email"
    assert mismatch["Aurora value"] == "***@***" and mismatch["SaaS value"] == "t***@example.jp"
    text = page_text(at)
    assert "taro@example.jp" not in text and "090-1234-5678" not in text
    assert len(at.get("vega_lite_chart")) == 1  # two runs: a trend


def test_filters_narrow_the_findings_and_survive_a_refresh(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed(audit_conn)
    at = open_page("drift")

    at.selectbox(key="w_drift_kind").select("missing_in_saas").run()
    at.run()

    assert not at.exception
    assert list(at.dataframe[2].value["key"]) == ["C0002"]


def test_repair_dry_run_asks_first_and_is_audited(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(audit_conn)
    # The reconciler cannot reach a SaaS here: the action fails, and the failure is what gets recorded.
    monkeypatch.setenv("SAGAWATCH_STACK_FILE", "/nonexistent/stack.json")
    at = open_page("drift")
    at.selectbox(key="drift_repair_system").select("support").run()
    button = next(b for b in at.button if b.label.startswith("Dry run"))

    button.click().run()
    assert audit_conn.execute("SELECT count(*) AS n FROM dashboard_actions").fetchone() == {"n": 0}
    assert "support" in page_text(at)  # the confirmation names what will happen
    next(b for b in at.button if b.label == "Confirm").click().run()

    rows = audit_conn.execute(
        "SELECT operator, action, target, command, status FROM dashboard_actions"
    ).fetchall()
    assert len(rows) == 1
    assert rows[0]["operator"] == "test-operator" and rows[0]["target"] == "support"
    assert rows[0]["command"] == ["sagawatch", "reconcile", "--system", "support"]
    assert rows[0]["status"] in {"succeeded", "failed"}
    assert json.dumps(rows[0])  # a plain row, nothing half-written
