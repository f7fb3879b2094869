"""A pass with every source unreachable but the audit store: errors recorded per kind, nothing raised."""

from __future__ import annotations

import psycopg
import pytest

from collectors.runner import Collector
from sagawatch.migrations import apply_migrations
from sagawatch.settings import Settings
from sagawatch.stack_info import StackInfo

NOWHERE = "http://127.0.0.1:1"  # loopback port 1: refused at once


def stack(audit_url: str) -> StackInfo:
    return StackInfo(
        pid=1,
        started_at="2026-11-24T06:00:00Z",
        region="us-east-1",
        aws_endpoint=NOWHERE,
        api_endpoint=NOWHERE,
        otlp_endpoint=NOWHERE,
        aurora_url="postgresql://postgres:secret@127.0.0.1:1/aurora",
        audit_url=audit_url,
    )


def test_every_source_down_is_recorded_and_the_pass_ends(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no retry backoff against a closed port
    apply_migrations(fresh_db_url, "collectors.schema")
    report = Collector(Settings(), stack(fresh_db_url)).run_once()
    kinds = {e.kind for e in report.errors}
    assert {
        "logs_unreachable",
        "queue_unreachable",
        "aurora_unreachable",
        "stepfunctions_unreachable",
        "jobs_unreachable",
    } <= kinds
    assert "metrics_unreachable" in kinds
    assert report.counts["log_lines"] == 0 and report.counts["sagas"] == 0
    assert all("secret" not in e.detail for e in report.errors)  # the Aurora password stays out
    with psycopg.connect(fresh_db_url) as conn:
        stored = {r[0] for r in conn.execute("SELECT DISTINCT kind FROM collector_errors").fetchall()}
    assert stored == kinds


def test_an_unreachable_audit_store_fails_the_pass_with_a_clear_error() -> None:
    collector = Collector(Settings(), stack("postgresql://postgres:secret@127.0.0.1:1/audit"))
    with pytest.raises(RuntimeError, match="cannot reach the audit store") as failure:
        collector.run_once()
    assert "secret" not in str(failure.value)
