"""The events Lambda hands a function, built from what the source APIs return (pure functions).

Shapes follow the Lambda developer guide's samples and Powertools' parser models
(``SqsRecordModel``, ``DynamoDBStreamRecordModel``, ``S3RecordModel``), so a
handler that parses its event with Powertools accepts what these produce.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from instrumented_app.runtime.types import InvocationResult

#: The system attributes Lambda copies into an SQS record, in Lambda's order.
SQS_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def _b64(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


def sqs_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """``ReceiveMessage``'s ``{StringValue, BinaryValue, ...}`` -> the record's camelCase shape."""
    shaped: dict[str, Any] = {}
    if value.get("StringValue") is not None:
        shaped["stringValue"] = value["StringValue"]
    if value.get("BinaryValue") is not None:
        shaped["binaryValue"] = _b64(value["BinaryValue"])
    shaped["stringListValues"] = list(value.get("StringListValues") or [])
    shaped["binaryListValues"] = [_b64(item) for item in value.get("BinaryListValues") or []]
    shaped["dataType"] = value["DataType"]
    return shaped


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One message from ``ReceiveMessage`` -> one record of Lambda's SQS event."""
    system = message.get("Attributes") or {}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: system[name] for name in SQS_RECORD_ATTRIBUTES if name in system},
        "messageAttributes": {
            name: sqs_message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


def _wire_attribute_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """boto3 decodes ``B``/``BS`` to bytes; Lambda's stream event carries them base64, as on the wire."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(item) for item in inner]}
    if kind == "M":
        return {"M": {name: _wire_attribute_value(item) for name, item in inner.items()}}
    if kind == "L":
        return {"L": [_wire_attribute_value(item) for item in inner]}
    return {kind: inner}


def _wire_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _wire_attribute_value(value) for name, value in item.items()}


def _epoch_seconds(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def dynamodb_record(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One record from ``GetRecords`` -> one record of Lambda's DynamoDB Streams event."""
    change = record["dynamodb"]
    shaped_change: dict[str, Any] = {}
    if "ApproximateCreationDateTime" in change:
        shaped_change["ApproximateCreationDateTime"] = _epoch_seconds(change["ApproximateCreationDateTime"])
    for image in ("Keys", "NewImage", "OldImage"):
        if change.get(image) is not None:
            shaped_change[image] = _wire_item(change[image])
    for name in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if name in change:
            shaped_change[name] = change[name]
    shaped: dict[str, Any] = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": shaped_change,
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):
        shaped["userIdentity"] = dict(record["userIdentity"])
    return shaped


def dynamodb_event(records: Sequence[Mapping[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [dynamodb_record(record, stream_arn, region) for record in records]}


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stream_batch_failure(
    records: Sequence[Mapping[str, Any]],
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    result: InvocationResult | None,
    now: datetime,
) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's on-failure destination for a discarded batch.

    ``condition`` is ``RetryAttemptsExhausted`` or ``RecordAgeExceeded``; the records
    themselves are not included (as on Lambda), only where to find them.
    """
    arrivals = [r["dynamodb"].get("ApproximateCreationDateTime") for r in records]
    first, last = (
        (arrivals[0], arrivals[-1]) if all(isinstance(a, datetime) for a in arrivals) else (now, now)
    )
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": result.version if result else "$LATEST"}
    if result is not None and result.error is not None:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": result.request_id if result else str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso_millis(now),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso_millis(first),
            "approximateArrivalOfLastRecord": _iso_millis(last),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }
