"""The reconciler against a running ``sagawatch up``, as an operator runs it: every drift kind, both modes,
in-flight sagas left alone, ``--apply`` repairs it, and the next runs are clean."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import psycopg
import pytest

from tests.stack.conftest import REPO, SAGAWATCH, RunningStack, module_stack
from tests.unit.reconciler.drift import as_expected, baseline, inject

pytestmark = pytest.mark.slow

CUSTOMERS = 200
PER_KIND = 20


stack = module_stack("reconciler")


def reconcile(stack: RunningStack, *args: str) -> tuple[int, dict[str, Any], str]:
    env = stack.env() | {"SAGAWATCH_RECONCILE_GRACE_S": "0"}
    done = subprocess.run(
        [*SAGAWATCH, "reconcile", "--format", "json", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report, done.stderr


def test_every_injected_drift_is_found_by_both_modes_and_apply_repairs_it(stack: RunningStack) -> None:
    aurora_url, urls = str(stack.info["aurora_url"]), stack.saas_urls()
    with httpx.Client(timeout=60) as client:
        baseline(aurora_url, client, urls, CUSTOMERS)
        code, report, err = reconcile(stack)
        assert (code, report["findings"]) == (0, []), err
        injected = inject(aurora_url, client, urls, CUSTOMERS, PER_KIND)

    code, incremental, err = reconcile(stack)
    assert code == 1, err
    assert as_expected(incremental["findings"]) == injected.expected
    assert {d["key"] for d in incremental["deferred"]} == injected.in_flight
    assert all(d["reason"] == "in_flight_saga" for d in incremental["deferred"])
    by_kind = incremental["summary"]["by_kind"]
    assert by_kind["duplicate_in_saas"] == by_kind["orphan_in_saas"] == by_kind["missing_in_saas"] == PER_KIND

    code, full, err = reconcile(stack, "--full")
    assert code == 1, err
    assert as_expected(full["findings"]) == injected.expected
    assert {d["key"] for d in full["deferred"]} == injected.in_flight

    code, _, err = reconcile(stack, "--full", "--apply", "--delete-orphans")
    assert code == 1, err
    with psycopg.connect(str(stack.info["audit_url"])) as conn:
        statuses: dict[str, int] = dict(
            conn.execute("SELECT status, count(*) FROM reconcile_repair GROUP BY status").fetchall()
        )
        headers = conn.execute(
            "SELECT count(*) FROM reconcile_repair WHERE status = 'applied'"
            " AND idempotency_key LIKE 'reconcile-%%' AND correlation_id IS NOT NULL"
        ).fetchone()
        sent = conn.execute(
            "SELECT system, idempotency_key, correlation_id FROM reconcile_repair WHERE status = 'applied'"
        ).fetchall()
    assert set(statuses) == {"planned", "applied"}, statuses  # planned by the dry runs; none failed
    assert headers is not None and headers[0] == statuses["applied"]
    with httpx.Client(timeout=60) as client:
        for system, url in urls.items():
            writes = client.get(f"{url}/_admin/writes", params={"limit": 10_000}).json()["writes"]
            seen = {
                (w["idempotency_key"], w["correlation_id"])
                for w in writes
                if (w["idempotency_key"] or "").startswith("reconcile-")
            }
            assert seen == {(k, c) for s, k, c in sent if s == system}  # both headers reached the SaaS

    code, after, err = reconcile(stack)
    assert (code, after["findings"]) == (0, []), err
    assert {d["key"] for d in after["deferred"]} == injected.in_flight
    code, after_full, err = reconcile(stack, "--full")
    assert (code, after_full["findings"]) == (0, []), err
