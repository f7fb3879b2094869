"""DynamoDB Streams event source mappings against moto's real DynamoDB and Streams over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
)

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


def make_table(stack: MotoStack, name: str) -> str:
    """A table with a NEW_AND_OLD_IMAGES stream -> the stream ARN."""
    created = stack.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(created["TableDescription"]["LatestStreamArn"])


def map_stream(stack: MotoStack, stream_arn: str, function: str, **options: Any) -> None:
    stack.create_function(function)
    stack.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=function, StartingPosition="TRIM_HORIZON", **options
    )


def delivered(invoker: FakeInvoker) -> list[dict[str, Any]]:
    return [record for call in invoker.calls for record in call.event["Records"]]


def test_insert_modify_remove_reach_the_handler_in_order_with_images(stack: MotoStack) -> None:
    stream_arn = make_table(stack, "items")
    map_stream(stack, stream_arn, "projector")
    invoker = FakeInvoker({"projector": lambda event: None})
    ddb = stack.client("dynamodb")

    with running_pollers(stack, invoker):
        ddb.put_item(TableName="items", Item={"pk": {"S": "i-1"}, "qty": {"N": "1"}, "raw": {"B": b"\x01"}})
        ddb.update_item(
            TableName="items",
            Key={"pk": {"S": "i-1"}},
            UpdateExpression="SET qty = :q",
            ExpressionAttributeValues={":q": {"N": "2"}},
        )
        ddb.delete_item(TableName="items", Key={"pk": {"S": "i-1"}})
        assert wait_for(lambda: len(delivered(invoker)) == 3)

    insert, modify, remove = delivered(invoker)
    assert [insert["eventName"], modify["eventName"], remove["eventName"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert insert["dynamodb"]["Keys"] == {"pk": {"S": "i-1"}}
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "i-1"}, "qty": {"N": "1"}, "raw": {"B": "AQ=="}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["qty"] == {"N": "1"}
    assert modify["dynamodb"]["NewImage"]["qty"] == {"N": "2"}
    assert remove["dynamodb"]["OldImage"]["qty"] == {"N": "2"}
    assert "NewImage" not in remove["dynamodb"]
    assert {r["eventSource"] for r in (insert, modify, remove)} == {"aws:dynamodb"}
    assert {r["eventSourceARN"] for r in (insert, modify, remove)} == {stream_arn}
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in (insert, modify, remove)]
    assert sequence == sorted(sequence)
    for call in invoker.calls:
        DynamoDBStreamModel.model_validate(call.event)  # what a Powertools parser handler accepts


def test_a_failed_batch_is_retried_before_the_stream_moves_on(stack: MotoStack) -> None:
    stream_arn = make_table(stack, "orders")
    map_stream(stack, stream_arn, "projector", BatchSize=1)
    seen: list[str] = []

    def fails_once_on_b(event: dict[str, Any]) -> None:
        pk = event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"]
        seen.append(pk)
        if pk == "b" and seen.count("b") == 1:
            raise RuntimeError("read model unavailable")

    invoker = FakeInvoker({"projector": fails_once_on_b})
    ddb = stack.client("dynamodb")
    for pk in ("a", "b", "c"):
        ddb.put_item(TableName="orders", Item={"pk": {"S": pk}})

    with running_pollers(stack, invoker):
        assert wait_for(lambda: "c" in seen)

    assert seen == ["a", "b", "b", "c"]


def test_a_batch_is_discarded_after_maximum_retry_attempts(stack: MotoStack) -> None:
    stream_arn = make_table(stack, "events")
    map_stream(stack, stream_arn, "projector", BatchSize=1, MaximumRetryAttempts=1)
    seen: list[str] = []

    def always_fails_on_bad(event: dict[str, Any]) -> None:
        pk = event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"]
        seen.append(pk)
        if pk == "bad":
            raise RuntimeError("poison record")

    invoker = FakeInvoker({"projector": always_fails_on_bad})
    ddb = stack.client("dynamodb")
    for pk in ("bad", "good"):
        ddb.put_item(TableName="events", Item={"pk": {"S": pk}})

    with running_pollers(stack, invoker):
        assert wait_for(lambda: "good" in seen)

    assert seen == ["bad", "bad", "good"]  # one try and one retry, then the stream moves on


def test_reported_item_failures_retry_from_the_lowest_failed_record(stack: MotoStack) -> None:
    stream_arn = make_table(stack, "ledger")
    map_stream(
        stack, stream_arn, "projector", BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    batches: list[list[str]] = []

    def fails_once_on_second(event: dict[str, Any]) -> dict[str, Any]:
        records = event["Records"]
        batches.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in records])
        if len(batches) == 1:
            return {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    invoker = FakeInvoker({"projector": fails_once_on_second})
    ddb = stack.client("dynamodb")
    for pk in ("p1", "p2", "p3"):
        ddb.put_item(TableName="ledger", Item={"pk": {"S": pk}})

    with running_pollers(stack, invoker):
        assert wait_for(lambda: len(batches) == 2)
        assert wait_for(lambda: no_call_beyond(invoker, 2))

    assert batches == [["p1", "p2", "p3"], ["p2", "p3"]]


def test_bisect_on_error_isolates_the_failing_record(stack: MotoStack) -> None:
    stream_arn = make_table(stack, "split")
    map_stream(
        stack, stream_arn, "projector", BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0
    )
    batches: list[list[str]] = []

    def fails_with_bad(event: dict[str, Any]) -> None:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        batches.append(keys)
        if "k3" in keys:
            raise RuntimeError("k3 is bad")

    invoker = FakeInvoker({"projector": fails_with_bad})
    ddb = stack.client("dynamodb")
    for pk in ("k1", "k2", "k3", "k4"):
        ddb.put_item(TableName="split", Item={"pk": {"S": pk}})

    with running_pollers(stack, invoker):
        assert wait_for(lambda: any(b == ["k4"] for b in batches))

    assert batches == [["k1", "k2", "k3", "k4"], ["k1", "k2"], ["k3", "k4"], ["k3"], ["k4"]]


def no_call_beyond(invoker: FakeInvoker, expected_calls: int) -> bool:
    """No call beyond ``expected_calls`` arrives within a short grace period."""
    wait_for(lambda: len(invoker.calls) > expected_calls, timeout=1.0)
    return len(invoker.calls) == expected_calls


def test_filter_criteria_skip_records_that_do_not_match(stack: MotoStack) -> None:
    stream_arn = make_table(stack, "filtered")
    map_stream(
        stack,
        stream_arn,
        "projector",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT", "REMOVE"]})}]},
    )
    invoker = FakeInvoker({"projector": lambda event: None})
    ddb = stack.client("dynamodb")

    with running_pollers(stack, invoker) as pollers:
        ddb.put_item(TableName="filtered", Item={"pk": {"S": "f-1"}, "v": {"N": "1"}})
        ddb.put_item(TableName="filtered", Item={"pk": {"S": "f-1"}, "v": {"N": "2"}})  # MODIFY
        ddb.delete_item(TableName="filtered", Key={"pk": {"S": "f-1"}})
        assert wait_for(lambda: len(delivered(invoker)) >= 2)
        assert pollers.wait_idle(5)

    assert [r["eventName"] for r in delivered(invoker)] == ["INSERT", "REMOVE"]


def test_moto_keeps_only_the_newest_shard_iterators(
    stack: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from instrumented_app.runtime.pollers import moto_hooks

    monkeypatch.setattr(moto_hooks, "KEPT_SHARD_ITERATORS", 5)
    stream_arn = make_table(stack, "busy")
    map_stream(stack, stream_arn, "projector")
    invoker = FakeInvoker({"projector": lambda event: None})
    backend = dynamodbstreams_backends["123456789012"]["us-east-1"]

    with running_pollers(stack, invoker) as pollers:
        for _ in range(10):  # ten empty reads or more, each issuing a new iterator
            assert pollers.wait_idle(5)
        stack.client("dynamodb").put_item(TableName="busy", Item={"pk": {"S": "still-read"}})
        assert wait_for(lambda: len(delivered(invoker)) == 1)
        assert len(backend.shard_iterators) <= 5


def test_a_discarded_batch_is_reported_to_the_on_failure_destination(stack: MotoStack) -> None:
    sqs = stack.client("sqs")
    failures_url = sqs.create_queue(QueueName="stream-failures")["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stream_arn = make_table(stack, "audited")
    map_stream(
        stack,
        stream_arn,
        "projector",
        BatchSize=1,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )

    def always_fails(event: dict[str, Any]) -> None:
        raise RuntimeError("projection broken")

    invoker = FakeInvoker({"projector": always_fails})
    stack.client("dynamodb").put_item(TableName="audited", Item={"pk": {"S": "lost"}})
    received: list[dict[str, Any]] = []

    with running_pollers(stack, invoker):
        assert wait_for(lambda: receive_into(sqs, failures_url, received))

    record = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json(received[0]["Body"])
    assert record.request_context.condition == "RetryAttemptsExhausted"
    assert record.request_context.approximate_invoke_count == 2
    assert record.response_context.function_error == "Unhandled"
    assert record.ddb_stream_batch_info.stream_arn == stream_arn
    assert record.ddb_stream_batch_info.batch_size == 1
    assert "lost" not in received[0]["Body"]  # only where to find the records, never their content


def test_a_powertools_stream_batch_handler_resumes_at_its_failed_record(stack: MotoStack) -> None:
    stream_arn = make_table(stack, "powertools")
    map_stream(stack, stream_arn, "projector", FunctionResponseTypes=["ReportBatchItemFailures"])
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    seen: list[str] = []

    def record_handler(record: DynamoDBRecord) -> None:
        assert record.dynamodb is not None
        key = record.dynamodb.keys["pk"]
        seen.append(key)
        if key == "r2" and seen.count("r2") == 1:
            raise ValueError("first attempt fails")

    invoker = FakeInvoker(
        {"projector": lambda event: process_partial_response(event, record_handler, processor)}
    )
    ddb = stack.client("dynamodb")
    for pk in ("r1", "r2", "r3"):
        ddb.put_item(TableName="powertools", Item={"pk": {"S": pk}})

    with running_pollers(stack, invoker) as pollers:
        assert wait_for(lambda: seen.count("r2") == 2 and seen[-1] == "r3")
        assert pollers.wait_idle(5)

    # Powertools reports only r2; Lambda checkpoints r1 and retries from r2, so r3 runs again too.
    assert seen == ["r1", "r2", "r3", "r2", "r3"]
