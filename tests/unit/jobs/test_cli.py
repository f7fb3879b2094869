"""``sagawatch jobs status|dlq|redrive`` against moto, found through a stack file in tmp."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from instrumented_app.jobs.model import Job
from sagawatch.cli import app
from sagawatch.settings import get_settings
from tests.unit.jobs.helpers import MAX_RECEIVES, Aws, FakeMembership, Harness, write_stack_file


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def stack(home: Path, aws: Aws) -> Path:
    """A stack file naming this process (alive) and the test's moto server."""
    write_stack_file(home, aws.endpoint)
    return home


def jobs(harness: Harness, *args: str) -> tuple[int, str, str]:
    names = ["--table", harness.store.table_name]
    if args[0] != "status":
        names += ["--queue", harness.queues.source_url.rsplit("/", 1)[-1]]
    result = CliRunner().invoke(app, ["jobs", *args, *names])
    return result.exit_code, result.stdout, result.stderr


def failed_job(harness: Harness) -> Job:
    job = harness.enqueue("C0BAD")
    for _ in range(MAX_RECEIVES):
        harness.deliver(harness.receive())
    harness.receive()  # moto moves it to the DLQ here
    return job


def test_without_a_running_stack_every_command_says_how_to_start_one(home: Path) -> None:
    for args in (["status", "job_1"], ["dlq"], ["redrive"]):
        result = CliRunner().invoke(app, ["jobs", *args])
        assert result.exit_code == 1
        assert "no stack is running" in result.stderr and "sagawatch up" in result.stderr


def test_status_shows_a_job_and_names_an_unknown_one(stack: Path, harness: Harness) -> None:
    job = failed_job(harness)
    code, out, _ = jobs(harness, "status", job.job_id, "--json")
    assert code == 0
    shown = json.loads(out)
    assert (shown["status"], shown["retry_count"], shown["correlation_id"]) == ("FAILED", 3, "corr-C0BAD")
    code, out, _ = jobs(harness, "status", job.job_id)
    assert code == 0 and "FAILED" in out and "HTTP 503" in out
    code, _, err = jobs(harness, "status", "job_nope")
    assert code == 1 and "job job_nope does not exist" in err


def test_dlq_then_redrive_then_an_empty_dlq(
    stack: Path, harness: Harness, membership: FakeMembership
) -> None:
    code, out, _ = jobs(harness, "dlq")
    assert (code, out.strip()) == (0, "the jobs DLQ is empty")
    job = failed_job(harness)
    code, out, _ = jobs(harness, "dlq", "--json")
    (letter,) = json.loads(out)
    assert (letter["job_id"], letter["correlation_id"], letter["job_status"]) == (
        job.job_id,
        "corr-C0BAD",
        "FAILED",
    )
    code, out, _ = jobs(harness, "redrive", "--max", "5")
    assert code == 0
    assert out.strip() == "redrive (move): 1 moved, 1 jobs reset to PENDING, 0 failed"
    assert jobs(harness, "dlq")[1].strip() == "the jobs DLQ is empty"
    membership.failing.clear()
    assert harness.deliver(harness.receive()) == []
    assert json.loads(jobs(harness, "status", job.job_id, "--json")[1])["status"] == "SUCCEEDED"


def test_a_queue_without_a_dlq_is_named(stack: Path, harness: Harness, aws: Aws) -> None:
    aws.sqs.create_queue(QueueName="jobs-no-dlq")
    result = CliRunner().invoke(app, ["jobs", "dlq", "--queue", "jobs-no-dlq"])
    assert result.exit_code == 1
    assert "queue jobs-no-dlq has no redrive policy, so no DLQ" in result.stderr
    result = CliRunner().invoke(app, ["jobs", "dlq", "--queue", "jobs-missing"])
    assert result.exit_code == 1
    assert "queue jobs-missing does not exist" in result.stderr
