"""Fixtures for the telemetry tests: a Lambda-like context, and the spans the SDK finished."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from instrumented_app.telemetry import tracer_provider

_EXPORTER = InMemorySpanExporter()
_installed = False


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Finished spans of this test only (the processor is added to the global provider once)."""
    global _installed
    if not _installed:
        tracer_provider().add_span_processor(SimpleSpanProcessor(_EXPORTER))
        _installed = True
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


@dataclass
class Output:
    logs: list[dict[str, Any]]
    emf: list[dict[str, Any]]
    raw: str


@pytest.fixture
def read_output(capsys: pytest.CaptureFixture[str]) -> Callable[[], Output]:
    """Everything written to stdout since the last call, split into log lines and EMF blobs."""

    def read() -> Output:
        raw = capsys.readouterr().out
        documents = [json.loads(line) for line in raw.splitlines() if line.strip()]
        return Output(
            logs=[d for d in documents if "_aws" not in d],
            emf=[d for d in documents if "_aws" in d],
            raw=raw,
        )

    return read


def only_span(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]


@pytest.fixture(scope="module", autouse=True)
def _instrumented_for_these_tests() -> None:
    """botocore and httpx instrumented as in a Lambda worker (the root conftest takes it out after
    each module, so a module that ran before may have left it off)."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    provider = tracer_provider()
    for instrumentor in (BotocoreInstrumentor(), HTTPXClientInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
