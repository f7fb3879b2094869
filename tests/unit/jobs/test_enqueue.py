"""Accepting a job (moto over HTTP): stored PENDING, queued with its trace context, at most once per key."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

from instrumented_app.jobs.enqueue import (
    Enqueuer,
    JobNotQueued,
    KeyedRequest,
    SqsJobQueue,
    idempotency_config,
    idempotent_enqueue,
)
from instrumented_app.jobs.model import JobStatus
from instrumented_app.jobs.redrive import JobsQueues
from instrumented_app.jobs.store import DynamoJobStore
from instrumented_app.telemetry.correlation import reset_correlation_id, set_correlation_id
from instrumented_app.telemetry.tracing import tracer_provider
from tests.unit.jobs.helpers import Aws, StepClock, job_request, unique


@pytest.fixture
def correlation() -> Iterator[str]:
    token = set_correlation_id("corr-enqueue-1")
    yield "corr-enqueue-1"
    reset_correlation_id(token)


def receive_all(aws: Aws, queue_url: str) -> list[dict]:
    messages: list[dict] = []
    for _ in range(5):
        batch = aws.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages


def test_an_accepted_job_is_pending_and_its_message_carries_correlation_id_and_traceparent(
    aws: Aws, store: DynamoJobStore, queues: JobsQueues, correlation: str
) -> None:
    enqueuer = Enqueuer(store=store, queue=SqsJobQueue(queues.source_url, aws.sqs), clock=StepClock())
    with tracer_provider().get_tracer("test").start_as_current_span("POST /api/async") as span:
        job = enqueuer.enqueue(job_request(), correlation)
        trace_id = format(span.get_span_context().trace_id, "032x")
    stored = store.get(job.job_id)
    assert stored is not None and stored.status is JobStatus.PENDING
    assert stored.correlation_id == correlation
    (message,) = receive_all(aws, queues.source_url)
    body = json.loads(message["Body"])
    assert body["job_id"] == job.job_id
    assert body["cust_no"] == "C0001"
    attributes = message["MessageAttributes"]
    assert attributes["correlation_id"]["StringValue"] == correlation
    assert attributes["traceparent"]["StringValue"].split("-")[1] == trace_id


def test_a_job_that_cannot_be_queued_is_marked_failed_not_left_pending(
    aws: Aws, store: DynamoJobStore
) -> None:
    missing_queue = f"{aws.endpoint}/123456789012/{unique('gone')}"
    enqueuer = Enqueuer(
        store=store, queue=SqsJobQueue(missing_queue, aws.sqs), clock=StepClock(), new_id=lambda: "job_nq"
    )
    with pytest.raises(JobNotQueued, match="job job_nq could not be queued"):
        enqueuer.enqueue(job_request(), None)
    job = store.get("job_nq")
    assert job is not None
    assert job.status is JobStatus.FAILED
    assert job.last_error is not None and job.last_error.startswith("not queued: ")


class LambdaContext:
    """The one thing Powertools idempotency reads from the Lambda context."""

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def lambda_config() -> IdempotencyConfig:
    config = idempotency_config()
    config.register_lambda_context(LambdaContext())  # type: ignore[arg-type]
    return config


def idempotency_table(aws: Aws) -> str:
    name = unique("idem")
    aws.dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    return name


def test_the_same_idempotency_key_gives_the_same_job_and_queues_one_message(
    aws: Aws, store: DynamoJobStore, queues: JobsQueues
) -> None:
    persistence = DynamoDBPersistenceLayer(table_name=idempotency_table(aws), boto3_client=aws.dynamodb)
    enqueue = idempotent_enqueue(
        Enqueuer(store=store, queue=SqsJobQueue(queues.source_url, aws.sqs)), persistence, lambda_config()
    )
    first = enqueue(KeyedRequest(idempotency_key="key-1", request=job_request(), correlation_id="c-1"))
    again = enqueue(KeyedRequest(idempotency_key="key-1", request=job_request(), correlation_id="c-2"))
    other = enqueue(KeyedRequest(idempotency_key="key-2", request=job_request(), correlation_id="c-3"))
    assert again.job_id == first.job_id
    assert other.job_id != first.job_id
    assert sorted(json.loads(m["Body"])["job_id"] for m in receive_all(aws, queues.source_url)) == sorted(
        [first.job_id, other.job_id]
    )


def test_an_idempotency_key_reused_with_another_body_is_refused(
    aws: Aws, store: DynamoJobStore, queues: JobsQueues
) -> None:
    persistence = DynamoDBPersistenceLayer(table_name=idempotency_table(aws), boto3_client=aws.dynamodb)
    enqueue = idempotent_enqueue(
        Enqueuer(store=store, queue=SqsJobQueue(queues.source_url, aws.sqs)), persistence, lambda_config()
    )
    enqueue(KeyedRequest(idempotency_key="key-1", request=job_request("C0001")))
    with pytest.raises(IdempotencyValidationError):
        enqueue(KeyedRequest(idempotency_key="key-1", request=job_request("C0002")))
    assert len(receive_all(aws, queues.source_url)) == 1
