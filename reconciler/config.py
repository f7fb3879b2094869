"""The reconciler's settings (``SAGAWATCH_RECONCILE_*``) and where its systems are.

Endpoints come from the running stack (``.sagawatch/stack.json``) unless the
environment names them: ``DATABASE_URL`` / ``AUDIT_DATABASE_URL`` (sagawatch's
settings) and ``SAGAWATCH_RECONCILE_SAAS_URLS`` (JSON, system -> base URL),
as on AWS where no local stack runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sagawatch.settings import Settings
from sagawatch.stack_info import StackInfo


class ReconcileSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAGAWATCH_RECONCILE_", extra="ignore")

    grace_s: float = Field(default=300.0, ge=0, description="Changes younger than this are deferred.")
    stale_tolerance_s: float = Field(
        default=900.0, ge=0, description="SaaS older than Aurora by more: stale."
    )
    interval_s: float = Field(default=300.0, gt=0, description="Seconds between scheduled runs.")
    http_timeout_s: float = Field(default=15.0, gt=0, le=300, description="Per SaaS HTTP call.")
    retry_attempts: int = Field(default=8, ge=1, le=50, description="Per SaaS HTTP call, 429/5xx included.")
    max_retry_wait_s: float = Field(default=30.0, gt=0, le=600, description="Cap on one wait between tries.")
    sort_chunk_size: int = Field(default=20_000, ge=100, description="Records per in-memory sort run.")
    lookup_workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Many-key lookup calls in flight per SaaS (incremental runs). One is fastest against"
        " the local simulators (one thread each); raise it for a SaaS whose calls wait on a far network.",
    )
    spill_dir: Path | None = Field(default=None, description="Where external-sort runs spill; None: TMPDIR.")
    lock_wait_s: float = Field(default=60.0, ge=0, le=3600, description="CLI: wait this long for a run.")
    saas_urls: dict[str, str] = Field(default_factory=dict, description="system -> base URL overrides.")

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.grace_s)

    @property
    def stale_tolerance(self) -> timedelta:
        return timedelta(seconds=self.stale_tolerance_s)


class EndpointError(RuntimeError):
    """A system the run needs has no address (no stack running and nothing in the environment)."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    aurora_url: str
    audit_url: str
    saas: dict[str, str]


def resolve_endpoints(base: Settings, rec: ReconcileSettings, stack: StackInfo | None) -> Endpoints:
    """Environment first, then the running stack; a clear error naming what is missing."""
    aurora = base.database_url or (stack.aurora_url if stack else None)
    audit = base.audit_database_url or (stack.audit_url if stack else None)
    saas = {**(stack.saas if stack else {}), **rec.saas_urls}
    missing = [name for name, value in (("DATABASE_URL", aurora), ("AUDIT_DATABASE_URL", audit)) if not value]
    if missing:
        raise EndpointError(
            f"{', '.join(missing)}: not set and no stack is running (start one with `sagawatch up`)"
        )
    assert aurora is not None and audit is not None
    return Endpoints(aurora_url=aurora, audit_url=audit, saas=saas)
