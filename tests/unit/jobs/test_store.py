"""The job store on DynamoDB (moto over HTTP): each change is guarded so a success is final."""

from __future__ import annotations

import pytest

from instrumented_app.jobs.model import JobStatus, new_job
from instrumented_app.jobs.store import DynamoJobStore, JobNotFound
from tests.unit.jobs.helpers import StepClock, job_request


def make(store: DynamoJobStore, clock: StepClock, job_id: str = "job_1") -> None:
    store.create(new_job(job_id, job_request(phone="+81 90 1234 5678"), "corr-1", clock()))


def test_a_job_reads_back_as_it_was_created(store: DynamoJobStore) -> None:
    clock = StepClock()
    created = new_job("job_1", job_request(), "corr-1", clock())
    store.create(created)
    assert store.get("job_1") == created
    assert store.get("job_unknown") is None


def test_a_second_job_with_the_same_id_is_refused(store: DynamoJobStore) -> None:
    clock = StepClock()
    make(store, clock)
    with pytest.raises(ValueError, match="job_id: job_1 is already taken"):
        make(store, clock)


def test_a_job_runs_then_succeeds_with_its_result(store: DynamoJobStore) -> None:
    clock = StepClock()
    make(store, clock)
    running = store.start("job_1", clock())
    assert running is not None
    assert running.status is JobStatus.RUNNING
    assert running.started_at is not None
    store.succeed("job_1", {"member_id": "mbr_1", "count": 2}, clock())
    done = store.get("job_1")
    assert done is not None
    assert done.status is JobStatus.SUCCEEDED
    assert done.result == {"member_id": "mbr_1", "count": 2}
    assert done.finished_at is not None and done.finished_at > running.updated_at


def test_a_succeeded_job_is_not_started_again_nor_failed_later(store: DynamoJobStore) -> None:
    clock = StepClock()
    make(store, clock)
    store.start("job_1", clock())
    store.succeed("job_1", {"member_id": "mbr_1"}, clock())
    assert store.start("job_1", clock()) is None
    store.fail("job_1", "late duplicate failed", 2, JobStatus.PENDING, clock())
    store.succeed("job_1", {"member_id": "mbr_2"}, clock())
    job = store.get("job_1")
    assert job is not None
    assert (job.status, job.result, job.last_error) == (JobStatus.SUCCEEDED, {"member_id": "mbr_1"}, None)


def test_failures_record_the_retry_count_and_last_error(store: DynamoJobStore) -> None:
    clock = StepClock()
    make(store, clock)
    store.start("job_1", clock())
    store.fail("job_1", "HTTP 503", 1, JobStatus.PENDING, clock())
    pending = store.get("job_1")
    assert pending is not None
    assert (pending.status, pending.retry_count, pending.last_error) == (JobStatus.PENDING, 1, "HTTP 503")
    assert pending.finished_at is None
    store.start("job_1", clock())
    store.fail("job_1", "HTTP 500", 3, JobStatus.FAILED, clock())
    failed = store.get("job_1")
    assert failed is not None
    assert (failed.status, failed.retry_count, failed.last_error) == (JobStatus.FAILED, 3, "HTTP 500")
    assert failed.finished_at is not None


def test_a_redrive_resets_only_a_failed_job(store: DynamoJobStore) -> None:
    clock = StepClock()
    make(store, clock)
    assert store.reset_for_redrive("job_1", clock()) is False  # PENDING: left alone
    store.fail("job_1", "HTTP 500", 3, JobStatus.FAILED, clock())
    assert store.reset_for_redrive("job_1", clock()) is True
    job = store.get("job_1")
    assert job is not None
    assert (job.status, job.redrive_count, job.last_error) == (JobStatus.PENDING, 1, "HTTP 500")
    assert job.finished_at is None


def test_changing_an_unknown_job_says_so(store: DynamoJobStore) -> None:
    clock = StepClock()
    with pytest.raises(JobNotFound, match="job job_x does not exist"):
        store.start("job_x", clock())
    with pytest.raises(JobNotFound):
        store.fail("job_x", "boom", 1, JobStatus.PENDING, clock())
    with pytest.raises(JobNotFound):
        store.reset_for_redrive("job_x", clock())
