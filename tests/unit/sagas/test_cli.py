"""``sagawatch saga`` against a real PostgreSQL found through DATABASE_URL (no stack running)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from instrumented_app.sagas.cli import app
from instrumented_app.sagas.engine import SagaEngine
from instrumented_app.sagas.postgres import PostgresSagaStore
from sagawatch.migrations import apply_migrations
from sagawatch.settings import get_settings
from tests.unit.sagas.fakes import World

cli = CliRunner()


@pytest.fixture
def aurora(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    apply_migrations(fresh_db_url, "instrumented_app.schema")
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path / "no-stack"))
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    yield fresh_db_url
    get_settings.cache_clear()


def make_sagas(url: str) -> None:
    """One saga that succeeded, and one left RUNNING an hour ago (stuck for any threshold)."""
    world = World()
    with psycopg.connect(url, autocommit=True) as conn:
        engine = SagaEngine(PostgresSagaStore(conn))
        definition = world.definition()
        engine.create(definition, saga_id="done-1", correlation_id="c-done", payload={"cust_no": "C1"})
        engine.run(definition, "done-1")
        engine.create(definition, saga_id="stuck-1", correlation_id="c-stuck", payload={"cust_no": "C2"})
        conn.execute(
            "UPDATE saga SET status = 'RUNNING', current_step = 'b', updated_at = %s WHERE id = 'stuck-1'",
            (datetime.now(UTC) - timedelta(hours=1),),
        )


def test_list_shows_sagas_and_filters_by_status(aurora: str) -> None:
    make_sagas(aurora)
    everything = cli.invoke(app, ["list", "--json"])
    assert everything.exit_code == 0, everything.output
    assert {saga["id"] for saga in json.loads(everything.output)} == {"done-1", "stuck-1"}
    succeeded = cli.invoke(app, ["list", "--status", "succeeded"])
    assert "done-1" in succeeded.output and "stuck-1" not in succeeded.output


def test_list_stuck_applies_the_stuck_rule(aurora: str) -> None:
    make_sagas(aurora)
    stuck = cli.invoke(app, ["list", "--stuck", "--json"])
    assert stuck.exit_code == 0, stuck.output
    assert [saga["id"] for saga in json.loads(stuck.output)] == ["stuck-1"]


def test_show_prints_the_steps_and_a_missing_saga_is_exit_1(aurora: str) -> None:
    make_sagas(aurora)
    shown = cli.invoke(app, ["show", "done-1"])
    assert shown.exit_code == 0, shown.output
    assert "SUCCEEDED" in shown.output and "3. d" in shown.output
    missing = cli.invoke(app, ["show", "nope"])
    assert missing.exit_code == 1
    assert "no saga with id 'nope'" in missing.output


def test_a_bad_status_is_refused_naming_the_option(aurora: str) -> None:
    result = cli.invoke(app, ["list", "--status", "DONE"])
    assert result.exit_code == 2
    assert "--status" in result.output and "SUCCEEDED" in result.output


def test_without_a_stack_or_database_url_the_cli_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SAGAWATCH_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = cli.invoke(app, ["list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def test_resume_without_saas_urls_names_the_missing_variables(
    aurora: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SUPPORT", "COMMERCE", "MEMBERSHIP"):
        monkeypatch.delenv(f"SAGAWATCH_{name}_URL", raising=False)
    result = cli.invoke(app, ["resume", "any"])
    assert result.exit_code == 2
    assert "SAGAWATCH_SUPPORT_URL" in result.output and "SAGAWATCH_MEMBERSHIP_URL" in result.output
