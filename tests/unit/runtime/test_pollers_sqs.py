"""SQS event source mappings against moto's real SQS over HTTP: delivery, retries, DLQ, partial batches."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import SqsModel

from tests.unit.runtime.test_pollers_harness import (
    FakeInvoker,
    MotoStack,
    receive_into,
    running_pollers,
    wait_for,
)


@pytest.fixture
def stack() -> Iterator[MotoStack]:
    moto = MotoStack()
    yield moto
    moto.stop()


def make_queue(
    stack: MotoStack, name: str, *, max_receive_count: int | None = None, **attributes: str
) -> tuple:
    """A queue (with a DLQ when ``max_receive_count`` is set) -> (url, arn, dlq_url)."""
    sqs = stack.client("sqs")
    dlq_url = None
    attrs = {"VisibilityTimeout": "1", **attributes}
    if max_receive_count is not None:
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attrs["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
        )
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq_url


def map_queue(
    stack: MotoStack, queue_arn: str, function: str, *, partial: bool, batch_size: int = 10, **extra: Any
) -> None:
    stack.create_function(function)
    stack.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName=function,
        BatchSize=batch_size,
        FunctionResponseTypes=["ReportBatchItemFailures"] if partial else [],
        **extra,
    )


def send_all(stack: MotoStack, url: str, bodies: list[str], **extra: Any) -> None:
    stack.client("sqs").send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "MessageBody": body, **extra} for i, body in enumerate(bodies)],
    )


def queue_is_empty(stack: MotoStack, url: str) -> bool:
    """No message left, visible or in flight.

    Read twice: moto counts visible and invisible messages one after the other, so a
    message whose visibility timeout runs out between the two counts is in neither.
    Two empty readings in a row cannot both fall into that gap.
    """
    sqs = stack.client("sqs")

    def counts() -> tuple[str, str]:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]

    return counts() == ("0", "0") and counts() == ("0", "0")


def report_failures_of(poison: set[str]) -> Any:
    """A handler that processes every record except those whose body is in ``poison``."""

    processed: list[str] = []

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            if record["body"] in poison:
                failures.append({"itemIdentifier": record["messageId"]})
            else:
                processed.append(record["body"])
        return {"batchItemFailures": failures}

    return handler, processed


def test_a_failed_record_alone_is_retried_and_lands_in_the_dlq_after_max_receive_count(
    stack: MotoStack,
) -> None:
    url, arn, dlq_url = make_queue(stack, "orders", max_receive_count=2)
    map_queue(stack, arn, "worker", partial=True)
    send_all(stack, url, ["a", "poison", "b"])
    handler, processed = report_failures_of({"poison"})
    invoker = FakeInvoker({"worker": handler})

    with running_pollers(stack, invoker):
        sqs = stack.client("sqs")
        dead: list[dict[str, Any]] = []
        assert wait_for(lambda: receive_into(sqs, dlq_url, dead))
        assert wait_for(lambda: queue_is_empty(stack, url))

    assert [m["Body"] for m in dead] == ["poison"]
    assert Counter(processed) == {"a": 1, "b": 1}
    poison_deliveries = [r for c in invoker.calls for r in c.event["Records"] if r["body"] == "poison"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in poison_deliveries] == ["1", "2"]


def test_an_invocation_error_returns_the_whole_batch(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "jobs")
    map_queue(stack, arn, "worker", partial=True)
    send_all(stack, url, ["x", "y"])
    attempts: list[list[str]] = []

    def flaky(event: dict[str, Any]) -> None:
        attempts.append(sorted(r["body"] for r in event["Records"]))
        if len(attempts) == 1:
            raise RuntimeError("SaaS unavailable")

    invoker = FakeInvoker({"worker": flaky})
    with running_pollers(stack, invoker):
        assert wait_for(lambda: queue_is_empty(stack, url))

    assert attempts[0] == ["x", "y"]
    # both came back (possibly in two receives, as their visibility timeouts end microseconds apart)
    assert sorted(body for attempt in attempts[1:] for body in attempt) == ["x", "y"]
    retried = [r for call in invoker.calls[1:] for r in call.event["Records"]]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in retried} == {"2"}


def test_batch_item_failures_are_ignored_unless_the_mapping_reports_them(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "plain")
    map_queue(stack, arn, "worker", partial=False)
    send_all(stack, url, ["a", "poison"])
    handler, _processed = report_failures_of({"poison"})
    invoker = FakeInvoker({"worker": handler})

    with running_pollers(stack, invoker) as pollers:
        assert wait_for(lambda: queue_is_empty(stack, url))
        assert pollers.wait_idle(5)

    assert len(invoker.calls) == 1  # the reported failure was deleted with the rest, as Lambda does


def test_an_unknown_item_identifier_fails_the_whole_batch(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "strict")
    map_queue(stack, arn, "worker", partial=True)
    send_all(stack, url, ["a", "b"])
    bodies: list[list[str]] = []

    def wrong_ids(event: dict[str, Any]) -> dict[str, Any]:
        bodies.append(sorted(r["body"] for r in event["Records"]))
        if len(bodies) == 1:
            return {"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}
        return {"batchItemFailures": []}

    invoker = FakeInvoker({"worker": wrong_ids})
    with running_pollers(stack, invoker):
        assert wait_for(lambda: queue_is_empty(stack, url))

    assert bodies[0] == ["a", "b"]
    assert sorted(body for batch in bodies[1:] for body in batch) == ["a", "b"]  # the whole batch came back


def test_the_event_has_lambdas_sqs_shape(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "shaped")
    map_queue(stack, arn, "worker", partial=False)
    stack.client("sqs").send_message(
        QueueUrl=url,
        MessageBody='{"order": 7}',
        MessageAttributes={
            "correlation_id": {"DataType": "String", "StringValue": "c-123"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    invoker = FakeInvoker({"worker": lambda event: None})
    with running_pollers(stack, invoker):
        assert wait_for(lambda: len(invoker.calls) == 1)

    record = invoker.calls[0].event["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["body"] == '{"order": 7}'
    assert record["messageAttributes"]["correlation_id"] == {
        "stringValue": "c-123",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert set(record["attributes"]) >= {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    parsed = SqsModel.model_validate(invoker.calls[0].event)  # what a Powertools parser handler accepts
    assert parsed.Records[0].messageId == record["messageId"]


def test_batch_size_caps_each_invocation(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "small-batches")
    map_queue(stack, arn, "worker", partial=False, batch_size=2)
    send_all(stack, url, ["1", "2", "3", "4", "5"])
    invoker = FakeInvoker({"worker": lambda event: None})

    with running_pollers(stack, invoker):
        assert wait_for(lambda: queue_is_empty(stack, url))

    sizes = [len(call.event["Records"]) for call in invoker.calls]
    assert max(sizes) <= 2
    assert sorted(r["body"] for c in invoker.calls for r in c.event["Records"]) == ["1", "2", "3", "4", "5"]


def test_maximum_concurrency_invokes_that_many_batches_at_once_and_idle_waits_for_them(
    stack: MotoStack,
) -> None:
    url, arn, _ = make_queue(stack, "scaled", VisibilityTimeout="30")
    map_queue(stack, arn, "worker", partial=False, batch_size=1, ScalingConfig={"MaximumConcurrency": 3})
    send_all(stack, url, [str(i) for i in range(8)])
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def slow(event: Any) -> None:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1

    invoker = FakeInvoker({"worker": slow})
    with running_pollers(stack, invoker) as pollers:
        assert wait_for(lambda: len(invoker.calls) == 8)
        assert pollers.wait_idle(10)
        assert running[0] == 0  # idle means no batch is still being invoked
    assert running[1] == 3
    assert queue_is_empty(stack, url)


def test_fifo_keeps_a_failed_groups_later_messages_in_order(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "ledger.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    map_queue(stack, arn, "worker", partial=True)
    sqs = stack.client("sqs")
    for body, group in (("a1", "A"), ("b1", "B"), ("a2", "A")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    batches: list[list[str]] = []

    def fails_a1_once(event: dict[str, Any]) -> dict[str, Any]:
        records = event["Records"]
        batches.append([r["body"] for r in records])
        failed = [r for r in records if r["body"] == "a1"] if len(batches) == 1 else []
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}

    invoker = FakeInvoker({"worker": fails_a1_once})
    with running_pollers(stack, invoker):
        assert wait_for(lambda: queue_is_empty(stack, url))

    assert batches[0] == ["a1", "b1", "a2"], batches
    later = [body for batch in batches[1:] for body in batch]
    assert later == ["a1", "a2"], batches  # a2 was not deleted ahead of a1; b1 was not redelivered


def test_a_batching_window_gathers_more_than_ten_messages_into_one_invocation(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "bulk", VisibilityTimeout="30")
    stack.create_function("worker")
    stack.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="worker", BatchSize=25, MaximumBatchingWindowInSeconds=1
    )
    send_all(stack, url, [f"m{i}" for i in range(10)])
    send_all(stack, url, [f"m{i}" for i in range(10, 15)])
    invoker = FakeInvoker({"worker": lambda event: None})

    with running_pollers(stack, invoker):
        assert wait_for(lambda: queue_is_empty(stack, url))

    assert [len(call.event["Records"]) for call in invoker.calls] == [15]


def test_filter_criteria_deliver_matching_messages_and_delete_the_rest(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "payments")
    stack.create_function("vip")
    stack.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="vip",
        FilterCriteria={
            "Filters": [{"Pattern": json.dumps({"body": {"amount": [{"numeric": [">=", 10000]}]}})}]
        },
    )
    send_all(stack, url, [json.dumps({"amount": 25000}), json.dumps({"amount": 5}), "not json"])
    invoker = FakeInvoker({"vip": lambda event: None})

    with running_pollers(stack, invoker) as pollers:
        assert wait_for(lambda: queue_is_empty(stack, url))
        assert pollers.wait_idle(5)

    delivered = [r["body"] for c in invoker.calls for r in c.event["Records"]]
    assert delivered == [json.dumps({"amount": 25000})]


def test_a_powertools_batch_handler_gets_only_its_failed_record_back(stack: MotoStack) -> None:
    url, arn, _ = make_queue(stack, "powertools")
    map_queue(stack, arn, "worker", partial=True)
    send_all(stack, url, ["ok-1", "boom", "ok-2"])
    processor = BatchProcessor(event_type=EventType.SQS)
    seen: list[str] = []

    def record_handler(record: SQSRecord) -> None:
        seen.append(record.body)
        if record.body == "boom" and seen.count("boom") == 1:
            raise ValueError("first attempt fails")

    invoker = FakeInvoker(
        {"worker": lambda event: process_partial_response(event, record_handler, processor)}
    )
    with running_pollers(stack, invoker):
        assert wait_for(lambda: queue_is_empty(stack, url))

    assert Counter(seen) == {"ok-1": 1, "boom": 2, "ok-2": 1}
