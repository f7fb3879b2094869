"""The reconciler's writes to (and reads from) the audit store: runs, findings, watermarks, repairs.

Findings stream in: a run upserts them in batches of ``FINDING_BATCH``
(``SystemWrite.add``) as the diff yields them, then resolves, through
``lifecycle.to_resolve``, the open findings it judged and did not see again;
all of one system in one transaction together with the new watermarks and
the keys to re-check, so a run that fails half-way leaves the previous
state whole. Reports and repairs read a run's findings back in batches
(``run_findings``), so no step holds them all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from reconciler.lifecycle import OpenFinding, Scope, to_resolve
from reconciler.model import DriftKind, Finding
from reconciler.modes import Watermarks
from reconciler.repair import RepairOutcome
from reconciler.sources.base import Watermark

SIDES = ("aurora", "saas")
#: Findings per round trip, both ways: memory holds one batch, whatever the number of findings.
FINDING_BATCH = 5_000
_REPAIR_ORDER = (
    "CASE kind WHEN 'orphan_in_saas' THEN 0 WHEN 'duplicate_in_saas' THEN 1"
    " WHEN 'missing_in_saas' THEN 3 ELSE 2 END, system, key, kind, field"
)
_FINDING_COLUMNS = (
    "fingerprint, kind, system, key, field, aurora_value, saas_value, saas_ids, detail,"
    " first_seen, last_seen, first_run, last_run"
)
#: A batch arrives by COPY into a temporary table, then one upsert: a round trip per batch, not per row.
_STAGE = (
    "CREATE TEMPORARY TABLE reconcile_finding_in (LIKE reconcile_finding INCLUDING DEFAULTS) ON COMMIT DROP"
)
_UPSERT = (
    f"INSERT INTO reconcile_finding ({_FINDING_COLUMNS})"
    f" SELECT {_FINDING_COLUMNS} FROM reconcile_finding_in"
    " ON CONFLICT (fingerprint) DO UPDATE SET"
    " first_seen = CASE WHEN reconcile_finding.resolved_at IS NULL"
    "   THEN reconcile_finding.first_seen ELSE EXCLUDED.first_seen END,"
    " first_run = CASE WHEN reconcile_finding.resolved_at IS NULL"
    "   THEN reconcile_finding.first_run ELSE EXCLUDED.first_run END,"
    " resolved_at = NULL, last_seen = EXCLUDED.last_seen, last_run = EXCLUDED.last_run,"
    " aurora_value = EXCLUDED.aurora_value, saas_value = EXCLUDED.saas_value,"
    " saas_ids = EXCLUDED.saas_ids, detail = EXCLUDED.detail"
)


class SystemWrite:
    """One system's findings of one run, upserted batch by batch inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]], run_id: str, system: str, at: datetime):
        self._conn = conn
        self._run_id = run_id
        self._system = system
        self._at = at
        self._staged = False

    def add(self, findings: Sequence[Finding]) -> None:
        """Upsert a batch: new fingerprints open, open ones are seen again, resolved ones re-open."""
        if not findings:
            return
        at, run_id, conn = self._at, self._run_id, self._conn
        unique = {f.fingerprint: f for f in findings}  # one upsert may touch a row only once
        if not self._staged:
            conn.execute(_STAGE)
            self._staged = True
        else:
            conn.execute("TRUNCATE reconcile_finding_in")
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY reconcile_finding_in ({_FINDING_COLUMNS}) FROM STDIN") as copy,
        ):
            for f in unique.values():
                copy.write_row(
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
                )
        conn.execute(_UPSERT)

    def finish(
        self,
        scope: Scope,
        marks: Watermarks | None,
        recheck: Mapping[str, str],
        judged: frozenset[str] | None,
    ) -> tuple[int, int]:
        """Resolve what this run judged and no longer sees; store watermarks and re-check keys.

        ``recheck`` maps key -> reason for the next run; the keys this run judged (``judged``;
        None: all of the system's keys) leave the list. ``marks`` None keeps the watermarks (a
        key-ranged sweep has not seen the whole system). Returns (opened, resolved) counts.
        """
        conn, system, run_id = self._conn, self._system, self._run_id
        resolved = 0
        with conn.cursor(name="reconcile_not_seen") as cursor:
            cursor.execute(
                "SELECT fingerprint, system, key FROM reconcile_finding"
                " WHERE system = %s AND resolved_at IS NULL AND last_run <> %s",
                (system, run_id),
            )
            while rows := cursor.fetchmany(FINDING_BATCH):
                gone = to_resolve((OpenFinding(r["fingerprint"], r["system"], r["key"]) for r in rows), scope)
                if gone:
                    conn.execute(
                        "UPDATE reconcile_finding SET resolved_at = %s, last_run = %s"
                        " WHERE fingerprint = ANY(%s)",
                        (self._at, run_id, gone),
                    )
                    resolved += len(gone)
        opened_row = conn.execute(
            "SELECT count(*) AS n FROM reconcile_finding"
            " WHERE system = %s AND first_run = %s AND last_run = %s AND resolved_at IS NULL",
            (system, run_id, run_id),
        ).fetchone()
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
                "DELETE FROM reconcile_recheck WHERE system = %s AND key = ANY(%s)", (system, list(judged))
            )
        AuditStore.insert_recheck(conn, run_id, system, recheck)
        return (int(opened_row["n"]) if opened_row else 0), resolved


def _finding(row: Mapping[str, Any]) -> Finding:
    return Finding(
        kind=DriftKind(row["kind"]),
        system=row["system"],
        key=row["key"],
        field=row["field"],
        aurora_value=row["aurora_value"],
        saas_value=row["saas_value"],
        saas_ids=tuple(row["saas_ids"] or ()),
        detail=row["detail"],
    )


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

    @contextmanager
    def system_write(self, run_id: str, system: str, at: datetime) -> Iterator[SystemWrite]:
        """One system's share of a run, written as it streams and committed whole on a clean exit.

        One connection and one transaction: a run that fails half-way (an exception out of the
        block) leaves the previous findings, watermarks and re-check keys as they were.
        """
        with self.connect() as conn, conn.transaction():
            yield SystemWrite(conn, run_id, system, at)

    def run_findings(self, run_id: str, *, for_repair: bool = False) -> Iterator[list[Finding]]:
        """The open findings run ``run_id`` reported, in batches of ``FINDING_BATCH`` (a server-side cursor).

        In report order (system, key, kind, field), or with ``for_repair`` in repair order: orphans
        and duplicates first (their deletes free unique values), then mismatches, then missing copies.
        """
        order = _REPAIR_ORDER if for_repair else "system, key, kind, field"
        query = (
            "SELECT kind, system, key, field, aurora_value, saas_value, saas_ids, detail"
            f" FROM reconcile_finding WHERE last_run = %s AND resolved_at IS NULL ORDER BY {order}"
        )
        with (
            self.connect() as conn,
            conn.transaction(),
            conn.cursor(name="reconcile_run_findings") as cursor,
        ):
            cursor.execute(query, (run_id,))
            while rows := cursor.fetchmany(FINDING_BATCH):
                yield [_finding(row) for row in rows]

    def add_recheck(self, run_id: str, system: str, keys: Mapping[str, str]) -> None:
        with self.connect() as conn:
            self.insert_recheck(conn, run_id, system, keys)

    @staticmethod
    def insert_recheck(
        conn: psycopg.Connection[dict[str, Any]], run_id: str, system: str, keys: Mapping[str, str]
    ) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO reconcile_recheck (system, key, reason, run_id) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (system, key) DO UPDATE SET reason = EXCLUDED.reason, run_id = EXCLUDED.run_id",
                [(system, key, reason, run_id) for key, reason in keys.items()],
            )

    def record_repairs(self, run_id: str, outcomes: Sequence[RepairOutcome], *, planned_only: bool) -> None:
        """One batch of repair actions and their outcomes, by COPY (a plan can hold a finding's worth)."""
        if not outcomes:
            return
        columns = (
            "run_id, fingerprint, system, key, action, saas_id,"
            " idempotency_key, correlation_id, status, error"
        )
        with (
            self.connect() as conn,
            conn.cursor() as cur,
            cur.copy(f"COPY reconcile_repair ({columns}) FROM STDIN") as copy,
        ):
            for o in outcomes:
                copy.write_row(
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
