"""The overview's numbers: one small indexed query per health tile, plus a trend per tile.

Each tile reads only its own table and says "not set up" (``None``) when that table is missing, so a
store with the collectors' tables but not the reconciler's or the alarms' still shows what it has.
Trends cover the last ``TREND_WINDOW`` in ``TREND_BUCKET`` buckets.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from pydantic import BaseModel

from alarms.canary.judge import Verdict
from dashboard.db import fetch_all, table_exists
from dashboard.queries.canary import overview_verdict, verdict_text
from dashboard.queries.sagas import resolved_sql

TREND_WINDOW = timedelta(hours=1)
TREND_BUCKET_S = 60
#: Not terminal and not moving: these are what an operator looks at first.
PROBLEM_STATUSES = ("FAILED", "MANUAL_INTERVENTION")

Conn = psycopg.Connection[dict[str, Any]]

#: An invocation the platform reported as failed (REPORT ``Status: error|timeout``, or an error type).
_FAILED = "(error_type IS NOT NULL OR coalesce(status, '') NOT IN ('', 'success'))"


def _bucket(column: str) -> str:
    """SQL for ``column`` floored to the trend's bucket (two ``%s``: the bucket seconds, twice)."""
    return f"to_timestamp(floor(extract(epoch FROM {column}) / %s) * %s)"


class TrendPoint(BaseModel):
    at: datetime
    value: float


class Tile(BaseModel):
    """One health tile: a headline value (None = its table is not there yet), a note, a trend.

    ``shown`` replaces the number when the headline is a word (the canary's verdict).
    """

    key: str
    label: str
    value: float | None
    shown: str | None = None
    note: str = ""
    bad: bool = False
    trend: list[TrendPoint] = []


def _scalar(conn: Conn, query: str, params: tuple[Any, ...] = ()) -> Any:
    rows = fetch_all(conn, query, params)
    return next(iter(rows[0].values())) if rows else None


def _trend(conn: Conn, query: str, params: tuple[Any, ...]) -> list[TrendPoint]:
    return [TrendPoint(at=r["at"], value=float(r["value"] or 0)) for r in fetch_all(conn, query, params)]


def stuck_sagas_tile(conn: Conn) -> Tile:
    if not table_exists(conn, "sagas"):
        return Tile(key="sagas", label="Stuck sagas", value=None, note="no saga has been collected yet")
    row = fetch_all(
        conn,
        "SELECT count(*) FILTER (WHERE stuck) AS stuck,"
        f" count(*) FILTER (WHERE status = ANY(%s) AND NOT {resolved_sql(conn)}) AS problems FROM sagas",
        (list(PROBLEM_STATUSES),),
    )[0]
    trend = _trend(
        conn,
        f"SELECT {_bucket('updated_at')} AS at, count(*) AS value"
        " FROM sagas WHERE stuck AND updated_at >= now() - %s GROUP BY 1 ORDER BY 1",
        (TREND_BUCKET_S, TREND_BUCKET_S, TREND_WINDOW),
    )
    stuck, problems = int(row["stuck"]), int(row["problems"])
    return Tile(
        key="sagas",
        label="Stuck sagas",
        value=stuck,
        note=f"{problems} failed or needing manual intervention",
        bad=stuck > 0 or problems > 0,
        trend=trend,
    )


def dlq_tile(conn: Conn) -> Tile:
    if not table_exists(conn, "queue_state"):
        return Tile(key="queues", label="DLQ depth", value=None, note="no queue has been sampled yet")
    row = fetch_all(
        conn,
        "SELECT coalesce(sum(visible + in_flight + delayed), 0) AS depth, max(oldest_age_s) AS oldest,"
        " count(*) AS queues FROM queue_state WHERE is_dlq",
    )[0]
    trend = _trend(
        conn,
        f"SELECT {_bucket('sampled_at')} AS at,"
        " max(visible) AS value FROM queue_samples WHERE is_dlq AND sampled_at >= now() - %s"
        " GROUP BY 1 ORDER BY 1",
        (TREND_BUCKET_S, TREND_BUCKET_S, TREND_WINDOW),
    )
    depth = int(row["depth"])
    oldest = row["oldest"]
    note = f"oldest message {format_age(oldest)}" if depth and oldest is not None else "across all DLQs"
    return Tile(key="queues", label="DLQ depth", value=depth, note=note, bad=depth > 0, trend=trend)


def alarms_tile(conn: Conn) -> Tile:
    if not table_exists(conn, "alarm_states"):
        return Tile(key="alarms", label="Alarms in ALARM", value=None, note="no alarm has been evaluated yet")
    count = int(_scalar(conn, "SELECT count(*) FROM alarm_states WHERE state = 'ALARM'") or 0)
    total = int(_scalar(conn, "SELECT count(*) FROM alarm_states") or 0)
    trend = _trend(
        conn,
        f"SELECT {_bucket('changed_at')} AS at, count(*) AS value FROM alarm_transitions"
        " WHERE new_state = 'ALARM' AND changed_at >= now() - %s GROUP BY 1 ORDER BY 1",
        (TREND_BUCKET_S, TREND_BUCKET_S, TREND_WINDOW),
    )
    return Tile(
        key="alarms", label="Alarms in ALARM", value=count, note=f"of {total}", bad=count > 0, trend=trend
    )


def drift_tile(conn: Conn) -> Tile:
    if not table_exists(conn, "reconcile_finding"):
        return Tile(
            key="drift", label="Open drift findings", value=None, note="no reconciliation has run yet"
        )
    count = int(_scalar(conn, "SELECT count(*) FROM reconcile_finding WHERE resolved_at IS NULL") or 0)
    last = _scalar(conn, "SELECT max(started_at) FROM reconcile_run")
    trend = _trend(
        conn,
        "SELECT started_at AS at, (SELECT coalesce(sum(value::numeric), 0) FROM jsonb_each_text(counts)"
        " WHERE value ~ '^[0-9]+$') AS value FROM reconcile_run ORDER BY started_at DESC LIMIT 30",
        (),
    )
    note = f"last run {last:%Y-%m-%d %H:%M} UTC" if last else "no run yet"
    return Tile(
        key="drift",
        label="Open drift findings",
        value=count,
        note=note,
        bad=count > 0,
        trend=sorted(trend, key=lambda p: p.at),
    )


def error_rate_tile(conn: Conn) -> Tile:
    """Share of Lambda invocations in the last 15 minutes whose platform report says they failed."""
    if not table_exists(conn, "invocations"):
        return Tile(key="trace", label="Error rate", value=None, note="no invocation collected yet")
    row = fetch_all(
        conn,
        f"SELECT count(*) AS total, count(*) FILTER (WHERE {_FAILED}) AS failed"
        " FROM invocations WHERE ts >= now() - interval '15 minutes'",
    )[0]
    trend = _trend(
        conn,
        f"SELECT {_bucket('ts')} AS at, 100.0 * count(*) FILTER (WHERE {_FAILED}) / count(*) AS value"
        " FROM invocations WHERE ts >= now() - %s GROUP BY 1 ORDER BY 1",
        (TREND_BUCKET_S, TREND_BUCKET_S, TREND_WINDOW),
    )
    total, failed = int(row["total"]), int(row["failed"])
    rate = 100.0 * failed / total if total else 0.0
    return Tile(
        key="trace",
        label="Error rate (15 min)",
        value=round(rate, 1),
        note=f"{failed} of {total} invocations failed",
        bad=failed > 0,
        trend=trend,
    )


def canary_tile(conn: Conn) -> Tile:
    """The worst canary verdict said in words (FAIL, MARGINAL, PASS, not enough data), or that none runs."""
    if not table_exists(conn, "invocations"):
        return Tile(key="canary", label="Canary", value=None, note="no invocation collected yet")
    worst = overview_verdict(conn)
    if worst is None:
        return Tile(
            key="canary",
            label="Canary",
            value=None,
            shown="none running",
            note="no function had two versions invoked in the last hour",
        )
    said = verdict_text(worst)
    word = said.split(" (")[0]
    return Tile(
        key="canary",
        label="Canary",
        value=None,
        shown=word,
        note=f"{worst.function} v{worst.canary} against v{worst.baseline}{said[len(word) :]}"
        + (": let more traffic reach the canary" if worst.result.score is None else ""),
        bad=worst.result.verdict in (Verdict.FAIL, Verdict.MARGINAL),
    )


def format_age(seconds: float | None) -> str:
    """``93`` -> ``1 min 33 s``; an operator reads ages, not second counts."""
    if seconds is None:
        return "-"
    total = int(seconds)
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60} s"
    if total < 86400:
        return f"{total // 3600} h {total % 3600 // 60} min"
    return f"{total // 86400} d {total % 86400 // 3600} h"


def overview_tiles(conn: Conn) -> list[Tile]:
    """Every tile, in the order an operator on call reads them."""
    return [
        stuck_sagas_tile(conn),
        dlq_tile(conn),
        alarms_tile(conn),
        drift_tile(conn),
        canary_tile(conn),
        error_rate_tile(conn),
    ]
