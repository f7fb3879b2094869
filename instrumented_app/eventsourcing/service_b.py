""" "Service B": the second consumer of routed account events, with an inbox of its own.

It stands for any other service that reacts to the events (here: it records
each event once in its inbox table, keyed by ``aggregate_id#version``, so a
redelivered message is recognised and not acted on twice). Its queue is not
the query model's, so a slow or failing service B never holds the query
model back.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from instrumented_app.eventsourcing.config import EventsConfig
from instrumented_app.eventsourcing.model import StoredEvent
from instrumented_app.items.store import to_attributes
from instrumented_app.telemetry import instrumented, logger, metrics, record_scope


class Inbox:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._db = client

    def receive(self, event: StoredEvent, received_at_ms: int) -> bool:
        """Record ``event``; False when it was already recorded (a redelivery)."""
        record = {
            "event_id": event.event_id,
            "aggregate_id": event.aggregate_id,
            "version": event.version,
            "type": event.type,
            "correlation_id": event.correlation_id,
            "received_at_ms": received_at_ms,
        }
        try:
            self._db.put_item(
                TableName=self.table_name,
                Item=to_attributes(record),
                ConditionExpression="attribute_not_exists(event_id)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def has(self, event_id: str) -> bool:
        found = self._db.get_item(
            TableName=self.table_name, Key={"event_id": {"S": event_id}}, ConsistentRead=True
        )
        return "Item" in found


processor = BatchProcessor(event_type=EventType.SQS)


@cache
def inbox() -> Inbox:
    config = EventsConfig()  # read from the environment
    return Inbox(config.require("service_b_inbox_table"), config.client("dynamodb"))


def receive(record: SQSRecord) -> None:
    with record_scope(record.raw_event):
        event = StoredEvent.model_validate_json(record.body)
        if inbox().receive(event, int(time.time() * 1000)):
            metrics.add_metric(name="ServiceBEventReceived", unit=MetricUnit.Count, value=1)
            logger.info(
                "service B received event", extra={"event_id": event.event_id, "event_type": event.type}
            )
        else:
            logger.info("service B already had event", extra={"event_id": event.event_id})


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """The Lambda handler of service B's queue (partial batch failures)."""
    return process_partial_response(event=event, record_handler=receive, processor=processor, context=context)
