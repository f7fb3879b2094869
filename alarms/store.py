"""The alarms' part of the audit store: transitions and current states, in PostgreSQL.

Tables come from ``alarms/schema`` (``apply_migrations(url, "alarms.schema")``). One transition is
written with the current state in one transaction, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alarms.transition import Transition

#: Rows returned by one history read.
MAX_HISTORY = 1000


@dataclass(frozen=True)
class StoredState:
    alarm_name: str
    state: str
    reason: str
    changed_at: datetime
    description: str | None = None


@dataclass(frozen=True)
class StoredTransition:
    alarm_name: str
    old_state: str | None
    new_state: str
    reason: str
    reason_data: dict[str, Any]
    changed_at: datetime


class AlarmStore:
    """Reads and writes the alarm tables; one short connection per call (the loop is infrequent)."""

    def __init__(self, url: str) -> None:
        self._url = url

    def record(self, transition: Transition) -> None:
        alarm, state = transition.alarm, transition.state
        old = state.PreviousStateValue.value if state.PreviousStateValue else None
        with psycopg.connect(self._url) as conn, conn.transaction():
            conn.execute(
                "INSERT INTO alarm_transitions (alarm_name, old_state, new_state, reason, reason_data,"
                " changed_at) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (alarm_name, changed_at, new_state) DO NOTHING",
                (
                    alarm.AlarmName,
                    old,
                    state.StateValue.value,
                    state.StateReason,
                    Jsonb(state.StateReasonData),
                    state.StateUpdatedTimestamp,
                ),
            )
            conn.execute(
                "INSERT INTO alarm_states (alarm_name, description, state, reason, reason_data, changed_at,"
                " namespace, metric_name) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (alarm_name) DO UPDATE SET description = EXCLUDED.description,"
                " state = EXCLUDED.state, reason = EXCLUDED.reason, reason_data = EXCLUDED.reason_data,"
                " changed_at = EXCLUDED.changed_at, namespace = EXCLUDED.namespace,"
                " metric_name = EXCLUDED.metric_name WHERE alarm_states.changed_at <= EXCLUDED.changed_at",
                (
                    alarm.AlarmName,
                    alarm.AlarmDescription,
                    state.StateValue.value,
                    state.StateReason,
                    Jsonb(state.StateReasonData),
                    state.StateUpdatedTimestamp,
                    getattr(alarm, "Namespace", None),
                    getattr(alarm, "MetricName", None),
                ),
            )

    def states(self) -> list[StoredState]:
        with psycopg.connect(self._url) as conn:
            rows = conn.execute(
                "SELECT alarm_name, state, reason, changed_at, description FROM alarm_states"
                " ORDER BY alarm_name"
            ).fetchall()
        return [StoredState(*row) for row in rows]

    def last_transitions(self) -> dict[str, StoredTransition]:
        """The latest transition of each alarm, by alarm name."""
        with psycopg.connect(self._url) as conn:
            rows = conn.execute(
                "SELECT DISTINCT ON (alarm_name) alarm_name, old_state, new_state, reason, reason_data,"
                " changed_at FROM alarm_transitions ORDER BY alarm_name, changed_at DESC, id DESC"
            ).fetchall()
        return {row[0]: StoredTransition(*row) for row in rows}

    def transitions(self, alarm_name: str | None = None, limit: int = 100) -> list[StoredTransition]:
        """Newest first, at most ``limit`` (capped at ``MAX_HISTORY``)."""
        with psycopg.connect(self._url) as conn:
            rows = conn.execute(
                "SELECT alarm_name, old_state, new_state, reason, reason_data, changed_at"
                " FROM alarm_transitions WHERE %(name)s::text IS NULL OR alarm_name = %(name)s"
                " ORDER BY changed_at DESC, id DESC LIMIT %(limit)s",
                {"name": alarm_name, "limit": min(limit, MAX_HISTORY)},
            ).fetchall()
        return [StoredTransition(*row) for row in rows]
