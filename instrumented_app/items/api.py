"""``/items`` as Powertools REST routes (``enable_validation=True``), apart from their wiring.

Answers: 201 + ``Location`` on create; 200 with the item; 200 with
``{"items", "next_token"}`` for a list page; 204 on delete; 400 naming each
bad field (``{"message", "errors": [{"field", "problem"}]}``; the value
itself is never echoed); 404 for an unknown item; 409 with
``expected_version`` and ``current_version`` for a stale update. Numbers come
back as JSON numbers: every body goes through ``json_ready``, which turns
DynamoDB's ``Decimal`` into int or float (Powertools' response encoding would
write a string); prices have two decimal places, so nothing is lost.

``GET /categories/{category}`` is the CQRS query side: the read model kept by
``instrumented_app.items.projection`` from the table's stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from instrumented_app.items.model import ItemCreate, ItemUpdate, ListQuery, json_ready, new_item
from instrumented_app.items.projection import ReadModel
from instrumented_app.items.store import ItemNotFound, ItemsTable, VersionConflict
from instrumented_app.items.tokens import InvalidToken, decode_token, encode_token
from instrumented_app.telemetry import logger, metrics, trace_fields

ITEMS_PATH = "/items"


@dataclass(frozen=True)
class ItemsService:
    table: ItemsTable
    read_model: ReadModel
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def problems_of(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic/Powertools errors as ``{"field", "problem"}`` (the location minus its ``body``/``query``
    prefix; never the input value, which may be personal data)."""
    found = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        found.append({"field": ".".join(location) or "body", "problem": str(error.get("msg", "is invalid"))})
    return found


def register_routes(app: APIGatewayRestResolver, service: Callable[[], ItemsService]) -> None:
    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[Any]:
        return _invalid(problems_of(exc.errors()))

    @app.exception_handler(ItemNotFound)
    def not_found(exc: ItemNotFound) -> Response[Any]:
        return _json(HTTPStatus.NOT_FOUND, {"message": str(exc), "item_id": exc.item_id})

    @app.post(ITEMS_PATH)
    def create_item(request: ItemCreate) -> Response[Any]:
        items = service()
        item = new_item(request, items.clock(), trace_fields())
        items.table.create(item)
        metrics.add_metric(name="ItemCreated", unit=MetricUnit.Count, value=1)
        logger.info("item created", extra={"item_id": item.item_id, "category": item.category})
        return _json(HTTPStatus.CREATED, item.view(), {"Location": f"{ITEMS_PATH}/{item.item_id}"})

    @app.get(f"{ITEMS_PATH}/<item_id>")
    def get_item(item_id: str) -> Response[Any]:
        item = service().table.get(item_id)
        if item is None:
            raise ItemNotFound(item_id)
        return _json(HTTPStatus.OK, item.view())

    @app.get(ITEMS_PATH)
    def list_items() -> Response[Any]:
        try:
            query = ListQuery.model_validate(app.current_event.query_string_parameters or {})
        except ValidationError as exc:
            return _invalid(problems_of(exc.errors()))
        try:
            start = decode_token(query.next_token, query.category) if query.next_token else None
        except InvalidToken as exc:
            return _invalid([{"field": "next_token", "problem": str(exc)}])
        page = service().table.list_by_category(query.category, query.bounds(), query.limit, start)
        token = encode_token(page.last_key) if page.last_key else None
        return _json(HTTPStatus.OK, {"items": [item.view() for item in page.items], "next_token": token})

    @app.put(f"{ITEMS_PATH}/<item_id>")
    def update_item(item_id: str, request: ItemUpdate) -> Response[Any]:
        items = service()
        try:
            item = items.table.update(
                item_id, request.changes(), request.version, items.clock(), trace_fields()
            )
        except VersionConflict as exc:
            logger.info("stale item update refused", extra={"item_id": item_id, "error_code": exc.error_code})
            return _json(
                HTTPStatus.CONFLICT,
                {
                    "message": f"item {item_id} has changed since version {exc.expected}; read it again",
                    "item_id": item_id,
                    "expected_version": exc.expected,
                    "current_version": exc.current,
                },
            )
        logger.info("item updated", extra={"item_id": item_id, "version": item.version})
        return _json(HTTPStatus.OK, item.view())

    @app.delete(f"{ITEMS_PATH}/<item_id>")
    def delete_item(item_id: str) -> Response[Any]:
        gone = service().table.delete(item_id)
        logger.info("item deleted", extra={"item_id": item_id, "version": gone.version})
        return Response(
            status_code=HTTPStatus.NO_CONTENT, content_type=content_types.APPLICATION_JSON, body=""
        )

    @app.get("/categories/<category>")
    def category_summary(category: str) -> Response[Any]:
        summary = service().read_model.summary(category)
        if summary is None:
            return _json(HTTPStatus.NOT_FOUND, {"message": f"category {category} has no items"})
        return _json(HTTPStatus.OK, summary)


def _invalid(errors: list[dict[str, str]]) -> Response[Any]:
    return _json(HTTPStatus.BAD_REQUEST, {"message": "Invalid request", "errors": errors})


def _json(status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json_ready(body),
        headers=headers or {},
    )
