"""``ReconcileSchedule``: an incremental reconciliation every ``interval_s``, in a thread of ``sagawatch up``.

Runs never overlap: one thread runs them one after another, and each takes
the audit store's advisory lock (``reconciler.lock``) without waiting, so a
run due while another process (cron, an operator) reconciles is skipped, not
queued. Scheduled runs only report (findings, run records); repairs stay a
deliberate ``sagawatch reconcile --apply``. On AWS, EventBridge Scheduler
invokes the same command instead.
"""

from __future__ import annotations

import threading

from reconciler.config import ReconcileSettings, resolve_endpoints
from reconciler.lock import RunLocked
from reconciler.mapping import MAPPINGS
from reconciler.metrics import publish_open_findings
from reconciler.run import Mode, RunOptions, RunResult, logger
from reconciler.wiring import reconcile_once
from sagawatch.aws import aws_session
from sagawatch.redact import redact
from sagawatch.settings import Settings
from sagawatch.stack_info import StackInfo


class ReconcileSchedule:
    """Start with ``start()``; ``stop()`` waits (bounded) for a run in progress to end."""

    def __init__(
        self,
        settings: Settings,
        stack_info: StackInfo | None,
        interval_s: float | None = None,
        reconcile_settings: ReconcileSettings | None = None,
    ) -> None:
        self.reconcile_settings = reconcile_settings or ReconcileSettings()
        self.interval_s = interval_s if interval_s is not None else self.reconcile_settings.interval_s
        if self.interval_s <= 0:
            raise ValueError(f"interval_s: must be positive, got {self.interval_s}")
        self.endpoints = resolve_endpoints(settings, self.reconcile_settings, stack_info)
        #: Where the open-findings count goes after each run (the stack's CloudWatch); None: nowhere.
        self._cloudwatch = (
            aws_session(stack_info.region, stack_info.aws_endpoint).client(
                "cloudwatch", endpoint_url=stack_info.aws_endpoint
            )
            if stack_info is not None and stack_info.aws_endpoint
            else None
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0  # completed runs
        self.skipped = 0  # runs skipped because another held the lock
        self.last_result: RunResult | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the reconcile schedule is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="reconcile-schedule", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def run_once(self) -> RunResult | None:
        """One incremental run over every system with a URL; None when another run held the lock."""
        systems = tuple(s for s in sorted(MAPPINGS) if s in self.endpoints.saas)
        options = RunOptions(
            mode=Mode.INCREMENTAL,
            systems=systems,
            grace=self.reconcile_settings.grace,
            stale_tolerance=self.reconcile_settings.stale_tolerance,
        )
        try:
            result = reconcile_once(self.endpoints, self.reconcile_settings, options)
        except RunLocked:
            self.skipped += 1
            return None
        self.runs += 1
        self.last_result = result
        if self._cloudwatch is not None:
            publish_open_findings(self._cloudwatch, self.endpoints.audit_url)
        return result

    def _loop(self) -> None:
        # Bounded by the stop event: each wait ends at the interval or at stop(), whichever comes first.
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
                self.last_error = None
            except Exception as exc:  # a failed pass must not end the schedule; it is logged and retried
                self.last_error = redact(f"{type(exc).__name__}: {exc}")
                logger.error("scheduled reconcile failed", extra={"error": self.last_error})
