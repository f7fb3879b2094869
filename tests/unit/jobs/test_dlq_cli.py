"""``sagawatch dlq list|redrive QUEUE`` on a queue that is not the jobs queue, against moto's server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sagawatch.cli import app
from sagawatch.settings import get_settings
from tests.unit.jobs.helpers import Aws, unique, write_stack_file


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: Aws) -> Iterator[Path]:
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path))
    get_settings.cache_clear()
    write_stack_file(tmp_path, aws.endpoint)
    yield tmp_path
    get_settings.cache_clear()


def dlq(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["dlq", *args])
    return result.exit_code, result.stdout, result.stderr


def test_any_queues_dead_letters_are_listed_then_redriven_with_their_attributes(
    stack: Path, aws: Aws
) -> None:
    name = unique("orders")
    dlq_url = aws.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = aws.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    source_url = aws.sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    attributes = {"correlation_id": {"DataType": "String", "StringValue": "corr-dlq-1"}}
    for body in ("not a job", '{"order": 1}', '{"order": 2}'):
        aws.sqs.send_message(QueueUrl=dlq_url, MessageBody=body, MessageAttributes=attributes)

    code, out, err = dlq("list", name, "--json")
    assert code == 0, err
    letters = json.loads(out)
    assert [(letter["job_id"], letter["correlation_id"], letter["error"]) for letter in letters] == [
        (None, "corr-dlq-1", None)
    ] * 3  # plain messages: no job read, no "unreadable" complaint

    code, out, err = dlq("redrive", name, "--max", "2")
    assert code == 0, err
    assert "2 moved, 0 jobs reset to PENDING, 0 failed" in out
    code, out, _ = dlq("redrive", name)
    assert "1 moved" in out
    code, out, _ = dlq("list", name)
    assert out.strip() == f"the DLQ of {name} is empty"

    moved = aws.sqs.receive_message(
        QueueUrl=source_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )["Messages"]
    assert sorted(m["Body"] for m in moved) == sorted(["not a job", '{"order": 1}', '{"order": 2}'])
    assert {m["MessageAttributes"]["correlation_id"]["StringValue"] for m in moved} == {"corr-dlq-1"}


def test_a_queue_without_a_dlq_or_that_does_not_exist_is_named(stack: Path, aws: Aws) -> None:
    plain = unique("plain")
    aws.sqs.create_queue(QueueName=plain)
    code, _, err = dlq("list", plain)
    assert code == 1 and f"queue {plain} has no redrive policy" in err
    code, _, err = dlq("redrive", "no-such-queue")
    assert code == 1 and "queue no-such-queue does not exist" in err
