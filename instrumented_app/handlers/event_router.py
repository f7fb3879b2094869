"""The event router: the event store's stream -> one SQS message per event on each subscriber's queue.

Subscribers: the query model and "service B", each with its own queue (and
DLQ), so one slow consumer never holds the other back. Each record is routed
under its own span and the event's correlation id, and the message carries
both (``message_attributes()``), so the consumers' spans link back here. Only
INSERTs are events (the store is append-only); a record that could not be
sent is reported as a batch item failure and the stream retries it (the
consumers are idempotent per ``aggregate_id#version``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from instrumented_app.eventsourcing.config import EventsConfig
from instrumented_app.eventsourcing.store import event_from_attributes
from instrumented_app.telemetry import instrumented, logger, message_attributes, metrics, record_scope

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def routes() -> tuple[Any, dict[str, str]]:
    """The SQS client and the subscriber queues by name."""
    config = EventsConfig()  # read from the environment
    queues = {
        "query_model": config.require("query_model_queue_url"),
        "service_b": config.require("service_b_queue_url"),
    }
    return config.client("sqs"), queues


def route(record: DynamoDBRecord) -> None:
    raw = record.raw_event
    if raw.get("eventName") != "INSERT":
        return
    with record_scope(raw):
        event = event_from_attributes(raw["dynamodb"]["NewImage"])
        sqs, queues = routes()
        body = event.model_dump_json(exclude={"traceparent"})
        for url in queues.values():
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=message_attributes())
            metrics.add_metric(name="EventRouted", unit=MetricUnit.Count, value=1)
        logger.info(
            "event routed",
            extra={"event_id": event.event_id, "event_type": event.type, "subscribers": sorted(queues)},
        )


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=route, processor=processor, context=context)
