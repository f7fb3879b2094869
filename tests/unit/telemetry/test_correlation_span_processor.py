"""Every span started inside an invocation carries its correlation id, instrumentors' spans included."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from instrumented_app.telemetry.correlation import reset_correlation_id, set_correlation_id
from instrumented_app.telemetry.tracing import CorrelationSpanProcessor


def test_spans_inside_an_invocation_get_its_correlation_id_and_an_explicit_one_is_kept() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(CorrelationSpanProcessor())
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("outside"):
        pass
    token = set_correlation_id("corr-1")
    try:
        with tracer.start_as_current_span("DynamoDB.PutItem"):
            pass
        with tracer.start_as_current_span("process message", attributes={"correlation_id": "from-message"}):
            pass
    finally:
        reset_correlation_id(token)
    seen = {
        span.name: (span.attributes or {}).get("correlation_id") for span in exporter.get_finished_spans()
    }
    assert seen == {"outside": None, "DynamoDB.PutItem": "corr-1", "process message": "from-message"}
