"""Jobs from DynamoDB into the audit store: incremental, idempotent, bad items and outages recorded.

DynamoDB is a fake paginator over items in the shape ``instrumented_app.jobs.store`` writes (strings
and numbers as ``S``/``N``, times as UTC ISO text); the audit store is a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from collectors.jobs import JobCollector, job_from_item, newest_job, write_jobs
from collectors.partitions import Partitions
from collectors.retention import enforce
from collectors.settings import RetentionSettings
from collectors.transaction.query import fetch_transaction
from sagawatch.migrations import apply_migrations

TABLE = "sw-async-jobs"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def item(job_id: str, updated: datetime, **fields: Any) -> dict[str, Any]:
    """An item as the app's store writes it (payload included: the collector must leave it behind)."""
    plain: dict[str, Any] = {
        "job_id": job_id,
        "kind": "sync_member",
        "cust_no": "C0001",
        "payload": '{"full_name": "Sato Hana", "email": "hana@example.jp"}',
        "status": "PENDING",
        "correlation_id": f"corr-{job_id}",
        "retry_count": 0,
        "redrive_count": 0,
        "created_at": T0.isoformat(),
        "updated_at": updated.isoformat(),
        "expires_at": int(updated.timestamp()) + 14 * 86400,
        **fields,
    }
    return {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in plain.items()}


class FakeDynamo:
    """``get_paginator("scan")`` over ``items``, two per page, honouring ``updated_at >= :since``."""

    def __init__(self, items: list[dict[str, Any]] | None = None, error: Exception | None = None) -> None:
        self.items = items or []
        self.error = error
        self.requests: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> FakeDynamo:
        assert operation == "scan"
        return self

    def paginate(self, **request: Any) -> Iterator[dict[str, Any]]:
        self.requests.append(request)
        since = request.get("ExpressionAttributeValues", {}).get(":since", {}).get("S")
        chosen = [i for i in self.items if since is None or i["updated_at"]["S"] >= since]
        for start in range(0, max(len(chosen), 1), 2):
            if self.error is not None and start >= 2:
                raise self.error
            yield {"Items": chosen[start : start + 2]}


@pytest.fixture
def audit(fresh_db_url: str) -> Iterator[psycopg.Connection]:
    apply_migrations(fresh_db_url, "collectors.schema")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        yield conn


def collect(conn: psycopg.Connection, dynamo: FakeDynamo) -> tuple[int, list[str]]:
    """One pass as the runner makes it: (rows new or moved forward, error kinds)."""
    result = JobCollector(dynamo, TABLE, overlap_s=60).run(newest_job(conn, TABLE))
    changed = write_jobs(conn, TABLE, result.rows) if result.complete else 0
    return changed, [e.kind for e in result.errors]


def stored(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT job_id, status, retry_count, last_error, updated_at FROM jobs ORDER BY job_id"
    ).fetchall()


def test_an_item_becomes_a_row_without_its_payload_and_with_its_error_masked() -> None:
    row = job_from_item(
        item(
            "j1",
            T0,
            status="FAILED",
            retry_count=3,
            last_error="HTTPError: 500 for hana@example.jp via postgresql://app:hunter2@db/x",
            finished_at=T0.isoformat(),
        )
    )
    assert (row.job_id, row.status, row.retry_count, row.correlation_id) == ("j1", "FAILED", 3, "corr-j1")
    assert row.finished_at == T0 and row.updated_at == T0
    assert row.last_error is not None
    assert "hana@example.jp" not in row.last_error and "hunter2" not in row.last_error
    assert row.last_error.startswith("HTTPError: 500 for ")
    assert "payload" not in row.model_dump()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"status": "LOST"}, "status"),
        ({"retry_count": "many"}, "retry_count"),
        ({"updated_at": "yesterday"}, "updated_at"),
    ],
)
def test_an_item_of_the_wrong_shape_is_refused_naming_the_attribute(
    change: dict[str, str], named: str
) -> None:
    bad = item("j1", T0)
    bad.update({k: {"S": v} for k, v in change.items()})
    with pytest.raises(ValueError, match=named):
        job_from_item(bad)
    without_status = {k: v for k, v in item("j2", T0).items() if k != "status"}
    with pytest.raises(ValueError, match="status"):
        job_from_item(without_status)


def test_passes_are_incremental_and_repeating_one_changes_nothing(audit: psycopg.Connection) -> None:
    dynamo = FakeDynamo([item(f"j{i}", T0 + timedelta(minutes=i)) for i in range(5)])
    assert collect(audit, dynamo) == (5, [])
    assert "FilterExpression" not in dynamo.requests[0]  # the first pass reads everything

    assert collect(audit, dynamo) == (0, [])  # nothing changed: nothing moves
    since = dynamo.requests[1]["ExpressionAttributeValues"][":since"]["S"]
    assert since == (T0 + timedelta(minutes=4) - timedelta(seconds=60)).isoformat()

    failed = T0 + timedelta(minutes=10)
    dynamo.items[1] = item("j1", failed, status="FAILED", retry_count=3, last_error="Timeout: support")
    assert collect(audit, dynamo) == (1, [])
    assert stored(audit)[1] == ("j1", "FAILED", 3, "Timeout: support", failed)
    assert len(stored(audit)) == 5


def test_text_postgresql_refuses_is_replaced_in_a_job(audit: psycopg.Connection) -> None:
    row = job_from_item(
        item("j1", T0, status="FAILED", last_error="bad byte \x00 in reply", correlation_id="c\x00")
    )
    assert write_jobs(audit, TABLE, [row]) == 1
    assert stored(audit)[0][3] == "bad byte \ufffd in reply"


def test_a_stale_copy_never_overwrites_a_newer_row(audit: psycopg.Connection) -> None:
    """Two collectors racing: the one holding an older read of a job must not roll it back."""
    newer = job_from_item(item("j1", T0 + timedelta(minutes=5), status="SUCCEEDED"))
    older = job_from_item(item("j1", T0, status="RUNNING"))
    assert write_jobs(audit, TABLE, [newer]) == 1
    assert write_jobs(audit, TABLE, [older]) == 0
    assert [(r[0], r[1]) for r in stored(audit)] == [("j1", "SUCCEEDED")]


def test_a_malformed_item_is_a_collector_error_and_the_others_are_stored(audit: psycopg.Connection) -> None:
    bad = item("j-bad", T0, retry_count="x")
    bad["retry_count"] = {"S": "x"}
    dynamo = FakeDynamo([item("j0", T0), bad, item("j2", T0)])
    result = JobCollector(dynamo, TABLE, overlap_s=60).run(None)
    assert result.complete and [r.job_id for r in result.rows] == ["j0", "j2"]
    assert [(e.kind, e.source) for e in result.errors] == [("job_shape", f"dynamodb:{TABLE} j-bad")]
    assert "retry_count" in result.errors[0].detail


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}, "Scan"),
    ],
)
def test_a_scan_that_breaks_off_writes_nothing_so_the_watermark_cannot_skip_a_job(
    audit: psycopg.Connection, error: Exception
) -> None:
    dynamo = FakeDynamo([item(f"j{i}", T0 + timedelta(minutes=i)) for i in range(4)], error=error)
    assert collect(audit, dynamo) == (0, ["jobs_unreachable"])
    assert stored(audit) == [] and newest_job(audit, TABLE) is None
    dynamo.error = None
    assert collect(audit, dynamo) == (4, [])


def test_jobs_show_in_the_transaction_view_and_old_ones_go_with_retention(audit: psycopg.Connection) -> None:
    now = datetime.now(UTC)
    write_jobs(
        audit,
        TABLE,
        [
            job_from_item(item("j-new", now, status="FAILED", retry_count=2, last_error="boom")),
            job_from_item(item("j-old", now - timedelta(days=30), status="SUCCEEDED")),
        ],
    )
    view = fetch_transaction(audit, "corr-j-new")
    jobs = [r for r in view.related if r["_table"] == "jobs"]
    assert [(j["job_id"], j["status"], j["retry_count"], j["last_error"]) for j in jobs] == [
        ("j-new", "FAILED", 2, "boom")
    ]
    report = enforce(audit, RetentionSettings(jobs_days=14), Partitions(), now)
    assert report.deleted_rows["jobs"] == 1
    assert [r[0] for r in stored(audit)] == ["j-new"]


def test_the_table_is_scanned_at_most_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("collectors.jobs.time.monotonic", lambda: clock[0])
    collector = JobCollector(FakeDynamo(), TABLE, overlap_s=60, interval_s=30)
    assert collector.due()  # the first pass scans
    clock[0] += 29
    assert not collector.due()
    clock[0] += 2
    assert collector.due()
    assert JobCollector(FakeDynamo(), TABLE, overlap_s=60).due() is True  # no interval: every pass
