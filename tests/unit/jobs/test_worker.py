"""The worker on real SQS messages (moto over HTTP): one job per record, failures reported per record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from instrumented_app.jobs.actions import saga_id_for
from instrumented_app.jobs.model import JobStatus
from instrumented_app.jobs.requests import CreateCustomerRequest, parse_request
from instrumented_app.jobs.sagas import SagaOutcome
from instrumented_app.telemetry import tracer_provider
from sagawatch.contracts import SagaStatus
from tests.unit.jobs.helpers import MAX_RECEIVES, FakeMembership, FakeSagas, Harness, by_body


def test_a_batch_reports_exactly_its_failed_records_and_each_job_shows_its_outcome(harness: Harness) -> None:
    good = harness.enqueue("C0001")
    bad = harness.enqueue("C0BAD")
    harness.aws.sqs.send_message(QueueUrl=harness.queues.source_url, MessageBody="{not json")
    messages = harness.receive()
    ids = by_body(messages)
    failed = harness.deliver(messages)
    assert sorted(failed) == sorted([ids[bad.job_id], ids["{not json"]])
    done = harness.job(good.job_id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.result == {"cust_no": "C0001", "member_id": "mbr_C0001", "action": "created"}
    retry = harness.job(bad.job_id)
    assert (retry.status, retry.retry_count) == (JobStatus.PENDING, 1)
    assert retry.last_error is not None and "HTTP 503" in retry.last_error
    assert "hanako@example.com" not in retry.last_error  # PII masked in what operators read


def test_the_queues_last_delivery_leaves_the_job_failed(harness: Harness) -> None:
    bad = harness.enqueue("C0BAD")
    for attempt in range(1, MAX_RECEIVES + 1):
        (message,) = harness.receive()
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        assert harness.deliver([message]) == [message["MessageId"]]
        job = harness.job(bad.job_id)
        assert job.retry_count == attempt
        assert job.status is (JobStatus.FAILED if attempt == MAX_RECEIVES else JobStatus.PENDING)
    assert job.finished_at is not None


def test_a_redelivered_message_of_a_succeeded_job_does_nothing(
    harness: Harness, membership: FakeMembership
) -> None:
    job = harness.enqueue("C0001")
    (message,) = harness.receive()
    assert harness.deliver([message]) == []
    finished = harness.job(job.job_id)
    (again,) = harness.receive()  # not deleted here: the poller deletes; this is the duplicate delivery
    assert harness.deliver([again]) == []
    assert membership.calls == [("C0001", job.job_id)]
    assert harness.job(job.job_id) == finished


def test_a_message_for_an_unknown_job_or_an_unknown_shape_fails_rather_than_vanishing(
    harness: Harness,
) -> None:
    harness.aws.sqs.send_message(
        QueueUrl=harness.queues.source_url,
        MessageBody=json.dumps(
            {"job_id": "job_ghost", "kind": "sync_member", "cust_no": "C1", "payload": {"full_name": "A"}}
        ),
    )
    harness.aws.sqs.send_message(QueueUrl=harness.queues.source_url, MessageBody='{"job_id": "job_x"}')
    messages = harness.receive()
    assert sorted(harness.deliver(messages)) == sorted(m["MessageId"] for m in messages)


def test_each_records_log_lines_carry_its_own_correlation_id_and_the_error_code(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.enqueue("C0001")
    harness.enqueue("C0BAD")
    capsys.readouterr()
    harness.deliver(harness.receive())
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("error_code") == "SAAS_UNAVAILABLE"]
    assert [line["correlation_id"] for line in failed] == ["corr-C0BAD"]
    succeeded = [line for line in lines if line["message"] == "job succeeded"]
    assert [line["correlation_id"] for line in succeeded] == ["corr-C0001"]


def customer_request(cust_no: str) -> CreateCustomerRequest:
    payload = {"name": {"family": "Yamada", "given": "Hanako"}, "email": "hanako@example.com"}
    request = parse_request({"kind": "create_customer", "cust_no": cust_no, "payload": payload})
    assert isinstance(request, CreateCustomerRequest)
    return request


def test_a_customer_job_runs_its_saga_under_an_id_derived_from_the_job(
    harness: Harness, sagas: FakeSagas
) -> None:
    job = harness.enqueuer.enqueue(customer_request("C0100"), "corr-C0100")
    (message,) = harness.receive()
    assert harness.deliver([message]) == []
    done = harness.job(job.job_id)
    saga_id = saga_id_for(job.job_id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.result == {"cust_no": "C0100", "saga_id": saga_id, "saga_status": "SUCCEEDED"}
    assert sagas.runs == [("C0100", saga_id, "corr-C0100")]


def test_a_compensated_saga_fails_the_job_at_once_and_is_not_retried(
    harness: Harness, sagas: FakeSagas
) -> None:
    sagas.outcomes["C0101"] = SagaOutcome(SagaStatus.COMPENSATED, "commerce_customer", "[SAAS_REJECTED] 422")
    job = harness.enqueuer.enqueue(customer_request("C0101"), "corr-C0101")
    (message,) = harness.receive()
    assert harness.deliver([message]) == []  # done: the queue does not keep it
    failed = harness.job(job.job_id)
    assert (failed.status, failed.retry_count) == (JobStatus.FAILED, 1)
    assert failed.last_error is not None
    assert f"saga {saga_id_for(job.job_id)} ended COMPENSATED" in failed.last_error
    assert "commerce_customer" in failed.last_error


def test_an_unfinished_saga_is_retried_and_the_retry_resumes_the_same_saga(
    harness: Harness, sagas: FakeSagas
) -> None:
    sagas.outcomes["C0102"] = SagaOutcome(SagaStatus.RUNNING)
    job = harness.enqueuer.enqueue(customer_request("C0102"), "corr-C0102")
    (message,) = harness.receive()
    assert harness.deliver([message]) == [message["MessageId"]]
    assert harness.job(job.job_id).status is JobStatus.PENDING
    del sagas.outcomes["C0102"]
    (again,) = harness.receive()
    assert harness.deliver([again]) == []
    assert harness.job(job.job_id).status is JobStatus.SUCCEEDED
    assert [run[1] for run in sagas.runs] == [saga_id_for(job.job_id)] * 2


_SPANS = InMemorySpanExporter()
_spans_installed = False


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans finished during this test (the processor joins the process's provider once)."""
    global _spans_installed
    if not _spans_installed:
        tracer_provider().add_span_processor(SimpleSpanProcessor(_SPANS))
        _spans_installed = True
    _SPANS.clear()
    yield _SPANS
    _SPANS.clear()


def test_each_record_has_its_own_span_naming_the_job_and_its_correlation_id(
    harness: Harness, spans: InMemorySpanExporter
) -> None:
    good = harness.enqueue("C0001")
    bad = harness.enqueue("C0BAD")
    harness.deliver(harness.receive())
    processed = {
        span.attributes["job.id"]: span
        for span in spans.get_finished_spans()
        if span.name == "process message" and span.attributes
    }
    assert set(processed) == {good.job_id, bad.job_id}
    assert processed[good.job_id].attributes["correlation_id"] == "corr-C0001"  # type: ignore[index]
    assert processed[bad.job_id].attributes["correlation_id"] == "corr-C0BAD"  # type: ignore[index]
    assert processed[good.job_id].status.status_code is StatusCode.UNSET
    assert processed[bad.job_id].status.status_code is StatusCode.ERROR


def test_a_message_delivered_twice_in_one_batch_runs_its_job_once(
    harness: Harness, membership: FakeMembership
) -> None:
    job = harness.enqueue("C0001")
    (original,) = harness.receive()
    harness.aws.sqs.send_message(  # SQS delivers at least once: the same job message, again
        QueueUrl=harness.queues.source_url,
        MessageBody=original["Body"],
        MessageAttributes=original["MessageAttributes"],
    )
    batch = harness.receive()  # the fixture queue shows the original again at once, beside its copy
    assert sorted(m["Body"] for m in batch) == [original["Body"]] * 2
    assert harness.deliver(batch) == []
    assert membership.calls == [("C0001", job.job_id)]
    assert harness.job(job.job_id).status is JobStatus.SUCCEEDED


def test_a_delivery_whose_saga_another_worker_is_running_leaves_the_job_to_it_and_comes_back(
    harness: Harness, sagas: FakeSagas
) -> None:
    job = harness.enqueuer.enqueue(customer_request("C0103"), "corr-C0103")
    harness.store.start(job.job_id, datetime.now(UTC))  # the first delivery is running it
    sagas.busy.add("C0103")
    (message,) = harness.receive()
    assert harness.deliver([message]) == [message["MessageId"]]  # kept: it comes back
    running = harness.job(job.job_id)
    assert (running.status, running.retry_count, running.last_error) == (JobStatus.RUNNING, 0, None)
