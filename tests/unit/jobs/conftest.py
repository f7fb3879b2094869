"""A moto server on loopback for the jobs tests, and a fresh table and queue pair per test.

moto's state is process-wide, so every test gets resources under names of its own
rather than resetting a server another module may be using.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from instrumented_app.jobs.redrive import JobsQueues, find_queues
from instrumented_app.jobs.store import DynamoJobStore
from sagawatch.aws import aws_session
from tests.unit.jobs.helpers import REGION, Aws, FakeMembership, FakeSagas, Harness, unique


@pytest.fixture(scope="package")
def aws() -> Iterator[Aws]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    session = aws_session(REGION, endpoint)
    try:
        yield Aws(
            endpoint,
            session.client("sqs", endpoint_url=endpoint),
            session.client("dynamodb", endpoint_url=endpoint),
        )
    finally:
        server.stop()


@pytest.fixture
def store(aws: Aws) -> DynamoJobStore:
    name = unique("jobs")
    aws.dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
    )
    return DynamoJobStore(name, aws.dynamodb)


@pytest.fixture
def queues(aws: Aws) -> JobsQueues:
    """A jobs queue (maxReceiveCount 3, messages visible again at once) with its DLQ."""
    name = unique("jobs")
    dlq_url = aws.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = aws.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )
    return find_queues(aws.sqs, name)


@pytest.fixture
def membership() -> FakeMembership:
    """Members by cust_no; ``C0BAD`` answers like a broken API until taken out of ``failing``."""
    return FakeMembership(failing={"C0BAD"})


@pytest.fixture
def sagas() -> FakeSagas:
    return FakeSagas()


@pytest.fixture
def harness(
    aws: Aws, store: DynamoJobStore, queues: JobsQueues, membership: FakeMembership, sagas: FakeSagas
) -> Harness:
    return Harness(aws, store, queues, membership, sagas)
