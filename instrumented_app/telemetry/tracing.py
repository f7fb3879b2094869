"""The OpenTelemetry tracer provider: built once per execution environment, flushed per invocation.

Lambda freezes the process as soon as the handler returns, so a batch
processor's background thread may never get to send; ``flush_spans`` is
called at the end of every invocation for that reason, with a bound so that
an unreachable collector delays an invocation by seconds, not forever.

When a tracer provider is already installed (the ADOT Lambda layer's
auto-instrumentation does that before the handler module is imported, and so
can a test) it is used as it is, with its own exporters.
"""

from __future__ import annotations

import threading
import traceback

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode

from instrumented_app.telemetry.config import TelemetryConfig
from instrumented_app.telemetry.correlation import current_correlation_id
from instrumented_app.telemetry.masking import mask_text
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE

#: The longest an invocation waits at its end for its spans to leave.
FLUSH_TIMEOUT_MS = 3000
#: The exporter's own deadline per request (it retries with backoff within it).
EXPORT_TIMEOUT_S = 3.0

_lock = threading.Lock()
_provider: TracerProvider | None = None

tracer = trace.get_tracer("instrumented_app")


def build_resource(config: TelemetryConfig) -> Resource:
    """service.name, faas.name and faas.version (plus cloud attributes) for every span of this process."""
    attributes: dict[str, str] = {
        "service.name": config.service,
        "faas.name": config.function_name,
        "faas.version": config.function_version,
        "cloud.provider": "aws",
        "cloud.platform": "aws_lambda",
    }
    if config.region:
        attributes["cloud.region"] = config.region
    return Resource.create(attributes)


class CorrelationSpanProcessor(SpanProcessor):
    """Stamps the invocation's correlation id on every span started inside it, the botocore and httpx
    instrumentors' spans included, so a trace's every span is found by its correlation id."""

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        correlation_id = current_correlation_id()
        if correlation_id and (span.attributes is None or CORRELATION_ID_ATTRIBUTE not in span.attributes):
            span.set_attribute(CORRELATION_ID_ATTRIBUTE, correlation_id)


def build_tracer_provider(config: TelemetryConfig) -> TracerProvider:
    """A provider exporting OTLP/HTTP to ``config.traces_endpoint``; without an endpoint, no exporter."""
    provider = TracerProvider(resource=build_resource(config))
    if config.traces_endpoint:
        exporter = OTLPSpanExporter(endpoint=config.traces_endpoint, timeout=EXPORT_TIMEOUT_S)
        provider.add_span_processor(BatchSpanProcessor(exporter, export_timeout_millis=FLUSH_TIMEOUT_MS))
    return provider


def configure_tracing(config: TelemetryConfig) -> TracerProvider:
    """Install the global provider and instrument botocore and httpx; later calls return the same provider."""
    global _provider
    with _lock:
        if _provider is None:
            installed = trace.get_tracer_provider()
            if isinstance(installed, TracerProvider):
                _provider = installed
            else:
                _provider = build_tracer_provider(config)
                trace.set_tracer_provider(_provider)
            _provider.add_span_processor(CorrelationSpanProcessor())
            # Both instrumentors are process-wide singletons that ignore a second instrument().
            BotocoreInstrumentor().instrument(tracer_provider=_provider)
            HTTPXClientInstrumentor().instrument(tracer_provider=_provider)
        return _provider


def tracer_provider() -> TracerProvider:
    """The configured provider (configuring it from the environment if nothing has yet)."""
    return _provider or configure_tracing(TelemetryConfig.from_env())


def flush_spans() -> bool:
    """Send this invocation's spans now; False when they did not all leave within the bound."""
    if _provider is None:
        return True
    return _provider.force_flush(FLUSH_TIMEOUT_MS)


def record_failure(span: Span, exc: BaseException) -> None:
    """The exception as a span event and an ERROR status, with email addresses masked out of its text
    (exception messages often quote the input that failed, and spans leave the process)."""
    span.record_exception(
        exc,
        attributes={
            "exception.message": mask_text(str(exc)),
            "exception.stacktrace": mask_text("".join(traceback.format_exception(exc))),
        },
    )
    span.set_status(Status(StatusCode.ERROR, mask_text(f"{type(exc).__name__}: {exc}")))
