"""100,000 customers through a full sweep stays under 300 MB of resident memory.

One system (commerce) is enough to show it: systems are reconciled one after
another, each through the same streaming path, and the simulator's paging
(about 35 s per 100,000 records here) would triple the test's time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .world import copy_for, insert_rows, load, row

CUSTOMERS = 100_000
LIMIT_MB = 300
REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_full_sweep_of_100k_customers_stays_under_300_mb(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    rows = [row(n) for n in range(CUSTOMERS)]
    insert_rows(aurora_url, rows)
    load(admin, saas_urls["commerce"], [copy_for("commerce", r) for r in rows])
    del rows
    probe = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.unit.reconciler.memory_probe",
            aurora_url,
            audit_url,
            json.dumps({"commerce": saas_urls["commerce"]}),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    figures = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"full sweep of {CUSTOMERS} customers against commerce: {figures}")
    assert figures["errors"] == [] and figures["findings"] == 0
    assert figures["rows"] == {"commerce": CUSTOMERS}
    assert figures["peak_rss_mb"] < LIMIT_MB
