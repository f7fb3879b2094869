"""The alarms page's data: each alarm's state now, its transitions with reasons, the metric behind it.

``alarm_states`` holds one row per alarm (the local evaluator's latest judgement, with the namespace
and metric it watches), ``alarm_transitions`` every state change with its reason, and
``metric_points`` the collected CloudWatch datapoints (partitioned by day) behind them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from pydantic import BaseModel

from dashboard.db import fetch_all, table_exists
from dashboard.masking import mask_text

Conn = psycopg.Connection[dict[str, Any]]
HISTORY_ROWS = 200
METRIC_WINDOW = timedelta(hours=3)
METRIC_ROWS = 5_000
#: Worst first: an operator on call looks at what is in ALARM before what lacks data.
STATE_ORDER = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}


class AlarmNow(BaseModel):
    alarm_name: str
    description: str | None
    state: str
    reason: str
    changed_at: datetime
    namespace: str | None
    metric_name: str | None


class AlarmTransition(BaseModel):
    alarm_name: str
    old_state: str | None
    new_state: str
    reason: str
    changed_at: datetime


class MetricPoint(BaseModel):
    """One period of the metric, summed over its dimension sets (what the alarm's statistic sees)."""

    ts: datetime
    sum: float | None
    sample_count: float | None
    average: float | None
    maximum: float | None


def alarms_set_up(conn: Conn) -> bool:
    return table_exists(conn, "alarm_states")


def alarms_now(conn: Conn) -> list[AlarmNow]:
    """Every alarm's state, ALARM first, then INSUFFICIENT_DATA, then OK; by name within a state."""
    rows = fetch_all(
        conn,
        "SELECT alarm_name, description, state, reason, changed_at, namespace, metric_name"
        " FROM alarm_states ORDER BY CASE state WHEN 'ALARM' THEN 0 WHEN 'INSUFFICIENT_DATA' THEN 1"
        " ELSE 2 END, alarm_name",
    )
    return [AlarmNow.model_validate({**r, "reason": mask_text(r["reason"])}) for r in rows]


def transitions(conn: Conn, alarm_name: str, limit: int = HISTORY_ROWS) -> list[AlarmTransition]:
    """The alarm's state changes, newest first, reasons masked."""
    rows = fetch_all(
        conn,
        "SELECT alarm_name, old_state, new_state, reason, changed_at FROM alarm_transitions"
        " WHERE alarm_name = %s ORDER BY changed_at DESC, id DESC LIMIT %s",
        (alarm_name, limit),
    )
    return [AlarmTransition.model_validate({**r, "reason": mask_text(r["reason"])}) for r in rows]


def metric_series(
    conn: Conn, namespace: str, metric_name: str, window: timedelta = METRIC_WINDOW
) -> list[MetricPoint]:
    """The alarm's metric over ``window`` (oldest first), periods summed across dimension sets."""
    rows = fetch_all(
        conn,
        "SELECT ts, sum(sum) AS sum, sum(sample_count) AS sample_count,"
        " sum(sum) / NULLIF(sum(sample_count), 0) AS average, max(maximum) AS maximum"
        " FROM metric_points WHERE namespace = %s AND name = %s AND ts >= now() - %s"
        " GROUP BY ts ORDER BY ts LIMIT %s",
        (namespace, metric_name, window, METRIC_ROWS),
    )
    return [MetricPoint.model_validate(r) for r in rows]
