"""A decorated handler, called as the Lambda runtime calls it: what lands on stdout and in spans."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from instrumented_app.telemetry import (
    UNHANDLED_ERROR_CODE,
    bind_saga,
    current_correlation_id,
    instrumented,
    log_error,
    logger,
    message_attributes,
    metrics,
    outgoing_headers,
    record_scope,
    trace_fields,
    tracer,
)
from sagawatch.contracts import REQUIRED_LOG_FIELDS, LogLine
from tests.lambda_context import FakeContext
from tests.unit.telemetry.conftest import Output, only_span

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"


def api_event(headers: dict[str, str] | None = None, path: str = "/items") -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": None,
        "queryStringParameters": None,
        "requestContext": {"resourcePath": path, "httpMethod": "POST", "stage": "prod"},
        "body": "{}",
        "isBase64Encoded": False,
    }


@instrumented
def api_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.info("creating item")
    metrics.add_metric(name="ItemsCreated", unit="Count", value=1)
    logger.info("item created", extra={"item_id": "i-1"})
    return {"statusCode": 201, "body": json.dumps({"id": "i-1"})}


def _hex_ids(span: Any) -> tuple[str, str]:
    return trace.format_trace_id(span.context.trace_id), trace.format_span_id(span.context.span_id)


def test_api_log_lines_carry_every_contract_field_and_the_callers_ids(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    headers = {
        "X-Correlation-Id": "order-7781",
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
        "Content-Type": "application/json",
    }
    result = api_handler(api_event(headers), FakeContext())

    assert result["statusCode"] == 201
    assert result["headers"] == {"X-Correlation-Id": "order-7781"}, "the caller is told the id"
    out = read_output()
    assert [line["message"] for line in out.logs] == ["creating item", "item created"]
    server = only_span(spans, "POST /items")
    trace_id, span_id = _hex_ids(server)
    for line in out.logs:
        missing = [f for f in REQUIRED_LOG_FIELDS if not line.get(f)]
        assert missing == [], line
        LogLine.model_validate(line)
        assert line["correlation_id"] == "order-7781"
        assert (line["trace_id"], line["span_id"]) == (trace_id, span_id)
        assert line["function_name"] == "orders-api"
        assert line["function_request_id"] == FakeContext.aws_request_id
        assert line["service"] == logger.service
    assert server.kind is SpanKind.SERVER
    assert trace_id == CALLER_TRACE, "the invocation continues the caller's trace"
    assert server.parent is not None and trace.format_span_id(server.parent.span_id) == CALLER_SPAN
    assert server.attributes is not None
    assert server.attributes["correlation_id"] == "order-7781"
    assert server.attributes["http.response.status_code"] == 201


def test_a_correlation_id_is_minted_when_the_request_has_none(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    answer = api_handler(api_event(None), FakeContext())
    first = read_output().logs
    api_handler(api_event({"x-correlation-id": "bad value\nwith newline"}), FakeContext())
    second = read_output().logs

    minted = {line["correlation_id"] for line in first}
    assert minted == {answer["headers"]["X-Correlation-Id"]}
    uuid.UUID(minted.pop())  # a UUID, as the contract mints
    replaced = {line["correlation_id"] for line in second}
    assert len(replaced) == 1 and "newline" not in replaced.pop()
    assert first[0]["correlation_id"] != second[0]["correlation_id"]
    span_ids = [s.attributes["correlation_id"] for s in spans.get_finished_spans() if s.attributes]
    assert span_ids == [first[0]["correlation_id"], second[0]["correlation_id"]]


class Customer(BaseModel):
    id: int
    email: str
    first_name: str


def test_pii_values_never_reach_stdout(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    record = {
        "id": 42,
        "email": "hanako@example.jp",
        "phone": "+81-90-1234-5678",
        "name": "Yamada Hanako",
        "profile": {"family_name": "Yamada", "given_name": "Hanako", "tier": "gold"},
        "contacts": [{"last_name": "Suzuki", "full_name": "Ichiro Suzuki", "phoneNumber": "0312345678"}],
    }

    @instrumented
    def handler(event: Any, context: Any) -> dict[str, Any]:
        logger.info("customer loaded", extra={"customer": record})
        logger.info({"event": "lookup", "email": "taro@example.com"})
        logger.info("welcome mail sent to jiro@example.net")
        logger.info("model", extra={"model": Customer(id=1, email="saburo@example.org", first_name="Saburo")})
        return {"ok": True}

    handler({"correlation_id": "pii-1"}, FakeContext())
    out = read_output()

    secrets = [
        "hanako@example.jp",
        "+81-90-1234-5678",
        "Yamada",
        "Hanako",
        "Suzuki",
        "0312345678",
        "taro@example.com",
        "jiro@example.net",
        "saburo@example.org",
        "Saburo",
    ]
    assert [s for s in secrets if s in out.raw] == []
    customer = out.logs[0]["customer"]
    assert customer["email"] == customer["name"] == customer["profile"]["given_name"] == "*****"
    assert customer["contacts"][0]["full_name"] == "*****"
    assert (customer["id"], customer["profile"]["tier"]) == (42, "gold"), "non-PII values stay readable"
    assert out.logs[2]["message"] == "welcome mail sent to *****"
    assert out.logs[3]["model"]["id"] == 1
    assert record["email"] == "hanako@example.jp", "the handler's own data is not modified"


def test_emf_metrics_carry_the_version_dimension_and_flush_per_invocation(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    api_handler(api_event({}), FakeContext(function_version="3"))
    first = read_output().emf
    api_handler(api_event({}), FakeContext(function_version="4"))
    second = read_output().emf

    assert len(first) == 1 and len(second) == 1, "one EMF blob per invocation"
    for blob, version in ((first[0], "3"), (second[0], "4")):
        [directive] = blob["_aws"]["CloudWatchMetrics"]
        assert all("version" in dims for dims in directive["Dimensions"])
        assert blob["version"] == version
        assert blob["ItemsCreated"] in (1, 1.0, [1.0])
    assert "ColdStart" not in second[0]


def test_an_invocation_without_metrics_prints_no_emf_blob(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    @instrumented(capture_response=False)
    def quiet(event: Any, context: Any) -> None:
        logger.info("nothing to count")

    quiet({}, FakeContext())  # may be this process's cold start, which has its ColdStart metric
    read_output()
    quiet({}, FakeContext())
    out = read_output()
    assert out.emf == []
    assert [line["message"] for line in out.logs] == ["nothing to count"]


def _producer_traceparent(name: str) -> tuple[str, str]:
    """A traceparent from a real span of another (producer) trace, and that span's trace id."""
    with tracer.start_as_current_span(name, context=trace.set_span_in_context(trace.INVALID_SPAN)) as span:
        carrier = outgoing_headers()
    return carrier["traceparent"], trace.format_trace_id(span.get_span_context().trace_id)


def _sqs_record(message_id: str, attributes: dict[str, str], body: str = "{}") -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": "rh",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {
            k: {"stringValue": v, "dataType": "String", "stringListValues": [], "binaryListValues": []}
            for k, v in attributes.items()
        },
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:billing-queue",
        "awsRegion": "us-east-1",
    }


def test_an_sqs_batch_gets_a_consumer_span_linked_to_each_producer(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    tp_a, trace_a = _producer_traceparent("send a")
    tp_b, trace_b = _producer_traceparent("send b")
    tp_c, trace_c = _producer_traceparent("publish c")
    sns_body = json.dumps(
        {
            "Type": "Notification",
            "MessageId": "sns-1",
            "Message": "{}",
            "MessageAttributes": {
                "correlation_id": {"Type": "String", "Value": "order-3"},
                "traceparent": {"Type": "String", "Value": tp_c},
            },
        }
    )
    event = {
        "Records": [
            _sqs_record("m-1", {"correlation_id": "order-1", "traceparent": tp_a}),
            _sqs_record("m-2", {"correlation_id": "order-2", "traceparent": tp_b}),
            _sqs_record("m-3", {}, body=sns_body),
            _sqs_record("m-4", {}),
        ]
    }
    seen: list[str | None] = []

    @instrumented
    def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(current_correlation_id())
        logger.info("batch processed")
        return {"batchItemFailures": [{"itemIdentifier": "m-2"}]}

    spans.clear()
    assert worker(event, FakeContext(function_name="billing-worker")) == {
        "batchItemFailures": [{"itemIdentifier": "m-2"}]
    }
    consumer = only_span(spans, "process billing-queue")
    assert consumer.kind is SpanKind.CONSUMER
    assert [trace.format_trace_id(link.context.trace_id) for link in consumer.links] == [
        trace_a,
        trace_b,
        trace_c,
    ]
    assert [dict(link.attributes or {}).get("messaging.message.id") for link in consumer.links] == [
        "m-1",
        "m-2",
        "m-3",
    ]
    assert trace.format_trace_id(consumer.context.trace_id) not in {trace_a, trace_b, trace_c}
    assert consumer.attributes is not None
    assert consumer.attributes["correlation_id"] == "order-1"
    assert consumer.attributes["messaging.batch.correlation_ids"] == ("order-1", "order-2", "order-3")
    assert consumer.attributes["faas.batch.failure_count"] == 1
    assert seen == ["order-1"]
    [line] = read_output().logs
    assert line["correlation_id"] == "order-1"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {
                "version": "0",
                "detail-type": "OrderPlaced",
                "source": "shop.orders",
                "detail": {"correlation_id": "eb-1", "amount": 12000},
            },
            "eb-1",
        ),
        ({"correlation_id": "sfn-1", "order_id": "o-1"}, "sfn-1"),
        (
            {
                "Records": [
                    {
                        "eventID": "e1",
                        "eventName": "INSERT",
                        "eventSource": "aws:dynamodb",
                        "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/Orders/stream/2026",
                        "dynamodb": {"NewImage": {"pk": {"S": "o-1"}, "correlation_id": {"S": "ddb-1"}}},
                    }
                ]
            },
            "ddb-1",
        ),
    ],
    ids=["eventbridge", "step-functions", "dynamodb-stream"],
)
def test_the_correlation_id_comes_from_each_event_shape(
    spans: InMemorySpanExporter, read_output: Callable[[], Output], event: dict[str, Any], expected: str
) -> None:
    @instrumented
    def handler(event: Any, context: Any) -> str | None:
        logger.info("handled")
        return current_correlation_id()

    assert handler(event, FakeContext()) == expected
    [line] = read_output().logs
    assert line["correlation_id"] == expected
    [span] = spans.get_finished_spans()
    assert span.kind is SpanKind.INTERNAL
    assert span.attributes is not None and span.attributes["correlation_id"] == expected
    assert current_correlation_id() is None, "the id does not leak past the invocation"


class PaymentDeclined(Exception):
    error_code = "PAYMENT_DECLINED"


def test_an_unhandled_exception_is_logged_with_an_error_code_and_marks_the_span(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    @instrumented
    def failing(event: Any, context: Any) -> None:
        metrics.add_metric(name="Attempts", unit="Count", value=1)
        raise ValueError("no customer with email kenji@example.com")

    @instrumented
    def declined(event: Any, context: Any) -> None:
        raise PaymentDeclined("card ending 4242 declined")

    with pytest.raises(ValueError, match=r"kenji@example\.com"):
        failing({"correlation_id": "err-1"}, FakeContext())
    with pytest.raises(PaymentDeclined):
        declined({"correlation_id": "err-2"}, FakeContext())

    out = read_output()
    errors = [line for line in out.logs if line["level"] == "ERROR"]
    assert [(e["error_code"], e["correlation_id"]) for e in errors] == [
        (UNHANDLED_ERROR_CODE, "err-1"),
        ("PAYMENT_DECLINED", "err-2"),
    ]
    assert "kenji@example.com" not in out.raw
    assert len(out.emf) == 1, "metrics are flushed even when the handler fails"
    failed = [
        s for s in spans.get_finished_spans() if s.attributes and s.attributes["correlation_id"] == "err-1"
    ]
    assert failed[0].status.status_code is StatusCode.ERROR
    [exception_event] = [e for e in failed[0].events if e.name == "exception"]
    assert exception_event.attributes is not None
    assert "kenji@example.com" not in str(dict(exception_event.attributes))
    assert exception_event.attributes["exception.type"] == "ValueError"


def test_saga_fields_and_error_codes_are_bound_for_the_invocation_only(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    @instrumented
    def saga_step(event: Any, context: Any) -> None:
        if event.get("saga"):
            bind_saga(saga_id="saga-9", saga_type="customer", saga_step="create_support_user")
            log_error("support desk refused the user", error_code="SUPPORT_USER_CREATE_FAILED", attempt=2)
        else:
            logger.info("no saga here")

    saga_step({"saga": True}, FakeContext())
    saga_step({}, FakeContext())
    first, second = read_output().logs
    assert (first["saga_id"], first["saga_type"], first["saga_step"]) == (
        "saga-9",
        "customer",
        "create_support_user",
    )
    assert (first["level"], first["error_code"], first["attempt"]) == (
        "ERROR",
        "SUPPORT_USER_CREATE_FAILED",
        2,
    )
    assert "saga_id" not in second, "the next invocation starts clean"
    with pytest.raises(ValueError, match="error_code"):
        log_error("oops", error_code="")


def test_outgoing_helpers_carry_the_invocation_ids(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    captured: dict[str, Any] = {}

    @instrumented
    def caller(event: Any, context: Any) -> None:
        captured["headers"] = outgoing_headers()
        captured["attributes"] = message_attributes()

    caller(api_event({"X-Correlation-Id": "out-1"}), FakeContext())
    span = only_span(spans, "POST /items")
    trace_id, span_id = _hex_ids(span)
    traceparent = f"00-{trace_id}-{span_id}-{int(span.context.trace_flags):02x}"
    assert captured["headers"] == {"X-Correlation-Id": "out-1", "traceparent": traceparent}
    assert captured["attributes"] == {
        "correlation_id": {"DataType": "String", "StringValue": "out-1"},
        "traceparent": {"DataType": "String", "StringValue": traceparent},
    }
    assert outgoing_headers() == {}, "outside an invocation there is nothing to carry"


def test_each_record_of_a_batch_is_processed_under_its_own_correlation_id_and_span(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    tp_a, trace_a = _producer_traceparent("send a")
    tp_b, trace_b = _producer_traceparent("send b")
    event = {
        "Records": [
            _sqs_record("m-1", {"correlation_id": "order-1", "traceparent": tp_a}),
            _sqs_record("m-2", {"correlation_id": "order-2", "traceparent": tp_b}, body='{"fail": true}'),
        ]
    }

    @instrumented
    def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            try:
                with record_scope(record):
                    logger.info("charging")
                    if json.loads(record["body"]).get("fail"):
                        raise RuntimeError("card for ichiro@example.com declined")
            except RuntimeError:
                failures.append({"itemIdentifier": record["messageId"]})
        logger.info("batch done")
        return {"batchItemFailures": failures}

    spans.clear()
    assert worker(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}

    logs = read_output().logs
    assert [(line["message"], line["correlation_id"]) for line in logs] == [
        ("charging", "order-1"),
        ("charging", "order-2"),
        ("batch done", "order-1"),
    ]
    batch = only_span(spans, "process billing-queue")
    per_record = [s for s in spans.get_finished_spans() if s.name == "process message"]
    assert [s.parent.span_id if s.parent else None for s in per_record] == [batch.context.span_id] * 2
    assert [trace.format_trace_id(s.links[0].context.trace_id) for s in per_record] == [trace_a, trace_b]
    assert [s.attributes["correlation_id"] if s.attributes else None for s in per_record] == [
        "order-1",
        "order-2",
    ]
    assert [s.status.status_code for s in per_record] == [StatusCode.UNSET, StatusCode.ERROR]
    assert "ichiro@example.com" not in str(per_record[1].events[0].attributes)
    assert [line["span_id"] for line in logs[:2]] == [
        trace.format_span_id(s.context.span_id) for s in per_record
    ]


def test_trace_fields_carry_a_trace_through_eventbridge_and_dynamodb_items(
    spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    carried: dict[str, str] = {}

    @instrumented
    def producer(event: Any, context: Any) -> None:
        carried.update(trace_fields())

    @instrumented
    def on_event(event: Any, context: Any) -> str | None:
        return current_correlation_id()

    producer(api_event({"X-Correlation-Id": "vip-1"}), FakeContext())
    origin = only_span(spans, "POST /items")
    eventbridge = {
        "version": "0",
        "detail-type": "BigOrder",
        "source": "shop",
        "detail": {**carried, "amount": 1},
    }
    stream = {
        "Records": [
            {
                "eventID": "e-1",
                "eventSource": "aws:dynamodb",
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/Events/stream/x",
                "dynamodb": {"NewImage": {k: {"S": v} for k, v in carried.items()}},
            }
        ]
    }
    assert on_event(eventbridge, FakeContext()) == on_event(stream, FakeContext()) == "vip-1"

    routed = only_span(spans, "process BigOrder")
    assert routed.parent is not None and routed.parent.span_id == origin.context.span_id, (
        "a single event: parent"
    )
    projected = only_span(spans, "process Events")
    assert [link.context.span_id for link in projected.links] == [origin.context.span_id], "a batch: links"
    read_output()
