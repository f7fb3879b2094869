"""The event store's API: append an account event (optimistic concurrency), read events and the view.

``POST /accounts/{account_id}/events`` with ``{"expected_version", "event"}``:
201 with the stored event; 409 with ``expected_version`` and ``current_version``
when another writer got there first; 422 when the event breaks a rule of the
account (first event not ``AccountOpened``, overdraft, closed account); 400
naming each bad field. ``GET /accounts/{account_id}/events`` lists the history;
``GET /accounts/{account_id}`` is the query model (eventually consistent: it is
fed by the store's stream through the router's queue).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from instrumented_app.eventsourcing.config import EventsConfig
from instrumented_app.eventsourcing.model import AppendRequest, RuleBroken, StoredEvent, check, fold
from instrumented_app.eventsourcing.store import ConcurrencyConflict, EventStore
from instrumented_app.eventsourcing.views import AccountViews
from instrumented_app.items.api import problems_of
from instrumented_app.items.model import iso_ms
from instrumented_app.telemetry import instrumented, logger, metrics, trace_fields

ACCOUNT_ID = r"^[A-Za-z0-9_-]{1,64}$"
app = APIGatewayRestResolver(enable_validation=True)


@cache
def store() -> EventStore:
    config = EventsConfig()  # read from the environment
    return EventStore(config.require("event_store_table"), config.client("dynamodb"))


@cache
def views() -> AccountViews:
    config = EventsConfig()
    return AccountViews(config.require("account_views_table"), config.client("dynamodb"))


def new_event(account_id: str, version: int, event: BaseModel, now: datetime) -> StoredEvent:
    data = event.model_dump(exclude={"type"})
    trace = trace_fields()
    return StoredEvent(
        aggregate_id=account_id,
        version=version,
        type=str(getattr(event, "type")),  # noqa: B009 - every event model has its Literal ``type``
        data=data,
        recorded_at=iso_ms(now),
        correlation_id=trace.get("correlation_id"),
        traceparent=trace.get("traceparent"),
    )


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response[Any]:
    return _json(HTTPStatus.BAD_REQUEST, {"message": "Invalid request", "errors": problems_of(exc.errors())})


@app.post("/accounts/<account_id>/events")
def append_event(account_id: str, request: AppendRequest) -> Response[Any]:
    if not re.fullmatch(ACCOUNT_ID, account_id):
        return _json(
            HTTPStatus.BAD_REQUEST,
            {
                "message": "Invalid request",
                "errors": [{"field": "account_id", "problem": f"must match {ACCOUNT_ID}"}],
            },
        )
    history = store().load(account_id)
    current_version = history[-1].version if history else 0
    if request.expected_version != current_version:
        return _conflict(account_id, request.expected_version, current_version)
    try:
        check(fold(history), request.event)
    except RuleBroken as exc:
        return _json(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": str(exc), "account_id": account_id})
    event = new_event(account_id, current_version + 1, request.event, datetime.now(UTC))
    try:
        store().append(event)
    except ConcurrencyConflict as exc:  # another writer appended between our read and our put
        return _conflict(account_id, exc.expected, exc.current)
    metrics.add_metric(name="EventAppended", unit=MetricUnit.Count, value=1)
    logger.info("event appended", extra={"event_id": event.event_id, "event_type": event.type})
    return _json(HTTPStatus.CREATED, event.model_dump(exclude={"traceparent"}))


@app.get("/accounts/<account_id>/events")
def list_events(account_id: str) -> Response[Any]:
    events = store().load(account_id)
    return _json(HTTPStatus.OK, {"events": [e.model_dump(exclude={"traceparent"}) for e in events]})


@app.get("/accounts/<account_id>")
def get_account(account_id: str) -> Response[Any]:
    view = views().get(account_id)
    if view is None:
        return _json(HTTPStatus.NOT_FOUND, {"message": f"account {account_id} is not in the query model"})
    return _json(HTTPStatus.OK, view.model_dump())


def _conflict(account_id: str, expected: int, current: int) -> Response[Any]:
    logger.info(
        "event append refused: version conflict",
        extra={"account_id": account_id, "error_code": ConcurrencyConflict.error_code},
    )
    return _json(
        HTTPStatus.CONFLICT,
        {
            "message": f"account {account_id} is at version {current}; read it and retry",
            "expected_version": expected,
            "current_version": current,
        },
    )


def _json(status: HTTPStatus, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
