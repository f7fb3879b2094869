"""The receiver's answers when the audit store or the body is the problem (ASGI app with a fake store)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import psycopg
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

from collectors.otlp.app import create_app
from collectors.otlp.rows import SpanRow

PROTOBUF = {"content-type": "application/x-protobuf"}


class DownStore:
    def write(self, rows: Sequence[SpanRow]) -> int:
        raise psycopg.OperationalError("connection refused")


class RecordingStore:
    def __init__(self) -> None:
        self.batches: list[list[SpanRow]] = []

    def write(self, rows: Sequence[SpanRow]) -> int:
        self.batches.append(list(rows))
        return len(rows)


def _post(app: Starlette, body: bytes) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://receiver"
        ) as client:
            return await client.post("/v1/traces", content=body, headers=PROTOBUF)

    return asyncio.run(call())


def _export_body() -> bytes:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with (
        provider.get_tracer("t").start_as_current_span("a"),
        provider.get_tracer("t").start_as_current_span("b"),
    ):
        pass
    return encode_spans(memory.get_finished_spans()).SerializeToString()


def test_an_unavailable_audit_store_gets_503_so_exporters_retry() -> None:
    response = _post(create_app(DownStore()), _export_body())
    assert response.status_code == 503
    status = Status()
    status.ParseFromString(response.content)
    assert "audit store unavailable" in status.message


def test_one_request_is_one_write_of_all_its_spans() -> None:
    store = RecordingStore()
    response = _post(create_app(store), _export_body())
    assert response.status_code == 200
    assert [[row.name for row in batch] for batch in store.batches] == [["b", "a"]]


def test_a_body_over_the_cap_gets_413_and_writes_nothing() -> None:
    store = RecordingStore()
    body = _export_body()
    assert len(body) > 64
    assert _post(create_app(store, max_body_bytes=64), body).status_code == 413
    assert store.batches == []
