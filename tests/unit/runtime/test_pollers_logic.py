"""The pollers' pure rules: Lambda's reading of batch responses, FIFO order, shard lineage, event shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from instrumented_app.runtime.pollers.batch_response import SUCCESS, partial_batch_outcome
from instrumented_app.runtime.pollers.dynamodb_streams import DynamoDbStreamPoller, order_shards, stream_step
from instrumented_app.runtime.pollers.events import dynamodb_record, sqs_record
from instrumented_app.runtime.pollers.mappings import (
    EventSourceMapping,
    FunctionTarget,
    MappingError,
    function_target,
    parse_mapping,
    read_mappings,
)
from instrumented_app.runtime.pollers.moto_hooks import alias_qualifier
from instrumented_app.runtime.pollers.s3 import complete_s3_event
from instrumented_app.runtime.pollers.sqs import messages_to_keep
from tests.unit.runtime.test_pollers_harness import FakeInvoker

IDS = {"m1", "m2", "m3"}


@pytest.mark.parametrize("payload", [None, {}, "", {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_empty_or_null_responses_mean_the_whole_batch_succeeded(payload: Any) -> None:
    assert partial_batch_outcome(payload, IDS) == SUCCESS


def test_reported_items_fail_alone() -> None:
    outcome = partial_batch_outcome({"batchItemFailures": [{"itemIdentifier": "m2"}]}, IDS)
    assert not outcome.whole_batch
    assert [outcome.failed(i) for i in ("m1", "m2", "m3")] == [False, True, False]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, "batchItemFailures[0].itemIdentifier is missing"),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, "batchItemFailures[0].itemIdentifier is missing"),
        ({"batchItemFailures": [{"id": "m1"}]}, "batchItemFailures[0].itemIdentifier is missing"),
        (
            {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "zz"}]},
            "batchItemFailures[1].itemIdentifier is not in the batch",
        ),
        ({"batchItemFailures": "m1"}, "batchItemFailures is not a list"),
        ("not json", "response is not a JSON object"),
    ],
)
def test_malformed_responses_fail_the_whole_batch(payload: Any, reason: str) -> None:
    outcome = partial_batch_outcome(payload, IDS)
    assert outcome.whole_batch
    assert outcome.reason.startswith(reason)
    assert all(outcome.failed(i) for i in IDS)


def _message(message_id: str, group: str | None = None) -> dict[str, Any]:
    attributes = {"MessageGroupId": group} if group else {}
    return {"MessageId": message_id, "Attributes": attributes}


def test_fifo_keeps_the_rest_of_a_failed_group_but_not_other_groups() -> None:
    batch = [_message("a1", "A"), _message("b1", "B"), _message("a2", "A"), _message("b2", "B")]
    outcome = partial_batch_outcome(
        {"batchItemFailures": [{"itemIdentifier": "a1"}]}, {"a1", "b1", "a2", "b2"}
    )
    assert messages_to_keep(batch, outcome, fifo=True) == {"a1", "a2"}
    assert messages_to_keep(batch, outcome, fifo=False) == {"a1"}


def test_parents_come_before_children_whatever_the_listing_order() -> None:
    shards = [
        {"ShardId": "grandchild", "ParentShardId": "child"},
        {"ShardId": "child", "ParentShardId": "root"},
        {"ShardId": "other"},
        {"ShardId": "root", "ParentShardId": "trimmed-away"},
    ]
    order = [s["ShardId"] for s in order_shards(shards)]
    assert order.index("root") < order.index("child") < order.index("grandchild")
    assert sorted(order) == sorted(s["ShardId"] for s in shards)


def test_a_shard_cycle_does_not_loop() -> None:
    shards = [{"ShardId": "a", "ParentShardId": "b"}, {"ShardId": "b", "ParentShardId": "a"}]
    assert sorted(s["ShardId"] for s in order_shards(shards)) == ["a", "b"]


def _stream_records(*sequence: str) -> list[dict[str, Any]]:
    return [{"dynamodb": {"SequenceNumber": number}} for number in sequence]


def test_a_stream_batch_is_done_up_to_its_lowest_reported_failure() -> None:
    records = _stream_records("10", "11", "12", "13")
    outcome = partial_batch_outcome(
        {"batchItemFailures": [{"itemIdentifier": "13"}, {"itemIdentifier": "11"}]}, {"10", "11", "12", "13"}
    )
    step = stream_step(records, outcome)
    assert (step.done, step.retry) == (1, True)
    assert stream_step(records, SUCCESS).done == 4


def test_mapping_from_the_lambda_api() -> None:
    mapping = parse_mapping(
        {
            "UUID": "u-1",
            "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:jobs",
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:worker:live",
            "BatchSize": 5,
            "State": "Enabled",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumBatchingWindowInSeconds": 2,
            "ScalingConfig": {"MaximumConcurrency": 4},
        }
    )
    assert mapping is not None
    assert (mapping.kind, mapping.batch_size, mapping.max_batching_window_s) == ("sqs", 5, 2.0)
    assert mapping.maximum_concurrency == 4
    assert mapping.report_batch_item_failures
    assert (mapping.function.name, mapping.function.qualifier) == ("worker", "live")
    assert mapping.region == "us-east-1"


def test_sources_no_poller_serves_are_left_alone() -> None:
    kinesis = {
        "UUID": "u-2",
        "EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
    }
    assert parse_mapping(kinesis) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"FunctionArn": ""}, "FunctionArn"),
        ({"FunctionArn": "arn:aws:sqs:us-east-1:1:q"}, "FunctionArn"),
        ({"BatchSize": 0}, "BatchSize"),
        ({"MaximumBatchingWindowInSeconds": -1}, "MaximumBatchingWindowInSeconds"),
        ({"MaximumRetryAttempts": -2}, "MaximumRetryAttempts"),
        ({"EventSourceArn": "queue"}, "EventSourceArn"),
        ({"MaximumRecordAgeInSeconds": -5}, "MaximumRecordAgeInSeconds"),
        ({"ScalingConfig": {"MaximumConcurrency": 1}}, r"ScalingConfig\.MaximumConcurrency"),
        (
            {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:1:function:f"}}},
            "DestinationConfig.OnFailure.Destination",
        ),
    ],
)
def test_a_bad_mapping_names_the_field(changes: dict[str, Any], field: str) -> None:
    raw = {
        "UUID": "u-3",
        "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:jobs",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:worker",
        **changes,
    }
    with pytest.raises(MappingError, match=f"^{field}:"):
        parse_mapping(raw)


def test_function_target_without_qualifier() -> None:
    target = function_target("arn:aws:lambda:us-east-1:123456789012:function:worker")
    assert (target.name, target.qualifier) == ("worker", None)


def test_sqs_record_carries_only_lambdas_attributes_and_base64_binaries() -> None:
    record = sqs_record(
        {
            "MessageId": "m1",
            "ReceiptHandle": "rh",
            "Body": "{}",
            "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "Policy": "not for records"},
            "MessageAttributes": {"tags": {"DataType": "Binary", "BinaryListValues": [b"\x01", b"\x02"]}},
        },
        "arn:aws:sqs:us-east-1:1:q",
        "us-east-1",
    )
    assert record["attributes"] == {"ApproximateReceiveCount": "1", "SentTimestamp": "1"}
    assert record["messageAttributes"]["tags"] == {
        "stringListValues": [],
        "binaryListValues": ["AQ==", "Ag=="],
        "dataType": "Binary",
    }
    assert "md5OfMessageAttributes" not in record


def test_stream_images_carry_nested_binaries_as_base64() -> None:
    record = dynamodb_record(
        {
            "eventID": "e1",
            "eventName": "INSERT",
            "dynamodb": {
                "Keys": {"pk": {"S": "a"}},
                "NewImage": {
                    "pk": {"S": "a"},
                    "doc": {"M": {"blob": {"B": b"\x00"}, "list": {"L": [{"BS": [b"\x01"]}, {"N": "1"}]}}},
                },
                "SequenceNumber": "7",
                "SizeBytes": 20,
                "StreamViewType": "NEW_IMAGE",
            },
        },
        "arn:aws:dynamodb:us-east-1:1:table/t/stream/x",
        "us-east-1",
    )
    doc = record["dynamodb"]["NewImage"]["doc"]["M"]
    assert doc["blob"] == {"B": "AA=="}
    assert doc["list"] == {"L": [{"BS": ["AQ=="]}, {"N": "1"}]}
    assert record["eventVersion"] == "1.1"


def test_s3_keys_keep_their_slashes_and_records_gain_what_s3_sends() -> None:
    moto_event: dict[str, Any] = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "b", "arn": "arn:aws:s3:::b"}, "object": {"key": "a%2Fb+c%3D.jpg"}},
            }
        ]
    }
    record = complete_s3_event(moto_event, sequencer="00AB", request_id="r1")["Records"][0]
    assert record["s3"]["object"] == {"key": "a/b+c%3D.jpg", "sequencer": "00AB"}
    assert record["s3"]["bucket"]["ownerIdentity"]["principalId"]
    assert record["responseElements"]["x-amz-request-id"] == "r1"
    assert moto_event["Records"][0]["s3"]["object"]["key"] == "a%2Fb+c%3D.jpg"  # the input is left alone


class FakeStreams:
    """Two shards, listed child first: ``parent`` (closed, two records) and ``child`` (open, one record)."""

    def __init__(self) -> None:
        self.records = {
            "parent": [_stream_record("1", "p-1"), _stream_record("2", "p-2")],
            "child": [_stream_record("3", "c-1")],
        }

    def describe_stream(self, **_: Any) -> dict[str, Any]:
        return {
            "StreamDescription": {
                "Shards": [{"ShardId": "child", "ParentShardId": "parent"}, {"ShardId": "parent"}]
            }
        }

    def get_shard_iterator(self, *, ShardId: str, ShardIteratorType: str, **_: Any) -> dict[str, Any]:
        assert ShardIteratorType == "TRIM_HORIZON"
        return {"ShardIterator": f"{ShardId}:0"}

    def get_records(self, *, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, position = ShardIterator.split(":")
        start = int(position)
        batch = self.records[shard][start : start + Limit]
        end = start + len(batch)
        closed = shard == "parent" and end == len(self.records[shard])
        return {"Records": batch, **({} if closed else {"NextShardIterator": f"{shard}:{end}"})}


def _stream_record(sequence: str, key: str) -> dict[str, Any]:
    return {
        "eventID": sequence,
        "eventName": "INSERT",
        "dynamodb": {"Keys": {"pk": {"S": key}}, "SequenceNumber": sequence, "StreamViewType": "KEYS_ONLY"},
    }


def stream_poller(
    invoker: FakeInvoker, streams: Any, destinations: Any = None, **mapping_options: Any
) -> DynamoDbStreamPoller:
    mapping = EventSourceMapping(
        uuid="u",
        kind="dynamodb",
        event_source_arn="arn:aws:dynamodb:us-east-1:1:table/t/stream/x",
        function=FunctionTarget("projector"),
        batch_size=1,
        starting_position="TRIM_HORIZON",
        function_arn="arn:aws:lambda:us-east-1:1:function:projector",
        **mapping_options,
    )
    return DynamoDbStreamPoller(
        mapping,
        invoker,
        session=boto3.session.Session(region_name="us-east-1"),
        aws_endpoint="http://127.0.0.1:1",
        poll_interval_s=0.01,
        destinations=destinations,
        streams_client=streams,
    )


def test_a_child_shard_is_read_only_after_its_parent_is_finished() -> None:
    invoker = FakeInvoker({"projector": lambda event: None})
    poller = stream_poller(invoker, FakeStreams())
    for _ in range(6):  # bounded: more rounds than records
        poller.poll_once()

    keys = [c.event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] for c in invoker.calls]
    assert keys == ["p-1", "p-2", "c-1"]


def test_a_bad_filter_pattern_is_reported_by_its_place() -> None:
    raw = {
        "UUID": "u-4",
        "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:jobs",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:worker",
        "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"a": ["x"]}}'}, {"Pattern": "{not json"}]},
    }
    with pytest.raises(MappingError, match=r"^FilterCriteria\.Filters\[1\]\.Pattern: .*Invalid JSON"):
        parse_mapping(raw)


class FakeLambdaApi:
    """``list_event_source_mappings`` over two pages, one of them holding a mapping no poller can use."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self._pages = pages

    def get_paginator(self, name: str) -> FakeLambdaApi:
        assert name == "list_event_source_mappings"
        return self

    def paginate(self) -> list[dict[str, Any]]:
        return [{"EventSourceMappings": page} for page in self._pages]


def test_one_bad_mapping_does_not_hide_the_others(caplog: pytest.LogCaptureFixture) -> None:
    good = {
        "UUID": "good",
        "EventSourceArn": "arn:aws:sqs:us-east-1:1:q",
        "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f",
    }
    bad = {**good, "UUID": "bad", "BatchSize": -3}
    later = {**good, "UUID": "later"}
    found = read_mappings(FakeLambdaApi([[good, bad], [later]]))
    assert [m.uuid for m in found] == ["good", "later"]
    assert "event source mapping bad not polled: BatchSize" in caplog.text


@pytest.mark.parametrize(
    ("function_name", "alias"),
    [
        ("fn", None),
        ("fn:live", "live"),
        ("fn:7", None),
        ("fn:$LATEST", None),
        ("123456789012:function:fn:live", "live"),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:live", "live"),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", None),
    ],
)
def test_the_alias_of_a_mapping_function_name(function_name: str, alias: str | None) -> None:
    assert alias_qualifier(function_name) == alias


class ForgetfulStreams(FakeStreams):
    """Forgets the first iterator it issued after handing it out, as moto does when it evicts old ones."""

    def __init__(self) -> None:
        super().__init__()
        self.issued = 0

    def get_shard_iterator(self, *, ShardId: str, ShardIteratorType: str, **kwargs: Any) -> dict[str, Any]:
        self.issued += 1
        return super().get_shard_iterator(ShardId=ShardId, ShardIteratorType=ShardIteratorType, **kwargs)

    def get_records(self, *, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if self.issued == 1:
            raise ClientError(
                {"Error": {"Code": "InternalFailure", "Message": "unknown iterator"}}, "GetRecords"
            )
        return super().get_records(ShardIterator=ShardIterator, Limit=Limit)


def test_a_lost_shard_iterator_is_replaced_from_the_checkpoint() -> None:
    invoker = FakeInvoker({"projector": lambda event: None})
    streams = ForgetfulStreams()
    poller = stream_poller(invoker, streams)
    with pytest.raises(ClientError):
        poller.poll_once()  # the loop logs this and backs off
    for _ in range(6):
        poller.poll_once()

    assert streams.issued == 3  # the lost one, its replacement, and the child shard's
    keys = [c.event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] for c in invoker.calls]
    assert keys == ["p-1", "p-2", "c-1"]


class SpyDestinations:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, destination_arn: str, record: dict[str, Any]) -> None:
        self.sent.append((destination_arn, record))


def test_records_older_than_the_maximum_age_are_skipped_and_reported() -> None:
    streams = FakeStreams()
    old = datetime.now(UTC) - timedelta(hours=2)
    for record in streams.records["parent"]:
        record["dynamodb"]["ApproximateCreationDateTime"] = old
    streams.records["child"][0]["dynamodb"]["ApproximateCreationDateTime"] = datetime.now(UTC)
    invoker = FakeInvoker({"projector": lambda event: None})
    spy = SpyDestinations()
    poller = stream_poller(
        invoker, streams, spy, maximum_record_age_s=60, on_failure_destination="arn:aws:sqs:us-east-1:1:dlq"
    )
    for _ in range(6):
        poller.poll_once()

    keys = [c.event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] for c in invoker.calls]
    assert keys == ["c-1"]
    assert [(arn, r["requestContext"]["condition"]) for arn, r in spy.sent] == [
        ("arn:aws:sqs:us-east-1:1:dlq", "RecordAgeExceeded"),
        ("arn:aws:sqs:us-east-1:1:dlq", "RecordAgeExceeded"),
    ]
    assert [r["DDBStreamBatchInfo"]["startSequenceNumber"] for _, r in spy.sent] == ["1", "2"]
