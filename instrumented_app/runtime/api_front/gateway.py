"""One request through API Gateway's steps: route, validate, integrate, shape the response.

This is synchronous and knows nothing of sockets: the server runs it in a
worker thread per request, so a slow function never holds up another request,
and tests can call it directly.
"""

from __future__ import annotations

import logging
import time

from instrumented_app.runtime.api_front.events import HttpRequest, build_proxy_event, multi_map
from instrumented_app.runtime.api_front.responses import (
    HttpResponse,
    from_mock,
    from_proxy_payload,
    gateway_error,
    internal_error,
    missing_route,
    validation_error,
)
from instrumented_app.runtime.api_front.routes import LambdaTarget, MockResponse, RouteMatch, RouteTable
from instrumented_app.runtime.api_front.validation import RequestParts
from instrumented_app.runtime.types import Invoker
from sagawatch.contracts.correlation import CORRELATION_ID_HEADER, is_valid_correlation_id

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-amzn-RequestId"


class Gateway:
    """Answers one ``HttpRequest`` for one API; holds no per-request state, so it is thread-safe."""

    def __init__(self, routes: RouteTable, invoker: Invoker) -> None:
        self.routes = routes
        self._invoker = invoker

    def handle(self, request: HttpRequest) -> HttpResponse:
        """The response before the request-id and correlation headers (see ``finalize``)."""
        match = self.routes.match(request.method, request.path)
        if match is None:
            return missing_route()
        failure = match.route.validator.check(
            RequestParts(
                headers=multi_map(request.headers),
                query=multi_map(request.query),
                path_parameters=match.path_parameters,
                body=request.body,
            )
        )
        if failure is not None:
            return validation_error(failure)
        integration = match.route.integration
        if isinstance(integration, MockResponse):
            return from_mock(integration)
        return self._invoke(integration, request, match)

    def timeout_for(self, request: HttpRequest, default_s: float) -> float:
        """How long the front waits for this request's integration: the route's own timeout, if any."""
        match = self.routes.match(request.method, request.path)
        integration = match.route.integration if match else None
        if isinstance(integration, LambdaTarget) and integration.timeout_s is not None:
            return integration.timeout_s
        return default_s

    def _invoke(self, target: LambdaTarget, request: HttpRequest, match: RouteMatch) -> HttpResponse:
        event = build_proxy_event(request, match, self.routes)
        started = time.perf_counter()
        try:
            result = self._invoker.invoke(target.function_name, event, qualifier=target.qualifier)
        except LookupError:
            # API Gateway: "Execution failed due to configuration error" -> 500, not the function's fault.
            log.warning("request %s: function %s is not deployed", request.request_id, target.function_name)
            return gateway_error(500, "Internal server error", "InternalServerErrorException")
        elapsed_ms = (time.perf_counter() - started) * 1000
        if not result.ok:
            # Only the error type: a handler's message may quote customer data.
            error_type = result.error.error_type if result.error else "unknown"
            log.info("request %s: %s failed (%s)", request.request_id, target.function_name, error_type)
            return internal_error(elapsed_ms)
        return from_proxy_payload(result.payload, elapsed_ms)


def finalize(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    """Add ``x-amzn-RequestId`` and the ``X-Correlation-Id`` used.

    The correlation id is the request's own if valid, else the one the handler
    answered with (it minted one), else the API request id: every response can
    be looked up in the logs by the id it carries.
    """
    correlation_id = request.header(CORRELATION_ID_HEADER)
    if not (correlation_id and is_valid_correlation_id(correlation_id)):
        answered = response.header(CORRELATION_ID_HEADER)
        correlation_id = answered if answered and is_valid_correlation_id(answered) else request.request_id
    return response.with_headers(
        ((REQUEST_ID_HEADER, request.request_id), (CORRELATION_ID_HEADER, correlation_id))
    )
