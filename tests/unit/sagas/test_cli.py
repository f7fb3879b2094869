"""``sagawatch saga`` against a real PostgreSQL found through DATABASE_URL (no stack running)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from typer.testing import CliRunner

from instrumented_app.sagas.cli import app
from instrumented_app.sagas.compensation import NotCompensable, compensate_saga, compensation_refusal
from instrumented_app.sagas.definition import SagaDefinition
from instrumented_app.sagas.engine import SagaEngine
from instrumented_app.sagas.postgres import PostgresSagaStore
from instrumented_app.sagas.records import SagaRecord
from instrumented_app.sagas.runner import SagaBusy, SagaRunner
from sagawatch.contracts import SagaStatus
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


@contextmanager
def _runner(url: str, definition: SagaDefinition) -> Iterator[SagaRunner]:
    conn = psycopg.connect(url, autocommit=True)
    store = PostgresSagaStore(conn)
    engine = SagaEngine(store, compensation_pause_s=0)
    # compensate_saga uses the store, the engine and the definitions, never the SaaS clients
    yield SagaRunner(conn=conn, clients=cast(Any, None), store=store, engine=engine,
                     definitions={definition.saga_type: definition})  # fmt: skip
    conn.close()


def test_compensate_undoes_a_stuck_saga_including_the_step_it_died_in(aurora: str) -> None:
    make_sagas(aurora)  # stuck-1: RUNNING in step b since an hour, nothing recorded for b yet
    world = World()
    with psycopg.connect(aurora, autocommit=True) as conn:
        conn.execute("UPDATE saga_step SET status = 'SUCCEEDED' WHERE saga_id = 'stuck-1' AND seq = 0")
        conn.execute("UPDATE saga_step SET status = 'RUNNING' WHERE saga_id = 'stuck-1' AND seq = 1")

    with _runner(aurora, world.definition()) as runner:
        record = compensate_saga(runner, "stuck-1")

    assert record.state.status is SagaStatus.COMPENSATED
    assert world.directions("undo") == ["b", "a"]  # b may have written before the process died
    assert [s.status.value for s in record.steps] == ["COMPENSATED", "COMPENSATED", "SKIPPED", "SKIPPED"]


def test_compensate_refuses_an_ended_saga_and_one_past_its_point_of_no_return(aurora: str) -> None:
    make_sagas(aurora)
    world = World()
    with (
        _runner(aurora, world.definition()) as runner,
        pytest.raises(NotCompensable, match="done-1 ended SUCCEEDED"),
    ):
        compensate_saga(runner, "done-1")
    with psycopg.connect(aurora, autocommit=True) as conn:
        conn.execute("UPDATE saga SET status = 'MANUAL_INTERVENTION' WHERE id = 'stuck-1'")
        conn.execute("UPDATE saga_step SET status = 'SUCCEEDED' WHERE saga_id = 'stuck-1' AND seq < 3")
    past_c = SagaDefinition("test", world.definition().steps, point_of_no_return="c")
    with (
        _runner(aurora, past_c) as runner,
        pytest.raises(NotCompensable, match="c cannot be undone by compensation"),
    ):
        compensate_saga(runner, "stuck-1")
    assert world.calls == []  # nothing was undone
    assert "saga runbook stuck-1" in (compensation_refusal(_load_record(aurora, "stuck-1"), past_c) or "")


def _load_record(url: str, saga_id: str) -> SagaRecord:
    with psycopg.connect(url, autocommit=True) as conn:
        return PostgresSagaStore(conn).load(saga_id)


def test_compensate_asks_first(aurora: str) -> None:
    make_sagas(aurora)
    declined = cli.invoke(app, ["compensate", "stuck-1"], input="n\n")
    assert declined.exit_code == 1
    assert "Compensate saga stuck-1" in declined.output
    assert _load_record(aurora, "stuck-1").state.status is SagaStatus.RUNNING


def test_resolve_records_who_and_the_note_and_closes_the_runbook(aurora: str) -> None:
    make_sagas(aurora)
    with psycopg.connect(aurora, autocommit=True) as conn:
        conn.execute(
            "UPDATE saga SET status = 'MANUAL_INTERVENTION', updated_at = now() - interval '1 hour'"
            " WHERE id = 'stuck-1'"
        )
    refused = cli.invoke(app, ["resolve", "done-1", "--note", "nothing"])
    assert refused.exit_code == 1 and "only a saga that ended MANUAL_INTERVENTION or FAILED" in refused.output
    blank = cli.invoke(app, ["resolve", "stuck-1", "--note", "  "])
    assert blank.exit_code == 2 and "--note" in blank.output

    done = cli.invoke(app, ["resolve", "stuck-1", "--note", "merged by hand, OPS-7", "--by", "alice"])

    assert done.exit_code == 0, done.output
    with psycopg.connect(aurora, autocommit=True) as conn:
        runbook = conn.execute(
            "SELECT status, resolved_at FROM saga_runbook WHERE saga_id = 'stuck-1'"
        ).fetchone()
        audit = conn.execute("SELECT event, detail FROM saga_audit_log WHERE saga_id = 'stuck-1'").fetchall()
        status, idle = conn.execute(
            "SELECT status, now() - updated_at < interval '1 minute' FROM saga WHERE id = 'stuck-1'"
        ).fetchone() or (None, None)
    assert runbook is not None and runbook[0] == "RESOLVED" and runbook[1] is not None
    assert audit == [("resolved by hand", {"note": "merged by hand, OPS-7", "by": "alice"})]
    assert (status, idle) == ("MANUAL_INTERVENTION", True)  # touched, so the collectors copy it again


def test_compensate_refuses_a_saga_another_process_is_running(aurora: str) -> None:
    make_sagas(aurora)
    world = World()
    with psycopg.connect(aurora, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtextextended('stuck-1', 0))")  # a worker runs it now
        with _runner(aurora, world.definition()) as runner, pytest.raises(SagaBusy):
            compensate_saga(runner, "stuck-1")
    assert world.calls == []
    assert _load_record(aurora, "stuck-1").state.status is SagaStatus.RUNNING
