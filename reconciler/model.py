"""The reconciler's vocabulary: records read from a system, findings about drift, deferred keys.

``Record`` is a slotted dataclass because the diff engine creates millions of
them in a full sweep; ``Finding`` and ``Deferred`` are pydantic models because
they cross boundaries (audit store, reports, the dashboard) and are few.

A ``Finding`` never holds a raw PII value: the engine masks before it builds
one, so nothing downstream (reports, logs, the audit store) can leak it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field


class DriftKind(StrEnum):
    """The five ways a SaaS copy can disagree with Aurora (issue 7)."""

    MISSING_IN_SAAS = "missing_in_saas"
    ORPHAN_IN_SAAS = "orphan_in_saas"
    FIELD_MISMATCH = "field_mismatch"
    DUPLICATE_IN_SAAS = "duplicate_in_saas"
    STALE = "stale"


class DeferReason(StrEnum):
    """Why a key was left for a later run instead of being reported."""

    IN_FLIGHT_SAGA = "in_flight_saga"
    GRACE_WINDOW = "grace_window"


@dataclass(frozen=True, slots=True)
class Record:
    """One row or object as a source read it.

    ``key`` is the canonical link key (``normalise.canonical_key`` of
    ``cust_no`` / ``external_id`` / ...); sources sort by it. ``fields`` holds
    the system's own field names and raw values: normalisation happens only
    when two values are compared, so a clean row costs little.
    """

    system: str
    key: str
    fields: Mapping[str, Any]
    updated_at: datetime | None
    raw_id: str | None = None

    def __post_init__(self) -> None:
        if self.updated_at is not None and self.updated_at.utcoffset() is None:
            raise ValueError(
                f"{self.system} record {self.key!r}: updated_at must be timezone-aware, "
                f"got {self.updated_at!r}"
            )


def finding_fingerprint(kind: DriftKind, system: str, key: str, field: str | None) -> str:
    """A stable id for "the same problem" across runs: values are left out on purpose.

    A mismatch whose SaaS value changes but stays wrong is still the same open
    finding; the audit store uses this to keep first-seen/last-seen/resolved.
    """
    text = "|".join((kind.value, system, key, field or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class Finding(BaseModel):
    """One piece of drift, safe to show anywhere (PII values are masked)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DriftKind
    system: str
    key: str
    field: str | None = None
    aurora_value: str | None = None
    saas_value: str | None = None
    saas_ids: tuple[str, ...] = ()
    detail: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fingerprint(self) -> str:
        return finding_fingerprint(self.kind, self.system, self.key, self.field)


class Deferred(BaseModel):
    """A key the engine did not judge this run: a saga may still be moving it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str
    key: str
    reason: DeferReason
    detail: str = ""


Outcome = Finding | Deferred


@dataclass(slots=True)
class DiffStats:
    """Counts for the run record; the engine fills it in as it streams."""

    aurora_rows: int = 0
    saas_rows: int = 0
    keys: int = 0
    findings: Counter[DriftKind] = field(default_factory=Counter)
    deferred: Counter[DeferReason] = field(default_factory=Counter)

    def count(self, outcome: Outcome) -> None:
        if isinstance(outcome, Finding):
            self.findings[outcome.kind] += 1
        else:
            self.deferred[outcome.reason] += 1
