"""The reconciler's figure in CloudWatch: open drift findings, which the standard alarm watches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from sagawatch.contracts.metrics import DRIFT_FINDINGS


def open_findings(audit_url: str) -> int:
    """Findings not resolved by a later run, whatever system or run found them."""
    with psycopg.connect(audit_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT count(*) FROM reconcile_finding WHERE resolved_at IS NULL").fetchone()
    return int(row[0]) if row else 0


def publish_open_findings(cloudwatch: Any, audit_url: str, at: datetime | None = None) -> int:
    """Put the count (0 included, so the alarm can clear) and return it."""
    count = open_findings(audit_url)
    cloudwatch.put_metric_data(
        Namespace=DRIFT_FINDINGS.namespace,
        MetricData=[
            {
                "MetricName": DRIFT_FINDINGS.name,
                "Timestamp": at or datetime.now(UTC),
                "Value": count,
                "Unit": "Count",
            }
        ],
    )
    return count
