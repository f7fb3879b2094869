"""A whole reconciliation against real PostgreSQL and the simulators: modes, lifecycle, repairs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import psycopg
import pytest

from reconciler.config import Endpoints, ReconcileSettings
from reconciler.run import Mode, Reconciler, RunOptions
from reconciler.store import AuditStore
from reconciler.wiring import open_reconciler

from .drift import as_expected, baseline, inject
from .world import SYSTEMS

SIZE = 60
PER_KIND = 6
SETTINGS = ReconcileSettings(grace_s=0, retry_attempts=6, max_retry_wait_s=1.0, sort_chunk_size=100)


@contextmanager
def reconciler(aurora_url: str, audit_url: str, urls: dict[str, str]) -> Iterator[Reconciler]:
    with open_reconciler(Endpoints(aurora_url, audit_url, dict(urls)), SETTINGS) as rec:
        yield rec


def options(mode: Mode, **kw: object) -> RunOptions:
    return RunOptions(mode=mode, systems=SYSTEMS, grace=timedelta(0), **kw)  # type: ignore[arg-type]


def test_both_modes_find_exactly_the_injected_drift_and_apply_repairs_it(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    baseline(aurora_url, admin, saas_urls, SIZE)
    with reconciler(aurora_url, audit_url, saas_urls) as rec:
        first = rec.run(options(Mode.INCREMENTAL))  # no watermarks yet: a full sweep
        assert (first.status, first.findings, first.deferred) == ("clean", [], [])
        assert all(s.swept for s in first.systems)

        injected = inject(aurora_url, admin, saas_urls, SIZE, PER_KIND)
        incremental = rec.run(options(Mode.INCREMENTAL))
        assert not any(s.swept for s in incremental.systems)
        assert as_expected(incremental.findings) == injected.expected
        assert {d.key for d in incremental.deferred} == injected.in_flight
        assert incremental.exit_code == 1

        full = rec.run(options(Mode.FULL))
        assert as_expected(full.findings) == injected.expected
        assert {f.fingerprint for f in full.findings} == {f.fingerprint for f in incremental.findings}

        store = AuditStore(audit_url)
        assert len(store.open_finding_rows()) == len(injected.expected)
        dry_plan = full.plan
        assert dry_plan and not full.repairs  # a dry run plans only

        applied = rec.run(options(Mode.FULL, apply=True, delete_orphans=True))
        assert {o.status for o in applied.repairs} == {"applied"}, [o.error for o in applied.repairs]
        after = rec.run(options(Mode.INCREMENTAL))
        assert (after.status, after.findings) == ("clean", [])
        assert {d.key for d in after.deferred} == injected.in_flight
        assert store.open_finding_rows() == []
        again = rec.run(options(Mode.FULL))
        assert (again.status, again.findings) == ("clean", [])

    with psycopg.connect(audit_url) as conn:
        runs = conn.execute("SELECT mode, status FROM reconcile_run ORDER BY started_at").fetchall()
        resolved = conn.execute(
            "SELECT count(*) FROM reconcile_finding WHERE resolved_at IS NOT NULL"
        ).fetchone()
        repairs = conn.execute(
            "SELECT count(*), count(DISTINCT correlation_id) FROM reconcile_repair WHERE status = 'applied'"
        ).fetchone()
    assert runs == [
        ("incremental", "clean"),
        ("incremental", "drift"),
        ("full", "drift"),
        ("full", "drift"),
        ("incremental", "clean"),
        ("full", "clean"),
    ]
    assert resolved is not None and resolved[0] == len(injected.expected)
    assert repairs is not None and repairs[0] == repairs[1] == len(applied.repairs)


def test_finding_stays_open_across_runs_and_resolves_when_fixed(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    baseline(aurora_url, admin, saas_urls, 10)
    with psycopg.connect(aurora_url) as conn:
        conn.execute("UPDATE customer SET phone = '090-5555-0001' WHERE cust_no = 'C0000003'")
    with reconciler(aurora_url, audit_url, saas_urls) as rec:
        one = rec.run(options(Mode.FULL))
        two = rec.run(options(Mode.FULL))
        store = AuditStore(audit_url)
        (first_row, *_) = store.open_finding_rows("support")
        assert (first_row["first_run"], first_row["last_run"]) == (one.run_id, two.run_id)
        assert first_row["first_seen"] < first_row["last_seen"]
        assert "5555" not in (first_row["aurora_value"] or "")  # masked in the store too
        # Aurora's phone goes back (a fresh change): the mismatches resolve; the SaaS copies, a day
        # older than that change, are now stale until a sync touches them.
        with psycopg.connect(aurora_url) as conn:
            conn.execute(
                "UPDATE customer SET phone = '090-1000-0003', updated_at = now() WHERE cust_no = 'C0000003'"
            )
        rec.run(options(Mode.INCREMENTAL))
        assert {(r["kind"], r["system"]) for r in store.open_finding_rows()} == {
            ("stale", s) for s in SYSTEMS
        }
        with psycopg.connect(audit_url) as conn:
            closed = conn.execute(
                "SELECT kind, field FROM reconcile_finding WHERE resolved_at IS NOT NULL"
            ).fetchall()
        assert closed == [("field_mismatch", "phone")] * 3


def test_a_failing_system_is_an_error_and_the_others_are_still_judged(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    baseline(aurora_url, admin, saas_urls, 5)
    with psycopg.connect(aurora_url) as conn:
        conn.execute("UPDATE customer SET email = 'x@example.org' WHERE cust_no = 'C0000001'")
    admin.put(f"{saas_urls['membership']}/_admin/faults", json={"error_rate": 1.0}).raise_for_status()
    with reconciler(aurora_url, audit_url, saas_urls) as rec:
        result = rec.run(options(Mode.FULL))
    assert result.exit_code == 2
    assert [e.split(":")[0] for e in result.errors] == ["membership"]
    assert {(f.system, f.key) for f in result.findings} == {("commerce", "C0000001"), ("support", "C0000001")}
    with psycopg.connect(audit_url) as conn:
        marks = conn.execute("SELECT DISTINCT system FROM reconcile_watermark ORDER BY system").fetchall()
        status = conn.execute("SELECT status, errors FROM reconcile_run").fetchone()
    assert marks == [("commerce",), ("support",)]  # the failed system keeps its previous state
    assert status is not None and status[0] == "error" and "membership" in status[1][0]


def test_key_range_sweep_judges_only_its_range(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    baseline(aurora_url, admin, saas_urls, 10)
    with psycopg.connect(aurora_url) as conn:
        conn.execute("UPDATE customer SET email = lower(cust_no) || '@example.org'")
    with reconciler(aurora_url, audit_url, saas_urls) as rec:
        result = rec.run(options(Mode.FULL, key_from="C0000002", key_to="C0000004"))
    assert sorted({f.key for f in result.findings}) == ["C0000002", "C0000003"]


def test_incremental_with_key_range_is_refused() -> None:
    with pytest.raises(ValueError, match="key_from/key_to: a key range needs the full mode"):
        RunOptions(mode=Mode.INCREMENTAL, systems=SYSTEMS, key_from="C1")


def test_incremental_sees_a_soft_deleted_user_and_leaves_keyless_orphans_to_the_sweep(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    baseline(aurora_url, admin, saas_urls, 5)
    with reconciler(aurora_url, audit_url, saas_urls) as rec:
        rec.run(options(Mode.FULL))
        support = saas_urls["support"]
        user = admin.get(f"{support}/api/v2/users/show_many.json", params={"external_ids": "C0000001"}).json()
        admin.delete(f"{support}/api/v2/users/{user['users'][0]['id']}.json").raise_for_status()
        answer = admin.post(
            f"{support}/api/v2/users.json", json={"user": {"name": "No Key", "email": "nk@x.jp"}}
        )
        answer.raise_for_status()

        incremental = rec.run(options(Mode.INCREMENTAL))
        assert as_expected(incremental.findings) == {("missing_in_saas", "support", "C0000001", None)}
        full = rec.run(options(Mode.FULL))
        assert as_expected(full.findings) == {
            ("missing_in_saas", "support", "C0000001", None),
            ("orphan_in_saas", "support", "", None),
        }
        # Nothing changed since: the keyless orphan is not judged, so not resolved. (The deleted user may
        # be read again: SaaS watermarks are floored to the second, and reading more is harmless.)
        again = rec.run(options(Mode.INCREMENTAL))
    assert as_expected(again.findings) <= {("missing_in_saas", "support", "C0000001", None)}
    open_rows = {(r["kind"], r["key"]) for r in AuditStore(audit_url).open_finding_rows()}
    assert open_rows == {("missing_in_saas", "C0000001"), ("orphan_in_saas", "")}


def test_findings_stream_to_the_store_in_batches_and_the_result_keeps_only_a_few(
    aurora_url: str,
    audit_url: str,
    saas_urls: dict[str, str],
    admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler import run as run_module
    from reconciler import store as store_module

    for module in (run_module, store_module):
        monkeypatch.setattr(module, "FINDING_BATCH", 4)
    baseline(aurora_url, admin, saas_urls, 10)
    with psycopg.connect(aurora_url) as conn:
        conn.execute("UPDATE customer SET email = lower(cust_no) || '@example.org'")
    store = AuditStore(audit_url)
    with reconciler(aurora_url, audit_url, saas_urls) as rec:
        result = rec.run(options(Mode.FULL, keep=3))
        assert (result.status, result.finding_count, len(result.findings)) == ("drift", 30, 9)
        assert (result.planned, len(result.plan)) == (30, 3)
        batches = [len(batch) for batch in store.run_findings(result.run_id)]
        assert batches == [4] * 7 + [2]
        assert len(store.open_finding_rows()) == 30
        with psycopg.connect(audit_url) as conn:
            planned = conn.execute(
                "SELECT count(*) FROM reconcile_repair WHERE status = 'planned'"
            ).fetchone()
        assert planned == (30,)

        with psycopg.connect(aurora_url) as conn:  # the e-mails go back: every finding resolves
            conn.execute("UPDATE customer SET email = 'taro' || (substr(cust_no, 2))::int || '@example.com'")
        clean = rec.run(options(Mode.FULL, keep=3))
    assert (clean.status, clean.finding_count) == ("clean", 0)
    assert store.open_finding_rows() == []
