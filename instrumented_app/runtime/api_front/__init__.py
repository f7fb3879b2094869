"""API Gateway (REST API, Lambda proxy and mock integrations) on loopback.

- ``routes``: the route table and API Gateway's matching rules.
- ``openapi``: the API's OpenAPI body (as SAM emits it) -> the route table.
- ``validation``: request validators (required parameters, JSON Schema draft 4 models).
- ``events``: HTTP request -> REST (v1) proxy event.
- ``responses``: proxy response / mock / gateway errors -> HTTP response.
- ``gateway``: one request through those steps, synchronously.
- ``metrics``: ``AWS/ApiGateway`` metrics gathered in memory; ``MetricsPublisher`` sends them.
- ``from_template``: every RestApi of a translated template -> its route table.
- ``server``: ``ApiFront``, the ASGI app served by uvicorn in a background thread.
"""

from instrumented_app.runtime.api_front.from_template import route_tables_from_template
from instrumented_app.runtime.api_front.metrics import MetricDatum, MetricsPublisher, publish
from instrumented_app.runtime.api_front.routes import (
    ApiDefinitionError,
    LambdaTarget,
    MockResponse,
    RouteTable,
)
from instrumented_app.runtime.api_front.server import ApiFront

__all__ = [
    "ApiDefinitionError",
    "ApiFront",
    "LambdaTarget",
    "MetricDatum",
    "MetricsPublisher",
    "MockResponse",
    "RouteTable",
    "publish",
    "route_tables_from_template",
]
