"""Trace inspector: search by each kind of id, a span waterfall with each span's log lines, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.unit.dashboard import seed
from tests.unit.dashboard.conftest import page_text


def _seed(conn: psycopg.Connection[Any]) -> None:
    seed.saga(conn, "s-9", correlation_id="corr-9", business_key="C-0009")
    seed.span(conn, "trace9", "root", "POST /customers", duration_ms=80, correlation_id="corr-9")
    seed.span(
        conn,
        "trace9",
        "child",
        "support.create_user",
        parent="root",
        offset_ms=5,
        duration_ms=40,
        status="ERROR",
        correlation_id="corr-9",
        service="sw-worker",
    )
    seed.log_line(
        conn, 1, "creating support user", correlation_id="corr-9", trace_id="trace9", span_id="child"
    )
    seed.log_line(
        conn,
        2,
        "support said 500 for jiro@example.com",
        correlation_id="corr-9",
        trace_id="trace9",
        span_id="child",
        level="ERROR",
        error_code="SAAS_5XX",
    )
    seed.log_line(conn, 3, "accepted", correlation_id="corr-9", trace_id="trace9", span_id="root")


def test_without_a_search_it_says_what_will_appear(open_page: Callable[..., AppTest]) -> None:
    at = open_page("trace")

    assert not at.exception
    assert "waterfall of its spans" in page_text(at)


def test_a_correlation_id_link_shows_the_waterfall_with_logs_per_span(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed(audit_conn)

    at = open_page("trace", correlation_id="corr-9")

    assert not at.exception
    text = page_text(at)
    assert "Transaction corr-9" in text
    assert "2 spans" in text and "1 with errors" in text
    (waterfall,) = at.get("vega_lite_chart")
    drawn = str(waterfall.proto)  # the chart's data; the child is indented under the root ("· ")
    assert "000 POST /customers" in drawn and "support.create_user" in drawn and "001 " in drawn
    span_logs = [c.value for c in at.code]
    assert any(
        "ERROR [SAAS_5XX] support said 500" in block and "creating support user" in block
        for block in span_logs
    )
    assert any("accepted" in block and "support said" not in block for block in span_logs)  # root's own lines
    assert "jiro@example.com" not in text
    assert ":red[:material/error:] `support.create_user`" in text
    assert any("create_customer saga s-9" in e.proto.label for e in at.get("page_link"))


@pytest.mark.parametrize(
    ("kind", "value"), [("trace_id", "TRACE9"), ("saga_id", "s-9"), ("cust_no", "C-0009")]
)
def test_every_kind_of_id_finds_the_transaction(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any], kind: str, value: str
) -> None:
    _seed(audit_conn)
    at = open_page("trace")

    at.selectbox(key="w_trace_kind").set_value(kind).run()
    at.text_input(key="w_trace_value").input(value).run()

    assert "Transaction corr-9" in page_text(at)


def test_an_unknown_id_is_said_plainly(open_page: Callable[..., AppTest]) -> None:
    at = open_page("trace", saga_id="nope")

    assert not at.exception
    assert "No transaction found for saga id nope" in page_text(at)
