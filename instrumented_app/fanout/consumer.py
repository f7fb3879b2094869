"""One SQS consumer of order events, built per consumer name: the five consumer handlers are this.

Each record is processed under its own span and correlation id
(``record_scope``), so an operator following one order sees only its lines;
Powertools' ``BatchProcessor`` reports a failed record in ``batchItemFailures``
and the rest of the batch is deleted, so one bad message never holds back the
others. A record is either the raw SNS message (the order event's JSON) or an
EventBridge envelope (the event in ``detail``), which is how the two paths
deliver to SQS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from instrumented_app.fanout.config import FanoutConfig
from instrumented_app.fanout.effects import EFFECTS, Effect
from instrumented_app.fanout.ledger import EffectsLedger
from instrumented_app.fanout.model import SLOW_FAULT_S, OrderEvent, faults_allowed
from instrumented_app.telemetry import log_error, logger, metrics, record_scope, trace_fields
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE, TRACEPARENT_ATTRIBUTE

#: Error code of a message that is not an order event (it fails, and reaches the DLQ after its retries).
UNREADABLE = "ORDER_EVENT_UNREADABLE"
#: Error code of a record whose processing failed (unless the exception names its own ``error_code``).
CONSUMER_FAILED = "ORDER_EVENT_CONSUMER_FAILED"


class InjectedFault(RuntimeError):
    """A test fault the event asked this consumer for (``faults``, test stacks only)."""

    error_code = "ORDER_EVENT_TEST_FAULT"


def read_order_event(body: str) -> OrderEvent:
    """The order event in an SQS body: the raw SNS message, or an EventBridge envelope's ``detail``."""
    document = json.loads(body)
    if isinstance(document, dict) and "detail-type" in document and isinstance(document.get("detail"), dict):
        document = {
            name: value
            for name, value in document["detail"].items()
            if name not in (CORRELATION_ID_ATTRIBUTE, TRACEPARENT_ATTRIBUTE)
        }
    return OrderEvent.model_validate(document)


@dataclass(frozen=True)
class Consumed:
    effect: Effect
    recorded: bool  # False: a duplicate delivery, recorded before


def consume(
    name: str,
    event: OrderEvent,
    ledger: EffectsLedger,
    *,
    faults_on: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> Consumed:
    """Apply ``event`` as consumer ``name``: honour a test fault, then record the effect once."""
    fault = event.fault_for(name) if faults_on else None
    if fault == "fail":
        raise InjectedFault(f"{name}: failing on purpose for order {event.order_id} (test fault)")
    if fault == "slow":
        sleep(SLOW_FAULT_S)
    effect = EFFECTS[name](event)
    recorded = ledger.record(event.order_id, event.event_type.value, effect, trace_fields())
    return Consumed(effect, recorded)


@cache
def _ledger() -> EffectsLedger:
    config = FanoutConfig()  # read from the environment
    return EffectsLedger(config.require("order_effects_table"), config.client("dynamodb"))


def consumer_handler(name: str) -> Callable[[dict[str, Any], Any], PartialItemFailureResponse]:
    """The Lambda handler (before ``@instrumented``) of consumer ``name``."""
    if name not in EFFECTS:
        raise ValueError(f"consumer: unknown name {name!r}, expected one of {sorted(EFFECTS)}")
    # A batch whose records all failed is still a normal answer listing them (each is logged with its
    # error code), not an invocation error: SQS retries exactly the same messages either way.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def process(record: SQSRecord) -> None:
        with record_scope(record.raw_event):
            try:
                event = read_order_event(record.body)
            except (ValueError, ValidationError) as exc:
                log_error(
                    f"{name}: message is not an order event",
                    error_code=UNREADABLE,
                    message_id=record.message_id,
                    problem=str(exc)[:300],
                )
                raise
            logger.append_keys(order_id=event.order_id, event_type=event.event_type.value)
            try:
                done = consume(name, event, _ledger(), faults_on=faults_allowed())
            except Exception as exc:
                log_error(
                    f"{name}: order event not processed; it returns to the queue for a retry",
                    error_code=getattr(exc, "error_code", CONSUMER_FAILED),
                    exc_info=exc,
                    consumer=name,
                )
                raise
            finally:
                logger.remove_keys(["order_id", "event_type"])
            metrics.add_metric(name="OrderEventConsumed", unit=MetricUnit.Count, value=1)
            logger.info(
                "%s: %s %s",
                name,
                done.effect.action,
                "recorded" if done.recorded else "already recorded (duplicate delivery)",
                extra={
                    "consumer": name,
                    "order_id": event.order_id,
                    "event_type": event.event_type.value,
                    "action": done.effect.action,
                    "duplicate": not done.recorded,
                },
            )

    def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=process, processor=processor, context=context
        )

    handler.__name__ = f"{name}_handler"
    return handler
