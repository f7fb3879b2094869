"""``POST /orders/events``: one order event, fanned out (SNS) and routed (EventBridge).

The event goes to the order events topic with the message attributes the
subscriptions filter on (``event_type``) and the trace contract
(``correlation_id``, ``traceparent``), so inventory, billing and notification
each get it on their own queue; and to EventBridge with both in ``detail``,
where the VIP rule (``amount >= 10000``) sends it on to VIP notify and fraud
check. Each publish runs in a PRODUCER span carrying the correlation id.

A failed publish answers 502 naming what was and was not sent. Repeating the
request is safe: every consumer records its effect once per order and event
type, so a second delivery to one that already had it changes nothing.
``GET /orders/events/{order_id}`` shows what each consumer recorded.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError
from opentelemetry.trace import SpanKind

from instrumented_app.fanout.config import FanoutConfig
from instrumented_app.fanout.ledger import EffectsLedger
from instrumented_app.fanout.model import OrderEvent, faults_allowed
from instrumented_app.fanout.routing import (
    DETAIL_TYPE,
    EVENT_SOURCE,
    FILTER_ATTRIBUTE,
    routed_targets,
    subscribers_of,
)
from instrumented_app.items.api import problems_of
from instrumented_app.telemetry import (
    current_correlation_id,
    instrumented,
    log_error,
    logger,
    message_attributes,
    metrics,
    trace_fields,
    tracer,
)
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE

app = APIGatewayRestResolver(enable_validation=True)

PUBLISH_FAILED = "ORDER_EVENT_PUBLISH_FAILED"


@cache
def config() -> FanoutConfig:
    return FanoutConfig()  # read from the environment


@cache
def clients() -> tuple[Any, Any]:
    return config().client("sns"), config().client("events")


@cache
def ledger() -> EffectsLedger:
    return EffectsLedger(config().require("order_effects_table"), config().client("dynamodb"))


def _json(status: HTTPStatus, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response[Any]:
    return _json(HTTPStatus.BAD_REQUEST, {"message": "Invalid request", "errors": problems_of(exc.errors())})


def publish_to_topic(sns: Any, topic_arn: str, event: OrderEvent) -> str:
    """SNS ``Publish`` in a PRODUCER span; the message id."""
    attributes = {
        FILTER_ATTRIBUTE: {"DataType": "String", "StringValue": event.event_type.value},
        **message_attributes(),
    }
    with tracer.start_as_current_span(
        "publish order event",
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "aws_sns",
            "messaging.destination.name": topic_arn.rsplit(":", 1)[-1],
            CORRELATION_ID_ATTRIBUTE: current_correlation_id() or "",
        },
    ):
        answer = sns.publish(
            TopicArn=topic_arn, Message=json.dumps(event.as_message()), MessageAttributes=attributes
        )
    return str(answer["MessageId"])


def put_to_bus(events: Any, bus: str, event: OrderEvent) -> str:
    """EventBridge ``PutEvents`` (the event in ``detail`` with the trace fields) in a PRODUCER span."""
    with tracer.start_as_current_span(
        "put order event",
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "aws_eventbridge",
            "messaging.destination.name": bus,
            CORRELATION_ID_ATTRIBUTE: current_correlation_id() or "",
        },
    ):
        detail = {**event.as_message(), **trace_fields()}
        answer = events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "EventBusName": bus,
                }
            ]
        )
    entry = answer["Entries"][0]
    if answer.get("FailedEntryCount") or "EventId" not in entry:
        raise RuntimeError(
            f"PutEvents refused the event: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
        )
    return str(entry["EventId"])


@app.post("/orders/events")
def post_order_event(event: OrderEvent) -> Response[Any]:
    if event.faults is not None and not faults_allowed():
        problem = {"field": "faults", "problem": "test faults are not enabled on this stack"}
        return _json(HTTPStatus.BAD_REQUEST, {"message": "Invalid request", "errors": [problem]})
    logger.append_keys(order_id=event.order_id, event_type=event.event_type.value)
    sns, events = clients()
    sent: dict[str, str] = {}
    try:
        sent["sns_message_id"] = publish_to_topic(sns, config().require("order_events_topic_arn"), event)
        sent["eventbridge_event_id"] = put_to_bus(events, config().order_events_bus, event)
    except (BotoCoreError, ClientError, RuntimeError) as exc:
        log_error("order event not fully published", error_code=PUBLISH_FAILED, exc_info=exc, **sent)
        return _json(
            HTTPStatus.BAD_GATEWAY,
            {
                "message": "The order event was not fully published; repeating the request is safe",
                "error_code": PUBLISH_FAILED,
                "published": sent,
            },
        )
    metrics.add_metric(name="OrderEventPublished", unit=MetricUnit.Count, value=1)
    logger.info("order event published", extra=sent)
    return _json(
        HTTPStatus.ACCEPTED,
        {
            "order_id": event.order_id,
            "event_type": event.event_type.value,
            "correlation_id": current_correlation_id(),
            **sent,
            "subscribers": subscribers_of(event),
            "routed_to": routed_targets(event),
        },
    )


@app.get("/orders/events/<order_id>")
def get_order_effects(order_id: str) -> Response[Any]:
    effects = ledger().effects_of(order_id)
    if not effects:
        return _json(
            HTTPStatus.NOT_FOUND, {"message": f"no consumer has recorded anything for order {order_id}"}
        )
    return _json(HTTPStatus.OK, {"order_id": order_id, "effects": [asdict(effect) for effect in effects]})


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
