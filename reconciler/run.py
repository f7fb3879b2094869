"""One reconciliation run over every chosen system: read, diff, record, and (optionally) repair.

The order of a run:

1. a run record (``running``) in the audit store;
2. the keys live sagas hold, read once from Aurora's ``saga`` table;
3. per system, the full sweep or the incremental diff (``modes``); findings
   stream to the audit store in batches as the diff yields them, and the
   findings' lifecycle, the new watermarks and the keys to re-check are
   committed per system in one transaction; a system whose source fails is
   recorded as an error and the others still run;
4. the repair plan, read back from the store in batches and executed with
   ``apply``; repaired keys are re-checked by the next run even when the
   SaaS cannot report the change (hard deletes);
5. the run record finished (counts, duration, errors, repairs).

Memory does not grow with the number of findings: a ``RunResult`` counts
them all but keeps only the first ``RunOptions.keep`` findings and repair
actions (for logs, tests and the scheduler); the CLI's report reads the
whole set back from the store (``AuditStore.run_findings``).

A first incremental run of a system (no watermarks yet) is a full sweep:
reading every change since the epoch would cost more than sweeping.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from aws_lambda_powertools import Logger

from reconciler.compare import DiffPolicy
from reconciler.lifecycle import Scope, check_in_scope
from reconciler.mapping import mapping_for
from reconciler.model import Deferred, DiffStats, DriftKind, Finding, Outcome
from reconciler.modes import IncrementalPlan, Watermarks, full_sweep, incremental, plan_incremental
from reconciler.repair import RepairAction, RepairOutcome, apply_repairs, plan_repairs
from reconciler.sources.aurora import AuroraSource
from reconciler.sources.base import Source, SourceError, Watermark
from reconciler.sources.http import batched
from reconciler.sources.writer import SaasWriter
from reconciler.store import FINDING_BATCH, AuditStore
from sagawatch.redact import redact

#: Reconciler logs go to stderr: stdout carries the report.
logger = Logger(service="sagawatch-reconciler", logger_handler=logging.StreamHandler(sys.stderr))


class Mode(StrEnum):
    INCREMENTAL = "incremental"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class RunOptions:
    mode: Mode
    systems: tuple[str, ...]
    apply: bool = False
    delete_orphans: bool = False
    key_from: str | None = None
    key_to: str | None = None
    grace: timedelta = timedelta(minutes=5)
    stale_tolerance: timedelta = timedelta(minutes=15)
    keep: int = 1_000  # findings per system and repair actions a RunResult holds (all are stored)

    def __post_init__(self) -> None:
        if not self.systems:
            raise ValueError("systems: at least one system is needed")
        if self.keep < 0:
            raise ValueError(f"keep: must not be negative, got {self.keep}")
        if self.mode is Mode.INCREMENTAL and (self.key_from is not None or self.key_to is not None):
            raise ValueError("key_from/key_to: a key range needs the full mode (--full)")


@dataclass(slots=True)
class SystemResult:
    system: str
    findings: list[Finding] = field(default_factory=list)  # the first RunOptions.keep of them
    counts: Counter[DriftKind] = field(default_factory=Counter)  # every finding, by kind
    deferred: list[Deferred] = field(default_factory=list)
    stats: DiffStats = field(default_factory=DiffStats)
    swept: bool = False  # judged every key (full sweep, or a first incremental run)
    error: str | None = None

    @property
    def finding_count(self) -> int:
        return sum(self.counts.values())

    def forget(self) -> None:
        """A failed system reports nothing (its transaction was rolled back)."""
        self.findings.clear()
        self.counts.clear()
        self.deferred.clear()


@dataclass(slots=True)
class RunResult:
    run_id: str
    mode: Mode
    started_at: datetime
    duration_s: float = 0.0
    systems: list[SystemResult] = field(default_factory=list)
    plan: list[RepairAction] = field(default_factory=list)  # the first RunOptions.keep actions
    repairs: list[RepairOutcome] = field(default_factory=list)  # likewise, with --apply
    planned: int = 0  # every action planned
    repair_counts: Counter[str] = field(default_factory=Counter)  # every action applied, by status
    errors: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """The findings kept in memory (all of them unless more than ``RunOptions.keep`` per system)."""
        return [f for s in self.systems for f in s.findings]

    @property
    def finding_count(self) -> int:
        return sum(s.finding_count for s in self.systems)

    @property
    def deferred(self) -> list[Deferred]:
        return [d for s in self.systems for d in s.deferred]

    @property
    def status(self) -> str:
        return "error" if self.errors else "drift" if self.finding_count else "clean"

    @property
    def exit_code(self) -> int:
        """0 clean, 1 drift found, 2 a system could not be read (cron and EventBridge Scheduler read it)."""
        return {"clean": 0, "drift": 1, "error": 2}[self.status]


EPOCH = Watermark(updated_at=datetime(1970, 1, 1, tzinfo=UTC))


class Reconciler:
    """Runs reconciliations against one Aurora, a set of SaaS sources, and one audit store."""

    def __init__(
        self,
        aurora: AuroraSource,
        saas: Mapping[str, Source],
        store: AuditStore,
        writers: Callable[[str], SaasWriter],
    ) -> None:
        self.aurora = aurora
        self.saas = dict(saas)
        self.store = store
        self.writers = writers

    def run(self, options: RunOptions, now: datetime | None = None) -> RunResult:
        unknown = [s for s in options.systems if s not in self.saas]
        if unknown:
            raise ValueError(f"system: {unknown} not configured; known: {', '.join(sorted(self.saas))}")
        clock = time.monotonic()
        now = now or datetime.now(UTC)
        result = RunResult(run_id=uuid.uuid4().hex[:16], mode=options.mode, started_at=now)
        self.store.start_run(
            result.run_id, options.mode.value, options.systems, now, options.key_from, options.key_to
        )
        logger.append_keys(run_id=result.run_id)
        try:
            self._judge_all(options, now, result)
            self._repair(options, result)
        finally:
            result.duration_s = time.monotonic() - clock
            self._finish(result)
            logger.remove_keys(["run_id"])
        return result

    def _judge_all(self, options: RunOptions, now: datetime, result: RunResult) -> None:
        try:
            in_flight = self.aurora.in_flight()
        except SourceError as exc:
            result.errors.append(redact(str(exc)))
            return
        policy = DiffPolicy(
            now=now, in_flight=in_flight, grace=options.grace, stale_tolerance=options.stale_tolerance
        )
        for system in options.systems:
            outcome = SystemResult(system)
            result.systems.append(outcome)
            try:
                self._judge(system, options, policy, result.run_id, outcome)
            except (SourceError, ValueError, OSError) as exc:
                message = str(exc)
                outcome.error = redact(
                    message if message.startswith(f"{system}:") else f"{system}: {message}"
                )
                outcome.forget()
                result.errors.append(outcome.error)
                logger.error(
                    "system could not be reconciled", extra={"system": system, "error": outcome.error}
                )

    def _judge(
        self, system: str, options: RunOptions, policy: DiffPolicy, run_id: str, out: SystemResult
    ) -> None:
        saas = self.saas[system]
        horizon = Watermark(updated_at=policy.now - policy.grace)
        marks = self.store.watermarks(system) if options.mode is Mode.INCREMENTAL else None
        ranged = options.key_from is not None or options.key_to is not None
        next_marks: Watermarks | None
        judged: frozenset[str] | None
        mapping = mapping_for(system)
        outcomes: Generator[Outcome, None, None]
        if marks is None:
            outcomes = full_sweep(
                mapping,
                policy,
                self.aurora,
                saas,
                key_from=options.key_from,
                key_to=options.key_to,
                stats=out.stats,
            )
            out.swept = True
            next_marks = None if ranged else Watermarks(aurora=horizon, saas=horizon)
            judged = None
            scope = Scope(system, options.key_from, options.key_to)
        else:
            plan = plan_incremental(self.aurora, saas, marks, policy, self.store.recheck_keys(system))
            # Records without a link key cannot be looked up: only full sweeps judge (and resolve) them.
            plan = IncrementalPlan(plan.keys - {""}, plan.next_marks)
            outcomes = incremental(mapping, policy, self.aurora, saas, plan, stats=out.stats)
            next_marks, judged = plan.next_marks, plan.keys
            scope = Scope(system, keys=plan.keys)
        if ranged:
            judged = frozenset()  # a ranged sweep removes no re-check key outside what it re-adds
        with self.store.system_write(run_id, system, policy.now) as write, closing(outcomes):
            for batch in batched(outcomes, FINDING_BATCH):
                findings = _split(batch, out, options.keep)
                check_in_scope(findings, scope)
                write.add(findings)
            recheck = {d.key: d.reason.value for d in out.deferred}
            judged_scope = replace(scope, deferred=frozenset(recheck))
            opened, resolved = write.finish(judged_scope, next_marks, recheck, judged)
        logger.info(
            "system reconciled",
            extra={
                "system": system,
                "mode": "full" if out.swept else "incremental",
                "findings": out.finding_count,
                "opened": opened,
                "resolved": resolved,
                "deferred": len(out.deferred),
                "aurora_rows": out.stats.aurora_rows,
                "saas_rows": out.stats.saas_rows,
            },
        )

    def _repair(self, options: RunOptions, result: RunResult) -> None:
        """Plan (and with ``apply`` execute) repairs batch by batch, reading the run's findings back."""
        if not result.finding_count:
            return
        for findings in self.store.run_findings(result.run_id, for_repair=True):
            plan = plan_repairs(findings, result.run_id, delete_orphans=options.delete_orphans)
            result.planned += len(plan)
            result.plan.extend(plan[: max(0, options.keep - len(result.plan))])
            if not options.apply:
                self.store.record_repairs(
                    result.run_id, [RepairOutcome(a, "planned") for a in plan], planned_only=True
                )
                continue
            rows = self.aurora.rows(sorted({a.key for a in plan if a.key}))
            outcomes = apply_repairs(plan, rows, self.writers, logger)
            self.store.record_repairs(result.run_id, outcomes, planned_only=False)
            result.repair_counts.update(o.status for o in outcomes)
            result.repairs.extend(outcomes[: max(0, options.keep - len(result.repairs))])
            touched: dict[str, dict[str, str]] = {}
            for done in outcomes:
                if done.status == "applied":
                    touched.setdefault(done.action.system, {})[done.action.key] = "repaired"
            for system, keys in touched.items():
                self.store.add_recheck(result.run_id, system, keys)

    def _finish(self, result: RunResult) -> None:
        counts = {s.system: {k.value: n for k, n in s.counts.items()} for s in result.systems}
        deferred = dict(Counter(d.reason.value for d in result.deferred))
        rows_read = {
            s.system: {
                "aurora_rows": s.stats.aurora_rows,
                "saas_rows": s.stats.saas_rows,
                "keys": s.stats.keys,
            }
            for s in result.systems
        }
        repairs = dict(result.repair_counts) | {"planned": result.planned}
        self.store.finish_run(
            result.run_id,
            finished_at=datetime.now(UTC),
            duration_s=result.duration_s,
            status=result.status,
            counts=counts,
            deferred=deferred,
            rows_read=rows_read,
            errors=result.errors,
            repairs=repairs,
        )


def _split(outcomes: Iterable[Outcome], out: SystemResult, keep: int) -> list[Finding]:
    """The findings of one batch; counted, the first ``keep`` kept, deferrals kept aside."""
    findings: list[Finding] = []
    for outcome in outcomes:
        if isinstance(outcome, Finding):
            findings.append(outcome)
            out.counts[outcome.kind] += 1
            if len(out.findings) < keep:
                out.findings.append(outcome)
        else:
            out.deferred.append(outcome)
    return findings
