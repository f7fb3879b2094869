"""The reconciler's writes to (and reads from) the audit store: runs, findings, watermarks, repairs.

``lifecycle.update_lifecycle`` decides which findings opened, stayed open or
resolved; this module only writes its decision, per system in one
transaction together with the new watermarks and the keys to re-check, so
a run that fails half-way leaves the previous state whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from reconciler.lifecycle import LifecycleUpdate, OpenFinding
from reconciler.model import Finding
from reconciler.modes import Watermarks
from reconciler.repair import RepairOutcome
from reconciler.sources.base import Watermark

SIDES = ("aurora", "saas")


class AuditStore:
    """One audit-store database (migrated with ``reconciler.schema``)."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(self._conninfo, row_factory=dict_row)

    def start_run(
        self,
        run_id: str,
        mode: str,
        systems: Sequence[str],
        started_at: datetime,
        key_from: str | None = None,
        key_to: str | None = None,
    ) -> None:
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO reconcile_run (run_id, mode, systems, key_from, key_to, started_at, status)"
                " VALUES (%s, %s, %s, %s, %s, %s, 'running')",
                (run_id, mode, list(systems), key_from, key_to, started_at),
            )

    def finish_run(
        self,
        run_id: str,
        *,
        finished_at: datetime,
        duration_s: float,
        status: str,
        counts: Mapping[str, Any],
        deferred: Mapping[str, Any],
        rows_read: Mapping[str, Any],
        errors: Sequence[str],
        repairs: Mapping[str, int],
    ) -> None:
        with self.connect() as conn:
            conn.execute(
                "UPDATE reconcile_run SET finished_at = %s, duration_s = %s, status = %s, counts = %s,"
                " deferred = %s, rows_read = %s, errors = %s, repairs = %s WHERE run_id = %s",
                (
                    finished_at,
                    duration_s,
                    status,
                    json.dumps(counts),
                    json.dumps(deferred),
                    json.dumps(rows_read),
                    json.dumps(list(errors)),
                    json.dumps(repairs),
                    run_id,
                ),
            )

    def open_findings(self, system: str) -> list[OpenFinding]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT fingerprint, system, key FROM reconcile_finding"
                " WHERE system = %s AND resolved_at IS NULL",
                (system,),
            ).fetchall()
        return [OpenFinding(r["fingerprint"], r["system"], r["key"]) for r in rows]

    def watermarks(self, system: str) -> Watermarks | None:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT side, updated_at, cursor FROM reconcile_watermark WHERE system = %s", (system,)
            ).fetchall()
        marks = {r["side"]: Watermark(r["updated_at"], r["cursor"]) for r in rows}
        if set(marks) != set(SIDES):
            return None
        return Watermarks(aurora=marks["aurora"], saas=marks["saas"])

    def recheck_keys(self, system: str) -> frozenset[str]:
        with self.connect() as conn:
            rows = conn.execute("SELECT key FROM reconcile_recheck WHERE system = %s", (system,)).fetchall()
        return frozenset(r["key"] for r in rows)

    def commit_system(
        self,
        run_id: str,
        system: str,
        at: datetime,
        current: Iterable[Finding],
        update: LifecycleUpdate,
        marks: Watermarks | None,
        recheck: Mapping[str, str],
        judged: frozenset[str] | None,
    ) -> None:
        """Findings, watermarks and keys to re-check for one system, all or nothing.

        ``recheck`` maps key -> reason for the next run; the keys this run
        judged (``judged``; None: all of the system's keys) leave the list. ``marks`` None keeps the
        watermarks (a key-ranged sweep has not seen the whole system).
        """
        with self.connect() as conn, conn.transaction():
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO reconcile_finding (fingerprint, kind, system, key, field, aurora_value,"
                    " saas_value, saas_ids, detail, first_seen, last_seen, first_run, last_run)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (fingerprint) DO UPDATE SET"
                    " first_seen = CASE WHEN reconcile_finding.resolved_at IS NULL"
                    "   THEN reconcile_finding.first_seen ELSE EXCLUDED.first_seen END,"
                    " first_run = CASE WHEN reconcile_finding.resolved_at IS NULL"
                    "   THEN reconcile_finding.first_run ELSE EXCLUDED.first_run END,"
                    " resolved_at = NULL, last_seen = EXCLUDED.last_seen, last_run = EXCLUDED.last_run,"
                    " aurora_value = EXCLUDED.aurora_value, saas_value = EXCLUDED.saas_value,"
                    " saas_ids = EXCLUDED.saas_ids, detail = EXCLUDED.detail",
                    [
                        (
                            f.fingerprint,
                            f.kind.value,
                            f.system,
                            f.key,
                            f.field,
                            f.aurora_value,
                            f.saas_value,
                            list(f.saas_ids),
                            f.detail,
                            at,
                            at,
                            run_id,
                            run_id,
                        )
                        for f in current
                    ],
                )
            conn.execute(
                "UPDATE reconcile_finding SET resolved_at = %s, last_run = %s WHERE fingerprint = ANY(%s)",
                (at, run_id, list(update.resolved)),
            )
            for side, mark in () if marks is None else (("aurora", marks.aurora), ("saas", marks.saas)):
                conn.execute(
                    "INSERT INTO reconcile_watermark (system, side, updated_at, cursor, run_id)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (system, side) DO UPDATE SET"
                    " updated_at = EXCLUDED.updated_at, cursor = EXCLUDED.cursor, run_id = EXCLUDED.run_id",
                    (system, side, mark.updated_at, mark.cursor, run_id),
                )
            if judged is None:
                conn.execute("DELETE FROM reconcile_recheck WHERE system = %s", (system,))
            else:
                conn.execute(
                    "DELETE FROM reconcile_recheck WHERE system = %s AND key = ANY(%s)",
                    (system, list(judged)),
                )
            self._add_recheck(conn, run_id, system, recheck)

    def add_recheck(self, run_id: str, system: str, keys: Mapping[str, str]) -> None:
        with self.connect() as conn:
            self._add_recheck(conn, run_id, system, keys)

    @staticmethod
    def _add_recheck(
        conn: psycopg.Connection[dict[str, Any]], run_id: str, system: str, keys: Mapping[str, str]
    ) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO reconcile_recheck (system, key, reason, run_id) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (system, key) DO UPDATE SET reason = EXCLUDED.reason, run_id = EXCLUDED.run_id",
                [(system, key, reason, run_id) for key, reason in keys.items()],
            )

    def record_repairs(self, run_id: str, outcomes: Sequence[RepairOutcome], *, planned_only: bool) -> None:
        with self.connect() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO reconcile_repair (run_id, fingerprint, system, key, action, saas_id,"
                " idempotency_key, correlation_id, status, error)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        run_id,
                        o.action.fingerprint,
                        o.action.system,
                        o.action.key,
                        o.action.action.value,
                        o.action.saas_id,
                        o.action.idempotency_key,
                        o.correlation_id,
                        "planned" if planned_only else o.status,
                        o.error,
                    )
                    for o in outcomes
                ],
            )

    def open_finding_rows(self, system: str | None = None) -> list[dict[str, Any]]:
        """Open findings as rows (for the dashboard and tests)."""
        query = "SELECT * FROM reconcile_finding WHERE resolved_at IS NULL"
        params: tuple[Any, ...] = ()
        if system is not None:
            query += " AND system = %s"
            params = (system,)
        with self.connect() as conn:
            return conn.execute(query + " ORDER BY system, key, kind", params).fetchall()

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            return conn.execute("SELECT * FROM reconcile_run WHERE run_id = %s", (run_id,)).fetchone()
