"""``/items`` (CRUD on DynamoDB) and ``GET /categories/{category}`` (the CQRS read model).

The routes live in ``instrumented_app.items.api``; this module wires them to
the tables the template names in the function's environment, built on the first
request (an import never calls AWS).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from instrumented_app.items.api import ItemsService, register_routes
from instrumented_app.items.config import ItemsConfig
from instrumented_app.items.projection import ReadModel
from instrumented_app.items.store import ItemsTable
from instrumented_app.telemetry import instrumented

app = APIGatewayRestResolver(enable_validation=True)


@cache
def service() -> ItemsService:
    config = ItemsConfig()  # read from the environment
    dynamodb = config.client("dynamodb")
    return ItemsService(
        table=ItemsTable(config.items_table, dynamodb),
        read_model=ReadModel(config.items_read_model_table, dynamodb),
    )


register_routes(app, service)


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
