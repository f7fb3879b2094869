"""Build a ``Reconciler`` from endpoints: one ``httpx.Client`` per SaaS, the Aurora source, the store.

The CLI, the scheduler in ``sagawatch up`` and the scheduled Lambda function
all call ``reconcile_once`` (one run under the cross-process run lock); tests
build a ``Reconciler`` from the same parts when they need to reach inside.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

import httpx

from reconciler.config import EndpointError, Endpoints, ReconcileSettings
from reconciler.lock import run_lock
from reconciler.mapping import MAPPINGS
from reconciler.run import Reconciler, RunOptions, RunResult
from reconciler.sources.aurora import AuroraSource
from reconciler.sources.base import Source
from reconciler.sources.http import RetryPolicy
from reconciler.sources.registry import saas_source, saas_writer
from reconciler.sources.writer import SaasWriter
from reconciler.store import AuditStore
from sagawatch.migrations import apply_migrations

SCHEMA_PACKAGE = "reconciler.schema"


@contextmanager
def open_reconciler(
    endpoints: Endpoints, settings: ReconcileSettings, systems: Sequence[str] | None = None
) -> Iterator[Reconciler]:
    """A ready ``Reconciler`` over ``systems`` (default: every mapped system); clients closed on exit."""
    chosen = list(systems) if systems else sorted(MAPPINGS)
    missing = [s for s in chosen if s not in endpoints.saas]
    if missing:
        raise EndpointError(
            f"system {missing}: no base URL (not in the running stack, nor in SAGAWATCH_RECONCILE_SAAS_URLS)"
        )
    apply_migrations(endpoints.audit_url, SCHEMA_PACKAGE)
    retry = RetryPolicy(
        attempts=settings.retry_attempts,
        initial_wait_s=min(0.1, settings.max_retry_wait_s),
        max_wait_s=settings.max_retry_wait_s,
    )
    with ExitStack() as stack:
        clients = {
            system: stack.enter_context(
                httpx.Client(base_url=endpoints.saas[system], timeout=settings.http_timeout_s)
            )
            for system in chosen
        }
        sources: dict[str, Source] = {
            system: saas_source(
                system,
                client,
                retry=retry,
                sort_chunk_size=settings.sort_chunk_size,
                spill_dir=settings.spill_dir,
                lookup_workers=settings.lookup_workers,
            )
            for system, client in clients.items()
        }

        def writer(system: str) -> SaasWriter:
            return saas_writer(system, clients[system], retry=retry)

        yield Reconciler(AuroraSource(endpoints.aurora_url), sources, AuditStore(endpoints.audit_url), writer)


def reconcile_once(
    endpoints: Endpoints, settings: ReconcileSettings, options: RunOptions, *, lock_wait_s: float = 0.0
) -> RunResult:
    """One run under the run lock; ``RunLocked`` when another run keeps it past ``lock_wait_s``.

    The one path every caller takes, so a run started by cron, by an operator, by
    ``sagawatch up`` or by EventBridge Scheduler behaves the same and never overlaps another.
    """
    with (
        run_lock(endpoints.audit_url, wait_s=lock_wait_s),
        open_reconciler(endpoints, settings, options.systems) as reconciler,
    ):
        return reconciler.run(options)
