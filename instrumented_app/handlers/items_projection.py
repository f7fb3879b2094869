"""The CQRS projection: the items table's stream (INSERT/MODIFY/REMOVE) -> the read model.

Each record is applied once under its own span and correlation id (the item's
``correlation_id``, so the write and its projection share it); a replayed
record is skipped. The lag from the write to the read model is emitted per
record as the EMF metric ``ProjectionLag`` (milliseconds). A record that fails
is reported as a batch item failure, so the stream retries from it.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from instrumented_app.items.config import ItemsConfig
from instrumented_app.items.projection import ReadModel, read_change
from instrumented_app.telemetry import instrumented, logger, metrics, record_scope

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def read_model() -> ReadModel:
    config = ItemsConfig()  # read from the environment
    return ReadModel(config.items_read_model_table, config.client("dynamodb"))


def project(record: DynamoDBRecord) -> None:
    raw = record.raw_event
    with record_scope(raw):
        change = read_change(raw)
        projected_at_ms = int(time.time() * 1000)
        applied = read_model().apply(change, projected_at_ms)
        if not applied:
            metrics.add_metric(name="ProjectionReplaySkipped", unit=MetricUnit.Count, value=1)
            logger.info(
                "stream record already projected", extra={"item_id": change.item_id, "rank": change.rank}
            )
            return
        lag_ms = max(projected_at_ms - change.written_at_ms, 0)
        metrics.add_metric(name="ProjectionLag", unit=MetricUnit.Milliseconds, value=lag_ms)
        logger.info(
            "item change projected",
            extra={"item_id": change.item_id, "event_name": change.event_name, "lag_ms": lag_ms},
        )


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=project, processor=processor, context=context)
