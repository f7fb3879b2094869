"""The queues page's data: each queue now, depth and oldest age over time, and DLQ messages.

``queue_state`` holds the latest sample per queue (one row each), ``queue_samples`` the history
(partitioned by day, indexed by queue and time), ``dlq_messages`` what the collectors peeked in
dead-letter queues with bodies already masked (they are masked again on display).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from pydantic import BaseModel

from dashboard.db import fetch_all
from dashboard.masking import mask_text

Conn = psycopg.Connection[dict[str, Any]]
HISTORY_WINDOW = timedelta(hours=1)
HISTORY_ROWS = 20_000
PEEK_ROWS = 50


class QueueNow(BaseModel):
    queue_name: str
    sampled_at: datetime
    visible: int
    in_flight: int
    delayed: int
    oldest_age_s: float | None
    dlq_name: str | None
    max_receive_count: int | None
    is_dlq: bool

    @property
    def depth(self) -> int:
        return self.visible + self.in_flight + self.delayed


class DlqMessageRow(BaseModel):
    message_id: str
    correlation_id: str | None
    sent_at: datetime | None
    receive_count: int | None
    body: str
    attributes: dict[str, Any]
    last_seen_at: datetime


def queues_now(conn: Conn) -> list[QueueNow]:
    """Every queue's latest sample: DLQs first (deepest first), then the rest by name."""
    rows = fetch_all(
        conn,
        "SELECT queue_name, sampled_at, visible, in_flight, delayed, oldest_age_s, dlq_name,"
        " max_receive_count, is_dlq FROM queue_state"
        " ORDER BY is_dlq DESC, visible + in_flight + delayed DESC, queue_name",
    )
    return [QueueNow.model_validate(r) for r in rows]


def queue_history(conn: Conn, queues: list[str], window: timedelta = HISTORY_WINDOW) -> list[dict[str, Any]]:
    """(time, queue, depth, oldest age) samples of ``queues`` within ``window``, oldest first."""
    if not queues:
        return []
    return fetch_all(
        conn,
        "SELECT sampled_at, queue_name, visible + in_flight + delayed AS depth, oldest_age_s"
        " FROM queue_samples WHERE queue_name = ANY(%s) AND sampled_at >= now() - %s"
        " ORDER BY sampled_at LIMIT %s",
        (queues, window, HISTORY_ROWS),
    )


def dlq_messages(conn: Conn, queue_name: str, limit: int = PEEK_ROWS) -> list[DlqMessageRow]:
    """The messages last seen in ``queue_name``, newest first, bodies masked."""
    rows = fetch_all(
        conn,
        "SELECT message_id, correlation_id, sent_at, receive_count, body, attributes, last_seen_at"
        " FROM dlq_messages WHERE queue_name = %s ORDER BY last_seen_at DESC, sent_at DESC LIMIT %s",
        (queue_name, limit),
    )
    return [
        DlqMessageRow.model_validate(
            {
                **r,
                "body": mask_text(r["body"]),
                "attributes": {k: mask_text(str(v)) for k, v in (r["attributes"] or {}).items()},
            }
        )
        for r in rows
    ]


def source_queues(conn: Conn, dlq_name: str) -> list[str]:
    """The queues whose redrive policy sends to ``dlq_name``: where a redrive moves messages back."""
    rows = fetch_all(
        conn, "SELECT queue_name FROM queue_state WHERE dlq_name = %s ORDER BY queue_name", (dlq_name,)
    )
    return [r["queue_name"] for r in rows]
