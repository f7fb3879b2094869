"""The query model's consumer: routed account events (SQS) -> the account views table.

Each message is one event; ``instrumented_app.eventsourcing.views.catch_up``
applies it at the view's next version, skips a redelivery, and fills a gap
from the event store when messages arrive out of order. A race with another
consumer fails the record (``batchItemFailures``) and SQS redelivers it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from instrumented_app.eventsourcing.config import EventsConfig
from instrumented_app.eventsourcing.model import StoredEvent
from instrumented_app.eventsourcing.store import EventStore
from instrumented_app.eventsourcing.views import AccountViews, catch_up
from instrumented_app.telemetry import instrumented, logger, metrics, record_scope

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def tables() -> tuple[AccountViews, EventStore]:
    config = EventsConfig()  # read from the environment
    dynamodb = config.client("dynamodb")
    return (
        AccountViews(config.require("account_views_table"), dynamodb),
        EventStore(config.require("event_store_table"), dynamodb),
    )


def project(record: SQSRecord) -> None:
    with record_scope(record.raw_event):
        event = StoredEvent.model_validate_json(record.body)
        views, store = tables()
        outcome = catch_up(views, store, event)
        if outcome.action != "duplicate":
            metrics.add_metric(name="QueryModelUpdated", unit=MetricUnit.Count, value=1)
        logger.info(
            "query model %s",
            outcome.action,
            extra={
                "event_id": event.event_id,
                "event_type": event.type,
                "view_version": outcome.view.version if outcome.view else None,
            },
        )


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=project, processor=processor, context=context)
