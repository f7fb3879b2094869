"""``GET /diagnostics/ping``: proves the path API front -> Lambda -> logs and traces works.

``sagawatch up --smoke`` calls it, then looks for this invocation's log line (by its
correlation id) in CloudWatch Logs and its span in the audit store; ``@instrumented``
gives the handler both, with the correlation id taken from ``X-Correlation-Id`` or minted.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from instrumented_app.telemetry import current_correlation_id, instrumented, logger
from sagawatch.contracts.correlation import CORRELATION_ID_HEADER

app = APIGatewayRestResolver()


def ping_body(correlation_id: str, function_version: str) -> dict[str, str]:
    """The answer's shape: what the smoke check reads back."""
    return {"status": "ok", "correlation_id": correlation_id, "function_version": function_version}


@app.get("/diagnostics/ping")
def ping() -> dict[str, str]:
    version = app.lambda_context.function_version
    logger.info("diagnostics ping", extra={"function_version": version})
    return ping_body(current_correlation_id() or "", version)


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = app.resolve(event, context)
    correlation_id = current_correlation_id()
    if correlation_id:
        response.setdefault("headers", {})[CORRELATION_ID_HEADER] = correlation_id
    return response
