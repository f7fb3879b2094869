"""A handler with Powertools Logger's Lambda context injection, as the app's handlers have."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="orders")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> str:
    logger.info("order received", extra={"order_id": event.get("order_id")})
    return "ok"
