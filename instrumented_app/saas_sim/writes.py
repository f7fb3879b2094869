"""The write log: which correlation id, trace and idempotency key touched which record, and when.

The issue asks that one request's correlation id be findable in "each SaaS's
record of the write"; real vendors keep such audit trails (Zendesk's audit
log, Shopify's events). It is kept beside the model, by the HTTP layer,
because the model has no business knowing about headers.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from pydantic import BaseModel


class WriteEntry(BaseModel):
    """One write that reached the service (a replayed answer is logged with ``replayed``)."""

    at: str
    method: str
    path: str
    status: int
    record_id: str | None = None
    correlation_id: str | None = None
    traceparent: str | None = None
    idempotency_key: str | None = None
    replayed: bool = False


class WriteLog:
    """Bounded, thread-safe, newest last."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._entries: deque[WriteEntry] = deque(maxlen=max_entries)
        self._lock = threading.Lock()

    def append(self, entry: WriteEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def find(
        self, record_id: str | None = None, correlation_id: str | None = None, limit: int = 1000
    ) -> list[WriteEntry]:
        """Entries matching every filter given, oldest first, at most ``limit``."""
        with self._lock:
            matches = [
                entry
                for entry in self._entries
                if (record_id is None or entry.record_id == record_id)
                and (correlation_id is None or entry.correlation_id == correlation_id)
            ]
        return matches[-limit:] if limit > 0 else []

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry.model_dump() for entry in self._entries]

    def restore(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self._entries.clear()
            self._entries.extend(WriteEntry.model_validate(item) for item in items)
