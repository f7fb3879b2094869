"""Queues and DLQs page: queues now and over time, a masked DLQ peek, redrive through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.unit.dashboard import seed
from tests.unit.dashboard.conftest import page_text


def _seed(conn: psycopg.Connection[Any]) -> None:
    seed.queue(conn, "sw-async-jobs-dlq", visible=2, is_dlq=True, oldest_age_s=300)
    seed.queue(conn, "sw-async-jobs", visible=4, dlq_name="sw-async-jobs-dlq")
    body = json.dumps({"job_id": "j-1", "payload": {"email": "hanako@example.jp", "phone": "090-1234-5678"}})
    seed.dlq_message(conn, "sw-async-jobs-dlq", "m-1", body=body, correlation_id="corr-j1")
    seed.dlq_message(conn, "sw-async-jobs-dlq", "m-2", body="{}", correlation_id=None, receive_count=5)


def test_an_empty_store_says_what_will_appear(open_page: Callable[..., AppTest]) -> None:
    at = open_page("queues")

    assert not at.exception
    assert "No queue has been sampled yet" in page_text(at)


def test_queues_dlq_peek_is_masked_and_links_to_the_trace(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed(audit_conn)

    at = open_page("queues")

    assert not at.exception
    queues = at.dataframe[0].value
    assert list(queues["queue"]) == ["sw-async-jobs-dlq", "sw-async-jobs"]
    assert list(queues["depth"]) == [2, 4]
    assert list(queues["oldest"]) == ["5 min 0 s", "-"]
    assert len(at.get("vega_lite_chart")) == 2  # depth and oldest age over time
    peek = at.dataframe[1].value
    assert set(peek["message"]) == {"m-1", "m-2"}
    text = page_text(at)
    assert "hanako@example.jp" not in text and "090-1234-5678" not in text
    assert "j-1" in text
    links = [e.proto for e in at.get("page_link")]
    assert [link.query_string for link in links if "corr-j1" in link.label] == ["correlation_id=corr-j1"]


@pytest.mark.timeout(120)
def test_redrive_asks_then_runs_the_cli_and_audits_it(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], tmp_path: Any, monkeypatch: Any
) -> None:
    _seed(audit_conn)
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path))  # no stack runs here: the CLI says so and fails
    at = open_page("queues")

    at.number_input(key="redrive_count_sw-async-jobs-dlq").set_value(1).run()
    at.button(key="action_redrive_sw-async-jobs-dlq").click().run()
    assert "Move up to 1 message(s) from sw-async-jobs-dlq back to sw-async-jobs" in page_text(at)
    at.button(key="action_confirm_redrive_sw-async-jobs-dlq").click().run()

    row = audit_conn.execute("SELECT * FROM dashboard_actions").fetchone()
    assert row is not None
    assert row["command"] == ["sagawatch", "jobs", "redrive", "--queue", "sw-async-jobs", "--max", "1"]
    assert (row["operator"], row["target"], row["status"]) == ("test-operator", "sw-async-jobs-dlq", "failed")
    assert row["exit_code"] != 0 and row["output"]
    assert row["finished_at"] is not None
    shown = page_text(at)
    assert "Redrive: failed (exit" in shown  # said on the page, with the CLI's output beneath
    assert "Move up to 1 message(s)" not in shown  # the confirmation is gone
