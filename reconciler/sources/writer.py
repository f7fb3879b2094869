"""The write side of a SaaS, for repairs: create, update and delete one record.

Each SaaS module (``support``, ``commerce``, ``membership``) implements this
beside its ``SaasSource``. Every call carries an ``Idempotency-Key`` and an
``X-Correlation-Id`` (``WriteContext``), so a repair retried after a lost
answer is applied once, and the SaaS's own logs tie it to the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class WriteContext:
    """The headers one repair action sends."""

    idempotency_key: str
    correlation_id: str

    def headers(self) -> dict[str, str]:
        return {"Idempotency-Key": self.idempotency_key, "X-Correlation-Id": self.correlation_id}


class SaasWriter(Protocol):
    """Writes one system's records; ``fields`` are ``SystemMapping.project`` of an Aurora row."""

    def create(self, fields: Mapping[str, Any], ctx: WriteContext) -> str:
        """Create a record; returns its id."""
        ...

    def update(self, raw_id: str, fields: Mapping[str, Any], ctx: WriteContext) -> None:
        """Overwrite the mapped fields of record ``raw_id``."""
        ...

    def delete(self, raw_id: str, ctx: WriteContext) -> None:
        """Delete (or soft-delete, as the system does) record ``raw_id``; already gone is success."""
        ...
