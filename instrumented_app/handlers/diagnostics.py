"""``GET /diagnostics/ping``: proves the path API front -> Lambda -> logs and traces works.

``sagawatch up --smoke`` calls it and then looks for this invocation's log line (by its
correlation id) in CloudWatch Logs, so the handler logs exactly one line carrying it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from sagawatch.contracts.correlation import CORRELATION_ID_HEADER, correlation_id_from_headers

logger = Logger()
app = APIGatewayRestResolver()


def ping_body(correlation_id: str, function_version: str) -> dict[str, str]:
    """The answer's shape: what the smoke check reads back."""
    return {"status": "ok", "correlation_id": correlation_id, "function_version": function_version}


@app.get("/diagnostics/ping")
def ping() -> dict[str, str]:
    correlation_id, _minted = correlation_id_from_headers(app.current_event.headers)
    logger.append_keys(correlation_id=correlation_id)
    version = app.lambda_context.function_version
    logger.info("diagnostics ping", extra={"function_version": version})
    return ping_body(correlation_id, version)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    response.setdefault("headers", {})
    correlation_id = logger.get_current_keys().get("correlation_id")
    if isinstance(correlation_id, str):
        response["headers"][CORRELATION_ID_HEADER] = correlation_id
    return response
