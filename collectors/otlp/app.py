"""The receiver's HTTP shape: ``POST /v1/traces`` as the OTLP/HTTP specification describes it.

Answers follow the spec so any exporter behaves well against it: 200 with an
empty ``ExportTraceServiceResponse``; 400 with a ``google.rpc.Status`` naming
the problem (exporters do not retry a 400); 503 when the audit store cannot
take the spans (exporters retry that); both in the request's own encoding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import psycopg
import psycopg_pool
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc.code_pb2 import INVALID_ARGUMENT, UNAVAILABLE  # type: ignore[import-untyped]
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from collectors.otlp.decode import (
    CONTENT_TYPES,
    JSON,
    MAX_BODY_BYTES,
    OtlpDecodeError,
    decode_export_request,
    decompress,
)
from collectors.otlp.rows import SpanRow, spans_to_rows

TRACES_PATH = "/v1/traces"

log = logging.getLogger(__name__)


class SpanWriter(Protocol):
    def write(self, rows: Sequence[SpanRow]) -> int: ...


def create_app(store: SpanWriter, *, max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """The ASGI app; the store is passed in so ``TraceReceiver`` (a ``SpanStore``) and tests choose
    where spans go."""

    async def export_traces(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in CONTENT_TYPES:
            return PlainTextResponse(
                f"Content-Type {content_type or '(none)'!r} is not supported; "
                f"send {' or '.join(CONTENT_TYPES)}",
                status_code=415,
            )
        body = await _read_body(request, max_body_bytes)
        if body is None:
            return _status(413, INVALID_ARGUMENT, f"body is larger than {max_body_bytes} bytes", content_type)
        try:
            raw = decompress(body, request.headers.get("content-encoding"), max_body_bytes)
            rows = spans_to_rows(decode_export_request(raw, content_type))
        except OtlpDecodeError as exc:
            return _status(400, INVALID_ARGUMENT, str(exc), content_type)
        try:
            await run_in_threadpool(store.write, rows)
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            log.warning("audit store unavailable, %d spans refused: %s", len(rows), exc)
            return _status(503, UNAVAILABLE, "audit store unavailable; retry later", content_type)
        return _message(200, ExportTraceServiceResponse(), content_type)

    return Starlette(routes=[Route(TRACES_PATH, export_traces, methods=["POST"])])


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None past the size cap (read in chunks so an endless body stops early)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _status(http_status: int, code: int, message: str, content_type: str) -> Response:
    return _message(http_status, Status(code=code, message=message), content_type)


def _message(http_status: int, message: Message, content_type: str) -> Response:
    if content_type == JSON:
        body = json_format.MessageToJson(message, indent=None).encode()
    else:
        body = message.SerializeToString()
    return Response(body, status_code=http_status, media_type=content_type)
