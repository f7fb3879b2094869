"""What an incoming event says about its trace: its trigger, correlation id, and trace context.

Pure functions over the event shapes Lambda's event sources deliver, so the
rules can be tested without running anything. The correlation id is looked
for where DESIGN.md says each hop carries it:

=====================  ==================================================================
API Gateway proxy       ``X-Correlation-Id`` header (``traceparent`` header: the parent)
SQS                     each record's ``correlation_id`` message attribute, or inside an
                        SNS envelope (``MessageAttributes``) or an EventBridge envelope
                        (``detail``) in the body; ``traceparent`` beside it: span links
SNS                     each record's ``Sns.MessageAttributes``
EventBridge             ``detail.correlation_id`` (``detail.traceparent``: the parent)
DynamoDB Streams        ``NewImage.correlation_id`` (``OldImage`` for REMOVE); links
Step Functions, direct  top-level ``correlation_id`` (``traceparent``: the parent)
=====================  ==================================================================

A value that fails ``is_valid_correlation_id`` is ignored, and an id is minted
when none is found, so every invocation has one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sagawatch.contracts import (
    CORRELATION_ID_ATTRIBUTE,
    TRACEPARENT_ATTRIBUTE,
    TRACEPARENT_HEADER,
    correlation_id_from_headers,
    is_valid_correlation_id,
    mint_correlation_id,
)

AttributeValue = str | bool | int | float | list[str]


class Trigger(StrEnum):
    API = "api"
    SQS = "sqs"
    SNS = "sns"
    EVENTBRIDGE = "eventbridge"
    DYNAMODB = "dynamodb"
    S3 = "s3"
    DIRECT = "direct"  # Step Functions tasks, direct invokes, anything unrecognised


#: Triggers whose records are messages a producer sent: their spans are CONSUMER spans with links.
MESSAGE_TRIGGERS = frozenset({Trigger.SQS, Trigger.SNS})


@dataclass(frozen=True)
class MessageTrace:
    """The propagation fields one record carries (any may be absent)."""

    message_id: str | None
    correlation_id: str | None
    traceparent: str | None


@dataclass(frozen=True)
class EventTrace:
    trigger: Trigger
    correlation_id: str
    correlation_minted: bool
    span_name: str
    #: W3C carrier of the parent context (``{"traceparent": ...}``); empty when the event has none.
    parent: dict[str, str] = field(default_factory=dict)
    #: One entry per record of a batch, in order; their ``traceparent`` become span links.
    messages: tuple[MessageTrace, ...] = ()
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


def describe_event(event: Any, function_name: str = "") -> EventTrace:
    """Classify ``event`` and pull out its correlation id and trace context."""
    if isinstance(event, Mapping):
        if _is_api(event):
            return _api(event)
        records = event.get("Records")
        if isinstance(records, list) and records and isinstance(records[0], Mapping):
            source = records[0].get("eventSource") or records[0].get("EventSource")
            if source in _RECORD_SOURCES:
                return _records(_RECORD_SOURCES[source], records)
        if "detail-type" in event and isinstance(event.get("detail"), Mapping):
            return _eventbridge(event)
    return _direct(event, function_name)


# --- API Gateway -------------------------------------------------------------------------------


def _is_api(event: Mapping[str, Any]) -> bool:
    context = event.get("requestContext")
    return isinstance(context, Mapping) and (
        "httpMethod" in event or isinstance(context.get("http"), Mapping)
    )


def _api(event: Mapping[str, Any]) -> EventTrace:
    headers = _headers(event)
    correlation_id, minted = correlation_id_from_headers(headers)
    # REST APIs (payload 1.0) name these at the top level; HTTP APIs (2.0) under requestContext.http.
    http = _nested_map(event, "requestContext", "http") or {}
    method = _str(event.get("httpMethod")) or _str(http.get("method")) or ""
    path = _str(event.get("path")) or _str(event.get("rawPath")) or ""
    route_key = (_str(event.get("routeKey")) or "").partition(" ")[2]  # "POST /orders" -> "/orders"
    route = _str(event.get("resource")) or route_key or path
    parent = {TRACEPARENT_HEADER: headers[TRACEPARENT_HEADER]} if TRACEPARENT_HEADER in headers else {}
    return EventTrace(
        trigger=Trigger.API,
        correlation_id=correlation_id,
        correlation_minted=minted,
        span_name=f"{method} {route}".strip(),
        parent=parent,
        attributes={
            "faas.trigger": "http",
            "http.request.method": method,
            "http.route": route,
            "url.path": path,
        },
    )


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Headers with lowercase names (HTTP names are case-insensitive); multi-value headers as a fallback."""
    found: dict[str, str] = {}
    multi = event.get("multiValueHeaders")
    if isinstance(multi, Mapping):
        for name, values in multi.items():
            if isinstance(values, list) and values and isinstance(values[0], str):
                found[str(name).lower()] = values[0]
    single = event.get("headers")
    if isinstance(single, Mapping):
        found.update({str(name).lower(): value for name, value in single.items() if isinstance(value, str)})
    return found


# --- record batches ----------------------------------------------------------------------------


def _sqs_message(record: Mapping[str, Any]) -> MessageTrace:
    fields = {
        name: _nested(record, "messageAttributes", name, "stringValue")
        for name in (CORRELATION_ID_ATTRIBUTE, TRACEPARENT_ATTRIBUTE)
    }
    if not all(fields.values()):
        envelope = _json_object(record.get("body"))
        for name in fields:
            fields[name] = fields[name] or _from_envelope(envelope, name)
    return MessageTrace(
        _str(record.get("messageId")), fields[CORRELATION_ID_ATTRIBUTE], fields[TRACEPARENT_ATTRIBUTE]
    )


def _from_envelope(envelope: Mapping[str, Any] | None, name: str) -> str | None:
    """SNS -> SQS bodies carry ``MessageAttributes``; EventBridge -> SQS bodies carry ``detail``."""
    if envelope is None:
        return None
    if envelope.get("Type") == "Notification":
        return _nested(envelope, "MessageAttributes", name, "Value")
    if "detail-type" in envelope:
        return _nested(envelope, "detail", name)
    return None


def _sns_message(record: Mapping[str, Any]) -> MessageTrace:
    return MessageTrace(
        _nested(record, "Sns", "MessageId"),
        _nested(record, "Sns", "MessageAttributes", CORRELATION_ID_ATTRIBUTE, "Value"),
        _nested(record, "Sns", "MessageAttributes", TRACEPARENT_ATTRIBUTE, "Value"),
    )


def _dynamodb_message(record: Mapping[str, Any]) -> MessageTrace:
    image = _nested_map(record, "dynamodb", "NewImage") or _nested_map(record, "dynamodb", "OldImage") or {}
    return MessageTrace(
        _str(record.get("eventID")),
        _nested(image, CORRELATION_ID_ATTRIBUTE, "S"),
        _nested(image, TRACEPARENT_ATTRIBUTE, "S"),
    )


def _s3_message(record: Mapping[str, Any]) -> MessageTrace:
    return MessageTrace(_nested(record, "responseElements", "x-amz-request-id"), None, None)


_RECORD_SOURCES = {
    "aws:sqs": Trigger.SQS,
    "aws:sns": Trigger.SNS,
    "aws:dynamodb": Trigger.DYNAMODB,
    "aws:s3": Trigger.S3,
}
_READERS = {
    Trigger.SQS: _sqs_message,
    Trigger.SNS: _sns_message,
    Trigger.DYNAMODB: _dynamodb_message,
    Trigger.S3: _s3_message,
}
_FAAS_TRIGGER = {
    Trigger.SQS: "pubsub",
    Trigger.SNS: "pubsub",
    Trigger.DYNAMODB: "datasource",
    Trigger.S3: "datasource",
}


def message_trace(record: Any) -> MessageTrace:
    """The propagation fields of one record of an SQS, SNS, DynamoDB Streams or S3 batch."""
    if isinstance(record, Mapping):
        trigger = _RECORD_SOURCES.get(record.get("eventSource") or record.get("EventSource") or "")
        if trigger is not None:
            return _READERS[trigger](record)
    return MessageTrace(None, None, None)


def _records(trigger: Trigger, records: list[Any]) -> EventTrace:
    read = _READERS[trigger]
    messages = tuple(read(r) if isinstance(r, Mapping) else MessageTrace(None, None, None) for r in records)
    ids = list(dict.fromkeys(m.correlation_id for m in messages if _valid(m.correlation_id)))
    attributes: dict[str, AttributeValue] = {
        "faas.trigger": _FAAS_TRIGGER[trigger],
        "messaging.batch.message_count": len(records),
    }
    if len(ids) > 1:
        attributes["messaging.batch.correlation_ids"] = [str(i) for i in ids]
    source = _source_name(trigger, records[0])
    if trigger in MESSAGE_TRIGGERS:
        attributes["messaging.system"] = "aws_sqs" if trigger is Trigger.SQS else "aws_sns"
        attributes["messaging.operation.type"] = "process"
        attributes["messaging.destination.name"] = source
    correlation_id = str(ids[0]) if ids else None
    return EventTrace(
        trigger=trigger,
        correlation_id=correlation_id or mint_correlation_id(),
        correlation_minted=correlation_id is None,
        span_name=f"process {source}".strip(),
        messages=messages,
        attributes=attributes,
    )


def _source_name(trigger: Trigger, record: Mapping[str, Any]) -> str:
    """Queue, topic, table or bucket name, from the record's ARN or bucket field."""
    if trigger is Trigger.S3:
        return _nested(record, "s3", "bucket", "name") or ""
    arn = _str(record.get("eventSourceARN") or record.get("EventSubscriptionArn")) or ""
    if trigger is Trigger.DYNAMODB:
        return arn.split(":table/", 1)[-1].split("/", 1)[0] if ":table/" in arn else arn
    parts = arn.split(":")
    return parts[5] if len(parts) > 5 else arn


# --- single events -----------------------------------------------------------------------------


def _eventbridge(event: Mapping[str, Any]) -> EventTrace:
    detail = event["detail"]
    return _single(
        Trigger.EVENTBRIDGE,
        detail,
        span_name=f"process {event.get('detail-type', '')}".strip(),
        attributes={"faas.trigger": "pubsub", "cloudevents.event_type": str(event.get("detail-type", ""))},
    )


def _direct(event: Any, function_name: str) -> EventTrace:
    carrier = event if isinstance(event, Mapping) else {}
    return _single(
        Trigger.DIRECT, carrier, span_name=function_name or "invoke", attributes={"faas.trigger": "other"}
    )


def _single(
    trigger: Trigger, carrier: Mapping[str, Any], *, span_name: str, attributes: dict[str, AttributeValue]
) -> EventTrace:
    found = _str(carrier.get(CORRELATION_ID_ATTRIBUTE))
    valid = found if _valid(found) else None
    traceparent = _str(carrier.get(TRACEPARENT_ATTRIBUTE))
    return EventTrace(
        trigger=trigger,
        correlation_id=valid or mint_correlation_id(),
        correlation_minted=valid is None,
        span_name=span_name,
        parent={TRACEPARENT_HEADER: traceparent} if traceparent else {},
        attributes=attributes,
    )


# --- small readers -----------------------------------------------------------------------------


def _valid(value: str | None) -> bool:
    return value is not None and is_valid_correlation_id(value)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _nested(node: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return _str(node)


def _nested_map(node: Any, *path: str) -> Mapping[str, Any] | None:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, Mapping) else None


def _json_object(body: Any) -> Mapping[str, Any] | None:
    if not isinstance(body, str) or not body.startswith("{"):
        return None
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, Mapping) else None
