"""Canary page: versions side by side, the verdict said plainly, promote/rollback asked and audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.queries.canary import overview_verdict
from tests.unit.dashboard import seed
from tests.unit.dashboard.conftest import page_text


def test_an_empty_store_says_what_will_appear(open_page: Callable[..., AppTest]) -> None:
    at = open_page("canary")

    assert not at.exception
    assert "No canary is running" in page_text(at)


def test_a_defective_canary_fails_with_both_versions_side_by_side(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.invocations(audit_conn, "1", 60)
    seed.invocations(audit_conn, "2", 60, failing_every=2)

    at = open_page("canary")

    assert not at.exception
    assert at.error and "FAIL" in at.error[0].value and "v2 against v1" in at.error[0].value
    sides = at.dataframe[1].value
    assert list(sides["version"]) == ["1", "2"]
    assert list(sides["errors"]) == [0, 30]
    assert list(sides["error rate"]) == ["0.0%", "50.0%"]
    metrics = at.dataframe[0].value
    assert metrics.set_index("metric").loc["error_rate", "result"] == "High"
    assert len(at.get("vega_lite_chart")) == 5
    worst = overview_verdict(audit_conn)
    assert worst is not None and (worst.function, worst.canary) == ("fx-canary", "2")
    assert worst.result.verdict.value == "FAIL"


def test_a_handler_that_raised_counts_as_failed_though_its_report_says_nothing(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    """Lambda's REPORT carries no status when the handler raised: the runtime's ``[ERROR]`` line
    between START and REPORT is what fails the call (as for ``sagawatch canary judge``), while an
    error the handler logged and handled is no failure."""
    seed.logged_invocations(audit_conn, "1", 40)
    seed.logged_invocations(audit_conn, "2", 40, raising_every=4)

    at = open_page("canary")

    assert not at.exception
    assert at.error and "FAIL" in at.error[0].value
    sides = at.dataframe[1].value
    assert list(sides["errors"]) == [0, 10]


def test_a_healthy_canary_passes(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.invocations(audit_conn, "1", 60)
    seed.invocations(audit_conn, "2", 60)

    at = open_page("canary")

    assert not at.exception
    assert at.success and "PASS" in at.success[0].value


def test_a_link_naming_a_function_opens_its_canary(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    """``/canary?function=NAME`` (a link in an alarm's message) picks that canary, not the first one."""
    for function in ("fx-a-healthy", "fx-b-defective"):
        seed.invocations(audit_conn, "1", 30, function=function)
        seed.invocations(
            audit_conn, "2", 30, failing_every=2 if "defective" in function else 0, function=function
        )

    at = open_page("canary", function="fx-b-defective")

    assert not at.exception
    assert at.selectbox[0].value == "fx-b-defective"
    assert at.error and "FAIL" in at.error[0].value
    assert "Roll back v2" in [b.label for b in at.button]


def test_too_few_invocations_say_not_enough_data(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    seed.invocations(audit_conn, "1", 40)
    seed.invocations(audit_conn, "2", 3, failing_every=1)

    at = open_page("canary")

    assert not at.exception
    assert at.info and "not enough data" in at.info[0].value
    assert "FAIL" not in page_text(at)


def test_rollback_asks_first_and_is_audited(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed.invocations(audit_conn, "1", 30)
    seed.invocations(audit_conn, "2", 30, failing_every=2)
    monkeypatch.setenv("SAGAWATCH_STACK_FILE", "/nonexistent/stack.json")  # no Lambda API: the run fails
    at = open_page("canary")

    next(b for b in at.button if b.label == "Roll back v2").click().run()
    assert audit_conn.execute("SELECT count(*) AS n FROM dashboard_actions").fetchone() == {"n": 0}
    assert "weight 0" in page_text(at)
    next(b for b in at.button if b.label == "Confirm").click().run()

    rows = audit_conn.execute(
        "SELECT operator, action, target, command, status FROM dashboard_actions"
    ).fetchall()
    assert [(r["operator"], r["action"], r["target"]) for r in rows] == [
        ("test-operator", "canary rollback", "fx-canary")
    ]
    assert rows[0]["command"] == ["sagawatch", "canary", "rollback", "fx-canary"]
    assert rows[0]["status"] in {"succeeded", "failed"}
