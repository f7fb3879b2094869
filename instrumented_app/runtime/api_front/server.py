"""The API front on loopback: a small ASGI app served by uvicorn in a background thread.

It does the HTTP edge only (read the request, bound its size, time it, write
the answer) and hands each request to ``Gateway.handle`` in a worker thread,
because invocations are synchronous calls and two slow requests must overlap
as they do on API Gateway. Requests are served both as ``/path`` and as the
execute-api form ``/<stage>/path``. A plain ASGI callable rather than a
framework router: the route table is API Gateway's, and repeated response
headers must go out exactly as the function set them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread

from instrumented_app.runtime.api_front.events import HttpRequest
from instrumented_app.runtime.api_front.gateway import Gateway, finalize
from instrumented_app.runtime.api_front.metrics import ApiMetrics, MetricDatum
from instrumented_app.runtime.api_front.responses import (
    HttpResponse,
    gateway_error,
    integration_timeout,
    payload_too_large,
)
from instrumented_app.runtime.api_front.routes import RouteTable, strip_stage
from instrumented_app.runtime.types import Invoker
from sagawatch.serving import LoopbackServer

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: API Gateway's limits: 10 MB payloads, 29 s integration timeout.
MAX_BODY_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 29.0
#: Requests in flight at once (worker threads); more wait for a free one.
MAX_CONCURRENT = 64
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class _AsgiFront:
    """HTTP in, ``Gateway`` in a thread, HTTP out; one instance per ``ApiFront``."""

    def __init__(
        self, gateway: Gateway, metrics: ApiMetrics, integration_timeout_s: float, max_body_bytes: int
    ) -> None:
        self._gateway = gateway
        self._metrics = metrics
        self._timeout_s = integration_timeout_s
        self._max_body_bytes = max_body_bytes
        self._limiter: anyio.CapacityLimiter | None = None  # made on the server's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        body = await _read_body(receive, self._max_body_bytes)
        request = _http_request(scope, body or b"", self._gateway.routes.stage, request_id)
        if body is None:
            response = payload_too_large()
        else:
            response = await self._handle(request)
        response = finalize(response, request)
        self._metrics.record(
            response.status_code, (time.perf_counter() - started) * 1000, response.integration_ms
        )
        await _send(send, response)

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(MAX_CONCURRENT)
        with anyio.move_on_after(self._gateway.timeout_for(request, self._timeout_s)) as deadline:
            try:
                return await anyio.to_thread.run_sync(
                    self._gateway.handle, request, limiter=self._limiter, abandon_on_cancel=True
                )
            except Exception as exc:  # a fault of the runtime, not of the function: still an API answer
                log.error(
                    "request %s: %s in the API front", request.request_id, type(exc).__name__, exc_info=True
                )
                return gateway_error(500, "Internal server error", "InternalServerErrorException")
        # The invocation keeps its worker thread until it ends; the client is answered now, like API Gateway.
        assert deadline.cancelled_caught
        return integration_timeout()


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it exceeds ``limit`` (the rest is not buffered)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _http_request(scope: Scope, body: bytes, stage: str, request_id: str) -> HttpRequest:
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    bare = strip_stage(raw_path, stage)
    client = scope.get("client") or ("127.0.0.1", 0)
    return HttpRequest(
        method=scope["method"].upper(),
        path=bare,
        headers=tuple((key.decode("latin-1"), value.decode("latin-1")) for key, value in scope["headers"]),
        query=tuple(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)),
        body=body,
        source_ip=str(client[0]),
        request_id=request_id,
        received_at=datetime.now(UTC),
        protocol=f"HTTP/{scope.get('http_version', '1.1')}",
    )


async def _send(send: Send, response: HttpResponse) -> None:
    # Names are tokens (checked in responses.py); values may be any text, sent as UTF-8 bytes. The
    # framing headers are the front's, as API Gateway recomputes them: a handler's copy would clash.
    headers = [
        (key.lower().encode("ascii"), value.encode("utf-8"))
        for key, value in response.headers
        if key.lower() not in _FRAMING_HEADERS
    ]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class ApiFront:
    """API Gateway (REST API, proxy integrations) for one API stage, on loopback.

    ``integration_timeout_s`` applies to routes whose integration declares no
    ``timeoutInMillis``; ``max_body_bytes`` is API Gateway's 10 MB payload limit by default.
    """

    def __init__(
        self,
        routes: RouteTable,
        invoker: Invoker,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        integration_timeout_s: float = INTEGRATION_TIMEOUT_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.routes = routes
        self._metrics = ApiMetrics(routes.api_name, routes.stage)
        self._app = _AsgiFront(Gateway(routes, invoker), self._metrics, integration_timeout_s, max_body_bytes)
        self._server = LoopbackServer(self._app, host, port, name="api-front")

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> str:
        """Bind, serve in a background thread, and return the base URL (``http://127.0.0.1:PORT``)."""
        return self.url if self._server.started else self._server.start()

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish (bounded), and release the port."""
        self._server.stop()

    def drain_metrics(self) -> list[MetricDatum]:
        """``AWS/ApiGateway`` data points since the last drain, for the stack to ``put_metric_data``."""
        return self._metrics.drain()

    def __enter__(self) -> ApiFront:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
