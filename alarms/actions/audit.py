"""Record each transition in the audit store, where the dashboard and ``alarms status`` read it."""

from __future__ import annotations

from alarms.actions.base import Transition
from alarms.store import AlarmStore


class AuditStoreAction:
    name = "audit-store"

    def __init__(self, store: AlarmStore) -> None:
        self._store = store

    def fire(self, transition: Transition) -> None:
        self._store.record(transition)
