"""Spans of the SaaS client tests: the app's tracer provider with an in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from instrumented_app.telemetry import tracer_provider

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="package")
def _provider() -> Iterator[None]:
    """Configure the app's provider once; undo its httpx/botocore instrumentation afterwards,
    as the telemetry tests do, so later stack tests' in-process clients stay uninstrumented."""
    tracer_provider().add_span_processor(SimpleSpanProcessor(_EXPORTER))
    yield
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    BotocoreInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()


@pytest.fixture
def spans(_provider: None) -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()
