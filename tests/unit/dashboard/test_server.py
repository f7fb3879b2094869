"""DashboardServer and the dashboard's plumbing: a real Streamlit process, the audit log, the store URL."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from dashboard.actions import ActionSpec, run_action
from dashboard.db import AuditStoreUnavailable, audit_url
from dashboard.server import DashboardServer
from sagawatch.settings import get_settings


def _port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


@pytest.mark.timeout(120)
def test_the_server_answers_on_loopback_and_stops_cleanly(audit_url: str, tmp_path: Path) -> None:
    server = DashboardServer(audit_url, "127.0.0.1", 0, log_path=tmp_path / "dash.log")

    url = server.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/_stcore/health", trust_env=False).text == "ok"
        assert "<title>" in httpx.get(url, trust_env=False).text
    finally:
        server.stop()

    assert not server.running
    assert not _port_open(url)
    server.stop()  # twice is fine


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [({"host": "0.0.0.0"}, "host"), ({"port": 70000}, "port"), ({"audit_url": ""}, "audit_url")],
)
def test_bad_settings_are_refused_naming_the_field(kwargs: dict[str, Any], named: str) -> None:
    arguments: dict[str, Any] = {"audit_url": "postgresql://x@127.0.0.1/a", **kwargs}

    with pytest.raises(ValueError, match=named):
        DashboardServer(**arguments)


def test_an_action_runs_the_cli_streams_its_output_and_is_audited(
    audit_url: str, audit_conn: psycopg.Connection[Any]
) -> None:
    seen: list[str] = []

    result = run_action(
        ActionSpec(action="help", target="cli", args=("--help",)), url=audit_url, on_line=seen.append
    )

    assert result.ok and any("Usage" in line for line in seen)
    row = audit_conn.execute("SELECT * FROM dashboard_actions WHERE id = %s", (result.action_id,)).fetchone()
    assert row is not None
    assert (row["operator"], row["status"], row["exit_code"]) == ("test-operator", "succeeded", 0)
    assert row["command"] == ["sagawatch", "--help"]
    assert "Usage" in row["output"]


def test_an_action_past_its_time_limit_is_stopped_and_recorded_failed(
    audit_url: str, audit_conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "dashboard.actions.command_line", lambda spec: [sys.executable, "-c", "import time; time.sleep(30)"]
    )

    result = run_action(ActionSpec(action="slow", args=("x",)), url=audit_url, timeout_s=1)

    assert not result.ok
    assert "stopped: still running after 1 s" in result.output
    row = audit_conn.execute(
        "SELECT status FROM dashboard_actions WHERE id = %s", (result.action_id,)
    ).fetchone()
    assert row == {"status": "failed"}


def test_blank_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="args"):
        ActionSpec(action="x", args=("saga", " "))


def test_the_store_is_found_from_the_environment_else_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SAGAWATCH_AUDIT_URL", "postgresql://a@127.0.0.1/audit")
    assert audit_url() == "postgresql://a@127.0.0.1/audit"

    for name in ("SAGAWATCH_AUDIT_URL", "AUDIT_DATABASE_URL", "SAGAWATCH_AUDIT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(AuditStoreUnavailable, match="SAGAWATCH_AUDIT_URL or AUDIT_DATABASE_URL"):
            audit_url()
    finally:
        get_settings.cache_clear()


@pytest.mark.timeout(120)
def test_sagawatch_dashboard_serves_until_interrupted(fresh_db_url: str, tmp_path: Path) -> None:
    import os
    import re
    import signal
    import subprocess

    from sagawatch.migrations import apply_migrations
    from tests.unit.dashboard.conftest import AUDIT_PACKAGES

    for package in AUDIT_PACKAGES[:-1]:  # an audit store as `sagawatch up` makes it, less the dashboard's
        apply_migrations(fresh_db_url, package)

    env = {**os.environ, "SAGAWATCH_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sagawatch", "dashboard", "--port", "0", "--audit-url", fresh_db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"dashboard on (http://127\.0\.0\.1:\d+)", first)
        assert found, first
        assert httpx.get(f"{found.group(1)}/_stcore/health", trust_env=False).text == "ok"
        with psycopg.connect(fresh_db_url) as conn:  # its audit-log table was made on the way up
            assert conn.execute("SELECT to_regclass('dashboard_actions') IS NOT NULL").fetchone() == (True,)
    finally:
        process.send_signal(signal.SIGINT)
        try:  # Ctrl-C stops it in about a second; a loaded 2-core machine took over 30 s once
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            raise AssertionError(f"sagawatch dashboard still running 60 s after Ctrl-C:\n{output}") from None
    assert process.returncode == 0, output
    assert "stopping the dashboard" in output
    assert not _port_open(found.group(1))
