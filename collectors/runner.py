"""One collection pass over every kind (``Collector.run_once``), and the loop ``sagawatch up`` runs.

Each kind is collected apart: a failure in one (Aurora down, a queue gone) is recorded in
``collector_errors`` and the others still run. Only an unreachable audit store fails the pass,
since there is nowhere to record anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError

from collectors.errors import CollectorError, unreachable, write_errors
from collectors.jobs import JobCollector, newest_job, write_jobs
from collectors.logs.collect import LogCollector
from collectors.metrics import MetricCollector, write_metric_points
from collectors.partitions import Partitions
from collectors.queues import QueueCollector, read_last_peeks, write_queue_pass
from collectors.retention import RetentionReport, enforce
from collectors.sagas.aurora import fetch_sagas
from collectors.sagas.model import SagaRecord, assess_all
from collectors.sagas.runbooks import RunbookRecord, fetch_runbooks, write_runbooks
from collectors.sagas.stepfunctions import collect_executions
from collectors.sagas.store import aurora_watermark, settled_executions, write_sagas
from collectors.settings import PassLimits, RetentionSettings
from sagawatch.aws import aws_session
from sagawatch.contracts.metrics import STUCK_SAGAS
from sagawatch.periodic import PeriodicTask
from sagawatch.redact import redact
from sagawatch.settings import Settings
from sagawatch.stack_info import StackInfo

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5


@dataclass
class PassReport:
    """What one pass gathered: counts per kind, the errors it recorded, how long each part took."""

    started_at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[CollectorError] = field(default_factory=list)
    durations_s: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    retention: RetentionReport | None = None

    def lines(self) -> list[str]:
        """Human-readable summary, one line per kind and per error."""
        out = [f"pass at {self.started_at:%Y-%m-%d %H:%M:%S} UTC took {self.duration_s * 1000:.0f} ms"]
        for kind, count in self.counts.items():
            out.append(f"  {kind:22} {count:>8}")
        if self.retention and (
            self.retention.dropped_partitions or any(self.retention.deleted_rows.values())
        ):
            out.append(
                f"  retention: dropped {len(self.retention.dropped_partitions)} partitions,"
                f" deleted {sum(self.retention.deleted_rows.values())} rows"
            )
        for error in self.errors:
            out.append(f"  error {error.kind}: {error.source}: {error.detail}")
        return out


class Collector:
    """Collects logs, queues, sagas, jobs and metrics of one stack into its audit store."""

    def __init__(
        self,
        settings: Settings,
        stack_info: StackInfo,
        *,
        limits: PassLimits | None = None,
        retention: RetentionSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._audit_url = settings.audit_database_url or stack_info.audit_url
        self._aurora_url = settings.database_url or stack_info.aurora_url
        self._limits = limits or PassLimits()
        self._retention = retention or RetentionSettings()
        self._clock = clock
        self._partitions = Partitions()
        self._last_retention: float | None = None
        session = aws_session(stack_info.region, stack_info.aws_endpoint or None)
        endpoint = stack_info.aws_endpoint or None
        self._logs = LogCollector(
            session.client("logs", endpoint_url=endpoint), self._partitions, self._limits
        )
        cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)
        self._queues = QueueCollector(
            session.client("sqs", endpoint_url=endpoint),
            cloudwatch,
            self._limits.dlq_peek_messages,
            self._limits.peek_interval_s,
        )
        self._metrics = MetricCollector(cloudwatch, self._limits.metrics_window_s)
        self._cloudwatch = cloudwatch
        self._sfn = session.client("stepfunctions", endpoint_url=endpoint)
        self._jobs = JobCollector(
            session.client("dynamodb", endpoint_url=endpoint),
            self._limits.jobs_table,
            self._limits.jobs_overlap_s,
            self._limits.jobs_interval_s,
        )

    def run_once(self) -> PassReport:
        """One pass; raises only when the audit store cannot be reached."""
        started = time.monotonic()
        report = PassReport(started_at=self._clock())
        try:
            audit = self._connect_audit()
        except psycopg.Error as exc:
            raise RuntimeError(f"cannot reach the audit store: {redact(str(exc))}") from None
        with audit:
            for name, part in (
                ("logs", self._collect_logs),
                ("queues", self._collect_queues),
                ("sagas", self._collect_sagas),
                ("jobs", self._collect_jobs),
                ("metrics", self._collect_metrics),
            ):
                part_started = time.monotonic()
                try:
                    part(audit, report)
                except Exception as exc:  # one kind failing must not stop the others
                    log.exception("collecting %s failed", name)
                    error = unreachable(f"{name}_failed", name, exc)
                    report.errors.append(error)
                    write_errors(audit, [error])
                report.durations_s[name] = time.monotonic() - part_started
            if self._retention_due():
                try:
                    report.retention = enforce(audit, self._retention, self._partitions, self._clock())
                except psycopg.Error as exc:  # retention is housekeeping: the next check retries it
                    log.exception("enforcing retention failed")
                    error = unreachable("retention_failed", "retention", exc)
                    report.errors.append(error)
                    write_errors(audit, [error])
        report.duration_s = time.monotonic() - started
        return report

    def _connect_audit(self) -> psycopg.Connection:
        return psycopg.connect(self._audit_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)

    def _retention_due(self) -> bool:
        now = time.monotonic()
        if self._last_retention is not None and now - self._last_retention < self._retention.check_interval_s:
            return False
        self._last_retention = now
        return True

    def _collect_logs(self, audit: psycopg.Connection, report: PassReport) -> None:
        stats = self._logs.run(audit, self._connect_audit)
        report.counts["log_lines"] = stats.lines
        report.counts["invocations"] = stats.invocations
        report.counts["log_problems"] = stats.problems
        report.counts["log_streams_read"] = stats.streams_read
        report.errors += stats.errors

    def _collect_queues(self, audit: psycopg.Connection, report: PassReport) -> None:
        now = self._clock()
        result = self._queues.run(now, read_last_peeks(audit))
        write_queue_pass(audit, self._partitions, result, now)
        write_errors(audit, result.errors)
        report.counts["queues"] = len(result.samples)
        report.counts["dlq_messages_seen"] = len(result.dlq_messages)
        report.errors += result.errors

    def _collect_sagas(self, audit: psycopg.Connection, report: PassReport) -> None:
        records: list[SagaRecord] = []
        runbooks: list[RunbookRecord] = []
        errors: list[CollectorError] = []
        try:
            with psycopg.connect(self._aurora_url, connect_timeout=CONNECT_TIMEOUT_S) as aurora:
                records += fetch_sagas(
                    aurora, aurora_watermark(audit), self._limits.saga_overlap_s, self._limits.saga_batch
                )
                runbooks = fetch_runbooks(aurora, records)
        except psycopg.Error as exc:
            errors.append(unreachable("aurora_unreachable", "saga", exc))
        executions = collect_executions(
            self._sfn, lambda arns: settled_executions(audit, arns), self._limits.executions_per_machine
        )
        records += executions.records
        errors += executions.errors
        now = self._clock()
        assessed = assess_all(records, now, self._settings.stuck_threshold_s)
        write_sagas(audit, assessed, now)
        write_runbooks(audit, runbooks)
        write_errors(audit, errors)
        report.counts["sagas"] = len(records)
        report.counts["sagas_stuck"] = sum(1 for _, verdict in assessed if verdict.stuck)
        report.errors += errors
        self._publish_stuck_sagas(audit, now, report)

    def _publish_stuck_sagas(self, audit: psycopg.Connection, now: datetime, report: PassReport) -> None:
        """Every pass puts the number of stuck sagas, so the standard alarm sees 0 as well as 1."""
        row = audit.execute("SELECT count(*) FROM sagas WHERE stuck").fetchone()
        stuck = int(row[0]) if row else 0
        try:
            self._cloudwatch.put_metric_data(
                Namespace=STUCK_SAGAS.namespace,
                MetricData=[
                    {"MetricName": STUCK_SAGAS.name, "Timestamp": now, "Value": stuck, "Unit": "Count"}
                ],
            )
        except (BotoCoreError, ClientError) as exc:
            error = unreachable("cloudwatch_unreachable", "metric:StuckSagas", exc)
            write_errors(audit, [error])
            report.errors.append(error)

    def _collect_jobs(self, audit: psycopg.Connection, report: PassReport) -> None:
        if not self._jobs.due():  # the count stays out of the report: nothing was looked at
            return
        result = self._jobs.run(newest_job(audit, self._jobs.table))
        changed = write_jobs(audit, self._jobs.table, result.rows) if result.complete else 0
        write_errors(audit, result.errors)
        report.counts["jobs"] = changed
        report.errors += result.errors

    def _collect_metrics(self, audit: psycopg.Connection, report: PassReport) -> None:
        result = self._metrics.run(self._clock())
        write_metric_points(audit, self._partitions, result.points)
        write_errors(audit, result.errors)
        report.counts["metric_points"] = len(result.points)
        report.errors += result.errors


class CollectorLoop(PeriodicTask[PassReport]):
    """Runs ``collector.run_once`` every ``interval_s`` on one thread, so passes never overlap."""

    def __init__(self, collector: Any, interval_s: float) -> None:
        super().__init__(collector.run_once, interval_s, name="collector-loop")

    @property
    def last_report(self) -> PassReport | None:
        return self.last_result
