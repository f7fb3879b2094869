"""The drift page's data: the latest reconciliation per system, open findings, the trend over runs.

The reconciler writes one ``reconcile_run`` per run (``counts`` is ``{system: {kind: n}}``) and keeps
one ``reconcile_finding`` per drifting fact, open until a later run no longer sees it. Values in
findings are masked by the reconciler; they are masked again here, as every page does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from pydantic import BaseModel

from dashboard.db import fetch_all, table_exists
from dashboard.masking import mask_text

Conn = psycopg.Connection[dict[str, Any]]
#: The reconciler's finding kinds, in the order a report lists them.
KINDS = ("missing_in_saas", "orphan_in_saas", "field_mismatch", "duplicate_in_saas", "stale")
FINDING_ROWS = 500
TREND_RUNS = 50


class SystemRun(BaseModel):
    """The latest run that checked one system, and what it found there."""

    system: str
    run_id: str
    mode: str
    status: str
    started_at: datetime
    duration_s: float | None
    findings: dict[str, int]
    errors: list[str]

    @property
    def total(self) -> int:
        return sum(self.findings.values())


class FindingRow(BaseModel):
    kind: str
    system: str
    key: str
    field: str | None
    aurora_value: str
    saas_value: str
    detail: str
    first_seen: datetime
    last_seen: datetime


class TrendPoint(BaseModel):
    run_id: str
    started_at: datetime
    system: str
    findings: int


def drift_set_up(conn: Conn) -> bool:
    return table_exists(conn, "reconcile_run")


def latest_runs(conn: Conn) -> list[SystemRun]:
    """Per system, the newest run that checked it (a run may check several systems)."""
    rows = fetch_all(
        conn,
        "SELECT DISTINCT ON (s.system) s.system, r.run_id, r.mode, r.status, r.started_at, r.duration_s,"
        " COALESCE(r.counts -> s.system, '{}'::jsonb) AS findings, r.errors"
        " FROM reconcile_run r CROSS JOIN LATERAL unnest(r.systems) AS s(system)"
        " ORDER BY s.system, r.started_at DESC",
    )
    return [
        SystemRun.model_validate(
            {
                **r,
                "findings": {k: int(v) for k, v in (r["findings"] or {}).items()},
                "errors": [mask_text(str(e)) for e in (r["errors"] or [])],
            }
        )
        for r in rows
    ]


def open_counts(conn: Conn) -> dict[tuple[str, str], int]:
    """Open findings per (system, kind)."""
    rows = fetch_all(
        conn,
        "SELECT system, kind, count(*) AS n FROM reconcile_finding WHERE resolved_at IS NULL"
        " GROUP BY system, kind",
    )
    return {(r["system"], r["kind"]): int(r["n"]) for r in rows}


def open_findings(
    conn: Conn, system: str | None = None, kind: str | None = None, limit: int = FINDING_ROWS
) -> list[FindingRow]:
    """Open findings (newest seen first), optionally of one system and kind, both values masked."""
    rows = fetch_all(
        conn,
        "SELECT kind, system, key, field, aurora_value, saas_value, detail, first_seen, last_seen"
        " FROM reconcile_finding WHERE resolved_at IS NULL"
        " AND (%(system)s::text IS NULL OR system = %(system)s)"
        " AND (%(kind)s::text IS NULL OR kind = %(kind)s)"
        " ORDER BY last_seen DESC, system, key LIMIT %(limit)s",
        {"system": system, "kind": kind, "limit": limit},
    )
    return [
        FindingRow.model_validate(
            {
                **r,
                "aurora_value": mask_text(r["aurora_value"]),
                "saas_value": mask_text(r["saas_value"]),
                "detail": mask_text(r["detail"]),
            }
        )
        for r in rows
    ]


def trend(conn: Conn, runs: int = TREND_RUNS) -> list[TrendPoint]:
    """Findings per system in each of the last ``runs`` finished runs, oldest first."""
    rows = fetch_all(
        conn,
        "SELECT r.run_id, r.started_at, s.system,"
        " COALESCE((SELECT sum(v::int) FROM jsonb_each_text(r.counts -> s.system) AS c(k, v)), 0) AS findings"
        " FROM (SELECT * FROM reconcile_run WHERE status <> 'running' ORDER BY started_at DESC LIMIT %s) r"
        " CROSS JOIN LATERAL unnest(r.systems) AS s(system) ORDER BY r.started_at, s.system",
        (runs,),
    )
    return [TrendPoint.model_validate(r) for r in rows]
