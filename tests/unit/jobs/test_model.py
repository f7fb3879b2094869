"""The job's rules and shapes, as pure functions."""

from __future__ import annotations

import pytest

from instrumented_app.jobs.model import (
    MAX_ERROR_CHARS,
    JobStatus,
    new_job,
    short_error,
    status_after_failure,
    utc_now,
)
from instrumented_app.jobs.requests import RequestInvalid, parse_request
from tests.unit.jobs.helpers import job_request


@pytest.mark.parametrize(
    ("receive_count", "max_receive_count", "expected"),
    [
        (1, 3, JobStatus.PENDING),
        (2, 3, JobStatus.PENDING),
        (3, 3, JobStatus.FAILED),
        (4, 3, JobStatus.FAILED),  # a queue whose policy was lowered meanwhile
        (50, None, JobStatus.PENDING),  # no DLQ: the queue retries until retention ends
    ],
)
def test_a_failed_attempt_leaves_the_job_pending_until_the_queues_last_delivery(
    receive_count: int, max_receive_count: int | None, expected: JobStatus
) -> None:
    assert status_after_failure(receive_count, max_receive_count) is expected


def test_a_request_with_a_bad_cust_no_is_refused_naming_the_field() -> None:
    with pytest.raises(RequestInvalid) as caught:
        parse_request({"kind": "sync_member", "cust_no": "no spaces!", "payload": {"full_name": "A"}})
    assert [field for field, _ in caught.value.problems] == ["cust_no"]


def test_a_request_with_an_unknown_kind_is_refused_naming_the_kinds() -> None:
    with pytest.raises(RequestInvalid) as caught:
        parse_request({"kind": "drop_tables", "cust_no": "C1", "payload": {"full_name": "A"}})
    assert caught.value.problems == [("kind", "must be one of sync_member, create_customer")]


def test_field_names_are_paths_in_the_body_without_the_kinds_branch() -> None:
    with pytest.raises(RequestInvalid) as caught:
        parse_request(
            {
                "kind": "create_customer",
                "cust_no": "C1",
                "payload": {"name": {"family": ""}, "email": "x"},
                "x": 1,
            }
        )
    fields = {field for field, _ in caught.value.problems}
    assert fields == {"payload.name.family", "payload.name.given", "payload.email", "x"}


def test_the_status_view_leaves_out_the_payload_with_its_pii() -> None:
    job = new_job("job_1", job_request(), "corr-1", utc_now())
    view = job.status_view()
    assert view["job_id"] == "job_1"
    assert view["status"] == "PENDING"
    assert "payload" not in view
    assert "hanako@example.com" not in str(view)


def test_a_long_error_is_cut_to_the_limit() -> None:
    text = short_error(RuntimeError("x" * 5000))
    assert text.startswith("RuntimeError: xxx")
    assert len(text) == MAX_ERROR_CHARS
