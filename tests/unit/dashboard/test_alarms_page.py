"""Alarms page: states worst first, an alarm's transitions with masked reasons, the metric behind it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
from streamlit.testing.v1 import AppTest

from dashboard.queries.alarms import metric_series
from tests.unit.dashboard import seed
from tests.unit.dashboard.conftest import page_text


def _alarm(conn: psycopg.Connection[Any], name: str, state: str, reason: str, metric: str) -> None:
    seed.insert(
        conn,
        "alarm_states",
        alarm_name=name,
        description=f"{name} watches {metric}",
        state=state,
        reason=reason,
        changed_at=seed.now() - timedelta(minutes=2),
        namespace="sagawatch/app",
        metric_name=metric,
    )


def _seed(conn: psycopg.Connection[Any]) -> None:
    _alarm(conn, "sw-api-latency", "OK", "Threshold not crossed", "Latency")
    _alarm(conn, "sw-dlq-depth", "ALARM", "1 datapoint [4.0] > 0 (owner hanako@example.jp)", "DlqDepth")
    seed.insert(
        conn,
        "alarm_transitions",
        alarm_name="sw-dlq-depth",
        old_state="INSUFFICIENT_DATA",
        new_state="OK",
        reason="first evaluation",
        changed_at=seed.now() - timedelta(minutes=20),
    )
    seed.insert(
        conn,
        "alarm_transitions",
        alarm_name="sw-dlq-depth",
        old_state="OK",
        new_state="ALARM",
        reason="1 datapoint [4.0] > 0 (owner hanako@example.jp)",
        changed_at=seed.now() - timedelta(minutes=2),
    )
    for minutes, value in ((10, 0.0), (5, 1.0), (1, 4.0)):
        for queue in ("a", "b"):  # two dimension sets: the chart shows their sum per period
            seed.insert(
                conn,
                "metric_points",
                namespace="sagawatch/app",
                name="DlqDepth",
                dimensions={"queue": queue},
                ts=seed.now().replace(second=0, microsecond=0) - timedelta(minutes=minutes),
                period_s=60,
                sum=value,
                sample_count=1.0,
                minimum=value,
                maximum=value,
            )


def test_an_empty_store_says_what_will_appear(open_page: Callable[..., AppTest]) -> None:
    at = open_page("alarms")

    assert not at.exception
    assert "No alarm has been evaluated yet" in page_text(at)


def test_alarms_worst_first_with_history_and_metric(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed(audit_conn)

    at = open_page("alarms")

    assert not at.exception
    states = at.dataframe[0].value
    assert list(states["alarm"]) == ["sw-dlq-depth", "sw-api-latency"]
    assert "ALARM" in states["state"].iloc[0] and "OK" in states["state"].iloc[1]
    assert at.metric[0].value == "1"
    history = at.dataframe[1].value
    assert [s.split()[-1] for s in history["to"]] == ["ALARM", "OK"]  # newest first
    assert list(history["from"]) == ["OK", "INSUFFICIENT_DATA"]
    text = page_text(at)
    assert "1 datapoint [4.0] > 0" in text
    assert "hanako@example.jp" not in text
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    assert "sagawatch/app / DlqDepth" in charts[0].proto.spec
    points = metric_series(audit_conn, "sagawatch/app", "DlqDepth")
    assert [p.sum for p in points] == [0.0, 2.0, 8.0]  # both queues' periods summed, oldest first
    assert [p.maximum for p in points] == [0.0, 1.0, 4.0]


def test_choosing_another_alarm_shows_its_history_and_is_kept(
    open_page: Callable[..., AppTest], audit_conn: psycopg.Connection[Any]
) -> None:
    _seed(audit_conn)
    at = open_page("alarms")

    at.selectbox(key="w_alarm").select("sw-api-latency").run()

    assert not at.exception
    text = page_text(at)
    assert "History of sw-api-latency" in text
    assert "No transition recorded yet" in text
    at.run()  # a refresh keeps the choice
    assert "History of sw-api-latency" in page_text(at)
