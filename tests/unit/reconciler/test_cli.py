"""``sagawatch reconcile``: exit codes 0/1/2, report formats, dry run and --apply, argument errors."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.lock import run_lock
from sagawatch.settings import get_settings

from .world import insert_rows, mirror_everywhere, row

runner = CliRunner()


@pytest.fixture
def env(
    aurora_url: str,
    audit_url: str,
    saas_urls: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    values = {
        "DATABASE_URL": aurora_url,
        "AUDIT_DATABASE_URL": audit_url,
        "SAGAWATCH_HOME": str(tmp_path / "home"),
        "SAGAWATCH_RECONCILE_SAAS_URLS": json.dumps(saas_urls),
        "SAGAWATCH_RECONCILE_GRACE_S": "0",
        "SAGAWATCH_RECONCILE_RETRY_ATTEMPTS": "2",
        "SAGAWATCH_RECONCILE_MAX_RETRY_WAIT_S": "0.05",
        "SAGAWATCH_RECONCILE_LOCK_WAIT_S": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


@pytest.fixture
def world(aurora_url: str, saas_urls: dict[str, str], admin: httpx.Client) -> None:
    rows = [row(n) for n in range(8)]
    insert_rows(aurora_url, rows)
    mirror_everywhere(admin, saas_urls, rows)


def _drift(aurora_url: str) -> None:
    with psycopg.connect(aurora_url) as conn:
        conn.execute("UPDATE customer SET email = 'someone@example.org' WHERE cust_no = 'C0000002'")


def test_clean_world_exits_0(env: dict[str, str], world: None) -> None:
    result = runner.invoke(app, ["--full"])
    assert result.exit_code == 0, result.output
    assert "**No drift found.**" in result.stdout


def test_drift_exits_1_with_a_json_report(env: dict[str, str], world: None, aurora_url: str) -> None:
    _drift(aurora_url)
    result = runner.invoke(app, ["--full", "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {(f["system"], f["key"], f["field"]) for f in report["findings"]} == {
        (s, "C0000002", "email") for s in ("commerce", "membership", "support")
    }
    assert "someone@example.org" not in result.stdout  # masked
    assert report["summary"]["by_kind"]["field_mismatch"] == 3


def test_csv_to_a_file_and_system_filter(
    env: dict[str, str], world: None, aurora_url: str, tmp_path: Path
) -> None:
    _drift(aurora_url)
    out = tmp_path / "drift.csv"
    result = runner.invoke(app, ["--full", "-s", "support", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["kind"], r["system"], r["key"]) for r in rows] == [("field_mismatch", "support", "C0000002")]
    assert result.stdout == ""


def test_dry_run_prints_the_plan_and_apply_repairs(env: dict[str, str], world: None, aurora_url: str) -> None:
    _drift(aurora_url)
    dry = runner.invoke(app, ["--full"])
    assert dry.exit_code == 1
    assert "## Repair plan (dry run" in dry.stdout and "update support" in dry.stdout
    assert runner.invoke(app, ["--full"]).exit_code == 1  # nothing was written by the dry run
    applied = runner.invoke(app, ["--full", "--apply"])
    assert (
        applied.exit_code == 1 and "## Repairs applied" in applied.stdout and "**applied**" in applied.stdout
    )
    assert runner.invoke(app, []).exit_code == 0  # the incremental run after the repair


def test_unreadable_system_exits_2(
    env: dict[str, str], world: None, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    admin.put(f"{saas_urls['commerce']}/_admin/faults", json={"error_rate": 1.0}).raise_for_status()
    result = runner.invoke(app, ["--full"])
    assert result.exit_code == 2
    assert "error: commerce: GET" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--system", "crm"], "--system: unknown system crm"),
        (["--key-from", "C1"], "--key-from/--key-to: a key range needs --full"),
        (["--delete-orphans"], "--delete-orphans: only takes effect with --apply"),
        (["--output", "/nonexistent/dir/r.md"], "--output: folder /nonexistent/dir does not exist"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(env: dict[str, str], args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_bad_format_exits_2_naming_the_option(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["--format", "xml"])
    assert result.exit_code == 2 and "--format" in result.output


def test_no_stack_and_no_urls_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "AUDIT_DATABASE_URL",
        "SAGAWATCH_DATABASE_URL",
        "SAGAWATCH_AUDIT_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path))
    get_settings.cache_clear()
    result = runner.invoke(app, [])
    get_settings.cache_clear()
    assert result.exit_code == 2 and "no stack is running" in result.stderr


def test_a_run_in_progress_elsewhere_exits_2(env: dict[str, str], world: None, audit_url: str) -> None:
    with run_lock(audit_url):
        result = runner.invoke(app, ["--full"])
    assert result.exit_code == 2 and "another reconciliation is running" in result.stderr
