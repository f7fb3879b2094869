"""botocore and httpx calls made by a handler become child spans; SQS messages carry the trace to
the consumer. moto's server over HTTP on loopback stands in for AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from instrumented_app.telemetry import instrumented, logger, message_attributes
from tests.lambda_context import FakeContext
from tests.unit.telemetry.conftest import Output, only_span


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _sqs(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _as_lambda_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """What Lambda's SQS event source mapping hands the function for received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {"stringValue": a["StringValue"], "dataType": a["DataType"]}
                    for name, a in m.get("MessageAttributes", {}).items()
                },
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
            }
            for m in messages
        ]
    }


def test_a_message_sent_in_one_invocation_links_the_consumers_span_to_it(
    moto_endpoint: str, spans: InMemorySpanExporter, read_output: Callable[[], Output]
) -> None:
    sqs = _sqs(moto_endpoint)
    queue_url = sqs.create_queue(QueueName="billing")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]

    @instrumented
    def producer(event: Any, context: Any) -> dict[str, Any]:
        sqs.send_message(
            QueueUrl=queue_url, MessageBody='{"order": 1}', MessageAttributes=message_attributes()
        )
        with httpx.Client(timeout=5) as client:
            client.get(f"{moto_endpoint}/moto-api/data.json")
        return {"statusCode": 202, "body": "{}"}

    @instrumented
    def consumer(event: Any, context: Any) -> dict[str, Any]:
        logger.info("billing order")
        return {"batchItemFailures": []}

    api_event = {
        "httpMethod": "POST",
        "resource": "/api/async",
        "path": "/api/async",
        "requestContext": {},
        "headers": {"X-Correlation-Id": "async-1"},
    }
    producer(api_event, FakeContext(function_name="api"))
    received = sqs.receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["All"], MaxNumberOfMessages=10, WaitTimeSeconds=0
    )["Messages"]
    read_output()
    consumer(_as_lambda_event(received, queue_arn), FakeContext(function_name="billing-worker"))

    server = only_span(spans, "POST /api/async")
    sends = [s for s in spans.get_finished_spans() if s.name == "SQS.SendMessage"]
    assert sends and sends[0].kind is SpanKind.CLIENT
    assert sends[0].parent is not None and sends[0].parent.span_id == server.context.span_id
    [http_call] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT and s.name == "GET"]
    assert http_call.parent is not None and http_call.parent.span_id == server.context.span_id

    consumer_span = only_span(spans, "process billing")
    assert consumer_span.kind is SpanKind.CONSUMER
    [link] = consumer_span.links
    assert (link.context.trace_id, link.context.span_id) == (server.context.trace_id, server.context.span_id)
    [line] = read_output().logs
    assert line["correlation_id"] == "async-1", "the correlation id crossed the queue"
    assert line["trace_id"] == trace.format_trace_id(consumer_span.context.trace_id)
